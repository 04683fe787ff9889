-- depends: int_handshake_scan
-- materialized: table
-- Handshakes per hour, agent host, server and the code points that decide the key-exchange class.
SELECT hour, host, proto, server_addr, server_port, sni, suite_chosen, group_chosen, ssh_kex,
  NULL::INTEGER AS version_chosen, NULL::INTEGER AS sig_alg_chosen, NULL::VARCHAR AS ssh_hostkey,
  NULL::VARCHAR AS ssh_cipher_c2s, NULL::VARCHAR AS ssh_mac_c2s,
  sum(handshakes)::BIGINT AS handshakes
FROM int_handshake_scan
GROUP BY ALL
