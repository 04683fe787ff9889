// Site bench: time until each page of the report shows its data (every cell settled, charts and tables drawn),
// in headless Chromium, cold (a fresh profile: first visit) and warm (the page opened again), for marts built from
// 1M and 10M synthetic handshakes. Baseline in the same run: the tiny test fixture marts. Target: < 3 s a page.
//   node --import tsx bench/site.ts            (BENCH_SITE_SIZES=1000000,10000000 to choose sizes)
import { mkdtempSync, rmSync, statSync, readdirSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildSite } from "../site/build.ts";
import { launchBrowser, openPage } from "../site/browser.ts";
import { writeFixtureMarts } from "../site/fixture.ts";
import { serveStatic } from "../site/static-server.ts";
import { writeSyntheticMarts } from "../site/synthetic.ts";

const PAGES = ["index", "migration", "algorithms", "flame", "certificates", "ssh", "endpoints", "findings"];
const TARGET_MS = 3000;
const sizes = (process.env.BENCH_SITE_SIZES ?? "1000000,10000000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_SITE_RUNS ?? 1);

const dir = mkdtempSync(join(tmpdir(), "cryptoscope-bench-site-"));
const mb = (d: string) => readdirSync(d).reduce((a, f) => a + statSync(join(d, f)).size, 0) / 1e6;

interface Times { cold: number; warm: number; engineCold: number; engineWarm: number }

async function measure(label: string, marts: string): Promise<Record<string, Times>> {
  const out = join(dir, `site-${label}`);
  const b = await buildSite({ marts, out });
  const biggest = Object.entries(b.marts).sort((x, y) => y[1] - x[1])[0];
  console.log(`${label}: marts ${mb(marts).toFixed(1)} MB, largest ${biggest[0]} ${biggest[1].toLocaleString("en-US")} rows; site built in ${(b.ms / 1000).toFixed(1)} s`);
  const server = await serveStatic(out);
  const result: Record<string, Times> = {};
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  try {
    for (const page of PAGES) {
      const cold: number[] = [];
      const warm: number[] = [];
      const engine: Record<string, number[]> = { cold: [], warm: [] };
      for (let i = 0; i < RUNS; i++) {
        // Cold: a fresh profile, nothing cached. Warm: the same page opened again in that profile, as a reader
        // moving between pages would (engine and files revalidated from the browser cache, data re-read).
        const browser = await launchBrowser();
        try {
          for (const [kind, times] of [["cold", cold], ["warm", warm]] as const) {
            const r = await openPage(browser, `${server.url}/${page}.html`, { timeoutMs: 120_000 });
            // How much of it was DuckDB-WASM starting (worker, 35 MB of wasm compiled, database opened).
            engine[kind].push((r.marks["marts:duckdb-ready"] ?? 0) - (r.marks["marts:start"] ?? 0));
            if (r.cellErrors.length || r.consoleErrors.length) console.log(`  ${page}: errors ${JSON.stringify([...r.cellErrors, ...r.consoleErrors]).slice(0, 300)}`);
            times.push(r.readyMs);
            await r.page.close();
          }
          if (browser.offHost.length) throw new Error(`${page} requested ${browser.offHost[0]}`);
        } finally {
          await browser.close();
        }
      }
      result[page] = { cold: median(cold), warm: median(warm), engineCold: median(engine.cold), engineWarm: median(engine.warm) };
    }
  } finally {
    await server.close();
    rmSync(out, { recursive: true, force: true });
  }
  return result;
}

console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} on ${cpus().length} cores (other work on the machine slows every page alike)`);
try {
  const results: Record<string, Record<string, Times>> = {};
  const fixture = join(dir, "marts-fixture");
  await writeFixtureMarts(fixture);
  results.fixture = await measure("fixture", fixture);
  for (const n of sizes) {
    const label = n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`;
    const marts = join(dir, `marts-${label}`);
    const t0 = performance.now();
    await writeSyntheticMarts(marts, n);
    console.log(`${label}: synthetic marts from ${n.toLocaleString("en-US")} handshakes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    results[label] = await measure(label, marts);
    rmSync(marts, { recursive: true, force: true });
  }
  const labels = Object.keys(results);
  for (const kind of ["warm", "cold"] as const) {
    console.log(`\n${kind}: time until the page shows its data (ms, median of ${RUNS}), ratio to the fixture baseline`);
    console.log(["page".padEnd(14), ...labels.map((l) => l.padStart(18))].join(""));
    for (const p of PAGES) {
      const base = results.fixture[p][kind];
      console.log([p.padEnd(14), ...labels.map((l) => {
        const v = results[l][p][kind];
        return `${v}${l === "fixture" ? "" : ` (${(v / base).toFixed(2)}x)`}${v > TARGET_MS ? " !" : ""}`.padStart(18);
      })].join(""));
    }
  }
  for (const kind of ["warm", "cold"] as const) {
    const key = kind === "warm" ? "engineWarm" : "engineCold";
    const all = labels.flatMap((l) => PAGES.map((p) => results[l][p][key])).sort((a, b) => a - b);
    console.log(`${kind}: DuckDB-WASM start (worker + wasm compile + open) median ${all[Math.floor(all.length / 2)]} ms of each page's time`);
  }
  for (const kind of ["warm", "cold"] as const) {
    const worst = Math.max(...labels.flatMap((l) => PAGES.map((p) => results[l][p][kind])));
    console.log(`${kind}: worst page ${worst} ms; target < ${TARGET_MS} ms: ${worst < TARGET_MS ? "met" : "NOT met"} ("!" marks pages over)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
