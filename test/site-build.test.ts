// The report site end to end: fixture marts → `cryptoscope site build` with no network at all (unshare -n)
// → served on 127.0.0.1 with range requests → every page opened in headless Chromium, waited on until its
// data is drawn, checked for the fixture's figures, console errors and requests leaving 127.0.0.1.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE, fixtureRows, writeFixtureMarts } from "../site/fixture.ts";
import { launchBrowser, openPage, waitReady, type Browser } from "../site/browser.ts";
import { serveStatic, type StaticServer } from "../site/static-server.ts";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "..");
// `cryptoscope site …` with only this command registered (as capture/cli.ts does it), so the site tests do
// not depend on every other command module loading; the last test checks the real binary lists it.
const SITE_CLI = [
  "--import", "tsx", "--input-type=module", "-e",
  `import { Command } from "commander";
   import { register } from "./capture/commands/site.ts";
   const program = new Command().name("cryptoscope");
   register(program);
   try { await program.parseAsync(process.argv.slice(1), { from: "user" }); } catch (e) { console.error("cryptoscope: " + e.message); process.exit(1); }`,
  "--",
];
const cli = (args: string[], netns = false) =>
  netns ? run("unshare", ["-rn", process.execPath, ...SITE_CLI, ...args], { cwd: repo, timeout: 150_000 })
    : run(process.execPath, [...SITE_CLI, ...args], { cwd: repo, timeout: 150_000 });
const shots = join(repo, "test-results/site");
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const int = (x: number) => Math.round(x).toLocaleString("en-US");

const rows = fixtureRows();
const fleet = rows.risk_readiness.find((r) => r.scope === "fleet")!;
const edge = rows.risk_readiness.find((r) => r.host === "edge-03")!;
const mig = rows.rpt_migration_hourly;
const sum = (rs: Record<string, unknown>[], k: string) => rs.reduce((a, r) => a + (r[k] as number), 0);
const migShare = (rs: Record<string, unknown>[]) => (sum(rs, "pq_handshakes") + sum(rs, "hybrid_handshakes")) / (sum(rs, "handshakes") - sum(rs, "unknown_handshakes"));

// What each page must show once its data is in: names and numbers planted in the fixture marts.
const PAGES: Record<string, string[]> = {
  index: [pct(fleet.readiness as number), int(FIXTURE.totalHandshakes), FIXTURE.criticalFinding, "rsa_key_too_small", "edge-03"],
  migration: [int(FIXTURE.totalHandshakes), pct(migShare(mig)), "legacy.example.test|10.0.0.9:443", "10.0.0.22:22"],
  algorithms: ["web-01/usr/bin/curl", "X25519MLKEM768", "edge-03/9e8d7c6b/usr/lib/jvm/java-17/bin/java", "Process × kex (4 processes)"],
  flame: [FIXTURE.flameLeaf, "/usr/bin/curl", "db-02", "9e8d7c6b"],
  certificates: [FIXTURE.rsaCert, "rsa 1024", FIXTURE.pqCert, "ml-dsa-65", "sha1WithRSAEncryption"],
  ssh: [FIXTURE.sshPqServer, FIXTURE.sshPqBanner, FIXTURE.sshPqKex, "/usr/bin/rsync"],
  endpoints: ["api.example.test|10.0.0.5:443", FIXTURE.tlsClientExe, "jsse", "X25519MLKEM768, x25519"],
  findings: [FIXTURE.criticalFinding, "rsa_key_too_small", "tls_legacy_version", "certificate expires in 12 days"],
};

let dir: string;
let site: string;
let server: StaticServer;
let browser: Browser;
let buildOutput: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cryptoscope-site-"));
  site = join(dir, "site");
  await writeFixtureMarts(join(dir, "marts"));
  // No network namespace at all: any download attempt by the build fails instead of succeeding quietly.
  const r = await cli(["site", "build", "--marts", join(dir, "marts"), "--out", site], true);
  buildOutput = r.stdout;
  server = await serveStatic(site);
  browser = await launchBrowser();
  mkdirSync(shots, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("site build", () => {
  it("builds every page offline, with the marts and DuckDB-WASM inside", () => {
    expect(buildOutput).toMatch(/site: 8 pages, 12 marts/);
    for (const p of Object.keys(PAGES)) expect(existsSync(join(site, `${p}.html`)), p).toBe(true);
    expect(existsSync(join(site, "_npm/@duckdb/duckdb-wasm@1.29.0/dist/duckdb-eh.wasm"))).toBe(true);
    expect(existsSync(join(site, "_npm/parquet-wasm@0.8.0/esm/parquet_wasm_bg.wasm"))).toBe(true);
    // Nothing in the output points at a CDN.
    const html = readFileSync(join(site, "index.html"), "utf8");
    expect(html).not.toMatch(/cdn\.jsdelivr|fonts\.googleapis|extensions\.duckdb/);
  });

  for (const [name, expected] of Object.entries(PAGES)) {
    it(`page ${name} shows the fixture's data, with no errors, drawn from its precomputed answers`, async () => {
      const r = await openPage(browser, `${server.url}/${name}.html`, { screenshot: join(shots, `${name}.png`) });
      let text: string;
      try {
        text = (await r.page.textContent("#observablehq-main")) ?? "";
        for (const s of expected) expect(text, `${name}: ${s}`).toContain(s);
        expect(r.cellErrors).toEqual([]);
        expect(r.consoleErrors).toEqual([]);
        // Every query of the page as opened had a precomputed answer: DuckDB-WASM was not needed to draw it.
        expect(Object.keys(r.marks).filter((m) => m === "engine:start:miss")).toEqual([]);
      } finally {
        await r.page.close();
      }
      // The same page with every query sent to DuckDB-WASM in the browser shows exactly the same.
      const live = await openPage(browser, `${server.url}/${name}.html?live`);
      try {
        expect(live.marks["marts:loaded"], "DuckDB-WASM answered").toBeGreaterThan(0);
        expect(live.cellErrors).toEqual([]);
        expect(live.consoleErrors).toEqual([]);
        expect((await live.page.textContent("#observablehq-main")) ?? "").toBe(text);
      } finally {
        await live.page.close();
      }
    });
  }

  it("serves the site precompressed, and Framework's hashed files as immutable", async () => {
    const wasm = "/_npm/@duckdb/duckdb-wasm@1.29.0/dist/duckdb-eh.wasm";
    expect(existsSync(join(site, `${wasm}.gz`))).toBe(true);
    const plain = readFileSync(join(site, wasm));
    const r = await fetch(`${server.url}${wasm}`, { headers: { "accept-encoding": "gzip" } });
    expect(r.headers.get("content-encoding")).toBe("gzip");
    expect(r.headers.get("cache-control")).toMatch(/immutable/);
    expect(Number(r.headers.get("content-length"))).toBeLessThan(plain.length / 3);
    // fetch inflates it: the bytes are the wasm itself.
    expect(Buffer.from(await r.arrayBuffer()).equals(plain)).toBe(true);
    const page = await fetch(`${server.url}/index.html`, { headers: { "accept-encoding": "gzip" } });
    expect(page.headers.get("cache-control")).toBe("no-cache");
    // A range is of the plain file.
    const range = await fetch(`${server.url}${wasm}`, { headers: { "accept-encoding": "gzip", range: "bytes=0-3" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-encoding")).toBeNull();
    expect(Buffer.from(await range.arrayBuffer())).toEqual(plain.subarray(0, 4));
  });

  it("re-queries in the browser when the host filter changes", async () => {
    const r = await openPage(browser, `${server.url}/index.html`);
    try {
      expect(await r.page.textContent("#card-readiness .big")).toBe(pct(fleet.readiness as number));
      await r.page.selectOption("form select", "edge-03");
      await r.page.waitForFunction(
        ([want, n]) => document.querySelector("#card-readiness .big")?.textContent === want && document.querySelector("#card-handshakes .big")?.textContent === n,
        [pct(edge.readiness as number), int(edge.handshakes as number)],
      );
      await waitReady(r.page);
      expect(await r.page.textContent("#card-readiness h2")).toContain("edge-03");
      await r.page.screenshot({ path: join(shots, "index-edge-03.png"), fullPage: true });
    } finally {
      await r.page.close();
    }

    const m = await openPage(browser, `${server.url}/migration.html`);
    try {
      await m.page.selectOption("form select", "web-01");
      const web = mig.filter((x) => x.host === "web-01");
      const want = int(sum(web, "handshakes"));
      await m.page.waitForFunction((w) => document.querySelector("#mig-handshakes .big")?.textContent === w, want);
      expect(await m.page.textContent("#mig-share .big")).toBe(pct(migShare(web)));
      // The time range narrows it further: only the last hour of web-01.
      const last = web.at(-1)!;
      const to = await m.page.inputValue("form input[type=datetime-local] >> nth=1");
      await m.page.fill("form input[type=datetime-local] >> nth=0", to);
      await m.page.locator("form input[type=datetime-local] >> nth=0").dispatchEvent("input");
      await m.page.waitForFunction((w) => document.querySelector("#mig-handshakes .big")?.textContent === w, int(last.handshakes as number));
    } finally {
      await m.page.close();
    }
  });

  it("narrows the flame graph to one host", async () => {
    const r = await openPage(browser, `${server.url}/flame.html`);
    try {
      expect(await r.page.textContent("#flame")).toContain("9e8d7c6b");
      await r.page.selectOption("form select", "db-02");
      await r.page.waitForFunction(() => !document.querySelector("#flame")?.textContent?.includes("9e8d7c6b"));
      await waitReady(r.page);
      const text = (await r.page.textContent("#flame")) ?? "";
      expect(text).toContain("/usr/bin/ssh");
      expect(text).toContain(FIXTURE.sshPqKex);
      expect(text).not.toContain("/usr/bin/curl");
    } finally {
      await r.page.close();
    }
  });

  it("searches a table in the browser", async () => {
    const r = await openPage(browser, `${server.url}/endpoints.html`);
    try {
      await r.page.fill("#observablehq-main input[type=text] >> nth=0", "legacy");
      await r.page.waitForFunction(() => document.querySelectorAll("#endpoint-table tbody tr").length === 1);
      expect(await r.page.textContent("#endpoint-table tbody")).toContain("legacy.example.test|10.0.0.9:443");
    } finally {
      await r.page.close();
    }
  });

  it("refuses marts that do not match, with one clear line, and keeps the site already built", async () => {
    const bad = join(dir, "bad-marts");
    await writeFixtureMarts(bad);
    rmSync(join(bad, "rpt_flame_tree.parquet"));
    const before = readFileSync(join(site, "index.html"), "utf8");
    const err = await cli(["site", "build", "--marts", bad, "--out", site]).then(
      () => null,
      (e: { stderr: string; code: number }) => e,
    );
    expect(err?.code).not.toBe(0);
    expect(err?.stderr.trim()).toBe(`cryptoscope: marts folder ${bad} lacks rpt_flame_tree.parquet (run \`cryptoscope models build\`)`);
    expect(readFileSync(join(site, "index.html"), "utf8")).toBe(before);

    // A folder that is not a previous site is never replaced.
    const other = join(dir, "not-a-site");
    mkdirSync(other);
    writeFileSync(join(other, "keep.txt"), "mine");
    const err2 = await cli(["site", "build", "--marts", join(dir, "marts"), "--out", other]).then(
      () => null,
      (e: { stderr: string }) => e,
    );
    expect(err2?.stderr).toMatch(/not empty and was not written by `cryptoscope site build`/);
    expect(readFileSync(join(other, "keep.txt"), "utf8")).toBe("mine");
  });

  it("shows empty marts (a new install, nothing captured yet) without errors", async () => {
    const empty = join(dir, "empty-marts");
    await writeFixtureMarts(empty, { empty: true });
    const out = join(dir, "empty-site");
    await cli(["site", "build", "--marts", empty, "--out", out]);
    const s = await serveStatic(out);
    try {
      for (const name of Object.keys(PAGES)) {
        const r = await openPage(browser, `${s.url}/${name}.html`);
        try {
          expect(r.cellErrors, name).toEqual([]);
          expect(r.consoleErrors, name).toEqual([]);
          expect(r.marks["engine:start:miss"], `${name} drawn from its precomputed answers`).toBeUndefined();
        } finally {
          await r.page.close();
        }
      }
    } finally {
      await s.close();
    }
  });

  it("is a subcommand of the cryptoscope binary", async () => {
    const r = await run(join(repo, "bin/cryptoscope"), ["site", "build", "--help"], { cwd: repo });
    expect(r.stdout).toMatch(/--marts <dir>/);
  });

  it("sent no request anywhere but 127.0.0.1, from any page opened above", () => {
    expect(browser.offHost).toEqual([]);
  });
});
