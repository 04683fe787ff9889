// `cryptoscope check` through the real binary: findings at or above a severity, exit codes, policy overrides.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModels } from "../models/runner.ts";
import { loadPolicy } from "../models/policy.ts";
import { AS_OF, writeFixtureLake } from "./models-fixture.ts";

const bin = resolve(dirname(fileURLToPath(import.meta.url)), "..", "bin", "cryptoscope");
let lake: string;
let db: string;
const cli = (...args: string[]) => spawnSync(bin, args, { encoding: "utf8", timeout: 120_000 });

beforeAll(async () => {
  lake = await writeFixtureLake();
  db = (await buildModels({ lake, policy: { ...loadPolicy(), as_of: AS_OF } })).db;
});

describe("cryptoscope check", () => {
  it("prints only the findings at or above --severity and exits 2", () => {
    const r = cli("check", "--db", db, "--severity", "critical");
    expect(r.status).toBe(2);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^severity\s+rule\s+asset_type/);
    expect(lines.slice(2, -1)).toHaveLength(1); // cert_expired of CN=expired.example only
    expect(r.stdout).toContain("cert_expired");
    expect(r.stdout).toContain("CN=expired.example");
    expect(r.stdout).not.toContain("cert_expiring");
  });

  it("at the default (high) it lists the high and critical ones, most severe first", () => {
    const r = cli("check", "--db", db, "--format", "json");
    expect(r.status).toBe(2);
    const rows = JSON.parse(r.stdout) as { severity: string; rule: string; asset_id: string }[];
    // 16 findings on the fixture, of which 4 medium/low (2 no_pq_key_exchange, ssh_no_pq_kex, tls_version_below_1_3)
    expect(rows).toHaveLength(12);
    expect(rows[0]).toMatchObject({ severity: "critical", rule: "cert_expired" });
    expect(new Set(rows.slice(1).map((x) => x.severity))).toEqual(new Set(["high"]));
  });

  it("a policy file can switch a rule off, change a severity and a threshold (rebuilding the models)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-policy-"));
    const off = join(dir, "off.json");
    writeFileSync(off, JSON.stringify({ as_of: AS_OF, rules: { cert_expired: { enabled: false } } }));
    const r1 = cli("check", "--lake", lake, "--policy", off, "--severity", "critical");
    expect(r1.stderr).toBe("");
    expect(r1.status).toBe(0);
    expect(r1.stdout.trim()).toBe("no findings at or above critical");

    const strict = join(dir, "strict.json");
    writeFileSync(strict, JSON.stringify({ as_of: AS_OF, min_rsa_bits: 8192, rules: { rsa_key_too_small: { severity: "critical" } } }));
    const r2 = cli("check", "--lake", lake, "--policy", strict, "--severity", "critical", "--format", "csv");
    expect(r2.status).toBe(2);
    const body = r2.stdout.trim().split("\n").slice(1).map((l) => l.split(",").slice(0, 2).join(",")).sort();
    // cccc expired, and now both RSA certificates (1024 and 4096 bits) are below 8192
    expect(body).toEqual(["critical,cert_expired", "critical,rsa_key_too_small", "critical,rsa_key_too_small"]);
  });

  it("bad input: one line on stderr, exit 1", () => {
    const r = cli("check", "--db", db, "--severity", "urgent");
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('cryptoscope: unknown severity "urgent" (use one of info, low, medium, high, critical)');
    const dir = mkdtempSync(join(tmpdir(), "cs-policy-"));
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ not json");
    const r2 = cli("check", "--lake", lake, "--policy", broken);
    expect(r2.status).toBe(1);
    expect(r2.stderr.trim().split("\n")).toHaveLength(1);
    expect(r2.stderr).toContain(`policy file ${broken} is not valid JSON`);
    const r3 = cli("check", "--db", join(dir, "none.duckdb"));
    expect(r3.status).toBe(1);
    expect(r3.stderr.trim()).toBe(`cryptoscope: no database at ${join(dir, "none.duckdb")}: run \`cryptoscope models build\` first`);
  });
});

describe("cryptoscope query", () => {
  it("runs SQL and named reports in table, json and csv", () => {
    const j = cli("query", "--db", db, "SELECT scope, handshakes FROM risk_readiness WHERE scope = 'fleet'", "--format", "json");
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual([{ scope: "fleet", handshakes: 8 }]);
    const c = cli("query", "--db", db, "--report", "inv_ssh_servers", "--format", "csv");
    expect(c.status).toBe(0);
    const lines = c.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0].split(",").slice(0, 3)).toEqual(["server_addr", "server_port", "endpoint"]);
    const t = cli("query", "--db", db, "SELECT count(*) AS n FROM lake_certificates");
    expect(t.stdout.trim().split("\n")).toEqual(["n", "-", "4", "(1 rows)"]);
    const bad = cli("query", "--db", db, "--report", "nope");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^cryptoscope: unknown report "nope"; known: .*inv_tls_endpoints/);
    const sqlErr = cli("query", "--db", db, "SELECT * FROM no_such_table");
    expect(sqlErr.status).toBe(1);
    expect(sqlErr.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("cryptoscope models build", () => {
  it("builds the marts next to the lake and prints them; a missing lake is one line", () => {
    const r = cli("models", "build", "--lake", lake);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^inv_tls_endpoints\s+3 rows$/m);
    expect(r.stdout).toMatch(/^risk_findings\s+\d+ rows$/m);
    expect(r.stdout).toMatch(/17 marts in .*marts, database .*cryptoscope\.duckdb/);
    const missing = cli("models", "build", "--lake", join(lake, "nope"));
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe(`cryptoscope: lake folder not found: ${join(lake, "nope")}`);
  });
});
