// Queries for analysts and scripts over the DuckDB file of views (lake_*, marts, seeds): SQL or a named
// report, printed as a table, JSON or CSV. Relative view paths resolve against the database's folder.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { lit, openOffline } from "./runner.ts";

export class QueryError extends Error {
  override name = "QueryError";
}

export type Cell = string | number | boolean | null | Cell[] | { [k: string]: Cell };
export interface QueryResult {
  columns: string[];
  rows: Record<string, Cell>[];
}

function plain(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]));
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v as Cell;
}

export async function listReports(db: string): Promise<string[]> {
  const r = await runQuery(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name");
  return r.rows.map((x) => String(x.table_name));
}

export async function runQuery(db: string, sql: string): Promise<QueryResult> {
  const file = resolve(db);
  if (!existsSync(file)) throw new QueryError(`no database at ${db}: run \`cryptoscope models build\` first`);
  const { instance, conn } = await openOffline(file, { readOnly: true });
  try {
    await conn.run(`SET file_search_path = ${lit(dirname(file))}`);
    let reader;
    try {
      reader = await conn.runAndReadAll(sql);
    } catch (e) {
      throw new QueryError((e as Error).message.split("\n")[0]);
    }
    const columns = reader.columnNames();
    const rows = reader.getRowObjectsJS().map((r) => Object.fromEntries(columns.map((c) => [c, plain(r[c])])));
    return { columns, rows };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export async function runReport(db: string, name: string): Promise<QueryResult> {
  const known = await listReports(db);
  if (!known.includes(name)) throw new QueryError(`unknown report "${name}"; known: ${known.join(", ")}`);
  return runQuery(db, `SELECT * FROM "${name}"`);
}

const text = (v: Cell): string => (v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

export function formatTable(r: QueryResult, maxWidth = 60): string {
  const cells = r.rows.map((row) => r.columns.map((c) => {
    const s = text(row[c]).replace(/\s+/g, " ");
    return s.length > maxWidth ? s.slice(0, maxWidth - 1) + "…" : s;
  }));
  const widths = r.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(r.columns), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line), `(${r.rows.length} rows)`].join("\n");
}

export function formatCsv(r: QueryResult): string {
  const esc = (v: Cell) => {
    const s = text(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [r.columns.map((c) => esc(c)).join(","), ...r.rows.map((row) => r.columns.map((c) => esc(row[c])).join(","))].join("\n");
}

export function formatJson(r: QueryResult): string {
  return JSON.stringify(r.rows, null, 2);
}

export function format(r: QueryResult, fmt: string): string {
  if (fmt === "table") return formatTable(r);
  if (fmt === "json") return formatJson(r);
  if (fmt === "csv") return formatCsv(r);
  throw new QueryError(`unknown format "${fmt}" (table, json or csv)`);
}
