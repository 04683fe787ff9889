// `cryptoscope check`: print the policy findings and exit 2 when any is at or above --severity (1 = error).
import type { Command } from "commander";

export const FINDINGS_EXIT_CODE = 2;

export function register(program: Command): void {
  program
    .command("check")
    .description("policy findings (TLS < 1.3, no forward secrecy, no PQ key exchange, weak keys, SHA-1, expiring certificates…); exit 2 when any is at or above --severity")
    .option("--severity <level>", "info | low | medium | high | critical", "high")
    .option("--db <file>", "DuckDB database file", "data/cryptoscope.duckdb")
    .option("--lake <dir>", "rebuild the models from this lake first")
    .option("--policy <file>", "policy JSON overriding models/policy.json (rebuilds the models)")
    .option("--format <fmt>", "table | json | csv", "table")
    .action(async (o: { severity: string; db: string; lake?: string; policy?: string; format: string }) => {
      const [{ findings }, { format, QueryError }, { buildModels, defaultPaths }] = await Promise.all([
        import("../../models/check.ts"), import("../../models/query.ts"), import("../../models/runner.ts")]);
      if (!["table", "json", "csv"].includes(o.format)) throw new QueryError(`unknown format "${o.format}" (table, json or csv)`);
      let db = o.db;
      if (o.lake || o.policy) {
        // --lake builds next to that lake (its marts/ and cryptoscope.duckdb) unless --db says where
        const d = defaultPaths(o.lake ?? "data/lake");
        const explicitDb = program.commands.find((c) => c.name() === "check")?.getOptionValueSource("db") === "cli";
        db = o.lake && !explicitDb ? d.db : o.db;
        await buildModels({ lake: d.lake, out: d.out, db, policy: o.policy });
      }
      const r = await findings(db, o.severity);
      if (r.rows.length === 0) {
        if (o.format === "table") console.log(`no findings at or above ${o.severity}`);
        else process.stdout.write(format(r, o.format) + "\n");
        return;
      }
      process.stdout.write(format(r, o.format) + "\n");
      process.exitCode = FINDINGS_EXIT_CODE;
    });
}
