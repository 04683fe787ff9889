-- Small helpers shared by the models (run before any model).
CREATE OR REPLACE MACRO dlist(x) AS coalesce(list_sort(list(DISTINCT x) FILTER (WHERE x IS NOT NULL)), []);
CREATE OR REPLACE MACRO hex4(c) AS CASE WHEN c IS NULL THEN NULL ELSE printf('0x%04X', c) END;
CREATE OR REPLACE MACRO share(a, b) AS CASE WHEN coalesce(b, 0) > 0 THEN coalesce(a, 0)::DOUBLE / b ELSE NULL END;
-- TLS/DTLS versions in protocol order (DTLS code points count down): SSL2 2, SSL3 3, TLS1.0 10 … TLS1.3 13.
CREATE OR REPLACE MACRO version_rank(c) AS CASE c
  WHEN 2 THEN 2 WHEN 768 THEN 3 WHEN 769 THEN 10 WHEN 770 THEN 11 WHEN 771 THEN 12 WHEN 772 THEN 13
  WHEN 65279 THEN 11 WHEN 65277 THEN 12 WHEN 65276 THEN 13 ELSE NULL END;
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
