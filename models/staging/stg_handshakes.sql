-- depends: raw_handshakes, seed_tls_versions, seed_tls_cipher_suites, seed_tls_groups, seed_tls_signature_schemes, seed_ssh_algorithms
-- materialized: view
-- One row per handshake with names and classifications joined from the seeds (macro enrich_handshakes in
-- models/macros.sql): each role (kex, cipher, signature, mac) gets one name and one classification whatever
-- the protocol. The offered lists stay in stg_handshake_offers.
SELECT h.* EXCLUDE (alpn_offered, versions_offered, suites_offered, groups_offered, key_share_groups, sig_algs_offered, psk_modes,
               ssh_kex_client, ssh_kex_server, ssh_hostkey_client, ssh_hostkey_server, ssh_ciphers_client, ssh_ciphers_server,
               ssh_macs_client, ssh_macs_server),
  date_trunc('hour', h.ts) AS hour,
  -- what the client offered: a PQ or hybrid key exchange anywhere in its lists?
  CASE WHEN h.proto = 'ssh' THEN list_has_any(h.ssh_kex_client, getvariable('pq_ssh_kex'))
       ELSE list_has_any(list_concat(h.groups_offered, h.key_share_groups), getvariable('pq_tls_groups')) END AS client_offers_pq,
  CASE WHEN h.proto = 'ssh' THEN list_has_any(h.ssh_kex_server, getvariable('pq_ssh_kex')) END AS server_offers_pq
FROM enrich_handshakes('raw_handshakes') h
