// Site bench: time until each page of the report shows its data (every cell settled, charts and tables drawn),
// in headless Chromium, cold (a fresh profile: first visit) and warm (the page opened again), for marts built from
// 1M and 10M synthetic handshakes. Baseline in the same run: the tiny test fixture marts. Target: < 3 s a page.
// Also per page: the bytes fetched until then (cold), whether DuckDB-WASM had to start for it (pages draw from
// answers precomputed at build time; the engine starts after), and the first host filter: time from choosing a
// host right after the page is drawn until the page shows that host (the engine starting included), then a second.
//   node --import tsx bench/site.ts
// Knobs: BENCH_SITE_SIZES=1000000,10000000 (handshakes), BENCH_SITE_RUNS=1 (median of N),
//        BENCH_SITE_PAGES=index,flame (a subset), BENCH_SITE_MARTS=DIR (keep the synthetic marts there and reuse
//        them: 10M takes about a minute to draw).
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { buildSite } from "../site/build.ts";
import { launchBrowser, openPage, waitReady } from "../site/browser.ts";
import { writeFixtureMarts } from "../site/fixture.ts";
import { serveStatic } from "../site/static-server.ts";
import { writeSyntheticMarts } from "../site/synthetic.ts";

const ALL_PAGES = ["index", "migration", "algorithms", "flame", "certificates", "ssh", "endpoints", "findings"];
const PAGES = process.env.BENCH_SITE_PAGES ? process.env.BENCH_SITE_PAGES.split(",") : ALL_PAGES;
const TARGET_MS = 3000;
const sizes = (process.env.BENCH_SITE_SIZES ?? "1000000,10000000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_SITE_RUNS ?? 1);
const keep = process.env.BENCH_SITE_MARTS;

const dir = mkdtempSync(join(tmpdir(), "cryptoscope-bench-site-"));
const mb = (d: string) => readdirSync(d).reduce((a, f) => a + statSync(join(d, f)).size, 0) / 1e6;

interface Times { cold: number; warm: number; fetchedCold: number; engine: string; filter1: number; filter2: number }

// After choosing the i-th host of the page's filter (or, on a page with fewer hosts, flipping its i-th checkbox):
// wait until the page's text has changed and then held still for 250 ms with nothing loading and no query out
// with DuckDB-WASM (aria-busy, pagedata.js).
async function chooseHost(page: Page, i: number): Promise<number> {
  const options = await page.$$eval("form select >> nth=0", (s) => (s[0] as HTMLSelectElement | undefined)?.options.length ?? 0);
  const boxes = await page.$$eval("#observablehq-main input[type=checkbox]", (bs) => bs.length);
  if (options <= i && boxes < i) return NaN;
  const before = await page.textContent("#observablehq-main");
  const t0 = Date.now();
  if (options > i) await page.selectOption("form select >> nth=0", { index: i });
  else await page.click(`#observablehq-main input[type=checkbox] >> nth=${i - 1}`);
  let last = before;
  let still = 0;
  for (;;) {
    const now = await page.textContent("#observablehq-main");
    const busy = await page.$("#observablehq-main observablehq-loading, #observablehq-main[aria-busy=true]");
    still = now !== before && now === last && !busy ? still + 1 : 0;
    last = now;
    if (still >= 5) return Date.now() - t0 - 250;
    if (Date.now() - t0 > 120_000) throw new Error(`${page.url()}: no answer to the host filter after 120 s`);
    await page.waitForTimeout(50);
  }
}

async function measure(label: string, marts: string): Promise<Record<string, Times>> {
  const out = join(dir, `site-${label}`);
  const b = await buildSite({ marts, out });
  const biggest = Object.entries(b.marts).sort((x, y) => y[1] - x[1])[0];
  const pre = join(out, "_file/data/precomputed");
  const preBytes = existsSync(pre) ? readdirSync(pre).filter((f) => f.endsWith(".json")).reduce((a, f) => a + statSync(join(pre, f)).size, 0) : 0;
  console.log(`${label}: marts ${mb(marts).toFixed(1)} MB, largest ${biggest[0]} ${biggest[1].toLocaleString("en-US")} rows; site built in ${(b.ms / 1000).toFixed(1)} s; precomputed answers ${(preBytes / 1e3).toFixed(0)} kB (all pages)`);
  const server = await serveStatic(out);
  const result: Record<string, Times> = {};
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  try {
    for (const page of PAGES) {
      const runs: Times[] = [];
      for (let i = 0; i < RUNS; i++) {
        // Cold: a fresh profile, nothing cached. Warm: the same page opened again in that profile, as a reader
        // moving between pages would (files from the browser cache, data re-read).
        const browser = await launchBrowser();
        // What the page fetched to draw itself: requests started before DuckDB-WASM was asked to start (it starts
        // once the page is drawn, and its downloads are not part of drawing).
        let fetched: { start: number; bytes: Promise<number> }[] = [];
        browser.context.on("requestfinished", (req) => {
          fetched.push({ start: req.timing().startTime, bytes: req.sizes().then((s) => s.responseBodySize, () => 0) });
        });
        try {
          const t: Partial<Times> = {};
          for (const kind of ["cold", "warm"] as const) {
            fetched = [];
            const r = await openPage(browser, `${server.url}/${page}.html`, { timeoutMs: 120_000 });
            if (r.cellErrors.length || r.consoleErrors.length) console.log(`  ${page}: errors ${JSON.stringify([...r.cellErrors, ...r.consoleErrors]).slice(0, 300)}`);
            t[kind] = r.readyMs;
            if (kind === "cold") {
              // Why DuckDB-WASM had started by the time the page showed its data (none: it was not needed).
              const engineMark = Object.keys(r.marks).find((m) => m.startsWith("engine:start:"));
              t.engine = engineMark?.slice(13) ?? "none";
              const origin = await r.page.evaluate(() => performance.timeOrigin);
              const cut = engineMark && t.engine !== "miss" ? origin + r.marks[engineMark] : Infinity;
              const before = fetched.filter((f) => f.start < cut);
              t.fetchedCold = (await Promise.all(before.map((f) => f.bytes))).reduce((a, b) => a + b, 0);
              t.filter1 = await chooseHost(r.page, 1);
              t.filter2 = await chooseHost(r.page, 2);
              await waitReady(r.page);
            }
            await r.page.close();
          }
          if (browser.offHost.length) throw new Error(`${page} requested ${browser.offHost[0]}`);
          runs.push(t as Times);
        } finally {
          await browser.close();
        }
      }
      const pick = (k: "cold" | "warm" | "fetchedCold" | "filter1" | "filter2") => median(runs.map((r) => r[k]));
      result[page] = { cold: pick("cold"), warm: pick("warm"), fetchedCold: pick("fetchedCold"), engine: runs.map((r) => r.engine).join("/"), filter1: pick("filter1"), filter2: pick("filter2") };
    }
  } finally {
    await server.close();
    rmSync(out, { recursive: true, force: true });
  }
  return result;
}

// Synthetic marts, reused from BENCH_SITE_MARTS when drawn by the same generator.
async function syntheticMarts(n: number, label: string): Promise<{ dir: string; temporary: boolean }> {
  const stamp = createHash("sha256").update(readFileSync(new URL("../site/synthetic.ts", import.meta.url)))
    .update(readFileSync(new URL("../site/marts.ts", import.meta.url))).update(String(n)).digest("hex");
  const target = join(keep ?? dir, `marts-${label}`);
  if (keep && existsSync(join(target, "STAMP")) && readFileSync(join(target, "STAMP"), "utf8") === stamp) {
    console.log(`${label}: synthetic marts reused from ${target}`);
    return { dir: target, temporary: false };
  }
  rmSync(target, { recursive: true, force: true });
  const t0 = performance.now();
  await writeSyntheticMarts(target, n);
  writeFileSync(join(target, "STAMP"), stamp);
  console.log(`${label}: synthetic marts from ${n.toLocaleString("en-US")} handshakes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { dir: target, temporary: !keep };
}

const load0 = loadavg();
console.log(`load average ${load0.map((x) => x.toFixed(1)).join(" ")} on ${cpus().length} cores (other work on the machine slows every page alike)`);
try {
  const results: Record<string, Record<string, Times>> = {};
  const fixture = join(dir, "marts-fixture");
  await writeFixtureMarts(fixture);
  results.fixture = await measure("fixture", fixture);
  for (const n of sizes) {
    const label = n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`;
    const marts = await syntheticMarts(n, label);
    results[label] = await measure(label, marts.dir);
    if (marts.temporary) rmSync(marts.dir, { recursive: true, force: true });
  }
  const labels = Object.keys(results);
  const table = (title: string, cell: (l: string, p: string) => string) => {
    console.log(`\n${title}`);
    console.log(["page".padEnd(14), ...labels.map((l) => l.padStart(18))].join(""));
    for (const p of PAGES) console.log([p.padEnd(14), ...labels.map((l) => cell(l, p).padStart(18))].join(""));
  };
  for (const kind of ["warm", "cold"] as const) {
    table(`${kind}: time until the page shows its data (ms, median of ${RUNS}), ratio to the fixture baseline`, (l, p) => {
      const v = results[l][p][kind];
      return `${v}${l === "fixture" ? "" : ` (${(v / results.fixture[p][kind]).toFixed(2)}x)`}${v > TARGET_MS ? " !" : ""}`;
    });
  }
  table("cold: kB fetched until the page shows its data; why DuckDB-WASM had started by then (none; settled: after the page was drawn; miss: a query without a precomputed answer)",
    (l, p) => `${(results[l][p].fetchedCold / 1e3).toFixed(0)} kB ${results[l][p].engine}`);
  table("first host filter, chosen as soon as the page shows its data: ms until the page shows that host (DuckDB-WASM starting included), then a second host (a checkbox where the page lists fewer hosts)",
    (l, p) => `${results[l][p].filter1} / ${results[l][p].filter2}`);
  for (const kind of ["warm", "cold"] as const) {
    const worst = Math.max(...labels.flatMap((l) => PAGES.map((p) => results[l][p][kind])));
    console.log(`${kind}: worst page ${worst} ms; target < ${TARGET_MS} ms: ${worst < TARGET_MS ? "met" : "NOT met"} ("!" marks pages over)`);
  }
  console.log(`load average at the end ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
