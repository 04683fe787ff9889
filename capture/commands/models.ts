// `cryptoscope models build`: run the SQL models over the lake into Parquet marts and an analyst's DuckDB file.
import type { Command } from "commander";
import { relative } from "node:path";

export function register(program: Command): void {
  const models = program.command("models").description("DuckDB SQL models: lake → inventory, risk and report marts");
  models
    .command("build")
    .description("build every mart (Parquet) and the DuckDB database of views")
    .option("--lake <dir>", "lake folder", "data/lake")
    .option("--out <dir>", "marts folder (default: <lake>/../marts)")
    .option("--db <file>", "DuckDB database file (default: <lake>/../cryptoscope.duckdb)")
    .option("--policy <file>", "policy JSON overriding models/policy.json")
    .option("--threads <n>", "DuckDB threads", (v) => Number.parseInt(v, 10))
    .action(async (o: { lake: string; out?: string; db?: string; policy?: string; threads?: number }) => {
      const { buildModels, defaultPaths } = await import("../../models/runner.ts");
      const d = defaultPaths(o.lake);
      const r = await buildModels({ lake: d.lake, out: o.out ?? d.out, db: o.db ?? d.db, policy: o.policy, threads: o.threads });
      const rel = (p: string) => relative(process.cwd(), p) || ".";
      for (const m of r.marts) console.log(`${m.name.padEnd(32)} ${String(m.rows).padStart(10)} rows`);
      const files = Object.entries(r.lakeFiles).map(([t, n]) => `${t} ${n}`).join(", ");
      console.log(`lake files: ${files}`);
      console.log(`${r.marts.length} marts in ${rel(r.out)}, database ${rel(r.db)}, ${r.seconds.toFixed(1)} s`);
    });
}
