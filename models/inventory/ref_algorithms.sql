-- depends: seed_tls_groups, seed_tls_cipher_suites, seed_tls_signature_schemes, seed_tls_versions, seed_ssh_algorithms, seed_x509_algorithms
-- Every algorithm the seeds know, in one shape (legends, tooltips, the CBOM).
SELECT 'tls_group' AS registry, code, name, hex4(code) AS identifier, family, classical_bits, nist_pq_level, quantum_status, deprecated_after, disallowed_after, cnsa2 FROM seed_tls_groups
UNION ALL
SELECT 'tls_cipher_suite', code, name, hex4(code), family, classical_bits, nist_pq_level, quantum_status, deprecated_after, disallowed_after, cnsa2 FROM seed_tls_cipher_suites
UNION ALL
SELECT 'tls_signature_scheme', code, name, hex4(code), family, classical_bits, nist_pq_level, quantum_status, deprecated_after, disallowed_after, cnsa2 FROM seed_tls_signature_schemes
UNION ALL
SELECT 'tls_version', code, name, hex4(code), proto, NULL::INTEGER, NULL::INTEGER, CASE WHEN name = 'GREASE' THEN 'none' END, NULL::INTEGER,
       CASE WHEN deprecated THEN 2021 END, NULL FROM seed_tls_versions
UNION ALL
SELECT 'ssh_' || kind, NULL::INTEGER, name, name, family, classical_bits, nist_pq_level, quantum_status, deprecated_after, disallowed_after, cnsa2 FROM seed_ssh_algorithms
UNION ALL
SELECT 'x509_' || kind, NULL::INTEGER, name, oid, family, classical_bits, nist_pq_level, quantum_status, deprecated_after, disallowed_after, cnsa2 FROM seed_x509_algorithms
