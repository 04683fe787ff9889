-- depends: raw_handshakes, seed_tls_versions, seed_tls_cipher_suites, seed_tls_groups, seed_tls_signature_schemes, seed_ssh_algorithms
-- materialized: view
-- One row per handshake with names and classifications joined from the seeds. The algorithm of each
-- role (kex, cipher, signature, mac) gets one name and one classification whatever the protocol.
SELECT
  h.* EXCLUDE (alpn_offered, versions_offered, suites_offered, groups_offered, key_share_groups, sig_algs_offered, psk_modes,
               ssh_kex_client, ssh_kex_server, ssh_hostkey_client, ssh_hostkey_server, ssh_ciphers_client, ssh_ciphers_server,
               ssh_macs_client, ssh_macs_server),
  date_trunc('hour', h.ts) AS hour,
  CASE WHEN h.proto = 'ssh' THEN 'SSH 2.0' ELSE coalesce(v.name, hex4(h.version_chosen)) END AS version_name,
  CASE WHEN h.proto = 'ssh' THEN 20 ELSE version_rank(h.version_chosen) END AS version_rank,
  coalesce(s.name, hex4(h.suite_chosen)) AS suite_name,
  coalesce(g.name, hex4(h.group_chosen)) AS group_name,
  CASE WHEN h.proto = 'ssh' THEN h.ssh_kex
       WHEN h.group_chosen IS NOT NULL THEN coalesce(g.name, hex4(h.group_chosen))
       WHEN s.kex IN ('RSA', 'RSA_PSK', 'PSK', 'KRB5', 'DH', 'ECDH', 'SRP') THEN s.kex END AS kex_name,
  CASE WHEN h.proto = 'ssh' THEN coalesce(sk.kex_class, 'unknown')
       WHEN h.group_chosen IS NOT NULL THEN coalesce(g.kex_class, 'unknown')
       WHEN s.kex IN ('RSA', 'RSA_PSK', 'DH', 'ECDH', 'SRP') THEN 'classical'
       ELSE 'unknown' END AS kex_class,
  CASE WHEN h.proto = 'ssh' THEN sk.quantum_status WHEN h.group_chosen IS NOT NULL THEN g.quantum_status
       WHEN s.kex IN ('RSA', 'RSA_PSK', 'DH', 'ECDH', 'SRP') THEN 'shor-broken' END AS kex_quantum_status,
  CASE WHEN h.proto = 'ssh' THEN sk.classical_bits ELSE g.classical_bits END AS kex_bits,
  CASE WHEN h.proto = 'ssh' THEN sk.deprecated_after ELSE g.deprecated_after END AS kex_deprecated_after,
  CASE WHEN h.proto = 'ssh' THEN sk.disallowed_after WHEN h.group_chosen IS NOT NULL THEN g.disallowed_after
       WHEN s.kex IN ('RSA', 'RSA_PSK', 'DH', 'ECDH', 'SRP') THEN 2035 END AS kex_disallowed_after,
  CASE WHEN h.proto = 'ssh' THEN h.ssh_cipher_c2s ELSE s.cipher END AS cipher_name,
  CASE WHEN h.proto = 'ssh' THEN sc.classical_bits ELSE s.classical_bits END AS cipher_bits,
  CASE WHEN h.proto = 'ssh' THEN sc.quantum_status WHEN s.tls13 THEN s.quantum_status WHEN s.code IS NOT NULL THEN
       CASE WHEN s.cipher = 'NULL' THEN 'none' ELSE 'grover-weakened' END END AS cipher_quantum_status,
  CASE WHEN h.proto = 'ssh' THEN sc.disallowed_after WHEN s.classical_bits < 128 THEN s.disallowed_after END AS cipher_disallowed_after,
  CASE WHEN h.proto = 'ssh' THEN h.ssh_hostkey ELSE coalesce(sg.name, hex4(h.sig_alg_chosen)) END AS sig_name,
  CASE WHEN h.proto = 'ssh' THEN shk.classical_bits ELSE sg.classical_bits END AS sig_bits,
  CASE WHEN h.proto = 'ssh' THEN shk.quantum_status ELSE sg.quantum_status END AS sig_quantum_status,
  CASE WHEN h.proto = 'ssh' THEN shk.disallowed_after ELSE sg.disallowed_after END AS sig_disallowed_after,
  CASE WHEN h.proto = 'ssh' THEN (h.ssh_hostkey IN ('ssh-rsa', 'ssh-rsa-cert-v01@openssh.com', 'ssh-dss', 'ssh-dss-cert-v01@openssh.com'))
       ELSE sg.hash = 'sha1' END AS sig_sha1,
  CASE WHEN h.proto = 'ssh' THEN coalesce(h.ssh_mac_c2s, 'AEAD') ELSE s.mac END AS mac_name,
  CASE WHEN h.proto = 'ssh' THEN h.ssh_kex NOT IN ('rsa1024-sha1', 'rsa2048-sha256')
       WHEN s.tls13 THEN true
       ELSE s.forward_secrecy END AS forward_secrecy,
  -- What the client offered: a PQ or hybrid key exchange anywhere in its lists?
  CASE WHEN h.proto = 'ssh' THEN list_has_any(h.ssh_kex_client, getvariable('pq_ssh_kex'))
       ELSE list_has_any(list_concat(h.groups_offered, h.key_share_groups), getvariable('pq_tls_groups')) END AS client_offers_pq,
  CASE WHEN h.proto = 'ssh' THEN list_has_any(h.ssh_kex_server, getvariable('pq_ssh_kex')) END AS server_offers_pq,
  CASE WHEN h.proto = 'ssh' THEN h.server_addr || ':' || coalesce(CAST(h.server_port AS VARCHAR), '?')
       ELSE endpoint_label(h.sni, h.server_addr, h.server_port) END AS service
FROM raw_handshakes h
-- plain equi-joins on the code/name only (an extra condition on h in ON makes DuckDB fall off its fast hash join)
LEFT JOIN seed_tls_versions v ON v.code = h.version_chosen
LEFT JOIN seed_tls_cipher_suites s ON s.code = h.suite_chosen
LEFT JOIN seed_tls_groups g ON g.code = h.group_chosen
LEFT JOIN seed_tls_signature_schemes sg ON sg.code = h.sig_alg_chosen
LEFT JOIN (SELECT * FROM seed_ssh_algorithms WHERE kind = 'kex') sk ON sk.name = h.ssh_kex
LEFT JOIN (SELECT * FROM seed_ssh_algorithms WHERE kind = 'cipher') sc ON sc.name = h.ssh_cipher_c2s
LEFT JOIN (SELECT * FROM seed_ssh_algorithms WHERE kind = 'hostkey') shk ON shk.name = h.ssh_hostkey
