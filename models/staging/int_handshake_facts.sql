-- depends: int_handshake_keys, seed_tls_versions, seed_tls_cipher_suites, seed_tls_groups, seed_tls_signature_schemes, seed_ssh_algorithms
-- materialized: table
-- Handshake counts per process, server and negotiated algorithms with names and classifications: the fact
-- table the inventory, risk and tree marts read.
SELECT * FROM enrich_handshakes('int_handshake_keys')
