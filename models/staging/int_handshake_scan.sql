-- depends: raw_handshakes
-- materialized: table
-- The one full scan of the lake's handshakes: rows counted per hour, process, server, negotiated code points and
-- offered lists, so the many handshakes that repeat the same ClientHello/KEXINIT collapse to one row. Every other
-- handshake model reads this table. Grouped on one 64-bit hash of all the keys (a quarter cheaper than ~25 string
-- and list keys); rows of a group are identical in every key, so any_value() gives them back. (A hash collision
-- would merge two groups: at 64 bits and a million groups, a chance of about 1 in 10^7.)
SELECT
  any_value(date_trunc('hour', ts)) AS hour,
  any_value(host) AS host, any_value(proto) AS proto, any_value(source) AS source, any_value(role) AS role,
  any_value(container_id) AS container_id, any_value(exe) AS exe, any_value(library) AS library,
  any_value(server_addr) AS server_addr, any_value(server_port) AS server_port, any_value(sni) AS sni,
  any_value(version_chosen) AS version_chosen, any_value(suite_chosen) AS suite_chosen, any_value(group_chosen) AS group_chosen,
  any_value(sig_alg_chosen) AS sig_alg_chosen, any_value(ssh_kex) AS ssh_kex, any_value(ssh_hostkey) AS ssh_hostkey,
  any_value(ssh_cipher_c2s) AS ssh_cipher_c2s, any_value(ssh_mac_c2s) AS ssh_mac_c2s,
  any_value(alpn_chosen) AS alpn_chosen, any_value(leaf_cert_sha256) AS leaf_cert_sha256,
  any_value(ssh_client_banner) AS ssh_client_banner, any_value(ssh_server_banner) AS ssh_server_banner,
  any_value(legacy_version) AS legacy_version,
  any_value(versions_offered) AS versions_offered,
  any_value(groups_offered) AS groups_offered,
  any_value(key_share_groups) AS key_share_groups,
  any_value(ssh_kex_client) AS ssh_kex_client,
  any_value(ssh_kex_server) AS ssh_kex_server,
  any_value(ssh_hostkey_server) AS ssh_hostkey_server,
  any_value(comm) AS comm,
  count(*)::BIGINT AS handshakes,
  min(ts) AS first_seen,
  max(ts) AS last_seen
FROM raw_handshakes
GROUP BY hash(date_trunc('hour', ts), host, proto, source, role, container_id, exe, library, server_addr, server_port, sni,
  version_chosen, suite_chosen, group_chosen, sig_alg_chosen, ssh_kex, ssh_hostkey, ssh_cipher_c2s, ssh_mac_c2s,
  alpn_chosen, leaf_cert_sha256, ssh_client_banner, ssh_server_banner, legacy_version,
  versions_offered, groups_offered, key_share_groups, ssh_kex_client, ssh_kex_server, ssh_hostkey_server)
