// Small, hand-made marts (and a small lake) with numbers and names the tests look for on the pages.
// Shapes follow models/README.md (via SITE_MARTS); values are planted so every page has something
// recognisable: hosts web-01/db-02/edge-03, one RSA-1024 certificate, one TLS 1.0 endpoint, an SSH server
// with ML-KEM hybrid kex, a migration that rises hour by hour on one service.
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SITE_MARTS, martColumns, type MartName } from "./marts.ts";
import { TABLES, type TableName } from "../capture/lake/schema.ts";

type Row = Record<string, unknown>;

export const FIXTURE = {
  hosts: ["web-01", "db-02", "edge-03"],
  start: "2026-11-30 00:00:00",
  hours: 24,
  // sum over 24 hours of 3 services × (10 + h) handshakes
  totalHandshakes: 1548,
  rsaCert: "CN=legacy.example.test",
  pqCert: "CN=pq.example.test",
  sshPqServer: "10.0.0.22:22",
  sshPqBanner: "SSH-2.0-OpenSSH_9.9",
  sshPqKex: "mlkem768x25519-sha256",
  tlsEndpoint: "api.example.test",
  legacyEndpoint: "legacy.example.test",
  tlsClientExe: "/usr/bin/curl",
  criticalFinding: "TLS 1.0 negotiated by legacy.example.test",
  flameLeaf: "X25519MLKEM768",
} as const;

export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  if (v instanceof Date) return `TIMESTAMP '${v.toISOString().replace("T", " ").replace("Z", "")}'`;
  if (Array.isArray(v)) return `[${v.map(sqlLiteral).join(", ")}]`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

async function writeTable(con: DuckDBConnection, name: string, columns: { name: string; type: string }[], rows: Row[], file: string) {
  await con.run(`CREATE OR REPLACE TABLE "${name}" (${columns.map((c) => `"${c.name}" ${c.type}`).join(", ")})`);
  if (rows.length) {
    const values = rows.map((r) => `(${columns.map((c) => literalFor(r[c.name], c.type)).join(", ")})`);
    await con.run(`INSERT INTO "${name}" VALUES ${values.join(",\n")}`);
  }
  await con.run(`COPY "${name}" TO '${file.replace(/'/g, "''")}' (FORMAT parquet)`);
}

function literalFor(v: unknown, type: string): string {
  if (type === "TIMESTAMP" && typeof v === "string") return `TIMESTAMP '${v}'`;
  if (type === "VARCHAR[]" && Array.isArray(v) && v.length === 0) return "[]::VARCHAR[]";
  return sqlLiteral(v);
}

const t = (h: number, m = 0) => new Date(Date.parse("2026-11-30T00:00:00Z") + h * 3600_000 + m * 60_000);

const services = [
  { host: "web-01", proto: "tls", service: "api.example.test|10.0.0.5:443" },
  { host: "db-02", proto: "ssh", service: "10.0.0.22:22" },
  { host: "edge-03", proto: "tls", service: "legacy.example.test|10.0.0.9:443" },
];

function migrationRows(): Row[] {
  const rows: Row[] = [];
  for (let h = 0; h < FIXTURE.hours; h++) {
    for (const s of services) {
      const n = 10 + h;
      // api: hybrid share rises from 0 to 100 %; ssh: hybrid from hour 12 on; legacy: classical only
      const hybrid = s.host === "web-01" ? Math.floor((n * h) / 23) : s.host === "db-02" ? (h >= 12 ? n : 0) : 0;
      const unknown = s.host === "edge-03" && h % 6 === 0 ? 1 : 0;
      const classical = n - hybrid - unknown;
      rows.push({
        hour: t(h), host: s.host, proto: s.proto, service: s.service, handshakes: n, pq_handshakes: 0,
        hybrid_handshakes: hybrid, classical_handshakes: classical, unknown_handshakes: unknown,
        pq_share: hybrid / (n - unknown),
      });
    }
  }
  return rows;
}

function hostHourRows(mig: Row[]): Row[] {
  return mig.map((r) => ({
    host: r.host, hour: r.hour, handshakes: r.handshakes, pq_handshakes: (r.pq_handshakes as number) + (r.hybrid_handshakes as number),
    classical_handshakes: r.classical_handshakes, pq_share: r.pq_share,
  }));
}

function readinessRows(mig: Row[]): Row[] {
  const scopes: [string, string | null, Row[]][] = [["fleet", null, mig], ...FIXTURE.hosts.map((h) => [`host:${h}`, h, mig.filter((r) => r.host === h)] as [string, string, Row[]])];
  return scopes.map(([scope, host, rows]) => {
    const sum = (k: string) => rows.reduce((a, r) => a + (r[k] as number), 0);
    const handshakes = sum("handshakes");
    const known = handshakes - sum("unknown_handshakes");
    const pq = sum("pq_handshakes");
    const hybrid = sum("hybrid_handshakes");
    const endpoints = new Set(rows.map((r) => r.service)).size;
    const capable = new Set(rows.filter((r) => (r.hybrid_handshakes as number) > 0).map((r) => r.service)).size;
    const hs = (pq + hybrid) / known;
    const es = capable / endpoints;
    return {
      scope, host, handshakes, handshakes_known_kex: known, pq_handshakes: pq, hybrid_handshakes: hybrid,
      handshake_pq_share: hs, endpoints, endpoints_pq_capable: capable, endpoint_pq_share: es,
      certificates: host === null ? 5 : 2, certificates_pq: host === null ? 1 : 0, readiness: 0.6 * hs + 0.4 * es,
    };
  });
}

const findings: Row[] = [
  { rule: "tls_legacy_version", severity: "critical", severity_rank: 4, asset_type: "tls_endpoint", asset_id: "tls|10.0.0.9|443|legacy.example.test", label: "legacy.example.test|10.0.0.9:443", host: null, message: FIXTURE.criticalFinding, observed: "TLS 1.0", threshold: "TLS 1.2", occurrences: 11, first_seen: t(0, 5), last_seen: t(23, 50) },
  { rule: "rsa_key_too_small", severity: "high", severity_rank: 3, asset_type: "certificate", asset_id: "c0ffee01", label: FIXTURE.rsaCert, host: null, message: "RSA key of 1024 bits is below the policy minimum of 2048", observed: "1024", threshold: "2048", occurrences: 516, first_seen: t(0, 5), last_seen: t(23, 50) },
  { rule: "sha1_signature", severity: "high", severity_rank: 3, asset_type: "certificate", asset_id: "c0ffee01", label: FIXTURE.rsaCert, host: null, message: "certificate signed with sha1WithRSAEncryption", observed: "sha1WithRSAEncryption", threshold: "SHA-256", occurrences: 516, first_seen: t(0, 5), last_seen: t(23, 50) },
  { rule: "no_pq_key_exchange", severity: "medium", severity_rank: 2, asset_type: "tls_endpoint", asset_id: "tls|10.0.0.9|443|legacy.example.test", label: "legacy.example.test|10.0.0.9:443", host: null, message: "never negotiated a post-quantum or hybrid key exchange", observed: "x25519, secp256r1", threshold: "X25519MLKEM768", occurrences: 512, first_seen: t(0, 5), last_seen: t(23, 50) },
  { rule: "ssh_no_pq_kex", severity: "medium", severity_rank: 2, asset_type: "ssh_server", asset_id: "10.0.0.23|22", label: "10.0.0.23:22", host: null, message: "SSH server offers no post-quantum key exchange", observed: "curve25519-sha256", threshold: "mlkem768x25519-sha256", occurrences: 40, first_seen: t(3), last_seen: t(20) },
  { rule: "cert_expiring", severity: "low", severity_rank: 1, asset_type: "certificate", asset_id: "c0ffee02", label: "CN=api.example.test", host: null, message: "certificate expires in 12 days", observed: "12", threshold: "30", occurrences: 516, first_seen: t(0, 1), last_seen: t(23, 59) },
  { rule: "tls_version_below_1_3", severity: "info", severity_rank: 0, asset_type: "tls_client", asset_id: "edge-03||/usr/lib/jvm/java-17/bin/java", label: "edge-03/usr/lib/jvm/java-17/bin/java", host: "edge-03", message: "client negotiated TLS 1.2", observed: "TLS 1.2", threshold: "TLS 1.3", occurrences: 200, first_seen: t(1), last_seen: t(22) },
];

const certificates: Row[] = [
  { sha256: "c0ffee02", subject: "CN=api.example.test", issuer: "CN=Example Issuing CA", serial: "1001", not_before: "2026-09-14 00:00:00", not_after: "2026-12-13 00:00:00", days_to_expiry: 12, expired: false, key_alg: "ec", key_bits: 256, key_curve: "P-256", key_family: "ecdsa", sig_alg: "ecdsa-with-SHA256", sig_hash: "SHA-256", is_ca: false, self_signed: false, chain_position: 0, sans: ["dns:api.example.test"], quantum_status: "shor-broken", classical_bits: 128, endpoints: ["api.example.test|10.0.0.5:443"], hosts: ["web-01"], first_seen: t(0, 1), last_seen: t(23, 59), times_seen: 516 },
  { sha256: "c0ffee01", subject: FIXTURE.rsaCert, issuer: "CN=Example Root CA", serial: "0badc0de", not_before: "2024-03-01 00:00:00", not_after: "2027-03-01 00:00:00", days_to_expiry: 90, expired: false, key_alg: "rsa", key_bits: 1024, key_curve: null, key_family: "rsa", sig_alg: "sha1WithRSAEncryption", sig_hash: "SHA-1", is_ca: false, self_signed: false, chain_position: 0, sans: ["dns:legacy.example.test"], quantum_status: "shor-broken", classical_bits: 80, endpoints: ["legacy.example.test|10.0.0.9:443"], hosts: ["edge-03"], first_seen: t(0, 5), last_seen: t(23, 50), times_seen: 516 },
  { sha256: "c0ffee03", subject: FIXTURE.pqCert, issuer: "CN=Example PQ CA", serial: "7001", not_before: "2026-11-01 00:00:00", not_after: "2027-11-30 00:00:00", days_to_expiry: 364, expired: false, key_alg: "ml-dsa-65", key_bits: null, key_curve: null, key_family: "ml-dsa", sig_alg: "ML-DSA-65", sig_hash: null, is_ca: false, self_signed: false, chain_position: 0, sans: ["dns:pq.example.test"], quantum_status: "post-quantum", classical_bits: 192, endpoints: ["pq.example.test|10.0.0.7:8443"], hosts: ["web-01"], first_seen: t(2), last_seen: t(21), times_seen: 42 },
  { sha256: "c0ffee04", subject: "CN=Example Root CA", issuer: "CN=Example Root CA", serial: "01", not_before: "2020-01-01 00:00:00", not_after: "2035-01-01 00:00:00", days_to_expiry: 2953, expired: false, key_alg: "rsa", key_bits: 4096, key_curve: null, key_family: "rsa", sig_alg: "sha256WithRSAEncryption", sig_hash: "SHA-256", is_ca: true, self_signed: true, chain_position: 1, sans: [], quantum_status: "shor-broken", classical_bits: 152, endpoints: ["legacy.example.test|10.0.0.9:443"], hosts: ["edge-03"], first_seen: t(0, 5), last_seen: t(23, 50), times_seen: 516 },
  { sha256: "c0ffee05", subject: "CN=old.example.test", issuer: "CN=Example Issuing CA", serial: "0e", not_before: "2025-10-01 00:00:00", not_after: "2026-10-01 00:00:00", days_to_expiry: -61, expired: true, key_alg: "rsa", key_bits: 2048, key_curve: null, key_family: "rsa", sig_alg: "sha256WithRSAEncryption", sig_hash: "SHA-256", is_ca: false, self_signed: false, chain_position: 0, sans: ["dns:old.example.test"], quantum_status: "shor-broken", classical_bits: 112, endpoints: [], hosts: ["db-02"], first_seen: t(4), last_seen: t(5), times_seen: 3 },
];

const sshServers: Row[] = [
  { server_addr: "10.0.0.22", server_port: 22, endpoint: FIXTURE.sshPqServer, banner: FIXTURE.sshPqBanner, hosts: ["db-02"], first_seen: t(0), last_seen: t(23, 40), handshakes: 516, kex_offered: [FIXTURE.sshPqKex, "sntrup761x25519-sha512", "curve25519-sha256"], hostkeys_offered: ["ssh-ed25519", "rsa-sha2-512"], kex_chosen: [FIXTURE.sshPqKex, "curve25519-sha256"], hostkeys_chosen: ["ssh-ed25519"], ciphers_chosen: ["chacha20-poly1305@openssh.com"], macs_chosen: [], offers_pq_kex: true, pq_handshakes: 258, pq_share: 0.5 },
  { server_addr: "10.0.0.23", server_port: 22, endpoint: "10.0.0.23:22", banner: "SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3", hosts: ["db-02", "web-01"], first_seen: t(3), last_seen: t(20), handshakes: 40, kex_offered: ["curve25519-sha256", "diffie-hellman-group14-sha256"], hostkeys_offered: ["rsa-sha2-512", "ecdsa-sha2-nistp256"], kex_chosen: ["curve25519-sha256"], hostkeys_chosen: ["rsa-sha2-512"], ciphers_chosen: ["aes256-gcm@openssh.com"], macs_chosen: [], offers_pq_kex: false, pq_handshakes: 0, pq_share: 0 },
];

const sshClients: Row[] = [
  { host: "db-02", container_id: null, exe: "/usr/bin/ssh", comm: "ssh", banner: "SSH-2.0-OpenSSH_9.9", handshakes: 530, servers: 2, first_seen: t(0), last_seen: t(23, 40), kex_offered: [FIXTURE.sshPqKex, "curve25519-sha256"], offers_pq_kex: true, kex_chosen: [FIXTURE.sshPqKex, "curve25519-sha256"], ciphers_chosen: ["chacha20-poly1305@openssh.com"], pq_handshakes: 258, pq_share: 0.487 },
  { host: "web-01", container_id: "3f2a9c", exe: "/usr/bin/rsync", comm: "rsync", banner: "SSH-2.0-OpenSSH_8.4p1", handshakes: 26, servers: 1, first_seen: t(3), last_seen: t(20), kex_offered: ["curve25519-sha256"], offers_pq_kex: false, kex_chosen: ["curve25519-sha256"], ciphers_chosen: ["aes256-gcm@openssh.com"], pq_handshakes: 0, pq_share: 0 },
];

const tlsEndpoints: Row[] = [
  { proto: "tls", server_addr: "10.0.0.5", server_port: 443, sni: FIXTURE.tlsEndpoint, endpoint: "api.example.test|10.0.0.5:443", hosts: ["web-01"], first_seen: t(0, 1), last_seen: t(23, 59), handshakes: 516, versions: ["TLS 1.3"], suites: ["TLS_AES_128_GCM_SHA256"], groups: ["X25519MLKEM768", "x25519"], sig_algs: ["ecdsa_secp256r1_sha256"], alpn: ["h2"], pq_handshakes: 240, pq_share: 0.465, min_version: 772, max_version: 772, leaf_cert_sha256: "c0ffee02", cert_subject: "CN=api.example.test", cert_issuer: "CN=Example Issuing CA", cert_not_after: "2026-12-13 00:00:00", cert_key_alg: "ec", cert_key_bits: 256, cert_sig_alg: "ecdsa-with-SHA256" },
  { proto: "tls", server_addr: "10.0.0.9", server_port: 443, sni: FIXTURE.legacyEndpoint, endpoint: "legacy.example.test|10.0.0.9:443", hosts: ["edge-03"], first_seen: t(0, 5), last_seen: t(23, 50), handshakes: 516, versions: ["TLS 1.0", "TLS 1.2"], suites: ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], groups: ["x25519", "secp256r1"], sig_algs: ["rsa_pkcs1_sha1"], alpn: ["http/1.1"], pq_handshakes: 0, pq_share: 0, min_version: 769, max_version: 771, leaf_cert_sha256: "c0ffee01", cert_subject: FIXTURE.rsaCert, cert_issuer: "CN=Example Root CA", cert_not_after: "2027-03-01 00:00:00", cert_key_alg: "rsa", cert_key_bits: 1024, cert_sig_alg: "sha1WithRSAEncryption" },
  { proto: "quic", server_addr: "10.0.0.7", server_port: 8443, sni: "pq.example.test", endpoint: "pq.example.test|10.0.0.7:8443", hosts: ["web-01"], first_seen: t(2), last_seen: t(21), handshakes: 42, versions: ["TLS 1.3"], suites: ["TLS_AES_256_GCM_SHA384"], groups: ["MLKEM1024"], sig_algs: ["mldsa65"], alpn: ["h3"], pq_handshakes: 42, pq_share: 1, min_version: 772, max_version: 772, leaf_cert_sha256: "c0ffee03", cert_subject: FIXTURE.pqCert, cert_issuer: "CN=Example PQ CA", cert_not_after: "2027-11-30 00:00:00", cert_key_alg: "ml-dsa-65", cert_key_bits: null, cert_sig_alg: "ML-DSA-65" },
];

const tlsClients: Row[] = [
  { host: "web-01", container_id: null, exe: FIXTURE.tlsClientExe, comm: "curl", library: "openssl", handshakes: 516, servers: 1, first_seen: t(0, 1), last_seen: t(23, 59), versions_offered: ["TLS 1.3", "TLS 1.2"], groups_offered: ["X25519MLKEM768", "x25519", "secp256r1"], offers_pq: true, versions_chosen: ["TLS 1.3"], suites_chosen: ["TLS_AES_128_GCM_SHA256"], groups_chosen: ["X25519MLKEM768", "x25519"], pq_handshakes: 240, pq_share: 0.465 },
  { host: "edge-03", container_id: "9e8d7c6b", exe: "/usr/lib/jvm/java-17/bin/java", comm: "java", library: "jsse", handshakes: 516, servers: 1, first_seen: t(0, 5), last_seen: t(23, 50), versions_offered: ["TLS 1.2", "TLS 1.0"], groups_offered: ["x25519", "secp256r1"], offers_pq: false, versions_chosen: ["TLS 1.0", "TLS 1.2"], suites_chosen: ["TLS_RSA_WITH_AES_128_CBC_SHA"], groups_chosen: ["x25519"], pq_handshakes: 0, pq_share: 0 },
  { host: "web-01", container_id: null, exe: "/usr/bin/python3.12", comm: "python3", library: "openssl", handshakes: 42, servers: 1, first_seen: t(2), last_seen: t(21), versions_offered: ["TLS 1.3"], groups_offered: ["MLKEM1024", "x25519"], offers_pq: true, versions_chosen: ["TLS 1.3"], suites_chosen: ["TLS_AES_256_GCM_SHA384"], groups_chosen: ["MLKEM1024"], pq_handshakes: 42, pq_share: 1 },
];

const heatmapProcess: Row[] = [
  ["web-01/usr/bin/curl", "web-01", null, "/usr/bin/curl", "tls", [["kex", "X25519MLKEM768", "hybrid", 240], ["kex", "x25519", "shor-broken", 276], ["cipher", "TLS_AES_128_GCM_SHA256", "grover-weakened", 516], ["signature", "ecdsa_secp256r1_sha256", "shor-broken", 516], ["version", "TLS 1.3", "none", 516]]],
  ["edge-03/9e8d7c6b/usr/lib/jvm/java-17/bin/java", "edge-03", "9e8d7c6b", "/usr/lib/jvm/java-17/bin/java", "tls", [["kex", "x25519", "shor-broken", 300], ["kex", "RSA", "shor-broken", 216], ["cipher", "TLS_RSA_WITH_AES_128_CBC_SHA", "grover-weakened", 216], ["signature", "rsa_pkcs1_sha1", "shor-broken", 300], ["version", "TLS 1.0", "none", 216]]],
  ["db-02/usr/bin/ssh", "db-02", null, "/usr/bin/ssh", "ssh", [["kex", FIXTURE.sshPqKex, "hybrid", 258], ["kex", "curve25519-sha256", "shor-broken", 272], ["hostkey", "ssh-ed25519", "shor-broken", 530], ["cipher", "chacha20-poly1305@openssh.com", "grover-weakened", 530]]],
  ["web-01/usr/bin/python3.12", "web-01", null, "/usr/bin/python3.12", "tls", [["kex", "MLKEM1024", "post-quantum", 42], ["cipher", "TLS_AES_256_GCM_SHA384", "grover-weakened", 42], ["signature", "mldsa65", "post-quantum", 42]]],
].flatMap(([process, host, container_id, exe, , cells]) =>
  (cells as [string, string, string, number][]).map(([kind, algorithm, quantum_status, handshakes]) => ({ process, host, container_id, exe, kind, algorithm, quantum_status, handshakes })),
);

// Leaves of the flame tree: host, container, exe, library, protocol, kex, cipher, signature → handshakes.
const flameLeaves: [string[], number, string][] = [
  [["web-01", "-", "/usr/bin/curl", "openssl", "tls", FIXTURE.flameLeaf, "TLS_AES_128_GCM_SHA256", "ecdsa_secp256r1_sha256"], 240, "shor-broken"],
  [["web-01", "-", "/usr/bin/curl", "openssl", "tls", "x25519", "TLS_AES_128_GCM_SHA256", "ecdsa_secp256r1_sha256"], 276, "shor-broken"],
  [["web-01", "-", "/usr/bin/python3.12", "openssl", "quic", "MLKEM1024", "TLS_AES_256_GCM_SHA384", "mldsa65"], 42, "post-quantum"],
  [["edge-03", "9e8d7c6b", "/usr/lib/jvm/java-17/bin/java", "jsse", "tls", "x25519", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "rsa_pkcs1_sha1"], 300, "shor-broken"],
  [["edge-03", "9e8d7c6b", "/usr/lib/jvm/java-17/bin/java", "jsse", "tls", "RSA", "TLS_RSA_WITH_AES_128_CBC_SHA", "rsa_pkcs1_sha1"], 216, "shor-broken"],
  [["db-02", "-", "/usr/bin/ssh", "wire", "ssh", FIXTURE.sshPqKex, "chacha20-poly1305@openssh.com", "ssh-ed25519"], 258, "shor-broken"],
  [["db-02", "-", "/usr/bin/ssh", "wire", "ssh", "curve25519-sha256", "chacha20-poly1305@openssh.com", "ssh-ed25519"], 272, "shor-broken"],
];
const PQ_KEX = new Set([FIXTURE.flameLeaf, "MLKEM1024", FIXTURE.sshPqKex]);
const LEVELS = ["root", "host", "container", "exe", "library", "protocol", "kex", "cipher", "signature"];

function flameRows(): Row[] {
  const nodes = new Map<string, Row & { value: number; pq: number }>();
  for (const [path, value, leafStatus] of flameLeaves) {
    const pq = PQ_KEX.has(path[5]) ? value : 0;
    for (let depth = 0; depth <= path.length; depth++) {
      const id = ["all", ...path.slice(0, depth)].join("/");
      const node = nodes.get(id) ?? {
        id, parent_id: depth === 0 ? null : ["all", ...path.slice(0, depth - 1)].join("/"), depth, level: LEVELS[depth],
        name: depth === 0 ? "all" : path[depth - 1], value: 0, pq: 0,
        quantum_status: depth === 6 ? (PQ_KEX.has(path[5]) ? "hybrid" : "shor-broken") : depth === 7 ? "grover-weakened" : depth === 8 ? leafStatus : null,
      };
      node.value += value;
      node.pq += pq;
      nodes.set(id, node);
    }
  }
  return [...nodes.values()].map(({ pq, ...n }) => ({ ...n, pq_share: pq / n.value }));
}

const riskAssets: Row[] = [
  { asset_type: "tls_endpoint", asset_id: "tls|10.0.0.9|443|legacy.example.test", label: "legacy.example.test|10.0.0.9:443", host: null, score: 100, level: "critical", kex_status: "classical", quantum_vulnerable: true, vulnerable_algorithms: ["x25519", "RSA", "rsa_pkcs1_sha1"], min_classical_bits: 80, deprecated_after: 2030, disallowed_after: 2035, reasons: ["key exchange classical only", "protocol older than TLS 1.2", "classical strength < 112 bits"], handshakes: 516, last_seen: t(23, 50) },
  { asset_type: "tls_endpoint", asset_id: "tls|10.0.0.5|443|api.example.test", label: "api.example.test|10.0.0.5:443", host: null, score: 35, level: "medium", kex_status: "mixed", quantum_vulnerable: true, vulnerable_algorithms: ["x25519", "ecdsa_secp256r1_sha256"], min_classical_bits: 128, deprecated_after: null, disallowed_after: 2035, reasons: ["key exchange classical only (some handshakes PQ/hybrid)", "authentication Shor-broken"], handshakes: 516, last_seen: t(23, 59) },
  { asset_type: "ssh_server", asset_id: "10.0.0.22|22", label: FIXTURE.sshPqServer, host: null, score: 35, level: "medium", kex_status: "mixed", quantum_vulnerable: true, vulnerable_algorithms: ["curve25519-sha256", "ssh-ed25519"], min_classical_bits: 128, deprecated_after: null, disallowed_after: 2035, reasons: ["key exchange classical only (some handshakes PQ/hybrid)", "authentication Shor-broken"], handshakes: 516, last_seen: t(23, 40) },
  { asset_type: "tls_endpoint", asset_id: "quic|10.0.0.7|8443|pq.example.test", label: "pq.example.test|10.0.0.7:8443", host: null, score: 0, level: "none", kex_status: "pq", quantum_vulnerable: false, vulnerable_algorithms: [], min_classical_bits: 192, deprecated_after: null, disallowed_after: null, reasons: [], handshakes: 42, last_seen: t(21) },
];

export function fixtureRows(): Record<MartName, Row[]> {
  const mig = migrationRows();
  return {
    risk_readiness: readinessRows(mig),
    risk_findings: findings,
    risk_assets: riskAssets,
    rpt_migration_hourly: mig,
    rpt_heatmap_process_algorithm: heatmapProcess,
    rpt_heatmap_host_hour: hostHourRows(mig),
    rpt_flame_tree: flameRows(),
    inv_certificates: certificates,
    inv_ssh_servers: sshServers,
    inv_ssh_clients: sshClients,
    inv_tls_endpoints: tlsEndpoints,
    inv_tls_clients: tlsClients,
  };
}

/** Writes every mart the site reads as `<dir>/<mart>.parquet` (with no rows at all when `empty`: a new install). */
export async function writeFixtureMarts(dir: string, opts: { empty?: boolean } = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  try {
    const rows = fixtureRows();
    for (const name of Object.keys(SITE_MARTS) as MartName[]) {
      await writeTable(con, name, martColumns(name), opts.empty ? [] : rows[name], join(dir, `${name}.parquet`));
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** A small hive-partitioned lake (handshakes and certificates) in the lake schema, for the notebooks. */
export async function writeFixtureLake(dir: string): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  try {
    const tables: TableName[] = ["handshakes", "certificates", "processes", "library_events", "agent_log"];
    for (const table of tables) {
      await con.run(`CREATE TABLE ${table} (${TABLES[table].map((c) => `"${c.name}" ${c.type}`).join(", ")})`);
    }
    // One handshake per fixture migration row and service class, enough for counts and joins.
    const mig = migrationRows();
    const values: string[] = [];
    let flow = 0;
    for (const r of mig) {
      const s = String(r.service);
      const tls = r.proto === "tls";
      const [sni, addrPort] = tls ? s.split("|") : [null, s];
      const [addr, port] = addrPort.split(":");
      for (let i = 0; i < 2; i++) {
        const hybrid = i < ((r.hybrid_handshakes as number) > 0 ? 1 : 0);
        values.push(`(${sqlLiteral(r.hour)} + INTERVAL ${i * 7} MINUTE, ${sqlLiteral(r.host)}, 'wire', ${sqlLiteral(r.proto)}, ${1000 + i}, ${tls ? (r.host === "web-01" ? "'curl'" : "'java'") : "'ssh'"}, ${sqlLiteral(tls ? (r.host === "web-01" ? "/usr/bin/curl" : "/usr/lib/jvm/java-17/bin/java") : "/usr/bin/ssh")}, ${sqlLiteral(addr)}, ${port}, ${sqlLiteral(sni)}, ${tls ? (r.host === "edge-03" ? 769 : 772) : "NULL"}, ${tls ? (hybrid ? 4588 : 29) : "NULL"}, ${tls ? (r.host === "edge-03" ? "'c0ffee01'" : "'c0ffee02'") : "NULL"}, ${tls ? "NULL" : hybrid ? `'${FIXTURE.sshPqKex}'` : "'curve25519-sha256'"}, 'f${flow++}')`);
      }
    }
    await con.run(`INSERT INTO handshakes (ts, host, source, proto, pid, comm, exe, server_addr, server_port, sni, version_chosen, group_chosen, leaf_cert_sha256, ssh_kex, flow_id) VALUES ${values.join(",\n")}`);
    for (const c of certificates) {
      await con.run(`INSERT INTO certificates (ts, host, sha256, subject, issuer, serial, not_before, not_after, key_alg, key_bits, sig_alg, sans, is_ca, chain_position, source) VALUES (${sqlLiteral(c.first_seen)}, ${sqlLiteral((c.hosts as string[])[0])}, ${sqlLiteral(c.sha256)}, ${sqlLiteral(c.subject)}, ${sqlLiteral(c.issuer)}, ${sqlLiteral(c.serial)}, TIMESTAMP '${c.not_before}', TIMESTAMP '${c.not_after}', ${sqlLiteral(c.key_alg)}, ${sqlLiteral(c.key_bits)}, ${sqlLiteral(c.sig_alg)}, ${(c.sans as string[]).length ? sqlLiteral(c.sans) : "[]::VARCHAR[]"}, ${sqlLiteral(c.is_ca)}, ${sqlLiteral(c.chain_position)}, 'wire')`);
    }
    await con.run(`INSERT INTO processes (ts, host, event, pid, comm, exe, libraries) VALUES
      (TIMESTAMP '2026-11-30 00:00:00', 'web-01', 'scan', 1000, 'curl', '/usr/bin/curl', [{path: '/usr/lib/x86_64-linux-gnu/libssl.so.3', soname: 'libssl.so.3', version: '3.5.1'}]),
      (TIMESTAMP '2026-11-30 00:00:00', 'db-02', 'scan', 1000, 'ssh', '/usr/bin/ssh', [{path: '/usr/lib/x86_64-linux-gnu/libcrypto.so.3', soname: 'libcrypto.so.3', version: '3.5.1'}])`);
    await con.run(`INSERT INTO library_events (ts, host, source, library, pid, comm, exe, event, key, value_int, flow_id) VALUES
      (TIMESTAMP '2026-11-30 00:01:00', 'web-01', 'usdt', 'crypto_auditing', 1000, 'curl', '/usr/bin/curl', 'crau', 'tls::group', 4588, 'f0')`);
    await con.run(`INSERT INTO agent_log (ts, host, level, event, message, count) VALUES (TIMESTAMP '2026-11-30 00:00:00', 'web-01', 'info', 'start', 'fixture', 0)`);
    for (const table of tables) {
      const out = join(dir, table);
      mkdirSync(out, { recursive: true });
      // Hive layout hour=YYYY-MM-DDTHH/host=NAME/, as the capture writer does.
      await con.run(`COPY (SELECT *, strftime(ts, '%Y-%m-%dT%H') AS hour FROM ${table}) TO '${out}' (FORMAT parquet, PARTITION_BY (hour, host), FILENAME_PATTERN 'part-fixture-{i}', OVERWRITE_OR_IGNORE)`);
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
