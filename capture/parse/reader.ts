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

// The same certificates come with handshake after handshake: their digests are kept by their bytes
// (a direct-mapped table: the slot from the length and the last 16 bytes, where a certificate's
// signature is; a hit is a byte compare, ~0.1 µs for 1.2 KB, where the SHA-256 is ~1 µs here), and a
// repeat gets the same string object back (its consumers, the lake first, then compare by pointer).
// Bounded: 1024 slots of at most 8 KB each (copies: the caller's bytes are views of reassembly buffers).
const DIGEST_SLOTS = 1024;
const DIGEST_MAX_BYTES = 8192;
const digestBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(DIGEST_SLOTS).fill(undefined);
const digestHex: string[] = new Array<string>(DIGEST_SLOTS).fill("");
export function sha256hexCached(b: Uint8Array): string {
  const n = b.length;
  if (n < 16 || n > DIGEST_MAX_BYTES) return sha256hex(b);
  let h = n;
  for (let i = n - 16; i < n; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  const slot = (h ^ (h >>> 15)) & (DIGEST_SLOTS - 1);
  const k = digestBytes[slot];
  if (k !== undefined && k.length === n && Buffer.compare(k, b) === 0) return digestHex[slot]!;
  const d = sha256hex(b);
  digestBytes[slot] = Uint8Array.from(b);
  digestHex[slot] = d;
  return d;
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

// Short texts that repeat (server names, ALPN protocol ids, SSH banners): one string per distinct
// byte string, kept in a direct-mapped table by a hash of all the bytes and checked byte by byte, so
// a repeat allocates nothing and its consumers compare it by pointer. Same result as asciiRange.
// Bounded: 4096 slots of at most 255 bytes each.
const TEXT_SLOTS = 4096;
const TEXT_MAX_BYTES = 255;
const textBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(TEXT_SLOTS).fill(undefined);
const textStrings: string[] = new Array<string>(TEXT_SLOTS).fill("");
export function asciiCached(b: Uint8Array, start = 0, end = b.length): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n > TEXT_MAX_BYTES) return asciiRange(b, start, end);
  let h = 0x811c9dc5 ^ n;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  const slot = (h ^ (h >>> 15)) & (TEXT_SLOTS - 1);
  const k = textBytes[slot];
  if (k !== undefined && k.length === n) {
    let i = 0;
    while (i < n && k[i] === b[start + i]) i++;
    if (i === n) return textStrings[slot]!;
  }
  const s = asciiRange(b, start, end);
  const copy = new Uint8Array(n);
  for (let i = 0; i < n; i++) copy[i] = b[start + i]!;
  textBytes[slot] = copy;
  textStrings[slot] = s;
  return s;
}

export function text(b: Uint8Array): string {
  return utf8.decode(b);
}

// Lists that repeat (a client stack's suites, groups, signature algorithms, versions, key share groups,
// PSK modes, ALPN ids): one frozen array per distinct byte string, so a repeat allocates nothing and its
// consumers (the lake first) can know it by identity. A table of 4-way sets by a hash of the length and
// the end bytes (direct-mapped, 400 lists in 1024 slots missed 18% of lookups by collisions), a hit
// checked byte by byte against the cache's own copy, a miss replacing the set's entries in turn. Only
// frozen arrays are shared: nobody can change what a later parse hands out. Bounded: `slots` entries of
// at most `maxBytes` each; a longer list is built anew (frozen all the same).
export class ListCache<T> {
  private readonly keys: (Uint8Array | undefined)[];
  private readonly lists: (readonly T[] | undefined)[];
  private readonly next: Uint8Array;
  constructor(
    private readonly build: (b: Uint8Array, start: number, end: number) => T[],
    readonly slots = 4096,
    readonly maxBytes = 512,
  ) {
    if (slots < 4 || (slots & (slots - 1)) !== 0) throw new Error(`ListCache: ${slots} slots (a power of two >= 4)`);
    this.keys = new Array<Uint8Array | undefined>(slots).fill(undefined);
    this.lists = new Array<readonly T[] | undefined>(slots).fill(undefined);
    this.next = new Uint8Array(slots >> 2);
  }
  /** The list of bytes b[start, end), built by `build` on a miss; always frozen. */
  of(b: Uint8Array, start: number, end: number): readonly T[] {
    const n = end - start;
    if (n > this.maxBytes) return Object.freeze(this.build(b, start, end));
    // The set from the length and the first and last 8 bytes (GREASE sits first; lists of one stack
    // differ at their ends or in length); the compare below checks every byte.
    let h = 0x811c9dc5 ^ n;
    const mid = n > 16 ? start + 8 : end;
    for (let i = start; i < mid; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    for (let i = n > 16 ? end - 8 : end; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    const set = ((h ^ (h >>> 15)) & ((this.slots >> 2) - 1)) << 2;
    for (let s = set; s < set + 4; s++) {
      const k = this.keys[s];
      if (k === undefined || k.length !== n) continue;
      let i = 0;
      while (i < n && k[i] === b[start + i]) i++;
      if (i === n) return this.lists[s]!;
    }
    const list = Object.freeze(this.build(b, start, end));
    const copy = new Uint8Array(n);
    for (let i = 0; i < n; i++) copy[i] = b[start + i]!;
    const way = this.next[set >> 2]!;
    this.next[set >> 2] = (way + 1) & 3;
    this.keys[set + way] = copy;
    this.lists[set + way] = list;
    return list;
  }
}

/** Big-endian 16-bit values of b[start, end) (an even length: the caller checks). */
function u16Values(b: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  for (let p = start; p + 1 < end; p += 2) out.push((b[p]! << 8) | b[p + 1]!);
  return out;
}
function u8Values(b: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  for (let p = start; p < end; p++) out.push(b[p]!);
  return out;
}
/** Lists of 16-bit code points (suites, groups, signature algorithms, versions, key share groups). */
export const u16Lists = new ListCache<number>(u16Values);
/** Lists of 8-bit code points (PSK key exchange modes). */
export const u8Lists = new ListCache<number>(u8Values, 64, 64);
