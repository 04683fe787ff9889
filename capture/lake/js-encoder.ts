// A Parquet writer for the lake's column buffers, in JS: the buffers already hold typed arrays,
// validity bitmaps and list offsets, so encoding is levels + dictionary codes + a ZSTD pass (wasm)
// per page, with no per-value calls into another runtime and no second copy of the rows. Memory is
// the batch itself plus the pages of one row group.
//
// What it writes: format 2 footer, one dictionary page (when a dictionary pays) and one v1 data page
// per column chunk, RLE levels, RLE_DICTIONARY or PLAIN values, ZSTD, min/max/null statistics on
// flat columns (exact; strings only when their UTF-8 order is their JS order). Logical types:
// TIMESTAMP(MICROS, isAdjustedToUTC=false) → DuckDB reads TIMESTAMP; STRING; INTEGER(64,unsigned)
// for UBIGINT; 3-level LIST with required elements (lists hold no nulls).

import { open } from "node:fs/promises";
import { zstd } from "./zstd.js";
import { BoolBuffer, type ColumnBuffer, Int32Buffer, Int64Buffer, ListBuffer, RefBuffer, StringBuffer, StructBuffer, structFields } from "./columns.js";
import type { ParquetEncoder, ParquetOptions } from "./encoder.js";
import { writeListChunk } from "./list-chunk.js";
import { bitWidth, writeHybrid } from "./rle-hybrid.js";
import type { Column } from "./schema.js";
import { ByteSink, type ThriftField, encodeStruct } from "./thrift-compact.js";

const UTF8 = new TextEncoder();
const MAGIC = UTF8.encode("PAR1");
const enum PType { BOOLEAN = 0, INT32 = 1, INT64 = 2, BYTE_ARRAY = 6 }
const enum Enc { PLAIN = 0, RLE = 3, DELTA_BINARY_PACKED = 5, RLE_DICTIONARY = 8 }
const ZSTD = 6;
const MAX_DICT = 1 << 16;

interface Leaf {
  path: string[];
  ptype: PType;
  maxDef: number;
  maxRep: number;
  list: ListBuffer | null; // the enclosing list, for nested leaves
  values: ColumnBuffer; // where the leaf's values live (the column, or the list's child / struct field)
  kind: Column["type"] | "VARCHAR";
}

let compress: (buf: Uint8Array, level?: number) => Uint8Array;

export class JsParquetEncoder implements ParquetEncoder {
  private constructor(private readonly level: number) {}

  static async open(level = 3): Promise<JsParquetEncoder> {
    compress = (await zstd()).withContext();
    return new JsParquetEncoder(level);
  }

  close(): void {}

  async writeParquet(_name: string, columns: Column[], bufs: ColumnBuffer[], rows: number, path: string, opts: ParquetOptions): Promise<void> {
    const perm = opts.order ?? null;
    const leaves = columns.flatMap((c, i) => leavesOf(c, bufs[i]));
    const fh = await open(path, "w");
    try {
      let offset = 0;
      const put = async (parts: Uint8Array[]) => {
        await fh.writev(parts);
        for (const p of parts) offset += p.length;
      };
      await put([MAGIC]);
      const rowGroups: ThriftField[][] = [];
      for (let start = 0; start < rows; start += opts.rowGroupSize) {
        const count = Math.min(opts.rowGroupSize, rows - start);
        const parts: Uint8Array[] = [];
        const chunks: ThriftField[][] = [];
        let groupBytes = 0;
        let at = offset;
        for (const leaf of leaves) {
          const ch = encodeChunk(leaf, perm, start, count, this.level);
          const chunkStart = at;
          let dictOffset = -1;
          for (const [i, p] of ch.pages.entries()) {
            if (i === 0 && ch.hasDict) dictOffset = at;
            parts.push(p);
            at += p.length;
          }
          const dataOffset = at - ch.pages[ch.pages.length - 1].length;
          groupBytes += ch.uncompressed;
          const meta: ThriftField[] = [
            [1, "i32", leaf.ptype],
            [2, "list<i32>", ch.encodings],
            [3, "list<binary>", leaf.path],
            [4, "i32", ZSTD],
            [5, "i64", ch.numValues],
            [6, "i64", ch.uncompressed],
            [7, "i64", ch.compressed],
            [9, "i64", dataOffset],
          ];
          if (dictOffset >= 0) meta.push([11, "i64", dictOffset]);
          if (ch.stats) meta.push([12, "struct", ch.stats]);
          chunks.push([
            [2, "i64", chunkStart],
            [3, "struct", meta],
          ]);
        }
        await put(parts);
        rowGroups.push([
          [1, "list<struct>", chunks],
          [2, "i64", groupBytes],
          [3, "i64", count],
        ]);
      }
      const footer = encodeStruct([
        [1, "i32", 2],
        [2, "list<struct>", schemaElements(columns)],
        [3, "i64", rows],
        [4, "list<struct>", rowGroups],
        [5, "list<struct>", Object.entries(opts.kvMetadata).map(([k, v]) => [[1, "binary", k], [2, "binary", v]] as ThriftField[])],
        [6, "binary", "cryptoscope lake writer"],
      ]);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, footer.length, true);
      await put([footer, len, MAGIC]);
    } finally {
      await fh.close();
    }
  }
}

function leavesOf(c: Column, buf: ColumnBuffer): Leaf[] {
  const flat = (t: Column["type"] | "VARCHAR"): PType =>
    t === "BOOLEAN" ? PType.BOOLEAN : t === "INTEGER" ? PType.INT32 : t === "TIMESTAMP" || t === "BIGINT" || t === "UBIGINT" ? PType.INT64 : PType.BYTE_ARRAY;
  if (!(buf instanceof ListBuffer)) return [{ path: [c.name], ptype: flat(c.type), maxDef: 1, maxRep: 0, list: null, values: buf, kind: c.type }];
  if (buf.child instanceof StructBuffer) {
    const s = buf.child;
    return s.fieldNames.map((f, k) => ({ path: [c.name, "list", "element", f], ptype: PType.BYTE_ARRAY, maxDef: 3, maxRep: 1, list: buf, values: s.fields[k], kind: "VARCHAR" as const }));
  }
  const elem = c.type === "INTEGER[]" ? "INTEGER" : "VARCHAR";
  return [{ path: [c.name, "list", "element"], ptype: flat(elem), maxDef: 2, maxRep: 1, list: buf, values: buf.child, kind: elem }];
}

function schemaElements(columns: Column[]): ThriftField[][] {
  const els: ThriftField[][] = [[[4, "binary", "schema"], [5, "i32", columns.length]]];
  const leaf = (name: string, t: string, rep: number): ThriftField[] => {
    switch (t) {
      case "TIMESTAMP":
        return [[1, "i32", PType.INT64], [3, "i32", rep], [4, "binary", name],
          [10, "struct", [[8, "struct", [[1, "bool", false], [2, "struct", [[2, "struct", []]]]]]]]];
      case "VARCHAR":
        return [[1, "i32", PType.BYTE_ARRAY], [3, "i32", rep], [4, "binary", name], [6, "i32", 0], [10, "struct", [[1, "struct", []]]]];
      case "BLOB":
        return [[1, "i32", PType.BYTE_ARRAY], [3, "i32", rep], [4, "binary", name]];
      case "BOOLEAN":
        return [[1, "i32", PType.BOOLEAN], [3, "i32", rep], [4, "binary", name]];
      case "INTEGER":
        return [[1, "i32", PType.INT32], [3, "i32", rep], [4, "binary", name]];
      case "BIGINT":
        return [[1, "i32", PType.INT64], [3, "i32", rep], [4, "binary", name]];
      case "UBIGINT":
        return [[1, "i32", PType.INT64], [3, "i32", rep], [4, "binary", name], [6, "i32", 14], [10, "struct", [[10, "struct", [[1, "i8", 64], [2, "bool", false]]]]]];
      default:
        throw new Error(`lake: no Parquet type for ${t}`);
    }
  };
  const OPTIONAL = 1;
  const REQUIRED = 0;
  for (const c of columns) {
    if (!c.type.endsWith("[]")) {
      els.push(leaf(c.name, c.type, OPTIONAL));
      continue;
    }
    els.push([[3, "i32", OPTIONAL], [4, "binary", c.name], [5, "i32", 1], [6, "i32", 3], [10, "struct", [[3, "struct", []]]]]);
    els.push([[3, "i32", 2], [4, "binary", "list"], [5, "i32", 1]]);
    const fields = structFields(c.type);
    if (fields) {
      els.push([[3, "i32", REQUIRED], [4, "binary", "element"], [5, "i32", fields.length]]);
      for (const f of fields) els.push(leaf(f, "VARCHAR", OPTIONAL));
    } else els.push(leaf("element", c.type.slice(0, -2), REQUIRED));
  }
  return els;
}

interface Chunk {
  pages: Uint8Array[]; // each: page header + compressed body
  hasDict: boolean;
  numValues: number;
  uncompressed: number;
  compressed: number;
  stats: ThriftField[] | null;
  encodings: number[];
}

/**
 * Levels and the indices (into leaf.values) of the values present, for output rows [start, start+count);
 * output row r is buffer row perm[r] (the clustered order) or r itself.
 */
function levels(leaf: Leaf, perm: Int32Array | null, start: number, count: number): { def: Int32Array | null; rep: Int32Array | null; n: number; idx: Int32Array; nv: number } {
  // The loops are leaf functions (see writeDeltaBinaryPacked): code after a loop that on-stack
  // replacement compiled had no type feedback, and this function was deoptimized there on every call.
  const vb = leaf.values;
  if (leaf.list === null) {
    const idx = work("idx", count);
    if (vb.validity.nulls === 0) {
      if (perm !== null) return { def: null, rep: null, n: count, idx: perm.subarray(start, start + count), nv: count }; // the order is the index
      fillRange(idx, start, count);
      return { def: null, rep: null, n: count, idx, nv: count };
    }
    const def = work("def", count);
    const nv = flatLevels(vb.validity.bits, perm, start, count, def, idx);
    return { def, rep: null, n: count, idx, nv };
  }
  const list = leaf.list;
  const elems = listElements(list, perm, start, count);
  const total = elems + count; // upper bound on level entries
  const def = work("def", total);
  const rep = work("rep", total);
  const idx = work("idx", elems);
  const n = listLevels(list, leaf.maxDef === 3 ? vb.validity.bits : null, leaf.maxDef, perm, start, count, def, rep, idx);
  return { def, rep, n, idx, nv: listLevelsValues };
}

function fillRange(idx: Int32Array, start: number, count: number): void {
  for (let r = 0; r < count; r++) idx[r] = start + r;
}

/** Definition levels of a flat column's output rows and the indices of its values; returns their number. */
function flatLevels(bits: Uint8Array, perm: Int32Array | null, start: number, count: number, def: Int32Array, idx: Int32Array): number {
  let nv = 0;
  for (let r = 0; r < count; r++) {
    const i = perm === null ? start + r : perm[start + r];
    if (bits[i >> 3] & (1 << (i & 7))) {
      def[r] = 1;
      idx[nv++] = i;
    } else def[r] = 0; // scratch arrays are reused: write every entry
  }
  return nv;
}

/** Elements in the non-null lists of output rows [start, start+count). */
function listElements(list: ListBuffer, perm: Int32Array | null, start: number, count: number): number {
  const o = list.offsets;
  const ids = list.ids;
  const lbits = list.validity.bits;
  let elems = 0;
  for (let q = start; q < start + count; q++) {
    const r = perm === null ? q : perm[q];
    if (lbits[r >> 3] & (1 << (r & 7))) elems += o[ids[r] + 1] - o[ids[r]];
  }
  return elems;
}

/** The value count of the last listLevels call (its second result). */
let listLevelsValues = 0;

/** Repetition and definition levels of a list leaf and the indices of its present values; returns the number of levels. */
function listLevels(list: ListBuffer, fieldBits: Uint8Array | null, maxDef: number, perm: Int32Array | null, start: number, count: number, def: Int32Array, rep: Int32Array, idx: Int32Array): number {
  const o = list.offsets;
  const ids = list.ids;
  const lbits = list.validity.bits;
  let n = 0;
  let nv = 0;
  for (let q = start; q < start + count; q++) {
    const r = perm === null ? q : perm[q];
    if (!(lbits[r >> 3] & (1 << (r & 7)))) {
      def[n] = 0;
      rep[n++] = 0;
      continue;
    }
    const a = o[ids[r]];
    const b = o[ids[r] + 1];
    if (a === b) {
      def[n] = 1;
      rep[n++] = 0;
      continue;
    }
    for (let j = a; j < b; j++) {
      rep[n] = j === a ? 0 : 1;
      if (fieldBits !== null && !(fieldBits[j >> 3] & (1 << (j & 7)))) def[n++] = 2;
      else {
        def[n++] = maxDef;
        idx[nv++] = j;
      }
    }
  }
  listLevelsValues = nv;
  return n;
}

const scratchBuf = { b: Buffer.alloc(1 << 16) };
// Per-chunk work arrays, reused: encoding is synchronous, one chunk at a time.
const scratch = {
  def: new Int32Array(1 << 16), // levels as int32, like codes: writeHybrid only ever sees one array type
  rep: new Int32Array(1 << 16),
  idx: new Int32Array(1 << 16),
  codes: new Int32Array(1 << 16),
  g2l: new Int32Array(1 << 16), // global dictionary code → local code + 1; all zero between chunks
  l2g: new Int32Array(1 << 16),
};
function work<K extends keyof typeof scratch>(k: K, n: number): (typeof scratch)[K] {
  if (scratch[k].length < n) (scratch as Record<K, Uint8Array | Int32Array>)[k] = new (scratch[k].constructor as new (n: number) => Uint8Array | Int32Array)(Math.max(n, scratch[k].length * 2));
  return scratch[k];
}
const sinks = { body: new ByteSink(), level: new ByteSink(), dict: new ByteSink(), alt: new ByteSink() };
const SMALL_CODES = new Int32Array(65536); // value → dictionary code + 1, all zero between chunks
/** What a chunk's values came out as (one object, reused: chunks are encoded one at a time). */
const vo = {
  dict: null as Uint8Array | null,
  dictCount: 0,
  encoding: Enc.PLAIN as Enc,
  stats: null as ThriftField[] | null,
  alt: null as Uint8Array | null, // a PLAIN alternative to a dictionary-encoded body
};

function encodeChunk(leaf: Leaf, perm: Int32Array | null, start: number, count: number, level: number): Chunk {
  const body = sinks.body.reset();
  // Levels (v1: each block prefixed by its byte length).
  const levelBlock = (vals: Int32Array | null, max: number, n: number) => {
    const s = sinks.level.reset();
    if (vals === null) {
      s.varint(n * 2); // one RLE run of `max`
      s.byte(max);
    } else writeHybrid(s, vals, n, bitWidth(max));
    body.u32le(s.len);
    body.bytes(s.result());
  };
  if (leaf.list !== null && leaf.maxDef === 2) {
    const fast = writeListChunk(body, sinks.dict, leaf.list, perm, start, count);
    if (fast !== null) return finishChunk(body.result(), fast.dict, fast.dictCount, Enc.RLE_DICTIONARY, null, fast.n, level);
    body.reset();
  }
  const lv = levels(leaf, perm, start, count);
  if (leaf.maxRep > 0) levelBlock(lv.rep, leaf.maxRep, lv.n);
  levelBlock(lv.def, leaf.maxDef, lv.n);

  const vb = leaf.values;
  const { idx, nv } = lv;
  const flat = leaf.list === null;
  const nulls = flat ? count - nv : 0;

  vo.dict = null;
  vo.dictCount = 0;
  vo.encoding = Enc.PLAIN;
  vo.stats = null;
  vo.alt = null;
  // One function per kind of buffer: each is compiled for its own values only (one big function
  // was deoptimized and recompiled each time a chunk of another kind reached a cold branch).
  if (vb instanceof Int32Buffer) int32Values(body, vb, idx, nv, flat, nulls, leaf.kind);
  else if (vb instanceof Int64Buffer) int64Values(body, vb, idx, nv, flat, nulls, leaf.kind);
  else if (vb instanceof BoolBuffer) boolValues(body, vb, idx, nv, flat, nulls, leaf.kind);
  else if (vb instanceof StringBuffer) stringValues(body, vb, idx, nv, flat, nulls, leaf.kind);
  else if (vb instanceof RefBuffer) refValues(body, vb, idx, nv, flat, nulls, leaf.kind);

  return finishChunk(body.result(), vo.dict, vo.dictCount, vo.encoding, vo.stats, lv.n, level, vo.alt);
}

/** Dictionary (or PLAIN) INT32 values; flat columns with rarely repeating values also get a PLAIN alternative. */
function int32Values(body: ByteSink, vb: Int32Buffer, idx: Int32Array, nv: number, flat: boolean, nulls: number, kind: Leaf["kind"]): void {
  const d = vb.data;
  const codes = work("codes", nv);
  // Distinct values in order of first appearance. Code points and ports are u16: a direct-address
  // table (value → code + 1, reset afterwards) finds them; only values outside it go through a Map.
  const values: number[] = [];
  const ok = int32Codes(d, idx, nv, codes, values, new Map<number, number>());
  clearSmallCodes(values);
  const size = values.length;
  if (ok && size > 0) {
    vo.dict = int32Dictionary(sinks.dict.reset(), values);
    vo.dictCount = size;
    vo.encoding = Enc.RLE_DICTIONARY;
    if (flat && size * 16 > nv) {
      // Values that rarely repeat (ports): PLAIN may compress smaller than a big dictionary plus wide
      // codes (ZSTD squeezes the constant high bytes); both are built and the smaller one is kept.
      const a = sinks.alt.reset();
      a.bytes(body.result());
      int32Plain(a, d, idx, nv);
      vo.alt = a.result();
    }
    const w = Math.max(1, bitWidth(size - 1));
    body.byte(w);
    writeHybrid(body, codes, nv, w);
  } else int32Plain(body, d, idx, nv);
  if (flat) vo.stats = numericStats(nulls, nv > 0 ? int32le(MIN_MAX[0]) : null, nv > 0 ? int32le(MIN_MAX[1]) : null);
}

/** Min and max of the last int32Dictionary / int32Plain call. */
const MIN_MAX = new Int32Array(2);

/** Dictionary codes of d[idx[k]] into codes, distinct values into `values`; false once a dictionary would not pay. */
function int32Codes(d: Int32Array, idx: Int32Array, nv: number, codes: Int32Array, values: number[], map: Map<number, number>): boolean {
  const small = SMALL_CODES;
  let prev = NaN;
  let prevCode = -1;
  for (let k = 0; k < nv; k++) {
    const v = d[idx[k]];
    if (v === prev) {
      codes[k] = prevCode; // clustered rows repeat their neighbour's value
      continue;
    }
    const inTable = v >= 0 && v < 65536;
    let c = inTable ? small[v] - 1 : (map.get(v) ?? -1);
    if (c < 0) {
      if (values.length >= MAX_DICT || values.length > nv / 2 + 64) return false;
      c = values.length;
      values.push(v);
      if (inTable) small[v] = c + 1;
      else map.set(v, c);
    }
    codes[k] = c;
    prev = v;
    prevCode = c;
  }
  return true;
}

/** SMALL_CODES is all zero between chunks. */
function clearSmallCodes(values: number[]): void {
  const small = SMALL_CODES;
  for (let j = 0; j < values.length; j++) {
    const v = values[j];
    if (v >= 0 && v < 65536) small[v] = 0;
  }
}

function int32Dictionary(ds: ByteSink, values: number[]): Uint8Array {
  let min = 2147483647;
  let max = -2147483648;
  for (let j = 0; j < values.length; j++) {
    const v = values[j];
    ds.u32le(v);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  MIN_MAX[0] = min;
  MIN_MAX[1] = max;
  return ds.result();
}

function int32Plain(out: ByteSink, d: Int32Array, idx: Int32Array, nv: number): void {
  let min = 2147483647;
  let max = -2147483648;
  for (let k = 0; k < nv; k++) {
    const v = d[idx[k]];
    out.u32le(v);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  MIN_MAX[0] = min;
  MIN_MAX[1] = max;
}

/** INT64 values: timestamps DELTA_BINARY_PACKED, other exact values dictionary-coded, the rest PLAIN. */
function int64Values(body: ByteSink, vb: Int64Buffer, idx: Int32Array, nv: number, flat: boolean, nulls: number, kind: Leaf["kind"]): void {
  const d = vb.data;
  const sameHi = int64Extremes(d, idx, nv);
  const minK = EXTREMES[0];
  const maxK = EXTREMES[1];
  // Values are exact doubles when every one is below 2^52 in magnitude (timestamps, ids, counters).
  const exact = nv === 0 || (Math.abs(d[2 * minK + 1]) < 1 << 20 && Math.abs(d[2 * maxK + 1]) < 1 << 20);
  let done = false;
  if (exact && kind === "TIMESTAMP" && nv > 0) {
    // Times rise inside a cluster: deltas are small, so DELTA_BINARY_PACKED beats PLAIN + ZSTD by far.
    writeDeltaBinaryPacked(body, d, idx, nv);
    vo.encoding = Enc.DELTA_BINARY_PACKED;
    done = true;
  } else if ((sameHi || exact) && nv > 0) {
    // Dictionary keyed by the low word when all high words agree (small ints stay V8 small ints).
    const map = new Map<number, number>();
    const codes = work("codes", nv);
    if (int64Codes(d, idx, nv, sameHi, codes, map)) {
      vo.dict = int64Dictionary(sinks.dict.reset(), map, sameHi, d[2 * idx[0] + 1]);
      vo.dictCount = map.size;
      vo.encoding = Enc.RLE_DICTIONARY;
      const w = Math.max(1, bitWidth(map.size - 1));
      body.byte(w);
      writeHybrid(body, codes, nv, w);
      done = true;
    }
  }
  if (!done) int64Plain(body, d, idx, nv);
  if (flat) {
    const signed = kind !== "UBIGINT";
    vo.stats = numericStats(nulls, signed && nv > 0 ? int64le(d, minK) : null, signed && nv > 0 ? int64le(d, maxK) : null);
  }
}

/** Row indices of the smallest and largest value (signed) of the last int64Extremes call, -1 if none. */
const EXTREMES = new Int32Array(2);

/** Finds the extremes (into EXTREMES); returns whether every value has the same high word. */
function int64Extremes(d: Int32Array, idx: Int32Array, nv: number): boolean {
  let minK = -1;
  let maxK = -1;
  const hi0 = nv > 0 ? d[2 * idx[0] + 1] : 0;
  let sameHi = true;
  for (let k = 0; k < nv; k++) {
    const i = idx[k];
    const hi = d[2 * i + 1];
    const lo = d[2 * i] >>> 0;
    if (hi !== hi0) sameHi = false;
    if (minK < 0 || hi < d[2 * minK + 1] || (hi === d[2 * minK + 1] && lo < d[2 * minK] >>> 0)) minK = i;
    if (maxK < 0 || hi > d[2 * maxK + 1] || (hi === d[2 * maxK + 1] && lo > d[2 * maxK] >>> 0)) maxK = i;
  }
  EXTREMES[0] = minK;
  EXTREMES[1] = maxK;
  return sameHi;
}

/** Dictionary codes (map: value → code, in order of first appearance); false once a dictionary would not pay. */
function int64Codes(d: Int32Array, idx: Int32Array, nv: number, sameHi: boolean, codes: Int32Array, map: Map<number, number>): boolean {
  let prev = NaN;
  let prevCode = -1;
  for (let k = 0; k < nv; k++) {
    const i = idx[k];
    const v = sameHi ? d[2 * i] : d[2 * i + 1] * 4294967296 + (d[2 * i] >>> 0);
    if (v === prev) {
      codes[k] = prevCode;
      continue;
    }
    let c = map.get(v);
    if (c === undefined) {
      if (map.size >= MAX_DICT || map.size > nv / 2 + 64 || (k === 4096 && map.size > 3000)) return false;
      map.set(v, (c = map.size));
    }
    codes[k] = prevCode = c;
    prev = v;
  }
  return true;
}

function int64Dictionary(ds: ByteSink, map: Map<number, number>, sameHi: boolean, hi0: number): Uint8Array {
  for (const v of map.keys()) {
    if (sameHi) {
      ds.u32le(v);
      ds.u32le(hi0);
    } else {
      const hi = Math.floor(v / 4294967296);
      ds.u32le(v - hi * 4294967296);
      ds.u32le(hi);
    }
  }
  return ds.result();
}

function int64Plain(body: ByteSink, d: Int32Array, idx: Int32Array, nv: number): void {
  for (let k = 0; k < nv; k++) {
    const i = idx[k];
    body.u32le(d[2 * i]);
    body.u32le(d[2 * i + 1]);
  }
}

/** BOOLEAN values, bit-packed PLAIN. */
function boolValues(body: ByteSink, vb: BoolBuffer, idx: Int32Array, nv: number, flat: boolean, nulls: number, kind: Leaf["kind"]): void {
  const d = vb.data;
  let acc = 0;
  let bits = 0;
  for (let k = 0; k < nv; k++) {
    acc |= d[idx[k]] << bits++;
    if (bits === 8) {
      body.byte(acc);
      acc = 0;
      bits = 0;
    }
  }
  if (bits > 0) body.byte(acc);
  if (flat) vo.stats = numericStats(nulls, null, null);
}

/** Dictionary-coded strings: the chunk's own dictionary from the buffer's codes, or PLAIN UTF-8 bytes. */
function stringValues(body: ByteSink, vb: StringBuffer, idx: Int32Array, nv: number, flat: boolean, nulls: number, kind: Leaf["kind"]): void {
  let size = 0;
  let ok = !vb.raw;
  const all = vb.dict.length;
  const codes = work("codes", nv);
  const l2g = work("l2g", all);
  if (ok && nv + nulls === vb.length && !vb.truncated && all <= MAX_DICT && all <= nv / 2 + 64 && flat) {
    // The chunk is the whole batch (one row group): every entry of the buffer's dictionary occurs in
    // it, so that dictionary, in its own order, is the chunk's, and the codes are the buffer's.
    fillRange(l2g, 0, all);
    gather(codes, vb.codes, idx, nv);
    size = all;
  } else if (ok) {
    // The chunk's own dictionary (values present in these rows, in order of first appearance),
    // from the buffer's codes through a global → local table that is all zero between chunks.
    size = localCodes(vb.codes, idx, nv, work("g2l", all), l2g, codes);
    ok = size >= 0;
    if (!ok) size = -size - 1;
    clearG2l(scratch.g2l, l2g, size);
  }
  if (ok && size > 0) {
    vo.dict = stringDictionary(sinks.dict.reset(), vb, l2g, size);
    vo.dictCount = size;
    vo.encoding = Enc.RLE_DICTIONARY;
    const w = Math.max(1, bitWidth(size - 1));
    body.byte(w);
    writeHybrid(body, codes, nv, w);
    if (flat) vo.stats = stringStats(nulls, dictOrdered, dictMin, dictMax);
  } else {
    // PLAIN: each value's UTF-8 bytes, already encoded once at append time.
    if (vb.raw) rawPlain(body, vb.bytes, vb.ends, idx, nv);
    else dictPlain(body, vb.bytes, vb.ends, vb.codes, idx, nv);
    if (flat) vo.stats = numericStats(nulls, null, null);
  }
}

function gather(out: Int32Array, src: Int32Array, idx: Int32Array, nv: number): void {
  for (let k = 0; k < nv; k++) out[k] = src[idx[k]];
}

/**
 * Local codes of global codes gc[idx[k]] (g2l: global → local + 1, l2g: local → global); returns the
 * dictionary size, or -(size + 1) once a dictionary would not pay (near-unique columns give up early).
 */
function localCodes(gc: Int32Array, idx: Int32Array, nv: number, g2l: Int32Array, l2g: Int32Array, codes: Int32Array): number {
  let size = 0;
  let prevG = -1;
  let prevL = -1;
  for (let k = 0; k < nv; k++) {
    const g = gc[idx[k]];
    if (g === prevG) {
      codes[k] = prevL; // clustered rows repeat their neighbour's value
      continue;
    }
    let l = g2l[g] - 1;
    if (l < 0) {
      if (size >= MAX_DICT || size > nv / 2 + 64 || (k === 4096 && size > 3000)) return -size - 1;
      l = size++;
      g2l[g] = l + 1;
      l2g[l] = g;
    }
    codes[k] = l;
    prevG = g;
    prevL = l;
  }
  return size;
}

function clearG2l(g2l: Int32Array, l2g: Int32Array, size: number): void {
  for (let j = 0; j < size; j++) g2l[l2g[j]] = 0;
}

/** Min, max and whether UTF-8 order is JS order, of the last stringDictionary call's entries. */
let dictMin: string | null = null;
let dictMax: string | null = null;
let dictOrdered = true;
const SURROGATE = /[\ud800-\udfff]/;

/** The PLAIN dictionary page of entries l2g[0..size) of vb's dictionary. */
function stringDictionary(ds: ByteSink, vb: StringBuffer, l2g: Int32Array, size: number): Uint8Array {
  const src = vb.bytes;
  const ends = vb.ends;
  const dict = vb.dict;
  let min: string | null = null;
  let max: string | null = null;
  let ordered = true;
  for (let j = 0; j < size; j++) {
    const g = l2g[j];
    putBytes(ds, src, g === 0 ? 0 : ends[g - 1], ends[g]);
    const v = dict[g];
    if (min === null || v < min) min = v;
    if (max === null || v > max) max = v;
    if (ordered && SURROGATE.test(v)) ordered = false;
  }
  dictMin = min;
  dictMax = max;
  dictOrdered = ordered;
  return ds.result();
}

function rawPlain(body: ByteSink, src: Uint8Array, ends: Int32Array, idx: Int32Array, nv: number): void {
  for (let k = 0; k < nv; k++) {
    const i = idx[k];
    putBytes(body, src, i === 0 ? 0 : ends[i - 1], ends[i]);
  }
}

function dictPlain(body: ByteSink, src: Uint8Array, ends: Int32Array, codes: Int32Array, idx: Int32Array, nv: number): void {
  for (let k = 0; k < nv; k++) {
    const g = codes[idx[k]];
    putBytes(body, src, g === 0 ? 0 : ends[g - 1], ends[g]);
  }
}

/** Strings and blobs held as references (struct fields, BLOB): dictionary or PLAIN. */
function refValues(body: ByteSink, vb: RefBuffer<string | Uint8Array>, idx: Int32Array, nv: number, flat: boolean, nulls: number, kind: Leaf["kind"]): void {
  const d = vb.data;
  if (kind === "BLOB") {
    for (let k = 0; k < nv; k++) {
      const b = d[idx[k]] as Uint8Array;
      body.u32le(b.length);
      body.bytes(b);
    }
    if (flat) vo.stats = numericStats(nulls, null, null);
  } else {
    const codes = work("codes", nv);
    const map = new Map<string, number>();
    let ok = true;
    let prev: string | null = null;
    let prevCode = -1;
    for (let k = 0; k < nv; k++) {
      const v = d[idx[k]] as string;
      if (v === prev) {
        codes[k] = prevCode; // clustered rows repeat their neighbour's value
        continue;
      }
      let c = map.get(v);
      if (c === undefined) {
        // Give up early on near-unique columns (flow ids): the Map would only be thrown away.
        if (map.size >= MAX_DICT || map.size > nv / 2 + 64 || (k === 4096 && map.size > 3000)) {
          ok = false;
          break;
        }
        map.set(v, (c = map.size));
      }
      codes[k] = c;
      prev = v;
      prevCode = c;
    }
    if (ok && map.size > 0) {
      const ds = sinks.dict.reset();
      let min: string | null = null;
      let max: string | null = null;
      let ordered = true;
      for (const v of map.keys()) {
        writeString(ds, v);
        if (min === null || v < min) min = v;
        if (max === null || v > max) max = v;
        if (ordered && /[\ud800-\udfff]/.test(v)) ordered = false;
      }
      vo.dict = ds.result();
      vo.dictCount = map.size;
      vo.encoding = Enc.RLE_DICTIONARY;
      const w = Math.max(1, bitWidth(map.size - 1));
      body.byte(w);
      writeHybrid(body, codes, nv, w);
      if (flat) vo.stats = stringStats(nulls, ordered, min, max);
    } else {
      for (let k = 0; k < nv; k++) writeString(body, d[idx[k]] as string);
      if (flat) vo.stats = numericStats(nulls, null, null);
    }
  }
}

/** Statistics of a string chunk: min/max as UTF-8 only when the strings compare in byte order and are short. */
function stringStats(nulls: number, ordered: boolean, min: string | null, max: string | null): ThriftField[] {
  const mn = ordered && min !== null ? UTF8.encode(min) : null;
  const mx = ordered && max !== null ? UTF8.encode(max) : null;
  return numericStats(nulls, mn && mn.length <= 64 ? mn : null, mx && mx.length <= 64 ? mx : null);
}

function finishChunk(raw: Uint8Array, dict: Uint8Array | null, dictCount: number, encoding: Enc, stats: ThriftField[] | null, numLevels: number, level: number, alt: Uint8Array | null = null): Chunk {
  const pages: Uint8Array[] = [];
  let uncompressed = 0;
  let compressed = 0;
  const done = new Map<Uint8Array, Uint8Array>(); // pages compressed while choosing
  if (alt !== null && dict !== null) {
    const zd = compress(dict, level);
    const zb = compress(raw, level);
    const za = compress(alt, level);
    if (za.length < zd.length + zb.length) {
      dict = null;
      raw = alt;
      encoding = Enc.PLAIN;
      done.set(raw, za);
    } else {
      done.set(dict, zd);
      done.set(raw, zb);
    }
  }
  const page = (header: (u: number, c: number) => ThriftField[], raw: Uint8Array) => {
    const z = done.get(raw) ?? compress(raw, level);
    const h = encodeStruct(header(raw.length, z.length));
    pages.push(h, z);
    uncompressed += h.length + raw.length;
    compressed += h.length + z.length;
  };
  if (dict !== null)
    page((u, c) => [[1, "i32", 2], [2, "i32", u], [3, "i32", c], [7, "struct", [[1, "i32", dictCount], [2, "i32", Enc.PLAIN]]]], dict);
  page((u, c) => [[1, "i32", 0], [2, "i32", u], [3, "i32", c], [5, "struct", [[1, "i32", numLevels], [2, "i32", encoding], [3, "i32", Enc.RLE], [4, "i32", Enc.RLE]]]], raw);
  // Header and body are separate arrays; pair them so callers see one buffer per page.
  const joined: Uint8Array[] = [];
  for (let i = 0; i < pages.length; i += 2) {
    const b = new Uint8Array(pages[i].length + pages[i + 1].length);
    b.set(pages[i]);
    b.set(pages[i + 1], pages[i].length);
    joined.push(b);
  }
  const encodings = dict !== null ? [Enc.RLE, Enc.PLAIN, Enc.RLE_DICTIONARY] : [Enc.RLE, encoding];
  return { pages: joined, hasDict: dict !== null, numValues: numLevels, uncompressed, compressed, stats, encodings };
}

/** A BYTE_ARRAY value: u32 length, then src[a..b). */
function putBytes(s: ByteSink, src: Uint8Array, a: number, b: number): void {
  const n = b - a;
  s.ensure(4 + n);
  const buf = s.buf;
  let p = s.len;
  buf[p] = n & 0xff;
  buf[p + 1] = (n >>> 8) & 0xff;
  buf[p + 2] = (n >>> 16) & 0xff;
  buf[p + 3] = (n >>> 24) & 0xff;
  p += 4;
  if (n > 32) buf.set(src.subarray(a, b), p);
  else for (let j = a; j < b; j++) buf[p++] = src[j];
  s.len = s.len + 4 + n;
}

function writeString(s: ByteSink, v: string): void {
  const len = v.length;
  s.ensure(4 + len * 3);
  const buf = s.buf;
  let p = s.len + 4;
  let k = 0;
  // ASCII in JS (a native call per short string costs more than the copy); anything else via Buffer.
  for (; k < len; k++) {
    const ch = v.charCodeAt(k);
    if (ch >= 0x80) break;
    buf[p++] = ch;
  }
  if (k < len) {
    if (scratchBuf.b.length < len * 3) scratchBuf.b = Buffer.alloc(len * 3 + 1024);
    const n = scratchBuf.b.write(v, 0, "utf8");
    p = s.len + 4;
    buf.set(scratchBuf.b.subarray(0, n), p);
    p += n;
  }
  const n = p - s.len - 4;
  buf[s.len] = n & 0xff;
  buf[s.len + 1] = (n >>> 8) & 0xff;
  buf[s.len + 2] = (n >>> 16) & 0xff;
  buf[s.len + 3] = (n >>> 24) & 0xff;
  s.len = p;
}

function lt64(d: Int32Array, a: number, b: number): boolean {
  const ha = d[2 * a + 1];
  const hb = d[2 * b + 1];
  return ha < hb || (ha === hb && d[2 * a] >>> 0 < d[2 * b] >>> 0);
}
function int32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}
function int64le(d: Int32Array, i: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, d[2 * i], true);
  dv.setInt32(4, d[2 * i + 1], true);
  return b;
}
function numericStats(nulls: number, min: Uint8Array | null, max: Uint8Array | null): ThriftField[] {
  const s: ThriftField[] = [[3, "i64", nulls]];
  if (max !== null) s.push([5, "binary", max]);
  if (min !== null) s.push([6, "binary", min]);
  return s;
}

/** A zigzag varint of an exact integer (a module function: a closure per call was a new call target each time). */
function zigDelta(out: ByteSink, v: number): void {
  out.varbig(v >= 0 ? BigInt(v) * 2n : BigInt(-v) * 2n - 1n);
}

/**
 * DELTA_BINARY_PACKED of exact 64-bit values (|v| < 2^52, as lo/hi int32 pairs): blocks of 128 values in
 * 4 miniblocks of 32, each bit-packed (LSB first) at the width of its largest (delta - block min delta).
 * The work is in small functions called per block and per miniblock: this one runs once per column
 * chunk, and as one big loop it ran in the interpreter until on-stack replacement, was recompiled for
 * each file (20-40 ms of compiling each time) and took 14-54 ms per 100k timestamps; per block, the
 * functions are optimized within the first file and stay so.
 */
function writeDeltaBinaryPacked(out: ByteSink, d: Int32Array, idx: Int32Array, nv: number): void {
  out.varint(128);
  out.varint(4);
  out.varint(nv);
  let prev = d[2 * idx[0] + 1] * 4294967296 + (d[2 * idx[0]] >>> 0);
  zigDelta(out, prev);
  for (let k = 1; k < nv; k += 128) prev = deltaBlock(out, d, idx, k, Math.min(128, nv - k), prev);
}

const DELTAS = new Float64Array(128);
const WIDTHS = new Int32Array(4);

/** One block of m (<= 128) values starting at idx[k], after the value prev; returns the block's last value. */
function deltaBlock(out: ByteSink, d: Int32Array, idx: Int32Array, k: number, m: number, prev: number): number {
  const deltas = DELTAS;
  let min = Infinity;
  for (let j = 0; j < m; j++) {
    const i = idx[k + j];
    const v = d[2 * i + 1] * 4294967296 + (d[2 * i] >>> 0);
    const dv = v - prev;
    deltas[j] = dv;
    prev = v;
    if (dv < min) min = dv;
  }
  zigDelta(out, min);
  const widths = WIDTHS;
  for (let mb = 0; mb < 4; mb++) {
    let max = 0;
    const end = Math.min(m, mb * 32 + 32);
    for (let j = mb * 32; j < end; j++) if (deltas[j] - min > max) max = deltas[j] - min;
    widths[mb] = max < 4294967296 ? 32 - Math.clz32(max) : 32 + (32 - Math.clz32(Math.floor(max / 4294967296)));
  }
  out.ensure(4 + 4 * 32 * 8);
  const buf = out.buf;
  let p = out.len;
  for (let mb = 0; mb < 4; mb++) buf[p++] = widths[mb];
  for (let mb = 0; mb < 4 && mb * 32 < m; mb++) {
    const w = widths[mb];
    p = w <= 24 ? packNarrow(buf, p, mb * 32, m, min, w) : w <= 32 ? packMid(buf, p, mb * 32, m, min, w) : packWide(buf, p, mb * 32, m, min, w);
  }
  out.len = p;
  return prev;
}

/** Miniblock deltas[j0..j0+32) - min (0 past m) at w <= 24 bits: one 32-bit accumulator. */
function packNarrow(buf: Uint8Array, p: number, j0: number, m: number, min: number, w: number): number {
  const deltas = DELTAS;
  let acc = 0;
  let bits = 0;
  for (let j = j0; j < j0 + 32; j++) {
    const x = j < m ? deltas[j] - min : 0;
    acc |= x << bits;
    bits += w;
    while (bits >= 8) {
      buf[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  return p; // 32 values × w bits is whole bytes
}

/**
 * w in 25..32 (clustered times jump back and forth within the batch's span): the low 16 bits, then the
 * remaining w - 16, each through the accumulator.
 */
function packMid(buf: Uint8Array, p: number, j0: number, m: number, min: number, w: number): number {
  const deltas = DELTAS;
  const hw = w - 16;
  let acc = 0;
  let bits = 0;
  for (let j = j0; j < j0 + 32; j++) {
    const x = j < m ? (deltas[j] - min) >>> 0 : 0;
    acc |= (x & 0xffff) << bits;
    buf[p++] = acc & 0xff;
    buf[p++] = (acc >>> 8) & 0xff;
    acc >>>= 16;
    acc |= (x >>> 16) << bits;
    bits += hw;
    while (bits >= 8) {
      buf[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  return p;
}

/** Wide deltas (w > 32): the value's 16-bit pieces, low to high, through the same 32-bit accumulator. */
function packWide(buf: Uint8Array, p: number, j0: number, m: number, min: number, w: number): number {
  const deltas = DELTAS;
  let acc = 0;
  let bits = 0;
  for (let j = j0; j < j0 + 32; j++) {
    const x = j < m ? deltas[j] - min : 0;
    const lo = x % 4294967296;
    const hi = (x - lo) / 4294967296;
    let left = w;
    for (let q = 0; q < 4 && left > 0; q++) {
      const piece = q === 0 ? lo & 0xffff : q === 1 ? lo >>> 16 : q === 2 ? hi & 0xffff : hi >>> 16;
      const n = left < 16 ? left : 16;
      acc |= (piece & ((1 << n) - 1)) << bits;
      bits += n;
      left -= n;
      while (bits >= 8) {
        buf[p++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
  }
  return p;
}
