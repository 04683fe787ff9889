// Turns columnar buffers into a Parquet file through DuckDB's own Parquet writer (native, ZSTD built in,
// statistics, dictionary encoding, key-value metadata). Columns are handed over as whole 2048-row
// DataChunks filled with bulk memory copies, not value by value: ints/timestamps/booleans/validity are
// one copy per vector, list children one copy per chunk, and each distinct long string is assigned once
// per chunk (repeats reuse its string_t, short strings are inlined in JS). This is what makes it fast.

import duckdb from "@duckdb/node-bindings";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { Column } from "./schema.js";
import { BoolBuffer, type ColumnBuffer, Int32Buffer, Int64Buffer, ListBuffer, RefBuffer, StringBuffer, StructBuffer, permuteBuffer } from "./columns.js";

const CHUNK = 2048; // DuckDB's vector size; chunks start at multiples of it, so validity bytes align

import type { ParquetEncoder, ParquetOptions } from "./encoder.js";

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** DuckDB settings for every instance the lake opens: nothing is ever downloaded (parquet is built in). */
export const OFFLINE_DUCKDB_OPTIONS: Record<string, string> = {
  autoinstall_known_extensions: "false",
  autoload_known_extensions: "false",
};

interface Source {
  bufs: ColumnBuffer[];
  rows: number;
  next: number;
  error?: unknown;
}

export class DuckDBEncoder implements ParquetEncoder {
  private seq = 0;
  private scratch = new Uint8Array(CHUNK * 16);
  private readonly sources = new Map<number, Source>();
  private readonly functions = new Set<string>();
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /** threads=1: the encoder is one core's worth of work; COPY runs on a libuv thread, off the JS thread. */
  static async open(threads = 1): Promise<DuckDBEncoder> {
    const instance = await DuckDBInstance.create(":memory:", { ...OFFLINE_DUCKDB_OPTIONS, threads: String(threads) });
    const conn = await instance.connect();
    return new DuckDBEncoder(instance, conn);
  }

  /**
   * Writes rows [0, rows) of the buffers to `path` as one Parquet file. The rows are streamed to
   * DuckDB's COPY through a table function that fills one chunk per call straight from the buffers:
   * no intermediate table, so DuckDB holds only the row group being written.
   */
  async writeParquet(name: string, columns: Column[], bufs: ColumnBuffer[], rows: number, path: string, opts: ParquetOptions): Promise<void> {
    const fn = await this.sourceFunction(name, columns);
    const id = ++this.seq;
    const src: Source = { bufs, rows, next: 0 };
    this.sources.set(id, src);
    try {
      const kv = Object.entries(opts.kvMetadata).map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(", ");
      const level = opts.compressionLevel !== undefined ? `, COMPRESSION_LEVEL ${opts.compressionLevel}` : "";
      await this.conn.run(
        `COPY (SELECT * FROM ${fn}(${id})) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd${level}, ROW_GROUP_SIZE ${opts.rowGroupSize}, KV_METADATA {${kv}})`,
      );
      if (src.error !== undefined) throw src.error;
    } finally {
      this.sources.delete(id);
    }
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  /** Registers (once per table shape) a table function `lake_source_<table>_<n>(batch_id)` with the table's columns. */
  private async sourceFunction(name: string, columns: Column[]): Promise<string> {
    const fn = `lake_source_${name.replace(/[^A-Za-z0-9_]/g, "_")}_${columns.length}`;
    if (this.functions.has(fn)) return fn;
    // Logical types come from DuckDB itself: a throwaway table declared with the schema's type names.
    const probe = `lake_types_${fn}`;
    await this.conn.run(`CREATE TABLE ${probe} (${columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(", ")})`);
    const appender = duckdb.appender_create_ext(this.rawConnection(), null, null, probe);
    const types = columns.map((_, i) => duckdb.appender_column_type(appender, i));
    duckdb.appender_close_sync(appender);
    await this.conn.run(`DROP TABLE ${probe}`);

    const tf = duckdb.create_table_function();
    duckdb.table_function_set_name(tf, fn);
    duckdb.table_function_add_parameter(tf, duckdb.create_logical_type(duckdb.Type.BIGINT));
    duckdb.table_function_set_bind(tf, (info) => {
      const id = Number(duckdb.get_int64(duckdb.bind_get_parameter(info, 0)));
      columns.forEach((c, i) => duckdb.bind_add_result_column(info, c.name, types[i]));
      const src = this.sources.get(id);
      if (!src) return duckdb.bind_set_error(info, `lake: no batch ${id}`);
      duckdb.bind_set_bind_data(info, src);
      duckdb.bind_set_cardinality(info, src.rows, true);
    });
    duckdb.table_function_set_init(tf, (info) => duckdb.init_set_max_threads(info, 1));
    duckdb.table_function_set_function(tf, (info, output) => {
      const src = duckdb.function_get_bind_data(info) as Source;
      try {
        const count = Math.min(CHUNK, src.rows - src.next);
        duckdb.data_chunk_set_size(output, count);
        for (let c = 0; c < src.bufs.length; c++) this.fill(duckdb.data_chunk_get_vector(output, c), src.bufs[c], src.next, count);
        src.next += count;
      } catch (err) {
        src.error = err;
        duckdb.function_set_error(info, `lake: ${(err as Error).message}`);
      }
    });
    duckdb.register_table_function(this.rawConnection(), tf);
    this.functions.add(fn);
    return fn;
  }

  private rawConnection(): duckdb.Connection {
    return (this.conn as unknown as { connection: duckdb.Connection }).connection;
  }

  private fill(vec: duckdb.Vector, buf: ColumnBuffer, start: number, count: number): void {
    if (buf.validity.nulls > 0) {
      duckdb.vector_ensure_validity_writable(vec);
      const bits = validityBytes(buf, start, count);
      duckdb.copy_data_to_vector_validity(vec, 0, bits.buffer as ArrayBuffer, bits.byteOffset, bits.byteLength);
    }
    if (buf instanceof Int32Buffer) copy(vec, buf.data, start * 4, count * 4);
    else if (buf instanceof Int64Buffer) copy(vec, buf.data, start * 8, count * 8);
    else if (buf instanceof BoolBuffer) copy(vec, buf.data, start, count);
    else if (buf instanceof StringBuffer) {
      const data: (string | null)[] = new Array(count);
      for (let r = 0; r < count; r++) data[r] = buf.get(start + r);
      this.fillStrings(vec, data, 0, count);
    } else if (buf instanceof RefBuffer) {
      if (buf.column.type === "BLOB") this.fillBlobs(vec, buf.data as (Uint8Array | null)[], start, count);
      else this.fillStrings(vec, buf.data as (string | null)[], start, count);
    } else if (buf instanceof ListBuffer) this.fillList(vec, buf, start, count);
    else if (buf instanceof StructBuffer) {
      for (let k = 0; k < buf.fields.length; k++) this.fill(duckdb.struct_vector_get_child(vec, k), buf.fields[k], start, count);
    } else throw new Error(`lake: no encoder for column ${buf.column.name}`);
  }

  private fillList(vec: duckdb.Vector, buf: ListBuffer, start: number, count: number): void {
    // Rows point at interned lists: gather this chunk's elements in row order into a child copy.
    const o = buf.offsets;
    const ids = buf.ids;
    const entries = new Uint32Array(count * 4); // (offset u64, length u64) pairs; values < 2^32, high words 0
    let total = 0;
    for (let r = 0; r < count; r++) {
      const len = buf.validity.valid(start + r) ? o[ids[start + r] + 1] - o[ids[start + r]] : 0;
      entries[4 * r] = total;
      entries[4 * r + 2] = len;
      total += len;
    }
    const childIdx = new Int32Array(total);
    for (let r = 0, k = 0; r < count; r++) {
      if (!buf.validity.valid(start + r)) continue;
      for (let j = o[ids[start + r]], e = o[ids[start + r] + 1]; j < e; j++) childIdx[k++] = j;
    }
    duckdb.list_vector_reserve(vec, total);
    duckdb.list_vector_set_size(vec, total);
    if (total > 0) this.fill(duckdb.list_vector_get_child(vec), permuteBuffer(buf.child, childIdx), 0, total);
    copy(vec, entries, 0, entries.byteLength);
  }

  private fillBlobs(vec: duckdb.Vector, data: (Uint8Array | null)[], start: number, count: number): void {
    for (let r = 0; r < count; r++) {
      const b = data[start + r];
      if (b !== null) duckdb.vector_assign_string_element_len(vec, r, b);
    }
  }

  // duckdb_string_t is 16 bytes: u32 length, then either the bytes inline (length <= 12) or a 4-byte
  // prefix and a pointer into the vector's string heap. Short ASCII strings are written here directly;
  // each distinct longer string is assigned once through the C API and its 16 bytes copied to repeats.
  private fillStrings(vec: duckdb.Vector, data: (string | null)[], start: number, count: number): void {
    if (this.scratch.length < count * 16) this.scratch = new Uint8Array(count * 16);
    const out = this.scratch.subarray(0, count * 16);
    out.fill(0);
    let first: Map<string, number> | null = null;
    let assigned: number[] | null = null;
    let repeats: number[] | null = null;
    for (let r = 0; r < count; r++) {
      const s = data[start + r];
      if (s === null) continue;
      const len = s.length;
      if (len <= 12) {
        const at = r * 16;
        let k = 0;
        for (; k < len; k++) {
          const ch = s.charCodeAt(k);
          if (ch >= 0x80) break;
          out[at + 4 + k] = ch;
        }
        if (k === len) {
          out[at] = len; // little-endian u32 length, len <= 12
          continue;
        }
      }
      first ??= new Map();
      assigned ??= [];
      repeats ??= [];
      const f = first.get(s);
      if (f === undefined) {
        first.set(s, r);
        duckdb.vector_assign_string_element(vec, r, s);
        assigned.push(r);
      } else repeats.push(r, f);
    }
    if (assigned !== null && repeats !== null) {
      const written = duckdb.vector_get_data(vec, count * 16); // a copy holding the assigned string_t values
      for (const r of assigned) out.set(written.subarray(r * 16, r * 16 + 16), r * 16);
      for (let k = 0; k < repeats.length; k += 2) out.copyWithin(repeats[k] * 16, repeats[k + 1] * 16, repeats[k + 1] * 16 + 16);
    }
    copy(vec, out, 0, count * 16);
  }
}

function copy(vec: duckdb.Vector, src: ArrayBufferView, byteStart: number, byteCount: number): void {
  if (byteCount > 0) duckdb.copy_data_to_vector(vec, 0, src.buffer as ArrayBuffer, src.byteOffset + byteStart, byteCount);
}

function validityBytes(buf: ColumnBuffer, start: number, count: number): Uint8Array {
  const bits = buf.validity.bits;
  const nbytes = Math.ceil(count / 8);
  if ((start & 7) === 0) {
    const from = start >> 3;
    if (from + nbytes <= bits.length) return bits.subarray(from, from + nbytes);
  }
  const out = new Uint8Array(Math.ceil(count / 64) * 8);
  for (let r = 0; r < count; r++) if (buf.validity.valid(start + r)) out[r >> 3] |= 1 << (r & 7);
  return out;
}
