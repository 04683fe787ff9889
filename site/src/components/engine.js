// DuckDB-WASM over a page's tables, for the queries the build did not answer ahead (a filter, a search).
// Loaded on demand by pagedata.js: a page draws from its precomputed answers first and never waits for the
// engine (worker + 35 MB of wasm compiled) unless a reader asks something new.
// Parquet is decoded by parquet-wasm (duckdb-wasm 1.29 has no Parquet reader offline) straight into an Arrow IPC
// stream that DuckDB ingests: no JavaScript Arrow table in between, one parquet-wasm instance for all files, and
// the engine starts while the files download.
import {DuckDBClient} from "npm:@observablehq/duckdb";
import initParquet, {readParquet} from "npm:parquet-wasm";

let parquetReady;
async function parquetToIPC(file) {
  parquetReady ??= initParquet(import.meta.resolve("npm:parquet-wasm/esm/parquet_wasm_bg.wasm"));
  const [buffer] = await Promise.all([file.arrayBuffer(), parquetReady]);
  return readParquet(new Uint8Array(buffer)).intoIPCStream();
}

/** {tableName: FileAttachment(".parquet")} → a DuckDBClient with one table per file. */
export async function openEngine(files) {
  const entries = Object.entries(files);
  // Marks for the bench and for anyone profiling a page (Performance panel, performance.getEntriesByType("mark")).
  performance.mark("marts:start");
  const [db, streams] = await Promise.all([
    DuckDBClient.of().then((d) => (performance.mark("marts:duckdb-ready"), d)),
    Promise.all(entries.map(([, f]) => parquetToIPC(f))).then((s) => (performance.mark("marts:parquet-decoded"), s))
  ]);
  const conn = await db._db.connect();
  try {
    for (const [i, [name]] of entries.entries()) {
      await conn.insertArrowFromIPCStream(streams[i], {name, schema: "main", create: true});
    }
  } finally {
    await conn.close();
  }
  performance.mark("marts:loaded");
  return db;
}
