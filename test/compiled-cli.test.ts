// The ahead-of-time compiled CLI (scripts/compile-cli.ts → build/cli) must behave exactly as the TypeScript
// it was built from, and bin/cryptoscope must never run it once a source file is newer than the build.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../capture/repo-root.ts";
import { compileCli } from "../scripts/compile-cli.ts";
import { queryLake } from "./helpers/lake.ts";

const bin = path.join(REPO_ROOT, "bin/cryptoscope");
const corpus = path.resolve(REPO_ROOT, "../shared/corpus/generated");
const tmp = mkdtempSync(path.join(tmpdir(), "cs-compiled-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(bin, args, { encoding: "utf8", timeout: 120_000, env: { ...process.env, CRYPTOSCOPE_DEBUG: "1", ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const mode = (stderr: string) => (/running the compiled CLI/.test(stderr) ? "compiled" : /through tsx/.test(stderr) ? "tsx" : "unknown");

describe("compiled CLI", () => {
  beforeAll(async () => {
    await compileCli(); // what the set-up does; renamed into place, so CLIs other tests start meanwhile are safe
  });

  it("is what bin/cryptoscope runs while it is fresh, and CRYPTOSCOPE_TSX=1 still selects tsx", () => {
    expect(mode(run(["--help"]).stderr)).toBe("compiled");
    expect(mode(run(["--help"], { CRYPTOSCOPE_TSX: "1" }).stderr)).toBe("tsx");
  });

  it("prints the same help for every command as the TypeScript sources", () => {
    const commands = readdirSync(path.join(REPO_ROOT, "capture/commands")).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3));
    expect(commands.length).toBeGreaterThan(5);
    for (const args of [["--help"], ...commands.map((c) => [c, "--help"])]) {
      const a = run(args);
      const b = run(args, { CRYPTOSCOPE_TSX: "1" });
      expect(a.code, args.join(" ")).toBe(0);
      expect(a.stdout, args.join(" ")).toBe(b.stdout);
      expect(a.stdout).not.toContain("unavailable"); // every command module loaded in the compiled build
    }
  });

  it("ingests a capture into the same rows as the TypeScript sources", async () => {
    const files = ["curl35_mlkem.pcap", "curl_tls12.pcap"].map((f) => path.join(corpus, f));
    const lakes = { compiled: path.join(tmp, "lake-compiled"), tsx: path.join(tmp, "lake-tsx") };
    const a = run(["ingest", ...files, "--lake", lakes.compiled, "--host", "t"]);
    const b = run(["ingest", ...files, "--lake", lakes.tsx, "--host", "t"], { CRYPTOSCOPE_TSX: "1" });
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(mode(a.stderr)).toBe("compiled");
    const rows = (root: string) =>
      queryLake(root, (t) => `SELECT sni, version_chosen, suite_chosen, group_chosen, key_share_groups, ja4, ja4s, leaf_cert_sha256, flow_id FROM ${t("handshakes")} ORDER BY ALL`);
    const [ra, rb] = [await rows(lakes.compiled), await rows(lakes.tsx)];
    expect(ra.length).toBeGreaterThan(1);
    expect(ra).toEqual(rb);
  });

  it("builds the models and answers check and cbom over that lake as the TypeScript sources do", () => {
    // Each command that reads project files (models/, the policy, seeds) finds them from build/cli too.
    const out = (m: string) => {
      const lake = path.join(tmp, `lake-${m}`);
      const db = path.join(tmp, `${m}.duckdb`);
      const env: Record<string, string> = m === "tsx" ? { CRYPTOSCOPE_TSX: "1" } : {};
      const build = run(["models", "build", "--lake", lake, "--out", path.join(tmp, `marts-${m}`), "--db", db], env);
      expect(build.code, build.stderr).toBe(0);
      expect(mode(build.stderr)).toBe(m);
      const check = run(["check", "--db", db, "--severity", "info", "--format", "json"], env);
      const cbom = run(["cbom", "--db", db], env);
      expect(cbom.code, cbom.stderr).toBe(0);
      // The BOM's serial number and timestamp are per run.
      const bom = JSON.parse(cbom.stdout) as Record<string, unknown>;
      delete bom.serialNumber;
      delete (bom.metadata as Record<string, unknown>).timestamp;
      return { check: [check.code, check.stdout], bom, components: (bom.components as unknown[]).length };
    };
    const a = out("compiled");
    const b = out("tsx");
    expect(a.components).toBeGreaterThan(0);
    expect(a.check).toEqual(b.check);
    expect(a.bom).toEqual(b.bom);
  });

  it("is not used once any source file is newer than the build", () => {
    // A file under models/ (not a command, so tsx's CLI is unaffected) dated after the build's stamp.
    const probe = path.join(REPO_ROOT, "models", `.stale-probe-${process.pid}.ts`);
    writeFileSync(probe, "export {};\n");
    const future = new Date(Date.now() + 60_000);
    utimesSync(probe, future, future);
    try {
      expect(mode(run(["--help"]).stderr)).toBe("tsx");
    } finally {
      rmSync(probe, { force: true });
    }
    expect(mode(run(["--help"]).stderr)).toBe("compiled");
  });
});
