-- depends: int_handshake_facts
-- Protocol versions in use, with the suites and algorithms negotiated under each.
SELECT proto, version_name AS version,
  sum(handshakes)::BIGINT AS handshakes,
  count(DISTINCT service)::BIGINT AS services,
  dlist(CASE WHEN proto <> 'ssh' THEN suite_name END) AS suites,
  dlist(kex_name) AS kex, dlist(cipher_name) AS ciphers, dlist(sig_name) AS signatures,
  dlist(CASE WHEN proto = 'ssh' THEN mac_name END) AS macs,
  share(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), sum(handshakes) FILTER (WHERE kex_class <> 'unknown')) AS pq_share,
  min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM int_handshake_facts
GROUP BY proto, version_name
