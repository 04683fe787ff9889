// Columnar buffers for one partition of one table: rows are split into typed arrays as they are
// appended (cheap, compact: ints stay ints, strings stay shared references, lists are offsets + a flat
// child array), so a flush can hand whole column slices to the encoder without touching rows again.
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

/** Validity bitmap shared by every column kind. */
class Validity {
  bits = new Uint8Array(INITIAL / 8);
  nulls = 0;
  set(i: number, valid: boolean): void {
    if ((i >> 3) >= this.bits.length) this.bits = grow(this.bits, (i >> 3) + 1);
    if (valid) this.bits[i >> 3] |= 1 << (i & 7);
    else {
      this.bits[i >> 3] &= ~(1 << (i & 7));
      this.nulls++;
    }
  }
  /** Marks rows [a, b) valid (none of them null). */
  setValidRange(a: number, b: number): void {
    if (b === a) return;
    if (((b - 1) >> 3) >= this.bits.length) this.bits = grow(this.bits, ((b - 1) >> 3) + 1);
    const bits = this.bits;
    let i = a;
    for (; i < b && (i & 7) !== 0; i++) bits[i >> 3] |= 1 << (i & 7);
    for (; i + 8 <= b; i += 8) bits[i >> 3] = 0xff;
    for (; i < b; i++) bits[i >> 3] |= 1 << (i & 7);
  }
  valid(i: number): boolean {
    return (this.bits[i >> 3] & (1 << (i & 7))) !== 0;
  }
  truncate(n: number, from: number): void {
    for (let i = n; i < from; i++) {
      if (!this.valid(i)) this.nulls--;
      this.bits[i >> 3] &= ~(1 << (i & 7));
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
    if ((n >> 3) + 1 > this.validity.bits.length) this.validity.bits = grow(this.validity.bits, (n >> 3) + 1, true);
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
    if (2 * i + 2 > this.data.length) this.data = grow(this.data, 2 * i + 2);
    if (v === null || v === undefined) {
      this.data[2 * i] = 0;
      this.data[2 * i + 1] = 0;
      this.validity.set(i, false);
    } else if (typeof v === "bigint") {
      if (this.kind === "unsigned" ? v < 0n || v > U64_MAX : v < I64_MIN || v > I64_MAX) this.bad(v, "out of range");
      scratch64[0] = v; // wraps unsigned values above 2^63 to the same bits
      this.data[2 * i] = scratch32[0];
      this.data[2 * i + 1] = scratch32[1];
      this.validity.set(i, true);
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
      this.validity.set(i, true);
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
    if (i >= this.data.length) this.data = grow(this.data, i + 1);
    if (v === null || v === undefined) {
      this.data[i] = 0;
      this.validity.set(i, false);
    } else {
      const x = typeof v === "bigint" ? Number(v) : v;
      if (typeof x !== "number" || !Number.isInteger(x) || x < -2147483648 || x > 2147483647) this.bad(v, "expected a 32-bit integer");
      this.data[i] = x;
      this.validity.set(i, true);
    }
    this.length = i + 1;
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
    if (i >= this.data.length) this.data = grow(this.data, i + 1);
    if (v === null || v === undefined) {
      this.data[i] = 0;
      this.validity.set(i, false);
    } else {
      if (typeof v !== "boolean") this.bad(v, "expected a boolean");
      this.data[i] = v ? 1 : 0;
      this.validity.set(i, true);
    }
    this.length = i + 1;
  }
}

/** VARCHAR and BLOB: references to the caller's strings / byte arrays (no copy). */
export class RefBuffer<T extends string | Uint8Array> extends ColumnBuffer {
  data: (T | null)[] = [];
  constructor(column: Column, private readonly blob: boolean) {
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

/** LIST columns: start offsets into a flat child buffer (offsets[i]..offsets[i+1] are row i's elements). */
export class ListBuffer extends ColumnBuffer {
  offsets = new Int32Array(INITIAL + 1);
  constructor(column: Column, readonly child: ColumnBuffer) {
    super(column);
  }
  override reserve(n: number, childElems = 0): void {
    super.reserve(n);
    this.offsets = grow(this.offsets, n + 1, true);
    this.child.reserve(childElems);
  }
  push(v: unknown): void {
    const i = this.length;
    if (i + 2 > this.offsets.length) this.offsets = grow(this.offsets, i + 2);
    const start = this.child.length;
    if (v === null || v === undefined) {
      this.validity.set(i, false);
    } else {
      if (!Array.isArray(v)) this.bad(v, "expected an array");
      const child = this.child;
      if (child instanceof Int32Buffer && child.validity.nulls === 0) {
        // Code-point lists: one tight loop into the child's array (elements are never null).
        const n = v.length;
        if (start + n > child.data.length) child.data = grow(child.data, start + n);
        const d = child.data;
        for (let k = 0; k < n; k++) {
          const e = v[k];
          if (typeof e !== "number" || (e | 0) !== e) {
            child.length = start;
            if (e === null || e === undefined) this.bad(e, `element ${k} is null (lists hold no nulls)`);
            this.bad(e, `element ${k}: expected a 32-bit integer`);
          }
          d[start + k] = e;
        }
        child.length = start + n;
        child.validity.setValidRange(start, start + n);
      } else {
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
      }
      this.validity.set(i, true);
    }
    this.offsets[i + 1] = this.child.length;
    this.length = i + 1;
  }
  override truncate(n: number): void {
    this.child.truncate(this.offsets[n]);
    super.truncate(n);
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
      return new RefBuffer<string>(column, false);
    case "BLOB":
      return new RefBuffer<Uint8Array>(column, true);
    case "INTEGER[]":
      return new ListBuffer(column, new Int32Buffer({ ...column, type: "INTEGER" }));
    case "VARCHAR[]":
      return new ListBuffer(column, new RefBuffer<string>({ ...column, type: "VARCHAR" }, false));
    default: {
      const names = structFields(t);
      if (!names) throw new Error(`lake schema: column ${column.name} has an unsupported type ${t}`);
      const fields = names.map((n) => new RefBuffer<string>({ name: `${column.name}.${n}`, type: "VARCHAR", doc: "" }, false));
      return new ListBuffer(column, new StructBuffer(column, names, fields));
    }
  }
}

/** A copy of rows perm[0..n) of `buf`, in that order (used to cluster a batch before encoding). */
export function permuteBuffer(buf: ColumnBuffer, perm: Int32Array): ColumnBuffer {
  const n = perm.length;
  let out: ColumnBuffer;
  if (buf instanceof ListBuffer) {
    const src = buf.offsets;
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let r = 0; r < n; r++) {
      total += src[perm[r] + 1] - src[perm[r]];
      offsets[r + 1] = total;
    }
    const child = buf.child;
    let outChild: ColumnBuffer;
    if (child instanceof Int32Buffer && child.validity.nulls === 0) {
      // Fast path for code-point lists: copy element runs directly.
      const d = new Int32Array(total);
      const sd = child.data;
      for (let r = 0, k = 0; r < n; r++) for (let j = src[perm[r]], e = src[perm[r] + 1]; j < e; j++) d[k++] = sd[j];
      const c = new Int32Buffer(child.column);
      c.data = d;
      c.length = total;
      setAllValid(c, total);
      outChild = c;
    } else {
      const childPerm = new Int32Array(total);
      for (let r = 0, k = 0; r < n; r++) for (let j = src[perm[r]], e = src[perm[r] + 1]; j < e; j++) childPerm[k++] = j;
      outChild = permuteBuffer(child, childPerm);
    }
    const o = new ListBuffer(buf.column, outChild);
    o.offsets = offsets;
    out = o;
  } else if (buf instanceof StructBuffer) {
    out = new StructBuffer(buf.column, buf.fieldNames, buf.fields.map((f) => permuteBuffer(f, perm) as RefBuffer<string>));
  } else {
    out = newColumnBuffer(buf.column);
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
  } else if (buf instanceof RefBuffer) {
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
