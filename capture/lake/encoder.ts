// What the writer needs from a Parquet encoder: one call per file. Two implementations, chosen by
// measurement (bench/lake.ts): js-encoder.ts (the default) and duckdb-encoder.ts (DuckDB's COPY).

import type { ColumnBuffer } from "./columns.js";
import type { Column } from "./schema.js";

export interface ParquetOptions {
  rowGroupSize: number;
  kvMetadata: Record<string, string>;
  compressionLevel?: number;
  /** Row order to write (a permutation of [0, rows)); default: as buffered. */
  order?: Int32Array;
}

export interface ParquetEncoder {
  /** Writes rows [0, rows) of the column buffers to `path` as one complete Parquet file. */
  writeParquet(table: string, columns: Column[], bufs: ColumnBuffer[], rows: number, path: string, opts: ParquetOptions): Promise<void>;
  close(): void;
}

export type EncoderName = "js" | "duckdb";

export async function openEncoder(name: EncoderName, compressionLevel?: number): Promise<ParquetEncoder> {
  if (name === "duckdb") {
    const { DuckDBEncoder } = await import("./duckdb-encoder.js");
    return DuckDBEncoder.open();
  }
  const { JsParquetEncoder } = await import("./js-encoder.js");
  return JsParquetEncoder.open(compressionLevel);
}
