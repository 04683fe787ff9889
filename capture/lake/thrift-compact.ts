// Thrift compact protocol, write side only: the encoding of Parquet page headers and file metadata.
// Structs are written from plain descriptions: [fieldId, kind, value] triples, in field-id order.

export type ThriftField =
  | [number, "bool", boolean]
  | [number, "i8" | "i16" | "i32" | "i64", number | bigint]
  | [number, "binary", Uint8Array | string]
  | [number, "struct", ThriftField[]]
  | [number, "list<i32>", number[]]
  | [number, "list<binary>", (Uint8Array | string)[]]
  | [number, "list<struct>", ThriftField[][]];

const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;
const utf8 = new TextEncoder();

export class ByteSink {
  buf = new Uint8Array(1024);
  len = 0;
  /** Makes room for n more bytes (callers that write through `buf` directly call this first). */
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32le(v: number): void {
    this.ensure(4);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 24) & 0xff;
  }
  varint(v: number): void {
    // unsigned, v < 2^53
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }
  varbig(v: bigint): void {
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
  reset(): this {
    this.len = 0;
    return this;
  }
}

function zigzag(out: ByteSink, v: number | bigint): void {
  const b = BigInt(v);
  out.varbig(b >= 0n ? b << 1n : (-b << 1n) - 1n);
}

function binary(out: ByteSink, v: Uint8Array | string): void {
  const b = typeof v === "string" ? utf8.encode(v) : v;
  out.varint(b.length);
  out.bytes(b);
}

function listHeader(out: ByteSink, size: number, type: number): void {
  if (size < 15) out.byte((size << 4) | type);
  else {
    out.byte(0xf0 | type);
    out.varint(size);
  }
}

const kindType: Record<ThriftField[1], number> = {
  bool: 0,
  i8: T.BYTE,
  i16: T.I16,
  i32: T.I32,
  i64: T.I64,
  binary: T.BINARY,
  struct: T.STRUCT,
  "list<i32>": T.LIST,
  "list<binary>": T.LIST,
  "list<struct>": T.LIST,
};

export function writeStruct(out: ByteSink, fields: ThriftField[]): void {
  let last = 0;
  for (const [id, kind, value] of fields) {
    const type = kind === "bool" ? (value ? T.TRUE : T.FALSE) : kindType[kind];
    const delta = id - last;
    if (delta > 0 && delta <= 15) out.byte((delta << 4) | type);
    else {
      out.byte(type);
      zigzag(out, id);
    }
    last = id;
    switch (kind) {
      case "bool":
        break;
      case "i8":
        out.byte(Number(value) & 0xff);
        break;
      case "i16":
      case "i32":
      case "i64":
        zigzag(out, value as number | bigint);
        break;
      case "binary":
        binary(out, value as Uint8Array | string);
        break;
      case "struct":
        writeStruct(out, value as ThriftField[]);
        break;
      case "list<i32>":
        listHeader(out, (value as number[]).length, T.I32);
        for (const v of value as number[]) zigzag(out, v);
        break;
      case "list<binary>":
        listHeader(out, (value as (Uint8Array | string)[]).length, T.BINARY);
        for (const v of value as (Uint8Array | string)[]) binary(out, v);
        break;
      case "list<struct>":
        listHeader(out, (value as ThriftField[][]).length, T.STRUCT);
        for (const v of value as ThriftField[][]) writeStruct(out, v);
        break;
    }
  }
  out.byte(0); // stop
}

export function encodeStruct(fields: ThriftField[]): Uint8Array {
  const s = new ByteSink();
  writeStruct(s, fields);
  return s.result().slice();
}
