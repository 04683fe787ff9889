// The marts the site reads, with the columns its pages query (names and types from models/README.md).
// `cryptoscope site build` checks a marts folder against this list before building, so a missing
// mart or a renamed column is one clear error at build time instead of a broken chart in a browser.

export const SITE_MARTS = {
  risk_readiness:
    "scope VARCHAR, host VARCHAR, handshakes BIGINT, handshakes_known_kex BIGINT, pq_handshakes BIGINT, hybrid_handshakes BIGINT, handshake_pq_share DOUBLE, endpoints BIGINT, endpoints_pq_capable BIGINT, endpoint_pq_share DOUBLE, certificates BIGINT, certificates_pq BIGINT, readiness DOUBLE",
  risk_findings:
    "rule VARCHAR, severity VARCHAR, severity_rank INTEGER, asset_type VARCHAR, asset_id VARCHAR, label VARCHAR, host VARCHAR, message VARCHAR, observed VARCHAR, threshold VARCHAR, occurrences BIGINT, first_seen TIMESTAMP, last_seen TIMESTAMP",
  risk_assets:
    "asset_type VARCHAR, asset_id VARCHAR, label VARCHAR, host VARCHAR, score INTEGER, level VARCHAR, kex_status VARCHAR, quantum_vulnerable BOOLEAN, vulnerable_algorithms VARCHAR[], min_classical_bits INTEGER, deprecated_after INTEGER, disallowed_after INTEGER, reasons VARCHAR[], handshakes BIGINT, last_seen TIMESTAMP",
  rpt_migration_hourly:
    "hour TIMESTAMP, host VARCHAR, proto VARCHAR, service VARCHAR, handshakes BIGINT, pq_handshakes BIGINT, hybrid_handshakes BIGINT, classical_handshakes BIGINT, unknown_handshakes BIGINT, pq_share DOUBLE",
  rpt_heatmap_process_algorithm:
    "process VARCHAR, host VARCHAR, container_id VARCHAR, exe VARCHAR, kind VARCHAR, algorithm VARCHAR, quantum_status VARCHAR, handshakes BIGINT",
  rpt_heatmap_host_hour:
    "host VARCHAR, hour TIMESTAMP, handshakes BIGINT, pq_handshakes BIGINT, classical_handshakes BIGINT, pq_share DOUBLE",
  rpt_flame_tree:
    "id VARCHAR, parent_id VARCHAR, depth INTEGER, level VARCHAR, name VARCHAR, value BIGINT, pq_share DOUBLE, quantum_status VARCHAR",
  inv_certificates:
    "sha256 VARCHAR, subject VARCHAR, issuer VARCHAR, serial VARCHAR, not_before TIMESTAMP, not_after TIMESTAMP, days_to_expiry INTEGER, expired BOOLEAN, key_alg VARCHAR, key_bits INTEGER, key_curve VARCHAR, key_family VARCHAR, sig_alg VARCHAR, sig_hash VARCHAR, is_ca BOOLEAN, self_signed BOOLEAN, chain_position INTEGER, sans VARCHAR[], quantum_status VARCHAR, classical_bits INTEGER, endpoints VARCHAR[], hosts VARCHAR[], first_seen TIMESTAMP, last_seen TIMESTAMP, times_seen BIGINT",
  inv_ssh_servers:
    "server_addr VARCHAR, server_port INTEGER, endpoint VARCHAR, banner VARCHAR, hosts VARCHAR[], first_seen TIMESTAMP, last_seen TIMESTAMP, handshakes BIGINT, kex_offered VARCHAR[], hostkeys_offered VARCHAR[], kex_chosen VARCHAR[], hostkeys_chosen VARCHAR[], ciphers_chosen VARCHAR[], macs_chosen VARCHAR[], offers_pq_kex BOOLEAN, pq_handshakes BIGINT, pq_share DOUBLE",
  inv_ssh_clients:
    "host VARCHAR, container_id VARCHAR, exe VARCHAR, comm VARCHAR, banner VARCHAR, handshakes BIGINT, servers BIGINT, first_seen TIMESTAMP, last_seen TIMESTAMP, kex_offered VARCHAR[], offers_pq_kex BOOLEAN, kex_chosen VARCHAR[], ciphers_chosen VARCHAR[], pq_handshakes BIGINT, pq_share DOUBLE",
  inv_tls_endpoints:
    "proto VARCHAR, server_addr VARCHAR, server_port INTEGER, sni VARCHAR, endpoint VARCHAR, hosts VARCHAR[], first_seen TIMESTAMP, last_seen TIMESTAMP, handshakes BIGINT, versions VARCHAR[], suites VARCHAR[], groups VARCHAR[], sig_algs VARCHAR[], alpn VARCHAR[], pq_handshakes BIGINT, pq_share DOUBLE, leaf_cert_sha256 VARCHAR, cert_subject VARCHAR, cert_issuer VARCHAR, cert_not_after TIMESTAMP, cert_key_alg VARCHAR, cert_key_bits INTEGER, cert_sig_alg VARCHAR",
  inv_tls_clients:
    "host VARCHAR, container_id VARCHAR, exe VARCHAR, comm VARCHAR, library VARCHAR, handshakes BIGINT, servers BIGINT, first_seen TIMESTAMP, last_seen TIMESTAMP, versions_offered VARCHAR[], groups_offered VARCHAR[], offers_pq BOOLEAN, versions_chosen VARCHAR[], suites_chosen VARCHAR[], groups_chosen VARCHAR[], pq_handshakes BIGINT, pq_share DOUBLE",
} as const;

export type MartName = keyof typeof SITE_MARTS;
export const MART_NAMES = Object.keys(SITE_MARTS) as MartName[];

export function martColumns(name: MartName): { name: string; type: string }[] {
  // Split on commas outside brackets (types never contain commas here, but keep it honest).
  return SITE_MARTS[name].split(/,\s*/).map((c) => {
    const i = c.indexOf(" ");
    return { name: c.slice(0, i), type: c.slice(i + 1) };
  });
}
