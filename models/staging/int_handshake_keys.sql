-- depends: raw_handshakes
-- materialized: table
-- The lake's handshakes counted per process, server and negotiated code points (whole period): one scan of
-- the lake on cheap keys; names and classifications are joined afterwards on the few resulting rows.
SELECT
  host, proto, source, role, container_id, exe, library, server_addr, server_port, sni,
  version_chosen, suite_chosen, group_chosen, sig_alg_chosen, ssh_kex, ssh_hostkey, ssh_cipher_c2s, ssh_mac_c2s,
  CASE WHEN proto = 'ssh' THEN list_has_any(ssh_kex_client, getvariable('pq_ssh_kex'))
       ELSE list_has_any(list_concat(groups_offered, key_share_groups), getvariable('pq_tls_groups')) END AS client_offers_pq,
  CASE WHEN proto = 'ssh' THEN list_has_any(ssh_kex_server, getvariable('pq_ssh_kex')) END AS server_offers_pq,
  any_value(comm) AS comm,
  count(*)::BIGINT AS handshakes,
  min(ts) AS first_seen,
  max(ts) AS last_seen
FROM raw_handshakes
GROUP BY ALL
