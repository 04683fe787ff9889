// Compiles the CLI ahead of time into build/cli/ (esbuild: one ES module per command plus shared chunks,
// npm packages left as imports), so `bin/cryptoscope` starts plain Node instead of tsx's loader, which
// transforms and resolves every one of ~100 modules through a hook thread at each start (~0.3 s of a
// short `ingest`). bin/cryptoscope uses the compiled copy only while it is newer than every source file,
// so an edited tree never runs stale code: it falls back to tsx until the next set-up.
// The output is written to a fresh folder and renamed into place: a CLI starting meanwhile sees either
// the old complete build or the new one.
import { build } from "esbuild";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../capture/repo-root.ts";

export const CLI_BUILD_DIR = join(REPO_ROOT, "build", "cli");

// Modules whose use of import.meta.url holds in the bundle too: finding the root, the commands next to
// cli.js, telling compiled from tsx, createRequire for an absolute path, "am I the main module" checks.
const MAY_USE_IMPORT_META = new Set([
  "capture/repo-root.ts", "capture/cli.ts", "capture/ingest-parallel.ts", "capture/bpf/native.ts",
  "capture/attest/setup-keys.ts", "site/prepare.ts",
]);

export async function compileCli(): Promise<{ files: number; ms: number }> {
  const t0 = performance.now();
  const started = new Date();
  const commands = readdirSync(join(REPO_ROOT, "capture", "commands"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(REPO_ROOT, "capture", "commands", f));
  const fresh = `${CLI_BUILD_DIR}.new-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  const result = await build({
    // The ingest worker is started by file name (new Worker), so it is an entry of its own.
    entryPoints: [join(REPO_ROOT, "capture", "cli.ts"), join(REPO_ROOT, "capture", "ingest-worker.ts"), ...commands],
    outdir: fresh,
    outbase: REPO_ROOT,
    bundle: true,
    splitting: true, // the commands' lazy import()s stay lazy: each becomes a chunk loaded when it runs
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external", // native addons, WASM and their own file lookups stay in node_modules
    chunkNames: "chunks/[name]-[hash]",
    sourcemap: "linked", // stack traces (CRYPTOSCOPE_DEBUG) still name the .ts lines
    logLevel: "silent",
    metafile: true,
  });
  if (result.errors.length) throw new Error(`compile failed: ${result.errors[0]!.text}`);
  // Bundled, a module no longer sits where its source did: a path taken from import.meta.url would point
  // into build/cli/. Only the modules that know this may use it (the others take paths from REPO_ROOT).
  for (const input of Object.keys(result.metafile!.inputs)) {
    if (input.includes("node_modules") || MAY_USE_IMPORT_META.has(input)) continue;
    if (readFileSync(join(REPO_ROOT, input), "utf8").includes("import.meta.url")) {
      throw new Error(`compile failed: ${input} uses import.meta.url (wrong once bundled into build/cli): take the path from REPO_ROOT`);
    }
  }
  // The stamp bin/cryptoscope compares sources against, dated when the build started: a file edited
  // during the build is newer than the stamp and sends the CLI back to tsx.
  const stamp = join(fresh, ".stamp");
  writeFileSync(stamp, "");
  utimesSync(stamp, started, started);
  const old = `${CLI_BUILD_DIR}.old-${process.pid}`;
  if (existsSync(CLI_BUILD_DIR)) renameSync(CLI_BUILD_DIR, old);
  renameSync(fresh, CLI_BUILD_DIR);
  rmSync(old, { recursive: true, force: true });
  return { files: Object.keys(result.metafile!.outputs).filter((f) => f.endsWith(".js")).length, ms: performance.now() - t0 };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  compileCli().then(
    ({ files, ms }) => console.error(`compiled the CLI: ${files} modules in ${ms.toFixed(0)} ms → ${CLI_BUILD_DIR}`),
    (err: Error) => {
      console.error(`compile-cli: ${err.message}`);
      process.exit(1);
    },
  );
}
