// `cryptoscope site build`: the static report site (site/, Observable Framework) from the marts' Parquet files.
// Builds with no network; the output is plain static files (serve them with any static server).
import type { Command } from "commander";
import { existsSync } from "node:fs";

export function register(program: Command): void {
  const site = program.command("site").description("The static report site over the marts");
  site
    .command("build")
    .description("Build the report site (Observable Framework) from the mart Parquet files, offline")
    .option("--marts <dir>", "folder of mart Parquet files", "data/marts")
    .option("--out <dir>", "output folder (default: site/dist, or data/site when site/ is not writable)")
    .option("--verbose", "print Framework's build log")
    .action(async (opts: { marts: string; out?: string; verbose?: boolean }) => {
      const out = opts.out ?? (existsSync("site/src") ? "site/dist" : "data/site");
      const { buildSite } = await import("../../site/build.ts");
      const r = await buildSite({ marts: opts.marts, out, log: opts.verbose ? (l) => console.error(l) : undefined });
      const rows = Object.values(r.marts).reduce((a, n) => a + n, 0);
      console.log(`site: ${r.pages.length} pages, ${Object.keys(r.marts).length} marts (${rows} rows) → ${r.out} in ${(r.ms / 1000).toFixed(1)} s`);
    });
}
