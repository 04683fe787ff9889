// Every mart built from the fixture lake (test/models-fixture.ts, written by the real lake writer),
// compared with rows worked out by hand from the fixture. Plus: empty lake, corrupt file, moved folder.
import { cpSync, mkdtempSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModels, LakeFileError, type BuildResult } from "../models/runner.ts";
import { loadPolicy } from "../models/policy.ts";
import { runQuery, type Cell } from "../models/query.ts";
import { AS_OF, writeFixtureLake } from "./models-fixture.ts";

let lake: string;
let built: BuildResult;
const policy = { ...loadPolicy(), as_of: AS_OF };
const q = async (sql: string) => (await runQuery(built.db, sql)).rows;
const pick = (rows: Record<string, Cell>[], cols: string[]) => rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c]])));

beforeAll(async () => {
  lake = await writeFixtureLake();
  built = await buildModels({ lake, policy });
});

describe("models build on the fixture lake", () => {
  it("writes every mart as Parquet and a database of views", async () => {
    const names = built.marts.map((m) => m.name).sort();
    expect(names).toEqual([
      "inv_algorithm_usage", "inv_certificates", "inv_libraries", "inv_protocols", "inv_ssh_clients", "inv_ssh_servers",
      "inv_tls_clients", "inv_tls_endpoints", "ref_algorithms", "risk_assets", "risk_findings", "risk_readiness",
      "rpt_flame_tree", "rpt_heatmap_host_hour", "rpt_heatmap_process_algorithm", "rpt_migration_fleet_hourly", "rpt_migration_hourly",
    ]);
    for (const m of built.marts) expect(existsSync(m.file)).toBe(true);
    // one file per (host, hour): handshakes web1 10/11/12h + laptop 11/12h; certificates web1 10/11h + laptop 11h
    expect(built.lakeFiles).toMatchObject({ handshakes: 5, certificates: 3, processes: 2, library_events: 2, agent_log: 0 });
    const lakeRows = await q("SELECT count(*) AS n FROM lake_handshakes");
    expect(lakeRows[0].n).toBe(8);
  });

  it("inv_tls_endpoints: three servers, shop.example 3 of 4 handshakes hybrid", async () => {
    const rows = await q("SELECT * FROM inv_tls_endpoints ORDER BY endpoint");
    expect(pick(rows, ["endpoint", "handshakes", "hosts", "versions", "groups", "pq_handshakes", "pq_share", "leaf_cert_sha256", "cert_key_bits", "min_version"])).toEqual([
      { endpoint: "api.example:443", handshakes: 1, hosts: ["laptop"], versions: ["TLS 1.0"], groups: ["secp256r1"], pq_handshakes: 0, pq_share: 0, leaf_cert_sha256: null, cert_key_bits: null, min_version: "TLS 1.0" },
      { endpoint: "legacy.example:8443", handshakes: 1, hosts: ["web1"], versions: ["TLS 1.2"], groups: ["RSA"], pq_handshakes: 0, pq_share: 0, leaf_cert_sha256: "bbbb", cert_key_bits: 1024, min_version: "TLS 1.2" },
      { endpoint: "shop.example:443", handshakes: 4, hosts: ["laptop", "web1"], versions: ["TLS 1.3"], groups: ["X25519MLKEM768", "x25519"], pq_handshakes: 3, pq_share: 0.75, leaf_cert_sha256: "aaaa", cert_key_bits: 256, min_version: "TLS 1.3" },
    ]);
    expect(rows[2].suites).toEqual(["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]);
    expect(rows[2].alpn).toEqual(["h2", "http/1.1"]);
  });

  it("inv_tls_clients: curl offers the hybrid group (GREASE dropped) and got it once", async () => {
    const rows = await q("SELECT * FROM inv_tls_clients");
    expect(rows).toHaveLength(1);
    expect(pick(rows, ["host", "exe", "handshakes", "servers", "versions_offered", "groups_offered", "offers_pq", "versions_chosen", "groups_chosen", "pq_handshakes", "pq_share"])[0]).toEqual({
      host: "laptop", exe: "/usr/bin/curl", handshakes: 2, servers: 2,
      versions_offered: ["TLS 1.0", "TLS 1.2", "TLS 1.3"], groups_offered: ["X25519MLKEM768", "secp256r1", "x25519"], offers_pq: true,
      versions_chosen: ["TLS 1.0", "TLS 1.3"], groups_chosen: ["X25519MLKEM768", "secp256r1"], pq_handshakes: 1, pq_share: 0.5,
    });
  });

  it("inv_certificates: expiry against as_of, strength from key size and hash", async () => {
    const rows = await q("SELECT * FROM inv_certificates ORDER BY sha256");
    expect(pick(rows, ["sha256", "days_to_expiry", "expired", "key_family", "classical_bits", "sig_hash", "times_seen", "hosts", "endpoints"])).toEqual([
      // EC P-256: 128 bits; seen by both agents
      { sha256: "aaaa", days_to_expiry: 214, expired: false, key_family: "EC", classical_bits: 128, sig_hash: "sha256", times_seen: 2, hosts: ["laptop", "web1"], endpoints: ["shop.example:443"] },
      // RSA-1024 → 80 bits, and SHA-1 caps it at 80 as well; 2026-06-15 is 14 days after as_of
      { sha256: "bbbb", days_to_expiry: 14, expired: false, key_family: "RSA", classical_bits: 80, sig_hash: "sha1", times_seen: 1, hosts: ["web1"], endpoints: ["legacy.example:8443"] },
      // RSA-4096 → 152 bits; expired 31 days before as_of
      { sha256: "cccc", days_to_expiry: -31, expired: true, key_family: "RSA", classical_bits: 152, sig_hash: "sha256", times_seen: 1, hosts: ["web1"], endpoints: ["10.0.0.9:443"] },
    ]);
  });

  it("inv_ssh_servers and inv_ssh_clients", async () => {
    const servers = await q("SELECT * FROM inv_ssh_servers ORDER BY endpoint");
    expect(pick(servers, ["endpoint", "banner", "kex_chosen", "hostkeys_chosen", "macs_chosen", "offers_pq_kex", "pq_share"])).toEqual([
      { endpoint: "10.0.0.2:22", banner: "SSH-2.0-OpenSSH_9.6", kex_chosen: ["sntrup761x25519-sha512@openssh.com"], hostkeys_chosen: ["ssh-ed25519"], macs_chosen: ["AEAD"], offers_pq_kex: true, pq_share: 1 },
      { endpoint: "10.0.0.3:22", banner: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", kex_chosen: ["curve25519-sha256"], hostkeys_chosen: ["rsa-sha2-512"], macs_chosen: ["hmac-sha2-256"], offers_pq_kex: false, pq_share: 0 },
    ]);
    const clients = await q("SELECT * FROM inv_ssh_clients");
    expect(pick(clients, ["host", "exe", "banner", "kex_offered", "offers_pq_kex", "pq_handshakes"])).toEqual([
      { host: "laptop", exe: "/usr/bin/ssh", banner: "SSH-2.0-OpenSSH_9.2p1", kex_offered: ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"], offers_pq_kex: true, pq_handshakes: 1 },
    ]);
  });

  it("inv_libraries: mapped libraries and library calls per process, by family", async () => {
    const rows = await q("SELECT * FROM inv_libraries ORDER BY host, exe, library");
    expect(pick(rows, ["host", "exe", "library", "sonames", "version", "processes", "events", "seen_by"])).toEqual([
      { host: "laptop", exe: "/usr/bin/curl", library: "gnutls", sonames: ["libgnutls.so.30"], version: "3.7.9", processes: 1, events: 0, seen_by: ["mapped"] },
      { host: "laptop", exe: "/usr/bin/curl", library: "openssl", sonames: ["libssl.so.3"], version: "3.0.15", processes: 2, events: 2, seen_by: ["mapped", "called"] },
      { host: "web1", exe: "/usr/sbin/nginx", library: "openssl", sonames: ["libcrypto.so.3", "libssl.so.3"], version: "3.0.15", processes: 1, events: 0, seen_by: ["mapped"] },
      { host: "web1", exe: "/usr/sbin/sshd", library: "openssl", sonames: [], version: null, processes: 0, events: 1, seen_by: ["called"] },
    ]);
  });

  it("inv_algorithm_usage and inv_protocols", async () => {
    const kex = await q("SELECT exe, algorithm, quantum_status, handshakes FROM inv_algorithm_usage WHERE kind = 'kex' ORDER BY exe, algorithm");
    expect(kex).toEqual([
      { exe: "/usr/bin/curl", algorithm: "X25519MLKEM768", quantum_status: "hybrid", handshakes: 1 },
      { exe: "/usr/bin/curl", algorithm: "secp256r1", quantum_status: "shor-broken", handshakes: 1 },
      { exe: "/usr/bin/ssh", algorithm: "sntrup761x25519-sha512@openssh.com", quantum_status: "hybrid", handshakes: 1 },
      { exe: "/usr/sbin/nginx", algorithm: "RSA", quantum_status: "shor-broken", handshakes: 1 },
      { exe: "/usr/sbin/nginx", algorithm: "X25519MLKEM768", quantum_status: "hybrid", handshakes: 2 },
      { exe: "/usr/sbin/nginx", algorithm: "x25519", quantum_status: "shor-broken", handshakes: 1 },
      { exe: "/usr/sbin/sshd", algorithm: "curve25519-sha256", quantum_status: "shor-broken", handshakes: 1 },
    ]);
    const protos = await q("SELECT proto, version, handshakes, pq_share FROM inv_protocols ORDER BY proto, version");
    expect(protos).toEqual([
      { proto: "ssh", version: "SSH 2.0", handshakes: 2, pq_share: 0.5 },
      { proto: "tls", version: "TLS 1.0", handshakes: 1, pq_share: 0 },
      { proto: "tls", version: "TLS 1.2", handshakes: 1, pq_share: 0 },
      { proto: "tls", version: "TLS 1.3", handshakes: 4, pq_share: 0.75 },
    ]);
  });

  it("ref_algorithms: the PQ code points are classified", async () => {
    const rows = await q(`SELECT registry, identifier, name, quantum_status, nist_pq_level FROM ref_algorithms
      WHERE (registry, identifier) IN (('tls_group', '0x11EC'), ('tls_group', '0x0201'), ('tls_signature_scheme', '0x0905'), ('ssh_kex', 'mlkem768x25519-sha256')) ORDER BY registry, identifier`);
    expect(rows).toEqual([
      { registry: "ssh_kex", identifier: "mlkem768x25519-sha256", name: "mlkem768x25519-sha256", quantum_status: "hybrid", nist_pq_level: 3 },
      { registry: "tls_group", identifier: "0x0201", name: "MLKEM768", quantum_status: "post-quantum", nist_pq_level: 3 },
      { registry: "tls_group", identifier: "0x11EC", name: "X25519MLKEM768", quantum_status: "hybrid", nist_pq_level: 3 },
      { registry: "tls_signature_scheme", identifier: "0x0905", name: "mldsa65", quantum_status: "post-quantum", nist_pq_level: 3 },
    ]);
  });

  it("risk_assets: scores are the sums of the documented weights", async () => {
    const rows = await q("SELECT asset_type, asset_id, score, level, kex_status, min_classical_bits, disallowed_after FROM risk_assets ORDER BY asset_type, asset_id");
    expect(rows).toEqual([
      { asset_type: "certificate", asset_id: "aaaa", score: 15, level: "low", kex_status: "n-a", min_classical_bits: 128, disallowed_after: 2035 }, // auth 15
      { asset_type: "certificate", asset_id: "bbbb", score: 55, level: "high", kex_status: "n-a", min_classical_bits: 80, disallowed_after: 2013 }, // auth 15 + <112 30 + expiring 10
      { asset_type: "certificate", asset_id: "cccc", score: 25, level: "medium", kex_status: "n-a", min_classical_bits: 152, disallowed_after: 2035 }, // auth 15 + expired 10
      { asset_type: "ssh_client", asset_id: "laptop||/usr/bin/ssh", score: 15, level: "low", kex_status: "hybrid", min_classical_bits: 128, disallowed_after: 2035 }, // ed25519 host key 15
      { asset_type: "ssh_server", asset_id: "10.0.0.2|22", score: 15, level: "low", kex_status: "hybrid", min_classical_bits: 128, disallowed_after: 2035 },
      { asset_type: "ssh_server", asset_id: "10.0.0.3|22", score: 55, level: "high", kex_status: "classical", min_classical_bits: 128, disallowed_after: 2035 }, // kex 40 + auth 15
      // mixed kex 20 + auth 15 + <112 (sha1 sig 80) 30 + TLS 1.0 20 = 85
      { asset_type: "tls_client", asset_id: "laptop||/usr/bin/curl", score: 85, level: "critical", kex_status: "mixed", min_classical_bits: 80, disallowed_after: 2013 },
      // mixed 20 + auth 15 = 35
      { asset_type: "tls_endpoint", asset_id: "tls|10.0.0.1|443|shop.example", score: 35, level: "medium", kex_status: "mixed", min_classical_bits: 128, disallowed_after: 2035 },
      // 40 + 15 + 30 + no FS 20 + expiring 10 = 115 → capped at 100
      { asset_type: "tls_endpoint", asset_id: "tls|10.0.0.1|8443|legacy.example", score: 100, level: "critical", kex_status: "classical", min_classical_bits: 80, disallowed_after: 2013 },
      // 40 + 15 + 30 + 20 = 105 → 100
      { asset_type: "tls_endpoint", asset_id: "tls|93.184.0.1|443|api.example", score: 100, level: "critical", kex_status: "classical", min_classical_bits: 80, disallowed_after: 2013 },
    ]);
    const [r] = await q("SELECT reasons, vulnerable_algorithms FROM risk_assets WHERE asset_id = 'tls|10.0.0.1|443|shop.example'");
    expect(r.reasons).toEqual([
      "25% of handshakes still use a classical key exchange (x25519)",
      "authentication uses quantum-vulnerable EC-256 certificate key, rsa_pss_rsae_sha256; disallowed after 2035",
    ]);
    expect(r.vulnerable_algorithms).toEqual(["x25519", "EC-256 certificate key", "rsa_pss_rsae_sha256"]);
  });

  it("risk_findings: one row per rule and asset, severities from the policy", async () => {
    const rows = await q("SELECT rule, severity, asset_id, observed, occurrences FROM risk_findings ORDER BY rule, asset_id");
    expect(rows).toEqual([
      { rule: "cert_expired", severity: "critical", asset_id: "cccc", observed: "2026-05-01 00:00:00", occurrences: 1 },
      { rule: "cert_expiring", severity: "high", asset_id: "bbbb", observed: "2026-06-15 00:00:00", occurrences: 1 },
      { rule: "no_forward_secrecy", severity: "high", asset_id: "tls|10.0.0.1|8443|legacy.example", observed: "TLS_RSA_WITH_AES_128_GCM_SHA256", occurrences: 1 },
      { rule: "no_pq_key_exchange", severity: "medium", asset_id: "tls|10.0.0.1|8443|legacy.example", observed: "RSA", occurrences: 1 },
      { rule: "no_pq_key_exchange", severity: "medium", asset_id: "tls|93.184.0.1|443|api.example", observed: "secp256r1", occurrences: 1 },
      { rule: "rsa_key_too_small", severity: "high", asset_id: "bbbb", observed: "1024", occurrences: 1 },
      { rule: "sha1_signature", severity: "high", asset_id: "bbbb", observed: "sha1WithRSAEncryption", occurrences: 1 },
      { rule: "sha1_signature", severity: "high", asset_id: "laptop||/usr/bin/curl", observed: "rsa_pkcs1_sha1", occurrences: 1 },
      { rule: "sha1_signature", severity: "high", asset_id: "tls|93.184.0.1|443|api.example", observed: "rsa_pkcs1_sha1", occurrences: 1 },
      { rule: "ssh_no_pq_kex", severity: "medium", asset_id: "10.0.0.3|22", observed: "curve25519-sha256", occurrences: 1 },
      { rule: "tls_legacy_version", severity: "high", asset_id: "laptop||/usr/bin/curl", observed: "TLS 1.0", occurrences: 1 },
      { rule: "tls_legacy_version", severity: "high", asset_id: "tls|93.184.0.1|443|api.example", observed: "TLS 1.0", occurrences: 1 },
      { rule: "tls_version_below_1_3", severity: "low", asset_id: "tls|10.0.0.1|8443|legacy.example", observed: "TLS 1.2", occurrences: 1 },
      { rule: "weak_classical_strength", severity: "high", asset_id: "bbbb", observed: "RSA-1024", occurrences: 1 },
      { rule: "weak_classical_strength", severity: "high", asset_id: "laptop||/usr/bin/curl", observed: "rsa_pkcs1_sha1", occurrences: 2 },
      { rule: "weak_classical_strength", severity: "high", asset_id: "tls|93.184.0.1|443|api.example", observed: "rsa_pkcs1_sha1", occurrences: 1 },
    ]);
  });

  it("risk_readiness: 0.6 × handshake share + 0.4 × endpoint share", async () => {
    const rows = await q("SELECT * FROM risk_readiness ORDER BY scope");
    expect(pick(rows, ["scope", "handshakes", "hybrid_handshakes", "handshake_pq_share", "endpoints", "endpoints_pq_capable", "certificates"])).toEqual([
      { scope: "fleet", handshakes: 8, hybrid_handshakes: 4, handshake_pq_share: 0.5, endpoints: 5, endpoints_pq_capable: 2, certificates: 3 },
      { scope: "host:laptop", handshakes: 3, hybrid_handshakes: 2, handshake_pq_share: 2 / 3, endpoints: 3, endpoints_pq_capable: 2, certificates: 1 },
      { scope: "host:web1", handshakes: 5, hybrid_handshakes: 2, handshake_pq_share: 0.4, endpoints: 3, endpoints_pq_capable: 1, certificates: 3 },
    ]);
    expect(rows[0].readiness).toBeCloseTo(0.6 * 0.5 + 0.4 * (2 / 5), 12);
    expect(rows[2].readiness).toBeCloseTo(0.6 * 0.4 + 0.4 * (1 / 3), 12);
  });

  it("rpt_migration_hourly and rpt_migration_fleet_hourly", async () => {
    const fleet = await q("SELECT strftime(hour, '%H') AS h, handshakes, hybrid_handshakes, classical_handshakes, pq_share FROM rpt_migration_fleet_hourly ORDER BY hour");
    // 10h: h1 h2 h3 (2 hybrid); 11h: h4 h5 h6 (1 hybrid); 12h: s1 s2 (1 hybrid)
    expect(fleet).toEqual([
      { h: "10", handshakes: 3, hybrid_handshakes: 2, classical_handshakes: 1, pq_share: 2 / 3 },
      { h: "11", handshakes: 3, hybrid_handshakes: 1, classical_handshakes: 2, pq_share: 1 / 3 },
      { h: "12", handshakes: 2, hybrid_handshakes: 1, classical_handshakes: 1, pq_share: 0.5 },
    ]);
    const hourly = await q("SELECT strftime(hour, '%H') AS h, host, service, handshakes, pq_share FROM rpt_migration_hourly ORDER BY hour, host, service");
    expect(hourly).toEqual([
      { h: "10", host: "web1", service: "shop.example:443", handshakes: 3, pq_share: 2 / 3 },
      { h: "11", host: "laptop", service: "api.example:443", handshakes: 1, pq_share: 0 },
      { h: "11", host: "laptop", service: "shop.example:443", handshakes: 1, pq_share: 1 },
      { h: "11", host: "web1", service: "legacy.example:8443", handshakes: 1, pq_share: 0 },
      { h: "12", host: "laptop", service: "10.0.0.2:22", handshakes: 1, pq_share: 1 },
      { h: "12", host: "web1", service: "10.0.0.3:22", handshakes: 1, pq_share: 0 },
    ]);
  });

  it("rpt_heatmap_process_algorithm and rpt_heatmap_host_hour", async () => {
    const cells = await q("SELECT process, algorithm, handshakes FROM rpt_heatmap_process_algorithm WHERE kind = 'cipher' ORDER BY process, algorithm");
    expect(cells).toEqual([
      { process: "laptop:/usr/bin/curl", algorithm: "AES-128-CBC", handshakes: 1 },
      { process: "laptop:/usr/bin/curl", algorithm: "AES-128-GCM", handshakes: 1 },
      { process: "laptop:/usr/bin/ssh", algorithm: "chacha20-poly1305@openssh.com", handshakes: 1 },
      { process: "web1:/usr/sbin/nginx", algorithm: "AES-128-GCM", handshakes: 3 },
      { process: "web1:/usr/sbin/nginx", algorithm: "AES-256-GCM", handshakes: 1 },
      { process: "web1:/usr/sbin/sshd", algorithm: "aes128-ctr", handshakes: 1 },
    ]);
    const hh = await q("SELECT host, strftime(hour, '%H') AS h, handshakes, pq_handshakes FROM rpt_heatmap_host_hour ORDER BY host, hour");
    expect(hh).toEqual([
      { host: "laptop", h: "11", handshakes: 2, pq_handshakes: 1 },
      { host: "laptop", h: "12", handshakes: 1, pq_handshakes: 1 },
      { host: "web1", h: "10", handshakes: 3, pq_handshakes: 2 },
      { host: "web1", h: "11", handshakes: 1, pq_handshakes: 0 },
      { host: "web1", h: "12", handshakes: 1, pq_handshakes: 0 },
    ]);
  });

  it("rpt_flame_tree: a tree whose children sum to their parent", async () => {
    const rows = await q("SELECT id, parent_id, depth, level, name, value FROM rpt_flame_tree");
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    expect(byId.get("all")).toMatchObject({ parent_id: null, depth: 0, level: "root", value: 8 });
    expect(byId.get("all|web1")).toMatchObject({ parent_id: "all", level: "host", value: 5 });
    expect(byId.get("all|web1|host|/usr/sbin/nginx|openssl|TLS 1.3|X25519MLKEM768")).toMatchObject({ level: "kex", value: 2 });
    expect(byId.get("all|web1|host|/usr/sbin/nginx|openssl|TLS 1.3|X25519MLKEM768|AES-128-GCM|rsa_pss_rsae_sha256")).toMatchObject({ depth: 8, level: "signature", value: 2 });
    // sshd's handshake has no library: the source stands in
    expect(byId.get("all|web1|host|/usr/sbin/sshd|wire|SSH 2.0")).toMatchObject({ level: "protocol", value: 1 });
    for (const r of rows) {
      const kids = rows.filter((k) => k.parent_id === r.id);
      if (kids.length) expect(kids.reduce((s, k) => s + Number(k.value), 0)).toBe(r.value);
      if (r.parent_id !== null) expect(byId.has(r.parent_id as string)).toBe(true);
    }
    // 8 handshakes → 8 distinct leaf paths? h1 and h3 share one: 7 leaves
    expect(rows.filter((r) => r.depth === 8)).toHaveLength(7);
  });
});

describe("models build edge cases", () => {
  it("an empty lake builds empty marts (readiness has its fleet row)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-empty-"));
    mkdirSync(join(dir, "lake"));
    const r = await buildModels({ lake: join(dir, "lake"), policy });
    const rows = Object.fromEntries(r.marts.map((m) => [m.name, m.rows]));
    expect(rows.inv_tls_endpoints).toBe(0);
    expect(rows.risk_findings).toBe(0);
    expect(rows.rpt_flame_tree).toBe(1); // the root, value 0
    expect(rows.risk_readiness).toBe(1);
    expect(rows.ref_algorithms).toBeGreaterThan(500);
    const [fleet] = (await runQuery(r.db, "SELECT * FROM risk_readiness")).rows;
    expect(fleet).toMatchObject({ scope: "fleet", handshakes: 0, readiness: null });
    expect((await runQuery(r.db, "SELECT count(*) AS n FROM lake_handshakes")).rows[0].n).toBe(0);
  });

  it("a corrupt Parquet file gives one error naming the file, and keeps the previous marts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-corrupt-"));
    const l = await writeFixtureLake(dir);
    const good = await buildModels({ lake: l, policy });
    const bad = join(l, "handshakes", "hour=2026-05-01T10", "host=web1", "part-broken-000001.parquet");
    mkdirSync(dirname(bad), { recursive: true });
    writeFileSync(bad, "PAR1 this is not parquet");
    const err = await buildModels({ lake: l, policy }).catch((e) => e);
    expect(err).toBeInstanceOf(LakeFileError);
    expect(err.message).toContain(bad);
    expect(err.message.split("\n")).toHaveLength(1);
    // the marts of the good build are still there and readable
    expect((await runQuery(good.db, "SELECT count(*) AS n FROM inv_tls_endpoints")).rows[0].n).toBe(3);
  });

  it("the database keeps working after its folder is moved", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-move-"));
    const l = await writeFixtureLake(dir);
    await buildModels({ lake: l, policy });
    const moved = mkdtempSync(join(tmpdir(), "cs-moved-")) + "/data";
    cpSync(dir, moved, { recursive: true });
    const other = mkdtempSync(join(tmpdir(), "cs-cwd-"));
    const cwd = process.cwd();
    process.chdir(other); // relative paths must resolve against the db's folder, not the CWD
    try {
      const rows = (await runQuery(join(moved, "cryptoscope.duckdb"), "SELECT (SELECT count(*) FROM lake_handshakes) AS hs, (SELECT count(*) FROM inv_tls_endpoints) AS ep")).rows;
      expect(rows).toEqual([{ hs: 8, ep: 3 }]);
    } finally {
      process.chdir(cwd);
    }
  });
});
