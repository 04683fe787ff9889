// Fills Observable Framework's npm cache (site/.observablehq/cache/_npm) from node_modules, so that
// `observable build` never asks jsDelivr or registry.npmjs.org for anything (see
// ../shared/notes/site-offline.md). Framework looks in this cache before the network; its built-ins
// (DuckDBClient, sql, Inputs, FileAttachment.parquet) are hard-wired to `npm:` addresses.
//
// Idempotent: a stamp file records the versions it was filled from; a second run with the same
// node_modules returns in milliseconds. Run: `node --import tsx site/prepare.ts`.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../capture/repo-root.ts";

const siteDir = join(REPO_ROOT, "site"); // from the root, not from this module's own URL: compiled, it runs from build/cli/
export const cacheDir = join(siteDir, ".observablehq", "cache");
const frameworkClient = join(REPO_ROOT, "node_modules/@observablehq/framework/dist/client");

// Node's own lookup (nested node_modules first, then upward); not require.resolve, because some
// packages do not export their package.json.
function pkgDir(name: string, from = REPO_ROOT): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) throw new Error(`site/prepare: ${name} is not installed (run the setup)`);
  }
}
function version(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
}

// The engine Framework 1.13.4 pins; its own apache-arrow (17) is the one every module shares,
// because Framework resolves a bare `npm:apache-arrow` to the only version in the cache.
const DUCKDB_WASM = "1.29.0";
const duckdbDir = pkgDir("@duckdb/duckdb-wasm");
const arrowDir = pkgDir("apache-arrow", duckdbDir);
const parquetDir = pkgDir("parquet-wasm");
const inputsDir = pkgDir("@observablehq/inputs", pkgDir("@observablehq/framework"));
const htlDir = pkgDir("htl", inputsDir);
const isoformatDir = pkgDir("isoformat", inputsDir);

const v = {
  duckdb: version(duckdbDir),
  arrow: version(arrowDir),
  parquet: version(parquetDir),
  inputs: version(inputsDir),
  htl: version(htlDir),
  isoformat: version(isoformatDir),
  framework: version(pkgDir("@observablehq/framework")),
};
if (v.duckdb !== DUCKDB_WASM) {
  throw new Error(`site/prepare: @duckdb/duckdb-wasm ${v.duckdb} installed, Framework pins ${DUCKDB_WASM}`);
}

const entries = {
  arrow: `apache-arrow@${v.arrow}`,
  duckdb: `@duckdb/duckdb-wasm@${v.duckdb}`,
  parquet: `parquet-wasm@${v.parquet}`,
  inputs: `@observablehq/inputs@${v.inputs}`,
  htl: `htl@${v.htl}`,
  isoformat: `isoformat@${v.isoformat}`,
};

// ESM bundle of one package, with its dependencies left as relative imports of other cache entries
// (the way jsDelivr's `+esm` files are rewritten by Framework).
async function bundle(entry: string, resolveDir: string, outFile: string, externals: Record<string, string>) {
  const outDir = dirname(outFile);
  const result = await build({
    stdin: { contents: entry, resolveDir, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    logLevel: "error",
    plugins: [
      {
        name: "cache-externals",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            const target = externals[args.path];
            if (!target) return undefined;
            const rel = relative(outDir, join(npmDir(tmp), target, "_esm.js"));
            return { path: rel.startsWith(".") ? rel : `./${rel}`, external: true };
          });
        },
      },
    ],
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(outFile, result.outputFiles[0].text);
}

const npmDir = (root: string) => join(root, "_npm");
const stampFile = join(cacheDir, ".cryptoscope-prepared.json");
const stamp = JSON.stringify(v);
let tmp = "";

export async function prepare(): Promise<{ cached: boolean; dir: string }> {
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp && existsSync(npmDir(cacheDir))) {
    return { cached: true, dir: cacheDir };
  }
  // Build the new _npm folder aside, then swap it in: a crash never leaves a half-filled cache.
  tmp = join(cacheDir, `.prepare-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const out = npmDir(tmp);

  await bundle(`export * from "apache-arrow";`, duckdbDir, join(out, entries.arrow, "_esm.js"), {});
  await bundle(`export * from "@duckdb/duckdb-wasm";`, duckdbDir, join(out, entries.duckdb, "_esm.js"), {
    "apache-arrow": entries.arrow,
  });
  for (const f of ["duckdb-mvp.wasm", "duckdb-eh.wasm", "duckdb-browser-mvp.worker.js", "duckdb-browser-eh.worker.js"]) {
    mkdirSync(join(out, entries.duckdb, "dist"), { recursive: true });
    copyFileSync(join(duckdbDir, "dist", f), join(out, entries.duckdb, "dist", f));
  }
  // parquet-wasm's ESM build has no imports; Framework passes the .wasm address explicitly.
  mkdirSync(join(out, entries.parquet, "esm"), { recursive: true });
  copyFileSync(join(parquetDir, "esm/parquet_wasm.js"), join(out, entries.parquet, "_esm.js"));
  copyFileSync(join(parquetDir, "esm/parquet_wasm_bg.wasm"), join(out, entries.parquet, "esm/parquet_wasm_bg.wasm"));
  await bundle(`export * from "htl";`, inputsDir, join(out, entries.htl, "_esm.js"), {});
  await bundle(`export * from "isoformat";`, inputsDir, join(out, entries.isoformat, "_esm.js"), {});
  await bundle(`export * from "@observablehq/inputs";`, pkgDir("@observablehq/framework"), join(out, entries.inputs, "_esm.js"), {
    htl: entries.htl,
    isoformat: entries.isoformat,
  });

  // Every other `npm:` name Framework's client mentions gets an empty `name@version` folder: the build
  // only needs to resolve their versions (they are lazy imports no page of ours uses), and an existing
  // folder answers that without asking the registry.
  const filled = new Set(Object.values(entries).map((e) => e.slice(0, e.lastIndexOf("@"))));
  for (const name of clientNpmNames()) {
    if (filled.has(name) || name.startsWith("@observablehq/") && ["duckdb", "sqlite", "mermaid", "tex", "dot"].includes(name.split("/")[1])) continue;
    let ver = "0.0.0";
    try {
      ver = version(pkgDir(name));
    } catch {
      // not installed: any version will do, nothing is ever fetched for it
    }
    mkdirSync(join(out, `${name}@${ver}`), { recursive: true });
  }

  mkdirSync(cacheDir, { recursive: true });
  rmSync(npmDir(cacheDir), { recursive: true, force: true });
  renameSync(out, npmDir(cacheDir));
  rmSync(tmp, { recursive: true, force: true });
  writeFileSync(stampFile, stamp);
  return { cached: false, dir: cacheDir };
}

function clientNpmNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".js")) {
        for (const m of readFileSync(p, "utf8").matchAll(/["']npm:((?:@[\w.-]+\/)?[\w.-]+)/g)) names.add(m[1]);
      }
    }
  };
  walk(frameworkClient);
  return names;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const { cached, dir } = await prepare();
  console.log(`site/prepare: ${cached ? "already prepared" : "filled"} ${relative(process.cwd(), dir)} in ${Math.round(performance.now() - t0)} ms`);
}
