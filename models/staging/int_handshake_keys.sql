-- depends: int_handshake_scan
-- materialized: table
-- Handshakes counted per process, server and negotiated code points over the whole period.
SELECT
  host, proto, source, role, container_id, exe, library, server_addr, server_port, sni,
  version_chosen, suite_chosen, group_chosen, sig_alg_chosen, ssh_kex, ssh_hostkey, ssh_cipher_c2s, ssh_mac_c2s,
  any_value(comm) AS comm,
  sum(handshakes)::BIGINT AS handshakes,
  min(first_seen) AS first_seen,
  max(last_seen) AS last_seen
FROM int_handshake_scan
GROUP BY ALL
