-- depends: raw_handshakes
-- materialized: view
-- The offered lists of each handshake (kept apart from stg_handshakes so scans that need no lists stay light).
SELECT ts, host, proto, role, container_id, exe, server_addr, server_port, sni,
  alpn_offered, alpn_chosen, versions_offered, suites_offered, groups_offered, key_share_groups, sig_algs_offered,
  legacy_version, leaf_cert_sha256, ssh_client_banner, ssh_server_banner, ssh_kex_client, ssh_kex_server, ssh_hostkey_client, ssh_hostkey_server
FROM raw_handshakes
