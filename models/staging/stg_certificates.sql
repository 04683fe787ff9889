-- depends: raw_certificates, seed_x509_algorithms
-- materialized: view
-- Certificates with key and signature classification (OID first, the lake's key_alg name as fallback).
SELECT
  c.* EXCLUDE (der),
  date_trunc('hour', c.ts) AS hour,
  coalesce(k.family, CASE
    WHEN c.key_alg = 'rsa' THEN 'RSA' WHEN c.key_alg = 'ec' THEN 'EC' WHEN c.key_alg = 'dsa' THEN 'DSA'
    WHEN c.key_alg IN ('ed25519', 'ed448') THEN 'EdDSA' WHEN c.key_alg LIKE 'ml-dsa%' THEN 'ML-DSA'
    WHEN c.key_alg LIKE 'slh-dsa%' THEN 'SLH-DSA' ELSE 'other' END) AS key_family,
  coalesce(k.quantum_status, CASE WHEN c.key_alg LIKE 'ml-dsa%' OR c.key_alg LIKE 'slh-dsa%' THEN 'post-quantum'
    WHEN c.key_alg IN ('rsa', 'ec', 'dsa', 'ed25519', 'ed448') THEN 'shor-broken' END) AS key_quantum_status,
  CASE
    WHEN coalesce(k.family, upper(c.key_alg)) IN ('RSA', 'RSA-PSS', 'DSA', 'FFDH') THEN rsa_strength(c.key_bits)
    WHEN coalesce(k.family, c.key_alg) IN ('EC', 'ec') THEN c.key_bits // 2
    WHEN k.classical_bits IS NOT NULL THEN k.classical_bits
    WHEN c.key_alg = 'ed25519' THEN 128 WHEN c.key_alg = 'ed448' THEN 224
    WHEN c.key_alg = 'ml-dsa-44' THEN 128 WHEN c.key_alg = 'ml-dsa-65' THEN 192 WHEN c.key_alg = 'ml-dsa-87' THEN 256
  END AS key_classical_bits,
  coalesce(c.sig_alg, s.name) AS sig_name,
  coalesce(s.hash, CASE WHEN c.sig_alg ILIKE '%sha1%' OR c.sig_alg ILIKE '%sha-1%' THEN 'sha1'
                        WHEN c.sig_alg ILIKE '%md5%' THEN 'md5' END) AS sig_hash,
  s.classical_bits AS sig_hash_cap_bits,
  coalesce(s.quantum_status, CASE WHEN c.sig_alg ILIKE '%ml-dsa%' OR c.sig_alg ILIKE '%slh-dsa%' THEN 'post-quantum' ELSE 'shor-broken' END) AS sig_quantum_status
FROM raw_certificates c
LEFT JOIN seed_x509_algorithms k ON k.oid = c.key_oid AND k.kind = 'key'
LEFT JOIN seed_x509_algorithms s ON s.oid = c.sig_alg_oid AND s.kind = 'signature'
