-- Small helpers shared by the models (run before any model).
CREATE OR REPLACE MACRO dlist(x) AS coalesce(list_sort(list(DISTINCT x) FILTER (WHERE x IS NOT NULL)), []);
CREATE OR REPLACE MACRO hex4(c) AS CASE WHEN c IS NULL THEN NULL ELSE printf('0x%04X', c) END;
CREATE OR REPLACE MACRO share(a, b) AS CASE WHEN coalesce(b, 0) > 0 THEN coalesce(a, 0)::DOUBLE / b ELSE NULL END;
-- TLS/DTLS versions in protocol order (DTLS code points count down): SSL2 2, SSL3 3, TLS1.0 10 … TLS1.3 13.
CREATE OR REPLACE MACRO version_rank(c) AS CASE c
  WHEN 2 THEN 2 WHEN 768 THEN 3 WHEN 769 THEN 10 WHEN 770 THEN 11 WHEN 771 THEN 12 WHEN 772 THEN 13
  WHEN 65279 THEN 11 WHEN 65277 THEN 12 WHEN 65276 THEN 13 WHEN 64279 THEN 13 WHEN 64282 THEN 13
  ELSE CASE WHEN c BETWEEN 32512 AND 32767 THEN 13 END END; -- 0x7Fxx: TLS 1.3 drafts
-- NIST SP 800-57 strength of an RSA/DSA/FFDH modulus.
CREATE OR REPLACE MACRO rsa_strength(b) AS CASE WHEN b IS NULL THEN NULL
  WHEN b >= 15360 THEN 256 WHEN b >= 8192 THEN 200 WHEN b >= 7680 THEN 192 WHEN b >= 6144 THEN 176
  WHEN b >= 4096 THEN 152 WHEN b >= 3072 THEN 128 WHEN b >= 2048 THEN 112 WHEN b >= 1024 THEN 80 ELSE 56 END;
-- NIST IR 8547 dates for a quantum-vulnerable public-key algorithm of a given strength.
CREATE OR REPLACE MACRO ir8547_deprecated(bits) AS CASE WHEN bits IS NULL THEN NULL WHEN bits < 112 THEN 2010 WHEN bits < 128 THEN 2030 ELSE NULL END;
CREATE OR REPLACE MACRO ir8547_disallowed(bits) AS CASE WHEN bits IS NULL THEN 2035 WHEN bits < 112 THEN 2013 ELSE 2035 END;
CREATE OR REPLACE MACRO severity_rank(s) AS CASE s WHEN 'info' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 END;
-- Library family from a soname, path or probe name.
CREATE OR REPLACE MACRO lib_family(s) AS CASE
  WHEN s IS NULL THEN NULL
  WHEN regexp_matches(lower(s), '(^|/)(libssl3|libnss3|libnss|libsmime3|libfreebl)') OR lower(s) = 'nss' THEN 'nss'
  WHEN regexp_matches(lower(s), 'boringssl') THEN 'boringssl'
  WHEN regexp_matches(lower(s), 'libssl|libcrypto|openssl') THEN 'openssl'
  WHEN regexp_matches(lower(s), 'gnutls') THEN 'gnutls'
  WHEN regexp_matches(lower(s), 'wolfssl') THEN 'wolfssl'
  WHEN regexp_matches(lower(s), 'mbed') THEN 'mbedtls'
  WHEN regexp_matches(lower(s), 'gcrypt') THEN 'libgcrypt'
  WHEN regexp_matches(lower(s), 'nettle|hogweed') THEN 'nettle'
  WHEN regexp_matches(lower(s), 'sodium') THEN 'libsodium'
  WHEN regexp_matches(lower(s), 'oqs') THEN 'liboqs'
  WHEN lower(s) IN ('go', 'golang', 'crypto/tls') THEN 'go'
  ELSE lower(s) END;
-- Labels used across marts.
CREATE OR REPLACE MACRO endpoint_label(sni, addr, port) AS coalesce(sni, addr, '?') || ':' || coalesce(CAST(port AS VARCHAR), '?');
CREATE OR REPLACE MACRO process_label(host, container_id, exe, comm) AS
  coalesce(host, '?') || coalesce('/' || container_id[1:12], '') || ':' || coalesce(exe, comm, '?');

-- Names and classifications of a handshake's code points, over any relation with the handshake code columns
-- (the lake's rows in stg_handshakes, or their aggregates in int_handshake_facts/int_handshake_hourly).
CREATE OR REPLACE MACRO enrich_handshakes(t) AS TABLE
SELECT
  h.*,
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
  CASE WHEN h.proto = 'ssh' THEN h.server_addr || ':' || coalesce(CAST(h.server_port AS VARCHAR), '?')
       ELSE endpoint_label(h.sni, h.server_addr, h.server_port) END AS service
FROM query_table(t) h
-- plain equi-joins on the code/name only (an extra condition on h in ON makes DuckDB fall off its fast hash join)
LEFT JOIN seed_tls_versions v ON v.code = h.version_chosen
LEFT JOIN seed_tls_cipher_suites s ON s.code = h.suite_chosen
LEFT JOIN seed_tls_groups g ON g.code = h.group_chosen
LEFT JOIN seed_tls_signature_schemes sg ON sg.code = h.sig_alg_chosen
LEFT JOIN (SELECT * FROM seed_ssh_algorithms WHERE kind = 'kex') sk ON sk.name = h.ssh_kex
LEFT JOIN (SELECT * FROM seed_ssh_algorithms WHERE kind = 'cipher') sc ON sc.name = h.ssh_cipher_c2s
LEFT JOIN (SELECT * FROM seed_ssh_algorithms WHERE kind = 'hostkey') shk ON shk.name = h.ssh_hostkey;
