-- depends: int_handshake_facts, int_handshake_offers
-- SSH client processes: what they offer (latest KEXINIT) and what they get.
WITH f AS (
  SELECT host, container_id, exe, mode(comm) AS comm,
    sum(handshakes)::BIGINT AS handshakes, count(DISTINCT service)::BIGINT AS servers,
    min(first_seen) AS first_seen, max(last_seen) AS last_seen,
    dlist(kex_name) AS kex_chosen, dlist(cipher_name) AS ciphers_chosen,
    coalesce(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), 0)::BIGINT AS pq_handshakes,
    coalesce(sum(handshakes) FILTER (WHERE kex_class <> 'unknown'), 0)::BIGINT AS known_handshakes
  FROM int_handshake_facts WHERE proto = 'ssh' AND role = 'client'
  GROUP BY host, container_id, exe
), o AS (
  SELECT host, container_id, exe,
    arg_max(ssh_client_banner, last_seen) FILTER (WHERE ssh_client_banner IS NOT NULL) AS banner,
    arg_max(ssh_kex_client, last_seen) FILTER (WHERE ssh_kex_client IS NOT NULL) AS kex_offered,
    bool_or(client_offers_pq) AS offers_pq_kex
  FROM int_handshake_offers WHERE proto = 'ssh' AND role = 'client'
  GROUP BY host, container_id, exe
)
SELECT f.host, f.container_id, f.exe, f.comm, o.banner, f.handshakes, f.servers, f.first_seen, f.last_seen,
  coalesce(o.kex_offered, []) AS kex_offered, coalesce(o.offers_pq_kex, false) AS offers_pq_kex,
  f.kex_chosen, f.ciphers_chosen, f.pq_handshakes, share(f.pq_handshakes, f.known_handshakes) AS pq_share
FROM f LEFT JOIN o ON o.host IS NOT DISTINCT FROM f.host AND o.container_id IS NOT DISTINCT FROM f.container_id AND o.exe IS NOT DISTINCT FROM f.exe
