// Opens built pages in headless Chromium (Debian's /usr/bin/chromium through playwright-core) and reports
// what a reader would see: how long until the data is on the page, the page text, console errors, cell
// errors, and every request that tried to leave 127.0.0.1. Used by test/site-*.test.ts and bench/site.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  /** Requests to anything but 127.0.0.1 (or data:/blob:), from any page or worker of this browser. */
  offHost: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), "cryptoscope-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 },
  });
  const offHost: string[] = [];
  context.on("request", (req) => {
    const u = new URL(req.url());
    if (!["data:", "blob:"].includes(u.protocol) && u.hostname !== "127.0.0.1") offHost.push(req.url());
  });
  return {
    context, offHost,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface PageReport {
  url: string;
  /** ms from navigation start until every cell has settled and a figure or table is on the page */
  readyMs: number;
  text: string;
  consoleErrors: string[];
  cellErrors: string[];
  /** performance marks of the page (site/src/components/pagedata.js: page:start, page:boot, engine:start:<why>;
   *  engine.js: marts:start, marts:duckdb-ready, marts:loaded) */
  marks: Record<string, number>;
  page: Page;
}

// Framework shows <observablehq-loading> in a cell until its promise settles; data pages are ready once
// none is left, no query is still out with DuckDB-WASM (pagedata.js sets aria-busy) and a chart or table has
// been drawn. Checked twice in a row to skip the gap between cells.
const READY = `(() => {
  const main = document.querySelector("#observablehq-main") ?? document.body;
  const busy = main.querySelector("observablehq-loading") || main.getAttribute("aria-busy") === "true";
  const drawn = main.querySelectorAll("svg, table").length > 0;
  return !busy && drawn;
})()`;

export async function openPage(browser: Browser, url: string, opts: { timeoutMs?: number; screenshot?: string } = {}): Promise<PageReport> {
  const page = await browser.context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("response", (r) => {
    if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  const t0 = Date.now();
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await waitReady(page, opts.timeoutMs ?? 30_000);
  const readyMs = Date.now() - t0;
  const text = await page.innerText("body");
  const cellErrors = await page.$$eval(".observablehq--error", (els) => els.map((e) => e.textContent ?? ""));
  const marks = Object.fromEntries(await page.evaluate(() => performance.getEntriesByType("mark").map((m) => [m.name, Math.round(m.startTime)] as [string, number])));
  // Let the last frame paint (d3 transitions start on the next animation frame) before the picture.
  if (opts.screenshot) {
    await page.waitForTimeout(400);
    await page.screenshot({ path: opts.screenshot, fullPage: true });
  }
  return { url, readyMs, text, consoleErrors, cellErrors, marks, page };
}

export async function waitReady(page: Page, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let streak = 0;
  while (Date.now() < deadline) {
    streak = (await page.evaluate(READY)) ? streak + 1 : 0;
    if (streak >= 2) return;
    await page.waitForTimeout(50);
  }
  const errors = await page.$$eval(".observablehq--error", (els) => els.map((e) => e.textContent ?? ""));
  throw new Error(`page ${page.url()} not ready after ${timeoutMs} ms${errors.length ? `: ${errors.join("; ")}` : ""}`);
}
