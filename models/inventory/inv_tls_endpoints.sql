-- depends: int_handshake_facts, int_handshake_offers, inv_certificates
-- TLS/DTLS/QUIC servers: what they negotiate, and the leaf certificate they last presented.
WITH f AS (
  SELECT proto, server_addr, server_port, sni,
    dlist(host) AS hosts,
    min(first_seen) AS first_seen, max(last_seen) AS last_seen,
    sum(handshakes)::BIGINT AS handshakes,
    dlist(version_name) AS versions, dlist(suite_name) AS suites, dlist(kex_name) AS groups, dlist(sig_name) AS sig_algs,
    coalesce(sum(handshakes) FILTER (WHERE kex_class IN ('pq', 'hybrid')), 0)::BIGINT AS pq_handshakes,
    coalesce(sum(handshakes) FILTER (WHERE kex_class <> 'unknown'), 0)::BIGINT AS known_handshakes,
    arg_min(version_name, version_rank) AS min_version,
    arg_max(version_name, version_rank) AS max_version
  FROM int_handshake_facts
  WHERE proto <> 'ssh'
  GROUP BY proto, server_addr, server_port, sni
), o AS (
  SELECT proto, server_addr, server_port, sni,
    dlist(alpn_chosen) AS alpn,
    arg_max(leaf_cert_sha256, last_seen) FILTER (WHERE leaf_cert_sha256 IS NOT NULL) AS leaf_cert_sha256
  FROM int_handshake_offers
  WHERE proto <> 'ssh'
  GROUP BY proto, server_addr, server_port, sni
)
SELECT f.proto, f.server_addr, f.server_port, f.sni,
  endpoint_label(f.sni, f.server_addr, f.server_port) AS endpoint,
  f.hosts, f.first_seen, f.last_seen, f.handshakes, f.versions, f.suites, f.groups, f.sig_algs, o.alpn,
  f.pq_handshakes, share(f.pq_handshakes, f.known_handshakes) AS pq_share,
  f.min_version, f.max_version,
  o.leaf_cert_sha256,
  c.subject AS cert_subject, c.issuer AS cert_issuer, c.not_after AS cert_not_after,
  c.key_alg AS cert_key_alg, c.key_bits AS cert_key_bits, c.sig_alg AS cert_sig_alg
FROM f
LEFT JOIN o ON o.proto = f.proto AND o.server_addr IS NOT DISTINCT FROM f.server_addr
  AND o.server_port IS NOT DISTINCT FROM f.server_port AND o.sni IS NOT DISTINCT FROM f.sni
LEFT JOIN inv_certificates c ON c.sha256 = o.leaf_cert_sha256
