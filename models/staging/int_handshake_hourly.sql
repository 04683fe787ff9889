-- depends: int_handshake_hourly_keys, seed_tls_cipher_suites, seed_tls_groups, seed_ssh_algorithms
-- materialized: table
-- Handshakes per hour, agent host, service and key-exchange class: what the time-series reports read.
SELECT hour, host, proto, service, kex_class, handshakes FROM enrich_handshakes('int_handshake_hourly_keys')
