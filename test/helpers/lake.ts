// Reads a lake back with DuckDB, as an analyst would.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

export async function queryLake(root: string, sql: (t: (table: string) => string) => string): Promise<Record<string, unknown>[]> {
  const inst = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const con = await inst.connect();
  try {
    const t = (table: string) => {
      const dir = join(root, table);
      if (!existsSync(dir) || readdirSync(dir).length === 0) throw new Error(`lake ${root} has no ${table} files`);
      return `read_parquet('${dir}/**/*.parquet', hive_partitioning=true, union_by_name=true)`;
    };
    const reader = await con.runAndReadAll(sql(t));
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    con.closeSync();
    inst.closeSync();
  }
}
