// The model runner: seeds → lake views → SQL models in dependency order → Parquet marts + an analyst's
// DuckDB file of views. Everything runs in one in-memory DuckDB; outputs are written to temporary names
// and renamed, so a failed build never replaces the marts or the database of the previous one.
import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { REPO_ROOT } from "../capture/repo-root.ts";
import { TABLES, TABLE_NAMES, type TableName } from "../capture/lake/schema.ts";
import { loadPolicy, type Policy } from "./policy.ts";

export const MODELS_DIR = join(REPO_ROOT, "models"); // from the root, not from this module's own URL: compiled, it runs from build/cli/
const LAYERS = ["staging", "inventory", "risk", "reports"] as const;

export class ModelError extends Error {
  override name = "ModelError";
}
export class LakeFileError extends Error {
  override name = "LakeFileError";
  constructor(readonly file: string, detail: string) {
    super(`unreadable Parquet file in the lake: ${file} (${detail})`);
  }
}

export interface Model {
  name: string;
  layer: (typeof LAYERS)[number];
  file: string;
  sql: string;
  depends: string[];
  materialized: "view" | "table";
  /** every model except stg_* and int_* (intermediate) is written as a Parquet mart */
  mart: boolean;
}

export interface BuildOptions {
  lake: string;
  out?: string; // marts folder, default <lake>/../marts
  db?: string; // database file, default <lake>/../cryptoscope.duckdb
  policy?: string | Policy; // file path or object; defaults from models/policy.json
  threads?: number;
  memoryLimit?: string;
}

export interface BuildResult {
  marts: { name: string; rows: number; file: string }[];
  db: string;
  out: string;
  lakeFiles: Record<TableName, number>;
  seconds: number;
}

// ---------------------------------------------------------------- model discovery
const HEADER = /^--\s*(depends|materialized)\s*:\s*(.*)$/gm;

export function loadModels(dir = MODELS_DIR): Model[] {
  const models: Model[] = [];
  for (const layer of LAYERS) {
    const d = join(dir, layer);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).filter((x) => x.endsWith(".sql")).sort()) {
      const sql = readFileSync(join(d, f), "utf8");
      const name = basename(f, ".sql");
      let depends: string[] = [];
      let materialized: "view" | "table" = layer === "staging" ? "view" : "table";
      for (const m of sql.matchAll(HEADER)) {
        if (m[1] === "depends") depends = m[2].split(",").map((s) => s.trim()).filter(Boolean);
        else if (m[2].trim() === "view" || m[2].trim() === "table") materialized = m[2].trim() as "view" | "table";
      }
      models.push({ name, layer, file: join(d, f), sql, depends, materialized, mart: !/^(stg|int)_/.test(name) });
    }
  }
  return models;
}

/** Topological order; dependencies that are not models (seeds, raw lake views) must be provided. */
export function orderModels(models: Model[], provided: Set<string>): Model[] {
  const byName = new Map(models.map((m) => [m.name, m]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: Model[] = [];
  const visit = (m: Model, path: string[]) => {
    if (done.has(m.name)) return;
    if (visiting.has(m.name)) throw new ModelError(`dependency cycle: ${[...path, m.name].join(" → ")}`);
    visiting.add(m.name);
    for (const d of m.depends) {
      const dep = byName.get(d);
      if (dep) visit(dep, [...path, m.name]);
      else if (!provided.has(d)) throw new ModelError(`${m.name} depends on unknown model or seed "${d}" (${m.file})`);
    }
    visiting.delete(m.name);
    done.add(m.name);
    out.push(m);
  };
  for (const m of models) visit(m, []);
  return out;
}

// ---------------------------------------------------------------- seeds
const INT_COLS = new Set(["code", "classical_bits", "nist_pq_level", "deprecated_after", "disallowed_after"]);
const BOOL_COLS = new Set(["tls13", "forward_secrecy", "deprecated"]);

export function seedFiles(dir = MODELS_DIR): { name: string; file: string; columns: string[] }[] {
  const d = join(dir, "seeds");
  return readdirSync(d)
    .filter((f) => f.endsWith(".csv"))
    .sort()
    .map((f) => {
      const lines = readFileSync(join(d, f), "utf8").split("\n");
      const header = lines.find((l) => l && !l.startsWith("#"))!;
      return { name: `seed_${basename(f, ".csv")}`, file: join(d, f), columns: header.split(",") };
    });
}

function seedSelect(s: { file: string; columns: string[] }): string {
  const types = s.columns.map((c) => `'${c}': '${INT_COLS.has(c) ? "INTEGER" : BOOL_COLS.has(c) ? "BOOLEAN" : "VARCHAR"}'`).join(", ");
  return `SELECT * FROM read_csv(${lit(s.file)}, skip = 1, header = true, delim = ',', quote = '"', columns = {${types}})`;
}

// ---------------------------------------------------------------- lake
export function lakeFiles(lake: string, table: string): string[] {
  const root = join(lake, table);
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries.sort()) {
      if (e.startsWith(".") || e.startsWith("_")) continue; // temporary/in-progress files of the writer
      const p = join(d, e);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (e.endsWith(".parquet")) out.push(p);
    }
  };
  walk(root);
  return out;
}

export function emptyTableSelect(table: TableName): string {
  const cols = TABLES[table].map((c) => `NULL::${c.type} AS ${ident(c.name)}`);
  return `SELECT ${cols.join(", ")} WHERE false`;
}

/** A typed view over one lake table with exactly the schema's columns: missing ones come back as typed NULLs,
 * mistyped ones are cast, extra ones (a newer writer's, partition columns written into the files) are left out.
 * Built from the files' own schema so that the scan is a plain read_parquet (a UNION with a typed template
 * costs half as much again on every scan). */
async function rawSelect(conn: DuckDBConnection, table: TableName, files: string[]): Promise<string> {
  if (files.length === 0) return emptyTableSelect(table);
  const scan = `read_parquet([${files.map(lit).join(", ")}], union_by_name = true, hive_partitioning = false)`;
  const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${scan}`);
  const have = new Map(d.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]));
  const cols = TABLES[table].map((c) => {
    const t = have.get(c.name);
    if (t === undefined) return `NULL::${c.type} AS ${ident(c.name)}`;
    if (t.replace(/\s+/g, "").toUpperCase() === c.type.replace(/\s+/g, "").toUpperCase()) return ident(c.name);
    return `TRY_CAST(${ident(c.name)} AS ${c.type}) AS ${ident(c.name)}`;
  });
  return `SELECT ${cols.join(", ")} FROM ${scan}`;
}

// ---------------------------------------------------------------- helpers
export function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
function posix(p: string): string {
  return p.split(sep).join("/");
}

export async function openOffline(path = ":memory:", opts: { threads?: number; memoryLimit?: string; readOnly?: boolean } = {}): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
  const config: Record<string, string> = { autoinstall_known_extensions: "false", autoload_known_extensions: "false" };
  if (opts.threads) config.threads = String(opts.threads);
  if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
  if (opts.readOnly) config.access_mode = "READ_ONLY";
  const instance = await DuckDBInstance.create(path, config);
  const conn = await instance.connect();
  // The lake is read by several models: keep the files' footers instead of re-reading them each time.
  await conn.run("SET parquet_metadata_cache = true");
  return { instance, conn };
}

const PARQUET_PATH = /['"]([^'"]+\.parquet)['"]/;

/** Turn a DuckDB error about a lake file into one line that names the file. */
async function explainLakeError(conn: DuckDBConnection, err: Error, files: string[]): Promise<Error> {
  const msg = err.message.split("\n")[0];
  const m = PARQUET_PATH.exec(err.message);
  if (m && files.includes(m[1])) return new LakeFileError(m[1], msg.replace(m[0], "").replace(/\s+/g, " ").trim());
  if (!/parquet|magic|footer|thrift|metadata|corrupt/i.test(err.message)) return err;
  for (const f of files) {
    try {
      await conn.run(`SELECT count(*) FROM parquet_metadata(${lit(f)})`);
    } catch (e) {
      return new LakeFileError(f, (e as Error).message.split("\n")[0]);
    }
  }
  return err;
}

function setVariables(policy: Policy): string[] {
  const asOf = policy.as_of ? new Date(policy.as_of) : new Date();
  if (Number.isNaN(asOf.getTime())) throw new ModelError(`policy as_of is not a date: ${policy.as_of}`);
  return [
    `SET VARIABLE as_of = TIMESTAMP ${lit(asOf.toISOString().replace("T", " ").replace("Z", ""))}`,
    `SET VARIABLE cert_expiry_days = ${Math.trunc(policy.cert_expiry_days)}`,
    `SET VARIABLE min_rsa_bits = ${Math.trunc(policy.min_rsa_bits)}`,
    `SET VARIABLE min_classical_bits = ${Math.trunc(policy.min_classical_bits)}`,
  ];
}

function policyRulesSelect(policy: Policy): string {
  const rows = Object.entries(policy.rules).map(([rule, r]) => `(${lit(rule)}, ${lit(r.severity)}, ${r.enabled !== false})`);
  return `SELECT * FROM (VALUES ${rows.join(", ")}) AS t(rule, severity, enabled)`;
}

/** Build everything in one connection (exported so tests and query can reuse a live build). */
export async function prepare(conn: DuckDBConnection, lake: string, policy: Policy): Promise<{ files: Record<TableName, string[]> }> {
  await conn.run(readFileSync(join(MODELS_DIR, "macros.sql"), "utf8"));
  for (const s of setVariables(policy)) await conn.run(s);
  await conn.run(`CREATE OR REPLACE TABLE policy_rules AS ${policyRulesSelect(policy)}`);
  for (const s of seedFiles()) await conn.run(`CREATE OR REPLACE TABLE ${s.name} AS ${seedSelect(s)}`);
  // Constant lists the staging models test against: as variables they are folded once, not re-planned per row.
  await conn.run(`SET VARIABLE pq_tls_groups = (SELECT list(code ORDER BY code) FROM seed_tls_groups WHERE kex_class IN ('pq', 'hybrid'))`);
  await conn.run(`SET VARIABLE pq_ssh_kex = (SELECT list(name ORDER BY name) FROM seed_ssh_algorithms WHERE kind = 'kex' AND kex_class IN ('pq', 'hybrid'))`);
  const files = {} as Record<TableName, string[]>;
  for (const t of TABLE_NAMES) {
    files[t] = lakeFiles(lake, t);
    await conn.run(`CREATE OR REPLACE VIEW raw_${t} AS ${await rawSelect(conn, t, files[t])}`);
  }
  return { files };
}

export async function buildModels(opts: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  const lake = resolve(opts.lake);
  if (!existsSync(lake)) throw new ModelError(`lake folder not found: ${opts.lake}`);
  const out = resolve(opts.out ?? join(dirname(lake), "marts"));
  const db = resolve(opts.db ?? join(dirname(lake), "cryptoscope.duckdb"));
  const policy = typeof opts.policy === "object" ? opts.policy : loadPolicy(opts.policy);

  const models = orderModels(loadModels(), new Set([...seedFiles().map((s) => s.name), ...TABLE_NAMES.map((t) => `raw_${t}`), "policy_rules"]));
  const { instance, conn } = await openOffline(":memory:", { threads: opts.threads, memoryLimit: opts.memoryLimit });
  const staging = join(out, `.build-${process.pid}`);
  try {
    // Row order of a mart means nothing (readers sort): let DuckDB skip keeping it, which saves time and memory.
    await conn.run("SET preserve_insertion_order = false");
    let files: Record<TableName, string[]>;
    try {
      ({ files } = await prepare(conn, lake, policy));
    } catch (e) {
      // read_parquet reads every file's schema when the lake views are created: a bad file shows up here
      const all = TABLE_NAMES.flatMap((t) => lakeFiles(lake, t));
      const err = await explainLakeError(conn, e as Error, all);
      throw err instanceof LakeFileError ? err : new ModelError(`preparing the lake views failed: ${(err as Error).message.split("\n")[0]}`);
    }
    const allFiles = Object.values(files).flat();
    if (process.env.CRYPTOSCOPE_MODELS_TIMING) console.error(`prepare (seeds, lake views): ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    mkdirSync(staging, { recursive: true });
    const marts: BuildResult["marts"] = [];
    for (const m of models) {
      const tm = performance.now();
      const cm = process.cpuUsage();
      try {
        await conn.run(`CREATE OR REPLACE ${m.materialized === "view" ? "VIEW" : "TABLE"} ${m.name} AS\n${stripComments(m.sql)}`);
        if (m.mart) {
          const file = join(staging, `${m.name}.parquet`);
          await conn.run(`COPY ${m.name} TO ${lit(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`);
          const r = await conn.runAndReadAll(`SELECT count(*)::BIGINT FROM ${m.name}`);
          marts.push({ name: m.name, rows: Number(r.getRows()[0][0]), file: join(out, `${m.name}.parquet`) });
        }
        if (process.env.CRYPTOSCOPE_MODELS_TIMING) {
          const c = process.cpuUsage(cm);
          console.error(`${m.name}: ${((performance.now() - tm) / 1000).toFixed(2)} s wall ${((c.user + c.system) / 1e6).toFixed(2)} s cpu`);
        }
      } catch (e) {
        const err = await explainLakeError(conn, e as Error, allFiles);
        if (err instanceof LakeFileError) throw err;
        throw new ModelError(`model ${m.name} (${relative(process.cwd(), m.file)}) failed: ${(err as Error).message.split("\n")[0]}`);
      }
    }
    // Every mart is ready: move them in, then write the analyst's database next to them.
    for (const m of marts) renameSync(join(staging, `${m.name}.parquet`), m.file);
    const tw = performance.now();
    await writeDatabase(conn, db, lake, out, marts.map((m) => m.name), files);
    if (process.env.CRYPTOSCOPE_MODELS_TIMING) console.error(`database: ${((performance.now() - tw) / 1000).toFixed(2)} s`);
    const lakeCounts = Object.fromEntries(TABLE_NAMES.map((t) => [t, files[t].length])) as Record<TableName, number>;
    return { marts, db, out, lakeFiles: lakeCounts, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    conn.closeSync();
    instance.closeSync();
  }
}

function stripComments(sql: string): string {
  // Header comments stay harmless, but a trailing ';' would end the CREATE statement early.
  return sql.trim().replace(/;\s*$/, "");
}

/** The analyst's database: seeds as tables, lake and marts as views with paths relative to the file's folder. */
async function writeDatabase(conn: DuckDBConnection, db: string, lake: string, out: string, marts: string[], files: Record<TableName, string[]>): Promise<void> {
  const dir = dirname(db);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(db)}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  rmSync(`${tmp}.wal`, { force: true });
  await conn.run(`ATTACH ${lit(tmp)} AS outdb`);
  // Views are bound when created, and relative paths resolve through file_search_path: point it at the db's folder.
  await conn.run(`SET file_search_path = ${lit(dir)}`);
  try {
    for (const s of seedFiles()) await conn.run(`CREATE TABLE outdb.${s.name} AS SELECT * FROM ${s.name}`);
    await conn.run(`CREATE TABLE outdb.policy_rules AS SELECT * FROM policy_rules`);
    const relLake = posix(relative(dir, lake)) || ".";
    for (const t of TABLE_NAMES) {
      const body = files[t].length === 0
        ? emptyTableSelect(t)
        : `SELECT * FROM read_parquet(${lit(`${relLake}/${t}/**/*.parquet`)}, union_by_name = true, hive_partitioning = true)`;
      await conn.run(`CREATE VIEW outdb.lake_${t} AS ${body}`);
    }
    const relOut = posix(relative(dir, out)) || ".";
    for (const m of marts) await conn.run(`CREATE VIEW outdb.${m} AS SELECT * FROM read_parquet(${lit(`${relOut}/${m}.parquet`)})`);
  } finally {
    await conn.run(`RESET file_search_path`);
    await conn.run(`DETACH outdb`);
  }
  rmSync(`${db}.wal`, { force: true });
  renameSync(tmp, db);
}

export function defaultPaths(lake = "data/lake"): { lake: string; out: string; db: string } {
  const l = resolve(lake);
  return { lake: l, out: join(dirname(l), "marts"), db: join(dirname(l), "cryptoscope.duckdb") };
}
