-- depends: stg_handshakes
-- materialized: table
-- Handshakes counted per hour, process, server and negotiated algorithms: the fact table most marts read,
-- so the lake is scanned once for them.
SELECT
  hour, host, proto, source, role, container_id, exe, library, server_addr, server_port, sni, service,
  version_name, version_rank, suite_name, kex_name, kex_class, kex_quantum_status, kex_bits, kex_deprecated_after, kex_disallowed_after,
  cipher_name, cipher_bits, cipher_quantum_status, cipher_disallowed_after,
  sig_name, sig_bits, sig_quantum_status, sig_disallowed_after, sig_sha1, mac_name, forward_secrecy,
  client_offers_pq, server_offers_pq,
  any_value(comm) AS comm,
  count(*)::BIGINT AS handshakes,
  min(ts) AS first_seen,
  max(ts) AS last_seen
FROM stg_handshakes
GROUP BY ALL
