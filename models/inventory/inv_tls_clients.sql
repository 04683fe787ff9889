-- depends: int_handshake_facts, int_handshake_offers, seed_tls_versions, seed_tls_groups
-- Processes that made TLS/DTLS/QUIC handshakes as the client: what they offer and what they get.
WITH f AS (
  SELECT host, container_id, exe,
    mode(comm) AS comm, mode(library) AS library,
    sum(handshakes)::BIGINT AS handshakes,
    count(DISTINCT service)::BIGINT AS servers,
    min(first_seen) AS first_seen, max(last_seen) AS last_seen,
    dlist(version_name) AS versions_chosen, dlist(suite_name) AS suites_chosen, dlist(kex_name) AS groups_chosen,
    coalesce(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), 0)::BIGINT AS pq_handshakes,
    coalesce(sum(handshakes) FILTER (WHERE kex_class <> 'unknown'), 0)::BIGINT AS known_handshakes
  FROM int_handshake_facts
  WHERE proto <> 'ssh' AND role = 'client'
  GROUP BY host, container_id, exe
), lists AS (
  -- distinct offered lists first (few per process), then their elements
  SELECT DISTINCT host, container_id, exe, versions_offered, groups_offered AS groups, client_offers_pq
  FROM int_handshake_offers WHERE proto <> 'ssh' AND role = 'client'
), op AS (
  SELECT host, container_id, exe, bool_or(client_offers_pq) AS offers_pq FROM lists GROUP BY ALL
), vo AS (
  SELECT l.host, l.container_id, l.exe, dlist(coalesce(v.name, hex4(u.c))) AS versions_offered
  FROM lists l, unnest(l.versions_offered) AS u(c) LEFT JOIN seed_tls_versions v ON v.code = u.c
  WHERE v.name IS DISTINCT FROM 'GREASE'
  GROUP BY ALL
), go AS (
  SELECT l.host, l.container_id, l.exe, dlist(coalesce(g.name, hex4(u.c))) AS groups_offered
  FROM lists l, unnest(l.groups) AS u(c) LEFT JOIN seed_tls_groups g ON g.code = u.c
  WHERE g.name IS DISTINCT FROM 'GREASE'
  GROUP BY ALL
)
SELECT f.host, f.container_id, f.exe, f.comm, f.library, f.handshakes, f.servers, f.first_seen, f.last_seen,
  coalesce(vo.versions_offered, []) AS versions_offered, coalesce(go.groups_offered, []) AS groups_offered,
  coalesce(op.offers_pq, false) AS offers_pq,
  f.versions_chosen, f.suites_chosen, f.groups_chosen, f.pq_handshakes, share(f.pq_handshakes, f.known_handshakes) AS pq_share
FROM f
LEFT JOIN vo ON vo.host IS NOT DISTINCT FROM f.host AND vo.container_id IS NOT DISTINCT FROM f.container_id AND vo.exe IS NOT DISTINCT FROM f.exe
LEFT JOIN op ON op.host IS NOT DISTINCT FROM f.host AND op.container_id IS NOT DISTINCT FROM f.container_id AND op.exe IS NOT DISTINCT FROM f.exe
LEFT JOIN go ON go.host IS NOT DISTINCT FROM f.host AND go.container_id IS NOT DISTINCT FROM f.container_id AND go.exe IS NOT DISTINCT FROM f.exe
