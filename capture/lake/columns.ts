// Columnar buffers for one partition of one table: rows are split into typed arrays as they are
// appended (cheap, compact: ints stay ints, strings become dictionary codes, lists become indexes of
// interned lists), so a flush can hand whole column slices to the encoder without touching rows again.
// Every buffer keeps a validity bitmap with the same bit layout DuckDB uses (bit i of byte i>>3 = row i
// is not null), so a chunk's validity is a plain byte slice.

import type { Column, ColumnType } from "./schema.js";

export class LakeValueError extends Error {}

const INITIAL = 1024;

function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, need: number, exact = false): T {
  if (need <= a.length) return a;
  let n = exact ? need : a.length * 2;
  while (n < need) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/**
 * Validity bitmap shared by every column kind. Bits start out set (valid), so appending a value only
 * has to clear a bit for a null: most values are not null.
 */
class Validity {
  bits = new Uint8Array(INITIAL / 8).fill(0xff);
  nulls = 0;
  /** Room for the bits of rows [0, 8 * nbytes), new ones set. */
  reserve(nbytes: number, exact = false): void {
    const old = this.bits;
    if (nbytes <= old.length) return;
    let n = exact ? nbytes : old.length * 2;
    while (n < nbytes) n *= 2;
    const b = new Uint8Array(n);
    b.set(old);
    b.fill(0xff, old.length);
    this.bits = b;
  }
  set(i: number, valid: boolean): void {
    if ((i >> 3) >= this.bits.length) this.reserve((i >> 3) + 1);
    if (!valid) {
      this.bits[i >> 3] &= ~(1 << (i & 7));
      this.nulls++;
    }
  }
  /** Marks rows [a, b) valid (none of them null). */
  setValidRange(a: number, b: number): void {
    if (b > a && ((b - 1) >> 3) >= this.bits.length) this.reserve(((b - 1) >> 3) + 1);
  }
  valid(i: number): boolean {
    return (this.bits[i >> 3] & (1 << (i & 7))) !== 0;
  }
  /** Forgets rows [n, from): their bits are set again for the rows appended next. */
  truncate(n: number, from: number): void {
    for (let i = n; i < from; i++) {
      if (!this.valid(i)) {
        this.nulls--;
        this.bits[i >> 3] |= 1 << (i & 7);
      }
    }
  }
}

export abstract class ColumnBuffer {
  length = 0;
  readonly validity = new Validity();
  constructor(readonly column: Column) {}
  /** Appends one value (null/undefined = SQL NULL); throws LakeValueError for a value of the wrong kind. */
  abstract push(v: unknown): void;
  /** Drops rows past n (used to undo a half-appended row). */
  truncate(n: number): void {
    this.validity.truncate(n, this.length);
    this.length = n;
  }
  /** Pre-sizes the arrays for n rows (and childElems list elements), so filling them never copies. */
  reserve(n: number, _childElems = 0): void {
    this.validity.reserve((n >> 3) + 1, true);
  }
  protected bad(v: unknown, what: string): never {
    const shown = typeof v === "string" ? JSON.stringify(v.slice(0, 40)) : typeof v === "bigint" ? `${v}n` : String(v);
    throw new LakeValueError(`column ${this.column.name} (${this.column.type}): ${what}, got ${typeof v} ${shown}`);
  }
}

const TWO32 = 4294967296;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const scratch64 = new BigInt64Array(1);
const scratch32 = new Int32Array(scratch64.buffer);

/** 64-bit integers (BIGINT, UBIGINT, TIMESTAMP µs) kept as little-endian lo/hi int32 pairs: no BigInt allocation per row. */
export class Int64Buffer extends ColumnBuffer {
  data = new Int32Array(INITIAL * 2);
  constructor(column: Column, private readonly kind: "signed" | "unsigned" | "timestamp") {
    super(column);
  }
  push(v: unknown): void {
    const i = this.length;
    if (2 * i + 2 > this.data.length) this.growRows(i + 1);
    if (typeof v === "bigint" && (this.kind === "unsigned" ? v >= 0n && v <= U64_MAX : v >= I64_MIN && v <= I64_MAX)) {
      scratch64[0] = v; // wraps unsigned values above 2^63 to the same bits
      this.data[2 * i] = scratch32[0];
      this.data[2 * i + 1] = scratch32[1];
      this.length = i + 1;
      return;
    }
    this.pushOther(v, i);
  }
  /** Rows [0, n) fit: data and validity bits grown together, so a valid value never touches the bitmap. */
  private growRows(n: number): void {
    this.data = grow(this.data, 2 * n);
    this.validity.reserve((this.data.length >> 4) + 1);
  }
  private pushOther(v: unknown, i: number): void {
    if (v === null || v === undefined) {
      this.data[2 * i] = 0;
      this.data[2 * i + 1] = 0;
      this.validity.set(i, false);
    } else if (typeof v === "bigint") {
      this.bad(v, "out of range"); // in range was taken by push()
    } else {
      let x: number;
      // A plain number is ambiguous for a time (ms? µs?): timestamps take a Date or bigint µs only.
      if (typeof v === "number" && this.kind !== "timestamp") x = v;
      else if (v instanceof Date && this.kind === "timestamp") x = v.getTime() * 1000;
      else this.bad(v, this.kind === "timestamp" ? "expected a Date or bigint µs" : "expected a number or bigint");
      if (!Number.isSafeInteger(x)) this.bad(v, "expected an integer");
      if (this.kind === "unsigned" && x < 0) this.bad(v, "out of range");
      const hi = Math.floor(x / TWO32);
      this.data[2 * i] = x - hi * TWO32; // stored mod 2^32 by the Int32Array
      this.data[2 * i + 1] = hi;
    }
    this.length = i + 1;
  }
  override reserve(n: number): void {
    super.reserve(n);
    this.data = grow(this.data, 2 * n, true);
  }
}

export class Int32Buffer extends ColumnBuffer {
  data = new Int32Array(INITIAL);
  override reserve(n: number): void {
    super.reserve(n);
    this.data = grow(this.data, n, true);
  }
  push(v: unknown): void {
    const i = this.length;
    if (i >= this.data.length) this.growRows(i + 1);
    if (typeof v === "number" && (v | 0) === v) this.data[i] = v;
    else if (v === null || v === undefined) {
      this.data[i] = 0;
      this.validity.set(i, false);
    } else {
      const x = typeof v === "bigint" ? Number(v) : v;
      if (typeof x !== "number" || !Number.isInteger(x) || x < -2147483648 || x > 2147483647) this.bad(v, "expected a 32-bit integer");
      this.data[i] = x;
    }
    this.length = i + 1;
  }
  /** Rows [0, n) fit: data and validity bits grown together, so a valid value never touches the bitmap. */
  growRows(n: number): void {
    this.data = grow(this.data, n);
    this.validity.reserve((this.data.length >> 3) + 1);
  }
}

export class BoolBuffer extends ColumnBuffer {
  data = new Uint8Array(INITIAL);
  override reserve(n: number): void {
    super.reserve(n);
    this.data = grow(this.data, n, true);
  }
  push(v: unknown): void {
    const i = this.length;
    if (i >= this.data.length) {
      this.data = grow(this.data, i + 1);
      this.validity.reserve((this.data.length >> 3) + 1); // grown together: a valid value never touches the bitmap
    }
    if (v === true) this.data[i] = 1;
    else if (v === false) this.data[i] = 0;
    else if (v === null || v === undefined) {
      this.data[i] = 0;
      this.validity.set(i, false);
    } else this.bad(v, "expected a boolean");
    this.length = i + 1;
  }
}

/** VARCHAR and BLOB: references to the caller's strings / byte arrays (no copy). */
export class RefBuffer<T extends string | Uint8Array> extends ColumnBuffer {
  data: (T | null)[] = [];
  constructor(column: Column, readonly blob: boolean) {
    super(column);
  }
  push(v: unknown): void {
    const i = this.length;
    if (v === null || v === undefined) {
      this.data.push(null);
      this.validity.set(i, false);
    } else {
      if (this.blob ? !(v instanceof Uint8Array) : typeof v !== "string") this.bad(v, this.blob ? "expected a Uint8Array" : "expected a string");
      this.data.push(v as T);
      this.validity.set(i, true);
    }
    this.length = i + 1;
  }
  override truncate(n: number): void {
    super.truncate(n);
    this.data.length = n;
  }
}

const utf8Decoder = new TextDecoder();

/**
 * Writes v's UTF-8 bytes at buf[p..] (room for 3 bytes per UTF-16 unit must exist); returns the end.
 * ASCII in JS: a native call per short string costs more than the copy.
 */
export function putUtf8(buf: Uint8Array, p: number, v: string): number {
  const len = v.length;
  for (let k = 0; k < len; k++) {
    const ch = v.charCodeAt(k);
    if (ch >= 0x80) return p - k + utf8Encoder.encodeInto(v, buf.subarray(p - k)).written!;
    buf[p++] = ch;
  }
  return p;
}
const utf8Encoder = new TextEncoder();

/**
 * VARCHAR: dictionary-encoded at append time. Each row keeps a code into `dict` (its distinct strings,
 * kept once, also as UTF-8 in `bytes`), so a row's string dies young instead of being retained (no old-
 * space pointers per row for the GC to trace), a row costs 4 bytes, and clustering and the encoder work
 * on small integer arrays. A near-unique column (flow ids) switches to "raw": every row's UTF-8 bytes
 * in one growing array, as the encoder writes them (PLAIN).
 */
export class StringBuffer extends ColumnBuffer {
  codes = new Int32Array(INITIAL);
  dict: string[] = [];
  private index = new Map<string, number>();
  /** UTF-8 arena: dict entry k (or, raw, row k) is bytes[ends[k-1] (0 for k=0) .. ends[k]). */
  bytes = new Uint8Array(INITIAL * 8);
  ends = new Int32Array(INITIAL);
  used = 0;
  raw = false;
  private last: string | null = null;
  private lastCode = -1;
  constructor(column: Column, private readonly mayGoRaw = true) {
    super(column);
  }
  override reserve(n: number): void {
    super.reserve(n);
    if (this.raw) this.ends = grow(this.ends, n, true);
    else this.codes = grow(this.codes, n, true);
  }
  start(k: number): number {
    return k === 0 ? 0 : this.ends[k - 1];
  }
  push(v: unknown): void {
    const i = this.length;
    if (typeof v === "string" && !this.raw) {
      if (i >= this.codes.length) this.growCodes(i + 1);
      const c = this.codeOf(v);
      if (c >= 0) this.codes[i] = c;
      else this.putRaw(i, v); // the column just went raw (rows before i were converted)
    } else if (v === null || v === undefined) {
      if (this.raw) this.putRaw(i, "");
      else {
        if (i >= this.codes.length) this.growCodes(i + 1);
        this.codes[i] = 0;
      }
      this.validity.set(i, false);
    } else {
      if (typeof v !== "string") this.bad(v, "expected a string");
      this.putRaw(i, v);
    }
    this.length = i + 1;
  }
  /** Codes and validity bits grown together, so a valid value never touches the bitmap (raw rows: putRaw). */
  private growCodes(n: number): void {
    this.codes = grow(this.codes, n);
    this.validity.reserve((this.codes.length >> 3) + 1);
  }
  /** The dictionary code of v, added if new (dictionary mode only). */
  codeOf(v: string): number {
    // Low-cardinality columns often repeat the previous row's value; elsewhere the check is a string
    // comparison that fails (a call, characters compared), so it is only made while it pays.
    if (this.lastOn) {
      if (v === this.last) {
        this.lastHits++;
        return this.lastCode;
      }
      if (++this.lastMisses > 1024) this.lastVerdict();
    } else if (++this.lastMisses > 65536) this.lastVerdict(); // look again now and then
    // The Map straight away: a string keeps its hash once computed, and capture's producers hand over
    // the same string object for a repeated value (parse/reader.ts asciiCached, ja4.ts, formatIpv4), so
    // a lookup is a load of that hash, a probe and a pointer compare. (A direct-mapped cache in front,
    // slot from eight sampled characters, cost more: 76-115 against 40-59 ns per push over 16 columns
    // interleaved, shared strings; 151-171 against 95-119 with a new string per row.)
    let c = this.index.get(v);
    if (c === undefined) {
      c = this.dict.length;
      this.dict.push(v);
      this.index.set(v, c);
      this.putBytes(c, v);
      // Near-unique: a dictionary would only cost memory and be given up by the encoder anyway.
      if (this.mayGoRaw && c >= 3000 && c > (this.length + 1) / 2 + 64) {
        this.toRaw();
        return -1;
      }
    }
    if (this.lastOn) {
      // The dictionary's own string, never the row's: a row's string (new per handshake where a
      // producer makes one) then dies young instead of being kept alive here and promoted.
      this.last = this.dict[c];
      this.lastCode = c;
    }
    return c;
  }
  private lastOn = true;
  private lastHits = 0;
  private lastMisses = 0;
  /** Keep comparing with the previous value while at least a quarter of the checks hit. */
  private lastVerdict(): void {
    this.lastOn = 3 * this.lastHits >= this.lastMisses;
    this.lastHits = 0;
    this.lastMisses = 0;
  }
  /** Appends a row holding dictionary code c (list children: elements are interned by code). */
  pushCode(c: number): void {
    const i = this.length;
    if (i >= this.codes.length) this.codes = grow(this.codes, i + 1);
    this.codes[i] = c;
    this.length = i + 1;
  }
  private putBytes(k: number, v: string): void {
    if (k >= this.ends.length) this.ends = grow(this.ends, k + 1);
    const need = this.used + 3 * v.length;
    if (need > this.bytes.length) this.bytes = grow(this.bytes, need);
    this.used = putUtf8(this.bytes, this.used, v);
    this.ends[k] = this.used;
  }
  private putRaw(i: number, v: string): void {
    this.putBytes(i, v);
    if ((i >> 3) >= this.validity.bits.length) this.validity.reserve((i >> 3) + 1);
  }
  /** Dictionary → raw: rows so far get their bytes; the dictionary is freed. */
  private toRaw(): void {
    const n = this.length;
    const srcBytes = this.bytes;
    const srcEnds = this.ends;
    const codes = this.codes;
    this.bytes = new Uint8Array(Math.max(INITIAL * 8, this.used * 2));
    this.ends = new Int32Array(Math.max(INITIAL, this.codes.length));
    this.used = 0;
    for (let r = 0; r < n; r++) {
      if (this.validity.valid(r)) {
        const c = codes[r];
        const a = c === 0 ? 0 : srcEnds[c - 1];
        const b = srcEnds[c];
        if (this.used + b - a > this.bytes.length) this.bytes = grow(this.bytes, this.used + b - a);
        this.bytes.set(srcBytes.subarray(a, b), this.used);
        this.used += b - a;
      }
      this.ends[r] = this.used;
    }
    this.raw = true;
    this.dict = [];
    this.index = new Map();
    this.codes = new Int32Array(0);
    this.last = null;
  }
  /** Makes this (empty) buffer rows perm[0..n) of src, sharing src's dictionary (validity is set by the caller). */
  copyRowsFrom(src: StringBuffer, perm: Int32Array): void {
    const n = perm.length;
    this.raw = src.raw;
    if (!src.raw) {
      this.dict = src.dict;
      this.bytes = src.bytes;
      this.ends = src.ends;
      this.used = src.used;
      const codes = new Int32Array(n);
      for (let r = 0; r < n; r++) codes[r] = src.codes[perm[r]];
      this.codes = codes;
      return;
    }
    let total = 0;
    for (let r = 0; r < n; r++) total += src.ends[perm[r]] - src.start(perm[r]);
    const bytes = new Uint8Array(total);
    const ends = new Int32Array(n);
    let p = 0;
    for (let r = 0; r < n; r++) {
      const a = src.start(perm[r]);
      const b = src.ends[perm[r]];
      bytes.set(src.bytes.subarray(a, b), p);
      p += b - a;
      ends[r] = p;
    }
    this.bytes = bytes;
    this.ends = ends;
    this.used = p;
  }
  /** The string of row i (null for a null row). */
  get(i: number): string | null {
    if (!this.validity.valid(i)) return null;
    if (!this.raw) return this.dict[this.codes[i]];
    return utf8Decoder.decode(this.bytes.subarray(this.start(i), this.ends[i]));
  }
  /** A row was undone: its dictionary entry may occur in no row (the encoder then builds each chunk's own). */
  truncated = false;
  override truncate(n: number): void {
    if (n < this.length) this.truncated = true;
    super.truncate(n);
    if (this.raw) this.used = n === 0 ? 0 : this.ends[n - 1];
  }
}

/** h mixed with a string's length and its middle and last characters (anything else counts as ""). */
function mixString(h: number, e: unknown): number {
  const s = typeof e === "string" ? e : "";
  const len = s.length;
  h = Math.imul(h ^ len, 0x9e3779b1) ^ (h >>> 15);
  return len > 0 ? Math.imul(h ^ (s.charCodeAt(len - 1) | (s.charCodeAt(len >> 1) << 16)), 0x9e3779b1) ^ (h >>> 15) : h;
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return h ^ (h >>> 13);
}

/**
 * LIST columns, interned: each row holds the index (`ids`) of its list among the partition's distinct
 * lists, whose elements sit once in the child buffer (list k = child[offsets[k] .. offsets[k+1])).
 * Offered suites/groups/signature lists repeat per client stack, so 100k rows hold a few hundred
 * distinct lists: 4 bytes a row instead of ~100, and the encoder reads elements from a table that stays
 * in cache. Struct lists are not interned (each row appends its own list).
 */
export class ListBuffer extends ColumnBuffer {
  ids = new Int32Array(INITIAL);
  offsets = new Int32Array(INITIAL + 1);
  lists = 0;
  /** Open-addressing table of list index + 1 (0 = empty), by element hash; null: not interned. */
  private table: Int32Array | null;
  private hashes = new Int32Array(INITIAL);
  /** 0: INTEGER elements, 1: VARCHAR, 2: structs (an instanceof chain per row costs more than a field). */
  private readonly childKind: number;
  constructor(column: Column, readonly child: ColumnBuffer) {
    super(column);
    this.table = child instanceof StructBuffer ? null : new Int32Array(1024);
    this.childKind = child instanceof Int32Buffer ? 0 : child instanceof StringBuffer ? 1 : 2;
  }
  override reserve(n: number, childElems = 0): void {
    super.reserve(n);
    this.ids = grow(this.ids, n, true);
    this.child.reserve(childElems);
  }
  push(v: unknown): void {
    const i = this.length;
    if (i >= this.ids.length) {
      this.ids = grow(this.ids, i + 1);
      this.validity.reserve((this.ids.length >> 3) + 1); // grown together: a valid value never touches the bitmap
    }
    if (v === null || v === undefined) {
      this.ids[i] = 0;
      this.validity.set(i, false);
    } else {
      const known = this.byRef.get(v);
      if (known !== undefined) this.ids[i] = known;
      else {
        if (!Array.isArray(v)) this.bad(v, "expected an array");
        this.ids[i] = this.intern(v);
      }
    }
    this.length = i + 1;
  }
  // Producers hand over one frozen array per distinct list (parse/reader.ts ListCache): such an array
  // is known by identity, one Map probe, before its elements are hashed and compared. Frozen only: an
  // array its owner may still change cannot stand for the list it held when appended. Bounded per
  // partition (a producer handing a new frozen array per row fills it and then only hashes).
  private byRef = new Map<unknown, number>();
  private intern(v: unknown[]): number {
    const kind = this.childKind;
    if (kind === 2) return this.appendList(v);
    const k = kind === 0 ? this.internInts(v, this.child as Int32Buffer) : this.internStrings(v, this.child as StringBuffer);
    if (this.byRef.size < 4096 && Object.isFrozen(v)) this.byRef.set(v, k);
    return k;
  }
  /** Frozen copy with rows in `perm` order, sharing the distinct lists (used to materialize a clustered batch). */
  permuted(perm: Int32Array): ListBuffer {
    const o = new ListBuffer(this.column, this.child);
    o.table = null;
    o.offsets = this.offsets;
    o.lists = this.lists;
    const ids = new Int32Array(perm.length);
    for (let r = 0; r < perm.length; r++) ids[r] = this.ids[perm[r]];
    o.ids = ids;
    return o;
  }
  // A list is looked up among the distinct ones by a hash of its length and a few elements (the
  // first and last four), then compared element by element with the caller's array itself: a list
  // met before costs a load and a compare per element, with no conversion or copy. Only a list not
  // found is checked element by element (an element of the wrong kind never compares equal) and
  // stored. Hashes are verified by the comparison, so a weak hash costs probes, never correctness.
  // Ints and strings have a function each on purpose: the innermost compare differs (d[a+j] against
  // dict[codes[a+j]]) and a shared one would make it a call per element on the hottest path.
  private internInts(v: unknown[], child: Int32Buffer): number {
    const n = v.length;
    let h = n | 0;
    if (n <= 8) for (let k = 0; k < n; k++) h = Math.imul(h ^ ((v[k] as number) | 0), 0x9e3779b1) ^ (h >>> 15);
    else {
      for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((v[k] as number) | 0), 0x9e3779b1) ^ (h >>> 15);
      for (let k = n - 4; k < n; k++) h = Math.imul(h ^ ((v[k] as number) | 0), 0x9e3779b1) ^ (h >>> 15);
    }
    h = mix(h);
    const table = this.table!;
    const mask = table.length - 1;
    const o = this.offsets;
    const d = child.data;
    let slot = h & mask;
    for (let t = table[slot]; t !== 0; t = table[(slot = (slot + 1) & mask)]) {
      const k = t - 1;
      if (this.hashes[k] !== h || o[k + 1] - o[k] !== n) continue;
      let j = 0;
      const a = o[k];
      while (j < n && d[a + j] === v[j]) j++;
      if (j === n) return k;
    }
    for (let k = 0; k < n; k++) {
      const e = v[k];
      if (typeof e !== "number" || (e | 0) !== e) {
        if (e === null || e === undefined) this.bad(e, `element ${k} is null (lists hold no nulls)`);
        this.bad(e, `element ${k}: expected a 32-bit integer`);
      }
    }
    const start = child.length;
    if (start + n > child.data.length) child.data = grow(child.data, start + n);
    const out = child.data;
    for (let k = 0; k < n; k++) out[start + k] = v[k] as number;
    child.length = start + n;
    child.validity.setValidRange(start, start + n);
    return this.addList(slot, h, start + n);
  }
  private internStrings(v: unknown[], child: StringBuffer): number {
    const n = v.length;
    let h = n | 0;
    if (n <= 8) for (let k = 0; k < n; k++) h = mixString(h, v[k]);
    else {
      for (let k = 0; k < 4; k++) h = mixString(h, v[k]);
      for (let k = n - 4; k < n; k++) h = mixString(h, v[k]);
    }
    h = mix(h);
    const table = this.table!;
    const mask = table.length - 1;
    const o = this.offsets;
    const codes = child.codes;
    const dict = child.dict;
    let slot = h & mask;
    for (let t = table[slot]; t !== 0; t = table[(slot = (slot + 1) & mask)]) {
      const k = t - 1;
      if (this.hashes[k] !== h || o[k + 1] - o[k] !== n) continue;
      let j = 0;
      const a = o[k];
      while (j < n && dict[codes[a + j]] === v[j]) j++;
      if (j === n) return k;
    }
    for (let k = 0; k < n; k++) {
      const e = v[k];
      if (typeof e !== "string") {
        if (e === null || e === undefined) this.bad(e, `element ${k} is null (lists hold no nulls)`);
        this.bad(e, `element ${k}: expected a string`);
      }
    }
    const start = child.length;
    for (let k = 0; k < n; k++) child.pushCode(child.codeOf(v[k] as string));
    child.validity.setValidRange(start, start + n);
    return this.addList(slot, h, start + n);
  }
  private appendList(v: unknown[]): number {
    const child = this.child;
    const start = child.length;
    try {
      for (let k = 0; k < v.length; k++) {
        const e = v[k];
        if (e === null || e === undefined) this.bad(e, `element ${k} is null (lists hold no nulls)`);
        child.push(e);
      }
    } catch (err) {
      child.truncate(start);
      throw err;
    }
    return this.addList(-1, 0, child.length);
  }
  private addList(slot: number, h: number, end: number): number {
    const k = this.lists++;
    if (k + 2 > this.offsets.length) this.offsets = grow(this.offsets, k + 2);
    this.offsets[k + 1] = end;
    if (slot >= 0) {
      if (k >= this.hashes.length) this.hashes = grow(this.hashes, k + 1);
      this.hashes[k] = h;
      this.table![slot] = k + 1;
      if (2 * this.lists > this.table!.length) this.rehash();
    }
    return k;
  }
  private rehash(): void {
    const table = new Int32Array(this.table!.length * 2);
    const mask = table.length - 1;
    for (let k = 0; k < this.lists; k++) {
      let slot = this.hashes[k] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = k + 1;
    }
    this.table = table;
  }
}

/** STRUCT(a VARCHAR, b VARCHAR, ...) elements, one RefBuffer per field. */
export class StructBuffer extends ColumnBuffer {
  constructor(column: Column, readonly fieldNames: string[], readonly fields: RefBuffer<string>[]) {
    super(column);
  }
  push(v: unknown): void {
    if (v === null || typeof v !== "object" || Array.isArray(v)) this.bad(v, "expected an object");
    const n = this.length;
    try {
      for (let k = 0; k < this.fields.length; k++) this.fields[k].push((v as Record<string, unknown>)[this.fieldNames[k]]);
    } catch (err) {
      for (const f of this.fields) f.truncate(n);
      throw err;
    }
    this.validity.set(n, true);
    this.length = n + 1;
  }
  override truncate(n: number): void {
    for (const f of this.fields) f.truncate(n);
    super.truncate(n);
  }
}

const STRUCT_LIST = /^STRUCT\((.*)\)\[\]$/;

export function structFields(type: ColumnType): string[] | null {
  const m = STRUCT_LIST.exec(type);
  if (!m) return null;
  return m[1].split(",").map((f) => {
    const [name, ftype] = f.trim().split(/\s+/);
    if (ftype !== "VARCHAR") throw new Error(`lake schema: struct field ${name} must be VARCHAR, got ${ftype}`);
    return name;
  });
}

export function newColumnBuffer(column: Column): ColumnBuffer {
  const t = column.type;
  switch (t) {
    case "TIMESTAMP":
      return new Int64Buffer(column, "timestamp");
    case "BIGINT":
      return new Int64Buffer(column, "signed");
    case "UBIGINT":
      return new Int64Buffer(column, "unsigned");
    case "INTEGER":
      return new Int32Buffer(column);
    case "BOOLEAN":
      return new BoolBuffer(column);
    case "VARCHAR":
      return new StringBuffer(column);
    case "BLOB":
      return new RefBuffer<Uint8Array>(column, true);
    case "INTEGER[]":
      return new ListBuffer(column, new Int32Buffer({ ...column, type: "INTEGER" }));
    case "VARCHAR[]":
      return new ListBuffer(column, new StringBuffer({ ...column, type: "VARCHAR" }, false));
    default: {
      const names = structFields(t);
      if (!names) throw new Error(`lake schema: column ${column.name} has an unsupported type ${t}`);
      const fields = names.map((n) => new RefBuffer<string>({ name: `${column.name}.${n}`, type: "VARCHAR", doc: "" }, false));
      return new ListBuffer(column, new StructBuffer(column, names, fields));
    }
  }
}

/** A copy of rows perm[0..n) of `buf`, in that order (used to cluster a batch for the DuckDB encoder). */
export function permuteBuffer(buf: ColumnBuffer, perm: Int32Array): ColumnBuffer {
  const n = perm.length;
  let out: ColumnBuffer;
  if (buf instanceof ListBuffer) out = buf.permuted(perm);
  else if (buf instanceof StructBuffer) {
    out = new StructBuffer(buf.column, buf.fieldNames, buf.fields.map((f) => permuteBuffer(f, perm) as RefBuffer<string>));
  } else {
    out = buf instanceof RefBuffer ? new RefBuffer(buf.column, buf.blob) : newColumnBuffer(buf.column);
    permuteFlat(buf, out, perm);
  }
  if (buf.validity.nulls === 0) setAllValid(out, n);
  else {
    const bits = new Uint8Array(Math.ceil(n / 64) * 8);
    const sb = buf.validity.bits;
    let nulls = 0;
    for (let r = 0; r < n; r++) {
      const p = perm[r];
      if (sb[p >> 3] & (1 << (p & 7))) bits[r >> 3] |= 1 << (r & 7);
      else nulls++;
    }
    out.validity.bits = bits;
    out.validity.nulls = nulls;
  }
  out.length = n;
  return out;
}

function setAllValid(buf: ColumnBuffer, n: number): void {
  buf.validity.bits = new Uint8Array(Math.ceil(n / 64) * 8).fill(0xff);
  buf.validity.nulls = 0;
}

function permuteFlat(buf: ColumnBuffer, out: ColumnBuffer, perm: Int32Array): void {
  const n = perm.length;
  if (buf instanceof Int64Buffer) {
    const d = new Int32Array(2 * n);
    const s = buf.data;
    for (let r = 0; r < n; r++) {
      const p = 2 * perm[r];
      d[2 * r] = s[p];
      d[2 * r + 1] = s[p + 1];
    }
    (out as Int64Buffer).data = d;
  } else if (buf instanceof Int32Buffer) {
    const d = new Int32Array(n);
    const s = buf.data;
    for (let r = 0; r < n; r++) d[r] = s[perm[r]];
    (out as Int32Buffer).data = d;
  } else if (buf instanceof BoolBuffer) {
    const d = new Uint8Array(n);
    const s = buf.data;
    for (let r = 0; r < n; r++) d[r] = s[perm[r]];
    (out as BoolBuffer).data = d;
  } else if (buf instanceof StringBuffer) (out as StringBuffer).copyRowsFrom(buf, perm);
  else if (buf instanceof RefBuffer) {
    const s = buf.data;
    const d: (string | Uint8Array | null)[] = [];
    for (let r = 0; r < n; r++) d.push(s[perm[r]]);
    (out as RefBuffer<string>).data = d as string[];
  }
}

/**
 * An appender for one table's column layout, generated once per table: each column gets its own call
 * site (monomorphic, inlined) and its own named property load from the row (a keyed load with a
 * varying key is the slowest thing V8 does here). Returns a factory taking a partition's buffers.
 */
export function compileAppender(columns: Column[], tsIndex: number): (bufs: ColumnBuffer[]) => (row: Record<string, unknown>, ts: unknown) => void {
  const decl = columns.map((_, i) => `b${i} = B[${i}]`).join(", ");
  const body = columns.map((c, i) => (i === tsIndex ? `b${i}.push(ts);` : `b${i}.push(row[${JSON.stringify(c.name)}]);`)).join("\n");
  return new Function("B", `const ${decl};\nreturn function append(row, ts) {\n${body}\n};`) as (bufs: ColumnBuffer[]) => (row: Record<string, unknown>, ts: unknown) => void;
}
