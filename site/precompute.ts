// The answers of every page's queries for the page as first opened, computed at build time with DuckDB
// (@duckdb/node-api) over the same Parquet files the page loads, and written as one small JSON file per page
// (src/data/precomputed/<page>.json). A page draws from them without starting DuckDB-WASM (1–2 s of worker
// start and 35 MB of wasm compiled); any other filter or search still runs in DuckDB-WASM in the browser.
// The queries are the page's own (src/queries/<page>.js, shared with the browser), so both answer the same SQL.
import {
  DuckDBDateValue, DuckDBDecimalValue, DuckDBInstance, DuckDBListValue, DuckDBArrayValue, DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue, DuckDBTimestampSecondsValue, DuckDBTimestampTZValue, DuckDBTimestampValue,
  type DuckDBConnection, type DuckDBValue,
} from "@duckdb/node-api";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
// @ts-expect-error plain JavaScript shared with the pages
import { answerKey, encodeResult, toQuery } from "./src/components/answers.js";

type Row = Record<string, unknown>;
type Query = string | [string, unknown[]?];
interface PageQueries {
  tables: Record<string, string>;
  boot: Record<string, (b: Record<string, Row[]>) => Query>;
  views: Record<string, (state: unknown, b: Record<string, Row[]>) => Query>;
  defaults: (b: Record<string, Row[]>) => unknown;
}

export class PrecomputeError extends Error {
  override name = "PrecomputeError";
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A DuckDB value as the page sees it from DuckDB-WASM: numbers, strings, booleans, Dates, arrays. */
function toJS(v: DuckDBValue): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "object") return v;
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return new Date(Number(v.micros / 1000n));
  if (v instanceof DuckDBTimestampMillisecondsValue) return new Date(Number(v.millis));
  if (v instanceof DuckDBTimestampSecondsValue) return new Date(Number(v.seconds) * 1000);
  if (v instanceof DuckDBTimestampNanosecondsValue) return new Date(Number(v.nanos / 1_000_000n));
  if (v instanceof DuckDBDateValue) return new Date(v.days * 86400e3);
  if (v instanceof DuckDBDecimalValue) return v.toDouble();
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toJS);
  return String(v);
}

async function query(con: DuckDBConnection, page: string, name: string, q: Query): Promise<{ key: string; rows: Row[]; columns: string[] }> {
  const [sql, params] = toQuery(q) as [string, unknown[]];
  let r;
  try {
    r = await con.runAndReadAll(sql, params as DuckDBValue[]);
  } catch (e) {
    throw new PrecomputeError(`page ${page}, query ${name}: ${(e as Error).message.split("\n")[0]}`);
  }
  const columns = r.columnNames();
  const rows = r.getRows().map((values) => Object.fromEntries(values.map((v, i) => [columns[i], toJS(v)])));
  return { key: answerKey(sql, params), rows, columns };
}

/**
 * For every src/queries/<page>.js in `srcDir`: the page's tables as views over `<srcDir>/data/<file>.parquet`,
 * its boot queries, then its view queries with the inputs' default values; writes
 * `<srcDir>/data/precomputed/<page>.json`. Returns the bytes written per page.
 */
export async function writePrecomputed(srcDir: string): Promise<Record<string, number>> {
  const queriesDir = join(srcDir, "queries");
  const outDir = join(srcDir, "data", "precomputed");
  mkdirSync(outDir, { recursive: true });
  const db = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const con = await db.connect();
  const sizes: Record<string, number> = {};
  try {
    for (const file of readdirSync(queriesDir).filter((f) => f.endsWith(".js")).sort()) {
      const page = basename(file, ".js");
      const spec = (await import(pathToFileURL(join(queriesDir, file)).href)) as PageQueries;
      for (const [table, source] of Object.entries(spec.tables)) {
        const parquet = join(srcDir, "data", `${source}.parquet`);
        if (!existsSync(parquet)) throw new PrecomputeError(`page ${page} reads ${source}.parquet, which the build did not stage`);
        await con.run(`CREATE OR REPLACE VIEW "${table}" AS SELECT * FROM read_parquet(${lit(parquet)})`);
      }
      const results: Record<string, unknown> = {};
      const boot: Record<string, Row[]> = {};
      for (const [name, q] of Object.entries(spec.boot)) {
        const r = await query(con, page, name, q(boot));
        boot[name] = r.rows;
        results[r.key] = encodeResult(r.columns, r.rows);
      }
      const state = spec.defaults(boot);
      for (const [name, q] of Object.entries(spec.views)) {
        const r = await query(con, page, name, q(state, boot));
        results[r.key] = encodeResult(r.columns, r.rows);
      }
      const json = JSON.stringify({ page, results });
      writeFileSync(join(outDir, `${page}.json`), json);
      sizes[page] = Buffer.byteLength(json);
      for (const table of Object.keys(spec.tables)) await con.run(`DROP VIEW "${table}"`);
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
  return sizes;
}
