// `cryptoscope query "SQL" | --report NAME`: read the lake, marts and seeds through the DuckDB file of views.
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("query")
    .description("run SQL (or a named report/mart) over data/cryptoscope.duckdb: lake_* views, marts, seeds")
    .argument("[sql]", "SQL to run")
    .option("--report <name>", "print a mart or view by name (see --list)")
    .option("--list", "list the reports, marts, lake views and seeds")
    .option("--format <fmt>", "table | json | csv", "table")
    .option("--db <file>", "DuckDB database file", "data/cryptoscope.duckdb")
    .option("--crau", "crypto-auditing events as crau-query prints them (JSON: contexts with events and spans), read from the lake")
    .option("--lake <dir>", "with --crau: the lake", "data/lake")
    .option("--pid <pid>", "with --crau: only this process", (v) => Number.parseInt(v, 10))
    .option("--since <time>", "with --crau: from this time (ISO 8601)", (v) => new Date(v))
    .option("--until <time>", "with --crau: up to this time (ISO 8601)", (v) => new Date(v))
    .action(async (sql: string | undefined, o: { report?: string; list?: boolean; format: string; db: string; crau?: boolean; lake: string; pid?: number; since?: Date; until?: Date }) => {
      const { format, listReports, QueryError, runQuery, runReport } = await import("../../models/query.ts");
      if (o.crau) {
        const { crauQuery } = await import("../crau/index.ts");
        for (const d of [o.since, o.until]) if (d && Number.isNaN(d.getTime())) throw new QueryError("--since/--until: not an ISO 8601 time");
        console.log(JSON.stringify(await crauQuery(o.lake, { pid: o.pid, since: o.since, until: o.until }), null, 2));
        return;
      }
      if (!["table", "json", "csv"].includes(o.format)) throw new QueryError(`unknown format "${o.format}" (table, json or csv)`);
      if (o.list) {
        console.log((await listReports(o.db)).join("\n"));
        return;
      }
      if (!sql === !o.report) throw new QueryError("give either SQL or --report NAME");
      const r = o.report ? await runReport(o.db, o.report) : await runQuery(o.db, sql!);
      process.stdout.write(format(r, o.format) + "\n");
    });
}
