// The main job end to end, in its short mode: `cryptoscope demo --short` captures the built-in workload,
// builds the models and the site; the lake, the marts and the site must hold what the workload did, and
// nothing may be left running.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryLake } from "./helpers/lake.ts";

const BIN = join(import.meta.dirname, "../bin/cryptoscope");

describe("cryptoscope demo --short", () => {
  let dir: string;
  let out = "";
  let status: number | null = null;
  beforeAll(() => {
    dir = join(mkdtempSync(join(tmpdir(), "cs-demo-")), "demo");
    const r = spawnSync(BIN, ["demo", "--short", "--dir", dir], { encoding: "utf8", timeout: 600_000 });
    out = r.stdout + r.stderr;
    status = r.status;
  }, 600_000);
  afterAll(() => { if (dir) rmSync(join(dir, ".."), { recursive: true, force: true }); });

  it("finishes and prints the summary and where things are", () => {
    expect(status, out).toBe(0);
    expect(out).toMatch(/\[1\/\d\] starting the workload/);
    expect(out).toMatch(/Handshakes seen: \d+ tls/);
    expect(out).toMatch(/Readiness: \d+%/);
    expect(out).toMatch(/Top findings:/);
    expect(out).toContain(`DuckDB:  ${join(dir, "cryptoscope.duckdb")}`);
  });

  it("the lake holds the workload's handshakes: TLS 1.2 and 1.3, SSH with the sntrup761 hybrid, Go's hybrid PQ group", async () => {
    const rows = await queryLake(join(dir, "lake"), (t) => `SELECT proto, version_chosen, group_chosen, ssh_kex, exe, role, sni FROM ${t("handshakes")}`);
    const versions = new Set(rows.filter((r) => r.proto === "tls").map((r) => r.version_chosen));
    expect(versions).toEqual(new Set([0x0303, 0x0304]));
    expect(rows.some((r) => r.proto === "ssh" && String(r.ssh_kex).startsWith("sntrup761x25519"))).toBe(true);
    expect(rows.some((r) => r.proto === "ssh" && r.ssh_kex === "curve25519-sha256")).toBe(true);
    expect(rows.some((r) => r.group_chosen === 0x6399 && String(r.exe).endsWith("demo-go/client"))).toBe(true); // X25519Kyber768Draft00, Go 1.23
    const exes = new Set(rows.map((r) => String(r.exe).replace(/^.*\//, "")));
    for (const e of ["curl", "openssl", "gnutls-cli", "python3.11", "node", "client", "ssh", "sshd"]) expect(exes, [...exes].join(",")).toContain(e);
    expect(rows.some((r) => r.sni === "legacy.demo")).toBe(true);
  });

  it("the marts and the DuckDB file answer: findings for the legacy and the expiring certificates", async () => {
    expect(existsSync(join(dir, "cryptoscope.duckdb"))).toBe(true);
    for (const m of ["inv_tls_endpoints", "risk_findings", "risk_readiness", "rpt_flame_tree"]) expect(existsSync(join(dir, "marts", `${m}.parquet`)), m).toBe(true);
    const rules = new Set((await queryLake(dir, () => `SELECT DISTINCT rule FROM read_parquet('${join(dir, "marts/risk_findings.parquet")}')`)).map((r) => r.rule));
    for (const r of ["rsa_key_too_small", "sha1_signature", "cert_expiring", "tls_version_below_1_3", "no_forward_secrecy", "ssh_no_pq_kex"]) expect(rules, [...rules].join(",")).toContain(r);
  });

  it("built the site", () => {
    expect(existsSync(join(dir, "site/index.html"))).toBe(true);
  });

  it("leaves no processes or namespaces behind", () => {
    const ns = execFileSync("ip", ["netns", "list"]).toString();
    expect(ns).not.toMatch(/csdemo-/);
    const ps = execFileSync("ps", ["-eo", "args"]).toString();
    expect(ps).not.toMatch(/demo-go\/server|https_server\.py|Port=2222/);
  });
});
