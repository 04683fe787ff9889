-- depends: raw_handshakes
-- materialized: table
-- Handshakes per hour, agent host, server and the code points that decide the key-exchange class.
SELECT date_trunc('hour', ts) AS hour, host, proto, server_addr, server_port, sni, suite_chosen, group_chosen, ssh_kex,
  NULL::INTEGER AS version_chosen, NULL::INTEGER AS sig_alg_chosen, NULL::VARCHAR AS ssh_hostkey,
  NULL::VARCHAR AS ssh_cipher_c2s, NULL::VARCHAR AS ssh_mac_c2s,
  count(*)::BIGINT AS handshakes
FROM raw_handshakes
GROUP BY ALL
