// Synthetic marts of realistic size for the site bench: N handshakes drawn in DuckDB (a week, 50 hosts,
// skewed traffic over N/200 services, each service moving to hybrid key exchange at its own hour or never),
// then aggregated into every mart the site reads, in the shapes of models/README.md (SITE_MARTS).
// Deterministic: everything derives from hash(i), so two runs write the same marts.
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { MART_NAMES, martColumns } from "./marts.ts";

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function writeSyntheticMarts(dir: string, handshakes: number): Promise<Record<string, number>> {
  mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const con = await db.connect();
  const services = Math.max(50, Math.round(handshakes / 200));
  const hosts = 50;
  try {
    for (const m of MART_NAMES) {
      await con.run(`CREATE TABLE ${m} (${martColumns(m).map((c) => `"${c.name}" ${c.type}`).join(", ")})`);
    }
    // u(i, k): a uniform number in [0,1) from handshake i, stream k.
    await con.run(`CREATE MACRO u(i, k) AS (hash(i * 7919 + k) % 1000003) / 1000003.0`);
    await con.run(`
      CREATE TABLE svc AS
      SELECT s AS sid,
             CASE WHEN s % 10 = 0 THEN 'ssh' WHEN s % 10 = 1 THEN 'quic' ELSE 'tls' END AS proto,
             printf('10.%d.%d.%d', (s // 65536) % 256, (s // 256) % 256, s % 256) AS addr,
             CASE WHEN s % 10 = 0 THEN 22 WHEN s % 10 = 1 THEN 8443 ELSE 443 END AS port,
             CASE WHEN s % 10 = 0 THEN NULL ELSE printf('svc%d.example.test', s) END AS sni,
             -- hour of the week at which this service turns on hybrid kex; >= 168 means never
             (u(s, 1) * 300)::INTEGER AS migrate_hour,
             CASE WHEN u(s, 2) < 0.15 THEN 'rsa1024' WHEN u(s, 2) < 0.6 THEN 'rsa2048' WHEN u(s, 2) < 0.95 THEN 'p256' ELSE 'mldsa65' END AS cert,
             (u(s, 3) * 400)::INTEGER - 30 AS days_to_expiry
      FROM range(${services}) t(s)`);
    await con.run(`
      CREATE TABLE hs AS
      WITH base AS (
        SELECT i, (${services} * pow(u(i, 10), 2.5))::INTEGER AS sid, (u(i, 11) * 168)::INTEGER AS h, u(i, 12) AS r
        FROM range(${handshakes}) t(i))
      SELECT i, TIMESTAMP '2026-11-24 00:00:00' + to_hours(h) AS hour, h,
             printf('host-%02d', (sid * 7 + (i % 3)) % ${hosts}) AS host,
             ['/usr/bin/curl', '/usr/sbin/nginx', '/usr/bin/python3.12', '/usr/lib/jvm/java-17/bin/java', '/usr/bin/ssh', '/usr/sbin/sshd', '/usr/bin/git', '/opt/app/bin/server'][1 + (sid + i % 2) % 8] AS exe,
             CASE WHEN (sid % 5) = 0 THEN printf('%08x', sid % 97) ELSE NULL END AS container_id,
             svc.proto, svc.addr, svc.port, svc.sni, svc.cert, svc.days_to_expiry,
             CASE WHEN r < 0.02 THEN 'unknown' WHEN h >= svc.migrate_hour AND r < 0.92 THEN (CASE WHEN svc.sid % 13 = 0 THEN 'pq' ELSE 'hybrid' END) ELSE 'classical' END AS kex_class
      FROM base JOIN svc USING (sid)`);
    await con.run(`
      CREATE TABLE hs2 AS SELECT *,
        CASE proto WHEN 'ssh' THEN printf('%s:%d', addr, port) ELSE printf('%s|%s:%d', sni, addr, port) END AS service,
        CASE WHEN proto = 'ssh' THEN (CASE kex_class WHEN 'hybrid' THEN 'mlkem768x25519-sha256' WHEN 'pq' THEN 'sntrup761x25519-sha512' ELSE 'curve25519-sha256' END)
             ELSE (CASE kex_class WHEN 'hybrid' THEN 'X25519MLKEM768' WHEN 'pq' THEN 'MLKEM1024' WHEN 'unknown' THEN 'unknown' ELSE 'x25519' END) END AS kex,
        CASE WHEN proto = 'ssh' THEN 'chacha20-poly1305@openssh.com' ELSE (CASE WHEN i % 3 = 0 THEN 'TLS_AES_256_GCM_SHA384' ELSE 'TLS_AES_128_GCM_SHA256' END) END AS cipher,
        CASE WHEN proto = 'ssh' THEN 'ssh-ed25519' WHEN cert = 'p256' THEN 'ecdsa_secp256r1_sha256' WHEN cert = 'mldsa65' THEN 'mldsa65' ELSE 'rsa_pss_rsae_sha256' END AS sig,
        CASE WHEN exe LIKE '%java%' THEN 'jsse' WHEN exe LIKE '%ssh%' THEN 'openssh' ELSE 'openssl' END AS library
      FROM hs`);
    await con.run(`DROP TABLE hs`);

    await con.run(`INSERT INTO rpt_migration_hourly BY NAME
      SELECT hour, host, proto, service, count(*) AS handshakes,
             count(*) FILTER (kex_class = 'pq') AS pq_handshakes, count(*) FILTER (kex_class = 'hybrid') AS hybrid_handshakes,
             count(*) FILTER (kex_class = 'classical') AS classical_handshakes, count(*) FILTER (kex_class = 'unknown') AS unknown_handshakes,
             count(*) FILTER (kex_class IN ('pq', 'hybrid')) / nullif(count(*) FILTER (kex_class <> 'unknown'), 0) AS pq_share
      FROM hs2 GROUP BY ALL`);
    await con.run(`INSERT INTO rpt_heatmap_host_hour BY NAME
      SELECT host, hour, sum(handshakes) AS handshakes, sum(pq_handshakes + hybrid_handshakes) AS pq_handshakes,
             sum(classical_handshakes) AS classical_handshakes, sum(pq_handshakes + hybrid_handshakes) / sum(handshakes) AS pq_share
      FROM rpt_migration_hourly GROUP BY ALL`);
    await con.run(`INSERT INTO rpt_heatmap_process_algorithm BY NAME
      SELECT host || coalesce('/' || container_id, '') || exe AS process, host, container_id, exe, kind, algorithm,
             CASE WHEN algorithm IN ('X25519MLKEM768', 'mlkem768x25519-sha256') THEN 'hybrid' WHEN algorithm IN ('MLKEM1024', 'sntrup761x25519-sha512', 'mldsa65') THEN 'post-quantum'
                  WHEN kind = 'cipher' THEN 'grover-weakened' ELSE 'shor-broken' END AS quantum_status, count(*) AS handshakes
      FROM (SELECT host, container_id, exe, unnest([{'kind': 'kex', 'algorithm': kex}, {'kind': 'cipher', 'algorithm': cipher}, {'kind': 'signature', 'algorithm': sig}], recursive := true) FROM hs2)
      GROUP BY ALL`);
    // Flame tree: every prefix of host/container/exe/library/protocol/kex/cipher/signature.
    await con.run(`CREATE TABLE leaves AS SELECT [host, coalesce(container_id, '-'), exe, library, proto, kex, cipher, sig] AS path,
                     count(*) AS value, count(*) FILTER (kex_class IN ('pq', 'hybrid')) AS pq FROM hs2 GROUP BY ALL`);
    await con.run(`INSERT INTO rpt_flame_tree BY NAME
      SELECT array_to_string(['all'] || path[1:d], '/') AS id,
             CASE WHEN d = 0 THEN NULL ELSE array_to_string(['all'] || path[1:d - 1], '/') END AS parent_id,
             d AS depth, ['root', 'host', 'container', 'exe', 'library', 'protocol', 'kex', 'cipher', 'signature'][d + 1] AS level,
             CASE WHEN d = 0 THEN 'all' ELSE path[d] END AS name, sum(value) AS value, sum(pq) / sum(value) AS pq_share,
             NULL AS quantum_status
      FROM leaves, range(0, 9) t(d) GROUP BY ALL`);
    await con.run(`INSERT INTO inv_tls_endpoints BY NAME
      SELECT proto, addr AS server_addr, port AS server_port, sni, service AS endpoint, list(DISTINCT host) AS hosts,
             min(hour) AS first_seen, max(hour) + INTERVAL 59 MINUTE AS last_seen, count(*) AS handshakes,
             ['TLS 1.3'] AS versions, list(DISTINCT cipher) AS suites, list(DISTINCT kex) AS groups, list(DISTINCT sig) AS sig_algs, ['h2'] AS alpn,
             count(*) FILTER (kex_class IN ('pq', 'hybrid')) AS pq_handshakes,
             count(*) FILTER (kex_class IN ('pq', 'hybrid')) / count(*) AS pq_share,
             printf('%064x', hash(any_value(sni))) AS leaf_cert_sha256, 'CN=' || sni AS cert_subject, 'CN=Synthetic CA' AS cert_issuer,
             TIMESTAMP '2026-12-01 00:00:00' + to_days(any_value(days_to_expiry)) AS cert_not_after,
             CASE WHEN any_value(cert) LIKE 'rsa%' THEN 'rsa' WHEN any_value(cert) = 'p256' THEN 'ec' ELSE 'ml-dsa-65' END AS cert_key_alg,
             CASE any_value(cert) WHEN 'rsa1024' THEN 1024 WHEN 'rsa2048' THEN 2048 WHEN 'p256' THEN 256 ELSE NULL END AS cert_key_bits,
             'sha256WithRSAEncryption' AS cert_sig_alg
      FROM hs2 WHERE proto <> 'ssh' GROUP BY proto, addr, port, sni, service`);
    await con.run(`INSERT INTO inv_tls_clients BY NAME
      SELECT host, container_id, exe, regexp_extract(exe, '[^/]+$') AS comm, any_value(library) AS library, count(*) AS handshakes,
             count(DISTINCT service) AS servers, min(hour) AS first_seen, max(hour) AS last_seen, ['TLS 1.3', 'TLS 1.2'] AS versions_offered,
             ['X25519MLKEM768', 'x25519', 'secp256r1'] AS groups_offered, true AS offers_pq, ['TLS 1.3'] AS versions_chosen,
             list(DISTINCT cipher) AS suites_chosen, list(DISTINCT kex) AS groups_chosen,
             count(*) FILTER (kex_class IN ('pq', 'hybrid')) AS pq_handshakes, count(*) FILTER (kex_class IN ('pq', 'hybrid')) / count(*) AS pq_share
      FROM hs2 WHERE proto <> 'ssh' GROUP BY host, container_id, exe`);
    await con.run(`INSERT INTO inv_ssh_servers BY NAME
      SELECT addr AS server_addr, port AS server_port, service AS endpoint, 'SSH-2.0-OpenSSH_9.9' AS banner, list(DISTINCT host) AS hosts,
             min(hour) AS first_seen, max(hour) AS last_seen, count(*) AS handshakes, ['mlkem768x25519-sha256', 'curve25519-sha256'] AS kex_offered,
             ['ssh-ed25519'] AS hostkeys_offered, list(DISTINCT kex) AS kex_chosen, ['ssh-ed25519'] AS hostkeys_chosen,
             ['chacha20-poly1305@openssh.com'] AS ciphers_chosen, []::VARCHAR[] AS macs_chosen,
             bool_or(kex_class IN ('pq', 'hybrid')) AS offers_pq_kex, count(*) FILTER (kex_class IN ('pq', 'hybrid')) AS pq_handshakes,
             count(*) FILTER (kex_class IN ('pq', 'hybrid')) / count(*) AS pq_share
      FROM hs2 WHERE proto = 'ssh' GROUP BY addr, port, service`);
    await con.run(`INSERT INTO inv_ssh_clients BY NAME
      SELECT host, container_id, exe, regexp_extract(exe, '[^/]+$') AS comm, 'SSH-2.0-OpenSSH_9.9' AS banner, count(*) AS handshakes,
             count(DISTINCT service) AS servers, min(hour) AS first_seen, max(hour) AS last_seen, ['mlkem768x25519-sha256', 'curve25519-sha256'] AS kex_offered,
             true AS offers_pq_kex, list(DISTINCT kex) AS kex_chosen, ['chacha20-poly1305@openssh.com'] AS ciphers_chosen,
             count(*) FILTER (kex_class IN ('pq', 'hybrid')) AS pq_handshakes, count(*) FILTER (kex_class IN ('pq', 'hybrid')) / count(*) AS pq_share
      FROM hs2 WHERE proto = 'ssh' GROUP BY host, container_id, exe`);
    await con.run(`INSERT INTO inv_certificates BY NAME
      SELECT leaf_cert_sha256 AS sha256, cert_subject AS subject, cert_issuer AS issuer, printf('%x', hash(endpoint)) AS serial,
             cert_not_after - INTERVAL 398 DAY AS not_before, cert_not_after AS not_after, date_diff('day', TIMESTAMP '2026-12-01', cert_not_after)::INTEGER AS days_to_expiry,
             cert_not_after < TIMESTAMP '2026-12-01' AS expired, cert_key_alg AS key_alg, cert_key_bits AS key_bits,
             CASE cert_key_alg WHEN 'ec' THEN 'P-256' ELSE NULL END AS key_curve, CASE cert_key_alg WHEN 'ec' THEN 'ecdsa' WHEN 'rsa' THEN 'rsa' ELSE 'ml-dsa' END AS key_family,
             cert_sig_alg AS sig_alg, 'SHA-256' AS sig_hash, false AS is_ca, false AS self_signed, 0 AS chain_position, ['dns:' || sni] AS sans,
             CASE WHEN cert_key_alg = 'ml-dsa-65' THEN 'post-quantum' ELSE 'shor-broken' END AS quantum_status,
             CASE cert_key_bits WHEN 1024 THEN 80 WHEN 2048 THEN 112 ELSE 128 END AS classical_bits, [endpoint] AS endpoints, hosts,
             first_seen, last_seen, handshakes AS times_seen
      FROM inv_tls_endpoints WHERE hash(endpoint) % 2 = 0`);
    await con.run(`INSERT INTO risk_assets BY NAME
      SELECT 'tls_endpoint' AS asset_type, printf('%s|%s|%d|%s', proto, server_addr, server_port, sni) AS asset_id, endpoint AS label, NULL AS host,
             (CASE WHEN pq_share = 0 THEN 40 WHEN pq_share < 1 THEN 20 ELSE 0 END + 15 + CASE WHEN cert_key_bits = 1024 THEN 30 ELSE 0 END)::INTEGER AS score,
             'medium' AS level, CASE WHEN pq_share = 0 THEN 'classical' WHEN pq_share = 1 THEN 'hybrid' ELSE 'mixed' END AS kex_status, pq_share < 1 AS quantum_vulnerable,
             ['x25519'] AS vulnerable_algorithms, 112 AS min_classical_bits, 2030 AS deprecated_after, 2035 AS disallowed_after,
             ['key exchange classical only'] AS reasons, handshakes, last_seen
      FROM inv_tls_endpoints`);
    await con.run(`INSERT INTO risk_findings BY NAME
      SELECT 'no_pq_key_exchange' AS rule, 'medium' AS severity, 2 AS severity_rank, 'tls_endpoint' AS asset_type, endpoint AS asset_id, endpoint AS label,
             NULL AS host, 'never negotiated a post-quantum or hybrid key exchange' AS message, array_to_string(groups, ', ') AS observed, 'X25519MLKEM768' AS threshold,
             handshakes AS occurrences, first_seen, last_seen
      FROM inv_tls_endpoints WHERE pq_handshakes = 0
      UNION ALL
      SELECT 'rsa_key_too_small', 'high', 3, 'certificate', sha256, subject, NULL, printf('RSA key of %d bits is below the policy minimum of 2048', key_bits), key_bits::VARCHAR, '2048', times_seen, first_seen, last_seen
      FROM inv_certificates WHERE key_alg = 'rsa' AND key_bits < 2048
      UNION ALL
      SELECT 'cert_expired', 'critical', 4, 'certificate', sha256, subject, NULL, 'certificate expired', days_to_expiry::VARCHAR, '0', times_seen, first_seen, last_seen
      FROM inv_certificates WHERE expired`);
    await con.run(`INSERT INTO risk_readiness BY NAME
      WITH per AS (SELECT host, service, count(*) AS n, count(*) FILTER (kex_class <> 'unknown') AS known,
                          count(*) FILTER (kex_class = 'pq') AS pq, count(*) FILTER (kex_class = 'hybrid') AS hybrid FROM hs2 GROUP BY ALL),
           scopes AS (SELECT 'fleet' AS scope, NULL AS host, * EXCLUDE (host) FROM per UNION ALL SELECT 'host:' || host, host, * EXCLUDE (host) FROM per)
      SELECT scope, host, sum(n) AS handshakes, sum(known) AS handshakes_known_kex, sum(pq) AS pq_handshakes, sum(hybrid) AS hybrid_handshakes,
             sum(pq + hybrid) / sum(known) AS handshake_pq_share, count(DISTINCT service) AS endpoints,
             count(DISTINCT service) FILTER (pq + hybrid > 0) AS endpoints_pq_capable,
             count(DISTINCT service) FILTER (pq + hybrid > 0) / count(DISTINCT service) AS endpoint_pq_share, 0 AS certificates, 0 AS certificates_pq,
             0.6 * sum(pq + hybrid) / sum(known) + 0.4 * count(DISTINCT service) FILTER (pq + hybrid > 0) / count(DISTINCT service) AS readiness
      FROM scopes GROUP BY scope, host`);
    const rows: Record<string, number> = {};
    for (const m of MART_NAMES) {
      // ~100k-row groups: what DuckDB reads fastest, and what the models write.
      await con.run(`COPY ${m} TO ${q(join(dir, `${m}.parquet`))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`);
      const r = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${m}`);
      rows[m] = Number(r.getRowObjects()[0].n);
    }
    return rows;
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
