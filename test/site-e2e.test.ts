// The whole analytics path on real data: the shared pcap corpus → `cryptoscope ingest` → `cryptoscope models
// build` → `cryptoscope site build` (no network) → every page in headless Chromium. Checks that the site reads
// the marts the models really write (names, types) and shows their figures, with no errors and no request off
// 127.0.0.1. The figures expected come from the marts themselves, read back with DuckDB.
import { DuckDBInstance } from "@duckdb/node-api";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, openPage, type Browser } from "../site/browser.ts";
import { serveStatic, type StaticServer } from "../site/static-server.ts";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "..");
const corpus = resolve(repo, "../shared/corpus");
const bin = join(repo, "bin/cryptoscope");
const shots = join(repo, "test-results/site");
const PAGES = ["index", "migration", "algorithms", "flame", "certificates", "ssh", "endpoints", "findings"];

function pcaps(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(pcap|pcapng)(\.gz)?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

let dir: string;
let server: StaticServer;
let browser: Browser;
const expected: { handshakes: number; readiness: number; certSubject: string; endpoint: string; sshEndpoint: string; rule: string } = {} as never;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cryptoscope-site-e2e-"));
  await run(bin, ["ingest", "--lake", join(dir, "lake"), "--host", "corpus-vm", ...pcaps(corpus)], { cwd: repo, timeout: 120_000 });
  await run(bin, ["models", "build", "--lake", join(dir, "lake"), "--out", join(dir, "marts"), "--db", join(dir, "c.duckdb")], { cwd: repo, timeout: 120_000 });
  await run("unshare", ["-rn", bin, "site", "build", "--marts", join(dir, "marts"), "--out", join(dir, "site")], { cwd: repo, timeout: 150_000 });

  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  const one = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjects()[0];
  const mart = (m: string) => `read_parquet('${join(dir, "marts", `${m}.parquet`)}')`;
  const fleet = await one(`SELECT handshakes::BIGINT AS h, readiness FROM ${mart("risk_readiness")} WHERE scope = 'fleet'`);
  expected.handshakes = Number(fleet.h);
  expected.readiness = Number(fleet.readiness);
  expected.certSubject = String((await one(`SELECT regexp_extract(subject, 'CN=([^,]+)', 1) AS s FROM ${mart("inv_certificates")} WHERE subject LIKE '%CN=%' ORDER BY not_after LIMIT 1`)).s);
  expected.endpoint = String((await one(`SELECT endpoint FROM ${mart("inv_tls_endpoints")} ORDER BY handshakes DESC, endpoint LIMIT 1`)).endpoint);
  expected.sshEndpoint = String((await one(`SELECT endpoint FROM ${mart("inv_ssh_servers")} ORDER BY handshakes DESC, endpoint LIMIT 1`)).endpoint);
  expected.rule = String((await one(`SELECT rule FROM ${mart("risk_findings")} ORDER BY severity_rank DESC, occurrences DESC LIMIT 1`)).rule);
  con.closeSync();
  db.closeSync();

  server = await serveStatic(join(dir, "site"));
  browser = await launchBrowser();
  mkdirSync(shots, { recursive: true });
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("site over the marts of the real pipeline (pcap corpus)", () => {
  it("has handshakes to show", () => {
    expect(expected.handshakes).toBeGreaterThan(100);
  });

  for (const page of PAGES) {
    it(`page ${page} renders the real marts with no errors`, async () => {
      const r = await openPage(browser, `${server.url}/${page}.html`, { screenshot: join(shots, `corpus-${page}.png`) });
      try {
        expect(r.cellErrors).toEqual([]);
        expect(r.consoleErrors).toEqual([]);
        const text = (await r.page.textContent("#observablehq-main")) ?? "";
        const want: Record<string, string[]> = {
          index: [expected.handshakes.toLocaleString("en-US"), `${(expected.readiness * 100).toFixed(1)}%`, expected.rule],
          migration: [expected.handshakes.toLocaleString("en-US")],
          certificates: [expected.certSubject],
          endpoints: [expected.endpoint],
          ssh: [expected.sshEndpoint],
          findings: [expected.rule],
          flame: ["corpus-vm"],
          algorithms: ["corpus-vm"],
        };
        for (const s of want[page]) expect(text, `${page}: ${s}`).toContain(s);
        // Drawn from the answers precomputed at build time, and DuckDB-WASM in the browser agrees with them.
        expect(r.marks["engine:start:miss"]).toBeUndefined();
        const live = await openPage(browser, `${server.url}/${page}.html?live`);
        try {
          expect(live.cellErrors).toEqual([]);
          expect(live.consoleErrors).toEqual([]);
          expect((await live.page.textContent("#observablehq-main")) ?? "").toBe(text);
        } finally {
          await live.page.close();
        }
      } finally {
        await r.page.close();
      }
    });
  }

  it("sent no request anywhere but 127.0.0.1", () => {
    expect(browser.offHost).toEqual([]);
  });
});
