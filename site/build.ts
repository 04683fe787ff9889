// Builds the static report site from a folder of mart Parquet files, with no network:
//  1. checks the marts folder holds every mart the pages read, with the columns they query;
//  2. fills Framework's npm cache from node_modules (prepare.ts, idempotent);
//  3. stages site/src with the marts copied in as FileAttachments (site/.stage/<id>/src/data/*.parquet),
//     so two builds (a test and a real one) never share a source tree, with the page-sized tables of
//     derive.ts and every page's precomputed answers (precompute.ts) next to them;
//  4. runs `observable build` into the stage, writes gzip copies of the large text and wasm files
//     (compress.ts), then swaps the result into the output folder.
import { DuckDBInstance } from "@duckdb/node-api";
import { spawn } from "node:child_process";
import {
  cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { REPO_ROOT } from "../capture/repo-root.ts";
import { MART_NAMES, martColumns, type MartName } from "./marts.ts";
import { cacheDir, prepare } from "./prepare.ts";
import { writeDerived } from "./derive.ts";
import { writePrecomputed } from "./precompute.ts";
import { writeGzipCopies } from "./compress.ts";

export const siteDir = join(REPO_ROOT, "site"); // from the root, not from this module's own URL: compiled, it runs from build/cli/
const frameworkBin = join(REPO_ROOT, "node_modules/@observablehq/framework/dist/bin/observable.js");
// Written into every output folder: the build only ever replaces a folder that carries it.
const MARKER = ".cryptoscope-site";

export class SiteBuildError extends Error {
  override name = "SiteBuildError";
}

export interface SiteBuildOptions {
  marts: string;
  out: string;
  /** Called with each line Framework prints (default: nothing). */
  log?: (line: string) => void;
}

export interface SiteBuildResult {
  out: string;
  pages: string[];
  marts: Record<string, number>; // mart → rows
  ms: number;
}

/** Every mart present with the columns the pages use; returns the row counts. */
export async function checkMarts(dir: string): Promise<Record<MartName, number>> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new SiteBuildError(`marts folder ${dir} does not exist (run \`cryptoscope models build\` first)`);
  }
  const missing = MART_NAMES.filter((m) => !existsSync(join(dir, `${m}.parquet`)));
  if (missing.length) {
    throw new SiteBuildError(`marts folder ${dir} lacks ${missing.map((m) => `${m}.parquet`).join(", ")} (run \`cryptoscope models build\`)`);
  }
  const db = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const con = await db.connect();
  const rows = {} as Record<MartName, number>;
  try {
    for (const mart of MART_NAMES) {
      const file = join(dir, `${mart}.parquet`).replace(/'/g, "''");
      let have: Map<string, string>;
      try {
        const r = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
        have = new Map(r.getRowObjects().map((o) => [String(o.column_name), String(o.column_type)]));
        const n = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${file}')`);
        rows[mart] = Number(n.getRowObjects()[0].n);
      } catch (e) {
        throw new SiteBuildError(`${mart}.parquet is not a readable Parquet file: ${(e as Error).message.split("\n")[0]}`);
      }
      const wrong = martColumns(mart).filter((c) => have.get(c.name) !== c.type);
      if (wrong.length) {
        const desc = wrong.map((c) => `${c.name} ${c.type}${have.has(c.name) ? ` (is ${have.get(c.name)})` : " (missing)"}`);
        throw new SiteBuildError(`${mart}.parquet does not match what the site reads: ${desc.join(", ")}`);
      }
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
  return rows;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (d: Buffer) => {
      output += d.toString();
      for (const line of d.toString().split("\n")) if (line.trim()) log(line);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolvePromise(output) : reject(Object.assign(new Error(output), { code }))));
  });
}

// d3-flame-graph's ES build imports its own .css, which Framework's bundler cannot take: the page gets
// a copy of the module without that line and links the stylesheet itself.
function vendorFlameGraph(stageSrc: string): void {
  const dist = join(REPO_ROOT, "node_modules/d3-flame-graph/dist");
  const out = join(stageSrc, "components/vendor");
  mkdirSync(out, { recursive: true });
  const js = readFileSync(join(dist, "d3-flamegraph.es.js"), "utf8").replace(/import\s+['"]\.\/d3-flamegraph\.css['"];?/, "");
  writeFileSync(join(out, "d3-flamegraph.js"), js);
  cpSync(join(dist, "d3-flamegraph.css"), join(out, "d3-flamegraph.css"));
}

export async function buildSite(opts: SiteBuildOptions): Promise<SiteBuildResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const martsDir = resolve(opts.marts);
  const out = resolve(opts.out);
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, MARKER))) {
    throw new SiteBuildError(`output folder ${out} is not empty and was not written by \`cryptoscope site build\`; refusing to replace it`);
  }
  const rows = await checkMarts(martsDir);
  await prepare();

  const stage = join(siteDir, ".stage", `${process.pid}-${Date.now().toString(36)}`);
  const stageSrc = join(stage, "src");
  try {
    cpSync(join(siteDir, "src"), stageSrc, { recursive: true, filter: (p) => !p.includes("/.observablehq") && !p.endsWith("/src/data") });
    mkdirSync(join(stageSrc, "data"), { recursive: true });
    for (const mart of MART_NAMES) cpSync(join(martsDir, `${mart}.parquet`), join(stageSrc, "data", `${mart}.parquet`));
    await writeDerived(martsDir, join(stageSrc, "data"));
    try {
      await writePrecomputed(stageSrc);
    } catch (e) {
      throw new SiteBuildError(`precomputing the pages' answers failed: ${(e as Error).message}`);
    }
    vendorFlameGraph(stageSrc);
    // One shared cache: the prepared _npm entries, and Framework's own _node bundles, stay warm across builds.
    mkdirSync(join(stageSrc, ".observablehq"), { recursive: true });
    symlinkSync(cacheDir, join(stageSrc, ".observablehq", "cache"));
    cpSync(join(siteDir, "observablehq.config.js"), join(stage, "observablehq.config.js"));

    const env = { ...process.env, OBSERVABLE_TELEMETRY_DISABLE: "1", CRYPTOSCOPE_SITE_OUTPUT: "dist", NO_COLOR: "1" };
    try {
      await run(process.execPath, [frameworkBin, "build"], stage, env, log);
    } catch (e) {
      const text = (e as Error).message;
      const lines = text.split("\n").filter((l) => /^(Unexpected error|Error|.*\berror\b:|.*ENOTFOUND|.*unable to)/i.test(l.trim()));
      throw new SiteBuildError(`observable build failed: ${(lines[0] ?? text.trim().split("\n").pop() ?? "").trim()}`);
    }
    const built = join(stage, "dist");
    await writeGzipCopies(built);
    writeFileSync(join(built, MARKER), JSON.stringify({ builtAt: new Date().toISOString(), marts: martsDir, rows }, null, 2));

    // Swap in: the old site is removed only once the new one is complete.
    mkdirSync(dirname(out), { recursive: true });
    const old = `${out}.old-${process.pid}`;
    if (existsSync(out)) renameSync(out, old);
    try {
      renameSync(built, out);
    } catch {
      cpSync(built, out, { recursive: true }); // another filesystem
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const pages = readdirSync(out).filter((f) => f.endsWith(".html")).sort();
  return { out, pages, marts: rows, ms: Math.round(performance.now() - t0) };
}
