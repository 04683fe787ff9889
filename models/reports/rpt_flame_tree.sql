-- depends: int_handshake_facts
-- Flame-graph tree as a parent/child table: host → container → exe → library/source → protocol → key exchange
-- → cipher → signature. A node's value is its handshakes, so children sum to their parent. Root id 'all'.
WITH leaf AS (
  SELECT
    coalesce(host, '?') AS host,
    coalesce(container_id[1:12], 'host') AS container,
    coalesce(exe, comm, '?') AS exe,
    coalesce(library, source, '?') AS library,
    coalesce(version_name, proto, '?') AS protocol,
    coalesce(kex_name, '?') AS kex,
    coalesce(cipher_name, '?') AS cipher,
    coalesce(sig_name, '?') AS signature,
    kex_quantum_status, cipher_quantum_status, sig_quantum_status, kex_class, handshakes
  FROM int_handshake_facts
), t AS (
  SELECT 8 - bit_count(grouping(host, container, exe, library, protocol, kex, cipher, signature)) AS depth,
    [host, container, exe, library, protocol, kex, cipher, signature] AS path,
    sum(handshakes)::BIGINT AS value,
    share(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), sum(handshakes) FILTER (WHERE kex_class <> 'unknown')) AS pq_share,
    any_value(kex_quantum_status) AS kex_qs, any_value(cipher_quantum_status) AS cipher_qs, any_value(sig_quantum_status) AS sig_qs
  FROM leaf
  GROUP BY ROLLUP (host, container, exe, library, protocol, kex, cipher, signature)
)
SELECT
  array_to_string(['all'] || path[1:depth], '|') AS id,
  CASE WHEN depth = 0 THEN NULL ELSE array_to_string(['all'] || path[1:depth - 1], '|') END AS parent_id,
  depth::INTEGER AS depth,
  ['root', 'host', 'container', 'exe', 'library', 'protocol', 'kex', 'cipher', 'signature'][depth + 1] AS level,
  CASE WHEN depth = 0 THEN 'all' ELSE path[depth] END AS name,
  value, pq_share,
  CASE depth WHEN 6 THEN kex_qs WHEN 7 THEN cipher_qs WHEN 8 THEN sig_qs END AS quantum_status
FROM t
WHERE value > 0 OR depth = 0
