-- depends: stg_handshakes
-- materialized: table
-- Handshakes counted per process, server and negotiated algorithms (whole period): the fact table the
-- inventory, risk and tree marts read, so the lake is scanned once for them. Grouped on the raw code points
-- (cheap integer keys); names and classifications depend on them alone and ride along as any_value().
SELECT
  host, proto, source, role, container_id, exe, library, server_addr, server_port, sni,
  version_chosen, suite_chosen, group_chosen, sig_alg_chosen, ssh_kex, ssh_hostkey, ssh_cipher_c2s, ssh_mac_c2s,
  client_offers_pq, server_offers_pq,
  any_value(service) AS service,
  any_value(version_name) AS version_name, any_value(version_rank) AS version_rank, any_value(suite_name) AS suite_name,
  any_value(kex_name) AS kex_name, any_value(kex_class) AS kex_class, any_value(kex_quantum_status) AS kex_quantum_status,
  any_value(kex_bits) AS kex_bits, any_value(kex_deprecated_after) AS kex_deprecated_after, any_value(kex_disallowed_after) AS kex_disallowed_after,
  any_value(cipher_name) AS cipher_name, any_value(cipher_bits) AS cipher_bits, any_value(cipher_quantum_status) AS cipher_quantum_status,
  any_value(cipher_disallowed_after) AS cipher_disallowed_after,
  any_value(sig_name) AS sig_name, any_value(sig_bits) AS sig_bits, any_value(sig_quantum_status) AS sig_quantum_status,
  any_value(sig_disallowed_after) AS sig_disallowed_after, any_value(sig_sha1) AS sig_sha1,
  any_value(mac_name) AS mac_name, any_value(forward_secrecy) AS forward_secrecy,
  any_value(comm) AS comm,
  count(*)::BIGINT AS handshakes,
  min(ts) AS first_seen,
  max(ts) AS last_seen
FROM stg_handshakes
GROUP BY host, proto, source, role, container_id, exe, library, server_addr, server_port, sni,
  version_chosen, suite_chosen, group_chosen, sig_alg_chosen, ssh_kex, ssh_hostkey, ssh_cipher_c2s, ssh_mac_c2s,
  client_offers_pq, server_offers_pq
