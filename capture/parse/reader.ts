// A bounds-checked cursor over a byte range: every read checks the length first.
// Running off the end throws Truncated (the data may simply not be all there); a length field that
// points past its enclosing structure throws ParseError via within().
import * as cryptoModule from "node:crypto";
import { ParseError, Truncated } from "./errors.ts";

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  readonly protocol: string;
  // Absolute offset of buf[0] in the caller's stream, for error messages.
  readonly base: number;

  constructor(buf: Uint8Array, protocol: string, start = 0, end = buf.length, base = 0) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.protocol = protocol;
    this.base = base;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new Truncated(this.protocol, this.base + this.pos);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf, p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u24(): number {
    this.need(3);
    const b = this.buf, p = this.pos;
    this.pos = p + 3;
    return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(): number {
    this.need(4);
    const b = this.buf, p = this.pos;
    this.pos = p + 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  // A view (no copy) of the next n bytes.
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  // A sub-reader over the next n bytes; this reader moves past them. Inside a structure whose length is
  // known to be fully present, a length running past it is malformed, not truncated.
  sub(n: number): Reader {
    this.need(n);
    const r = new Reader(this.buf, this.protocol, this.pos, this.pos + n, this.base);
    this.pos += n;
    return r;
  }

  vec8(): Reader {
    return this.sub(this.u8());
  }
  vec16(): Reader {
    return this.sub(this.u16());
  }
  vec24(): Reader {
    return this.sub(this.u24());
  }

  fail(message: string): never {
    throw new ParseError(this.protocol, this.base + this.pos, message);
  }
}

// Run fn over a reader whose bytes are known to be complete: a Truncated inside becomes a ParseError
// (a length field pointed past the end of its container).
export function within<T>(r: Reader, what: string, fn: (r: Reader) => T): T {
  try {
    return fn(r);
  } catch (e) {
    if (e instanceof Truncated) throw new ParseError(r.protocol, e.offset, `${what}: a length runs past the end of its container`);
    throw e;
  }
}

// A Buffer's subarray() is slower than a plain Uint8Array's (species construction); parsers take views.
export function plain(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// One-shot SHA-256 in hex (crypto.hash where the runtime has it: no Hash object per call).
const oneShot = (cryptoModule as { hash?: (alg: string, data: Uint8Array, enc: "hex") => string }).hash;
export function sha256hex(b: Uint8Array): string {
  return oneShot ? oneShot("sha256", b, "hex") : cryptoModule.createHash("sha256").update(b).digest("hex");
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
export function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
// Node's own latin1 decoder of Buffer#toString("latin1"), which takes any Uint8Array: several times
// faster than String.fromCharCode over more than a few bytes.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

// Each byte one code point (ISO-8859-1, lossless; TextDecoder's "latin1" is really windows-1252).
export function ascii(b: Uint8Array): string {
  if (b.length < 16) return b.length === 0 ? "" : String.fromCharCode.apply(null, b as unknown as number[]);
  if (latin1Slice) return latin1Slice.call(b, 0, b.length);
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  return s;
}
// ascii() of b[start, end), without a view made for it.
export function asciiRange(b: Uint8Array, start: number, end: number): string {
  if (latin1Slice && end - start >= 16) return latin1Slice.call(b, start, end);
  return ascii(b.subarray(start, end));
}

export function text(b: Uint8Array): string {
  return utf8.decode(b);
}
