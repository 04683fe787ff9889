// A minimal DER reader (ITU-T X.690): tag-length-value walking over a Uint8Array, no copies.
// Enough for the X.509 fields cryptoscope keeps; every length is checked against its container.
import { ParseError } from "./errors.ts";

export interface Tlv {
  tag: number; // the identifier octet (single-byte tags only: all X.509 needs)
  start: number; // offset of the identifier octet
  valueStart: number;
  end: number; // one past the value
}

export class Der {
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  fail(at: number, message: string): never {
    throw new ParseError("x509", at, message);
  }

  // The TLV at `at`, which must end by `limit`.
  read(at: number, limit: number): Tlv {
    const b = this.buf;
    if (at + 2 > limit) this.fail(at, "DER element runs past its container");
    const tag = b[at]!;
    if ((tag & 0x1f) === 0x1f) this.fail(at, "multi-byte DER tag");
    let len = b[at + 1]!;
    let p = at + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) this.fail(at, "unsupported DER length form");
      if (p + n > limit) this.fail(at, "DER length runs past its container");
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
    }
    if (p + len > limit) this.fail(at, "DER value runs past its container");
    return { tag, start: at, valueStart: p, end: p + len };
  }

  expect(at: number, limit: number, tag: number, what: string): Tlv {
    const t = this.read(at, limit);
    if (t.tag !== tag) this.fail(at, `${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
    return t;
  }

  // Children of a constructed element.
  children(t: Tlv): Tlv[] {
    const out: Tlv[] = [];
    for (let p = t.valueStart; p < t.end; ) {
      const c = this.read(p, t.end);
      out.push(c);
      p = c.end;
    }
    return out;
  }

  value(t: Tlv): Uint8Array {
    return this.buf.subarray(t.valueStart, t.end);
  }

  oid(t: Tlv): string {
    if (t.tag !== 0x06) this.fail(t.start, "expected an OBJECT IDENTIFIER");
    const v = this.value(t);
    if (v.length === 0) this.fail(t.start, "empty OBJECT IDENTIFIER");
    const parts: number[] = [];
    let acc = 0;
    for (let i = 0; i < v.length; i++) {
      acc = acc * 128 + (v[i]! & 0x7f);
      if ((v[i]! & 0x80) === 0) {
        if (parts.length === 0) {
          const first = acc < 80 ? Math.floor(acc / 40) : 2;
          parts.push(first, acc - first * 40);
        } else parts.push(acc);
        acc = 0;
      } else if (acc > Number.MAX_SAFE_INTEGER / 128) this.fail(t.start, "OBJECT IDENTIFIER arc too large");
    }
    if (v[v.length - 1]! & 0x80) this.fail(t.start, "truncated OBJECT IDENTIFIER");
    return parts.join(".");
  }
}
