// crauQuery: crypto-auditing context trees from the lake (library_events, source "usdt"), the JSON that
// crypto-auditing's crau-query prints. For `cryptoscope query --crau` (capture/commands/query.ts).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { buildContextTrees, type CrauContext, type CrauEventRow } from "./tree.ts";

export interface CrauQueryOptions {
  pid?: number;
  /** only contexts whose events are at or after this time */
  since?: Date;
  until?: Date;
  /** only trees whose root has this "name" event (e.g. tls::handshake_client) */
  name?: string;
}

export class CrauQueryError extends Error {
  override name = "CrauQueryError";
}

export async function crauQuery(lakeRoot: string, opts: CrauQueryOptions = {}): Promise<CrauContext[]> {
  const dir = join(lakeRoot, "library_events");
  if (!existsSync(dir)) throw new CrauQueryError(`no library_events table under ${lakeRoot}: has the agent captured anything there?`);
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  try {
    const where = ["source = 'usdt'"];
    if (opts.pid !== undefined) where.push(`pid = ${Math.trunc(opts.pid)}`);
    if (opts.since) where.push(`ts >= TIMESTAMP '${opts.since.toISOString().replace("T", " ").replace("Z", "")}'`);
    if (opts.until) where.push(`ts <= TIMESTAMP '${opts.until.toISOString().replace("T", " ").replace("Z", "")}'`);
    const glob = join(dir, "**", "*.parquet").replace(/'/g, "''");
    // the lake clusters rows by event inside a file: buildContextTrees restores causal order from ts
    const sql = `SELECT epoch_us(ts) AS ts, pid, event, key, value_int, value_str, value_blob, context, parent_context, exe
      FROM read_parquet('${glob}', hive_partitioning = true, union_by_name = true, filename = true, file_row_number = true)
      WHERE ${where.join(" AND ")} ORDER BY ts, filename, file_row_number`;
    let reader;
    try {
      reader = await con.runAndReadAll(sql);
    } catch (e) {
      const m = (e as Error).message;
      if (/No files found/i.test(m)) return [];
      throw new CrauQueryError(`reading ${dir}: ${m.split("\n")[0]}`);
    }
    const rows = reader.getRowObjects().map((r) => ({
      ts: BigInt(r.ts as bigint), pid: r.pid as number | null, event: r.event as string, key: r.key as string | null,
      value_int: r.value_int as bigint | null, value_str: r.value_str as string | null,
      value_blob: r.value_blob ? (r.value_blob as { bytes: Uint8Array }).bytes : null,
      context: r.context as bigint, parent_context: r.parent_context as bigint | null, exe: r.exe as string | null,
    })) as CrauEventRow[];
    let trees = buildContextTrees(rows);
    if (opts.name) trees = trees.filter((t) => t.events.name === opts.name);
    return trees;
  } finally {
    con.closeSync?.();
    db.closeSync?.();
  }
}
