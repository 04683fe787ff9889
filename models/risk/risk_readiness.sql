-- depends: int_handshake_facts, inv_certificates
-- Post-quantum readiness, fleet-wide and per agent host. Definitions in models/README.md.
WITH hs AS (
  SELECT CASE WHEN grouping(host) = 1 THEN 'fleet' ELSE 'host:' || coalesce(host, '?') END AS scope,
    CASE WHEN grouping(host) = 1 THEN NULL ELSE host END AS host,
    sum(handshakes)::BIGINT AS handshakes,
    coalesce(sum(handshakes) FILTER (WHERE kex_class <> 'unknown'), 0)::BIGINT AS handshakes_known_kex,
    coalesce(sum(handshakes) FILTER (WHERE kex_class = 'pq'), 0)::BIGINT AS pq_handshakes,
    coalesce(sum(handshakes) FILTER (WHERE kex_class = 'hybrid'), 0)::BIGINT AS hybrid_handshakes
  FROM int_handshake_facts GROUP BY ROLLUP (host)
), srv AS (
  SELECT host, proto = 'ssh' AS is_ssh, server_addr, server_port, CASE WHEN proto = 'ssh' THEN NULL ELSE proto END AS tproto,
    CASE WHEN proto = 'ssh' THEN NULL ELSE sni END AS sni, bool_or(kex_class IN ('pq', 'hybrid')) AS capable
  FROM int_handshake_facts GROUP BY ALL
), ep AS (
  SELECT 'host:' || coalesce(host, '?') AS scope, count(*)::BIGINT AS endpoints, count(*) FILTER (WHERE capable)::BIGINT AS capable FROM srv GROUP BY host
  UNION ALL
  SELECT 'fleet', count(*)::BIGINT, count(*) FILTER (WHERE c)::BIGINT
  FROM (SELECT is_ssh, server_addr, server_port, tproto, sni, bool_or(capable) AS c FROM srv GROUP BY ALL)
), ce AS (
  SELECT 'fleet' AS scope, count(*)::BIGINT AS certificates, count(*) FILTER (WHERE quantum_status = 'post-quantum')::BIGINT AS certificates_pq FROM inv_certificates
  UNION ALL
  SELECT 'host:' || h, count(*)::BIGINT, count(*) FILTER (WHERE quantum_status = 'post-quantum')::BIGINT FROM inv_certificates, unnest(hosts) AS u(h) GROUP BY h
), scopes AS (
  SELECT scope, host FROM hs
  UNION SELECT 'fleet', NULL
)
SELECT s.scope, s.host,
  coalesce(hs.handshakes, 0)::BIGINT AS handshakes, coalesce(hs.handshakes_known_kex, 0)::BIGINT AS handshakes_known_kex,
  coalesce(hs.pq_handshakes, 0)::BIGINT AS pq_handshakes, coalesce(hs.hybrid_handshakes, 0)::BIGINT AS hybrid_handshakes,
  share(hs.pq_handshakes + hs.hybrid_handshakes, hs.handshakes_known_kex) AS handshake_pq_share,
  coalesce(ep.endpoints, 0)::BIGINT AS endpoints, coalesce(ep.capable, 0)::BIGINT AS endpoints_pq_capable,
  share(ep.capable, ep.endpoints) AS endpoint_pq_share,
  coalesce(ce.certificates, 0)::BIGINT AS certificates, coalesce(ce.certificates_pq, 0)::BIGINT AS certificates_pq,
  CASE WHEN coalesce(hs.handshakes_known_kex, 0) = 0 AND coalesce(ep.endpoints, 0) = 0 THEN NULL
       ELSE 0.6 * coalesce(share(hs.pq_handshakes + hs.hybrid_handshakes, hs.handshakes_known_kex), 0)
          + 0.4 * coalesce(share(ep.capable, ep.endpoints), 0) END AS readiness
FROM scopes s
LEFT JOIN hs ON hs.scope = s.scope
LEFT JOIN ep ON ep.scope = s.scope
LEFT JOIN ce ON ce.scope = s.scope
