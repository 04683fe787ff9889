// The parsers' caches of repeated values (parse/reader.ts asciiCached and sha256hexCached, ja4.ts's
// fingerprint caches): a cached answer is always the answer made anew, for repeats, near misses,
// slot collisions, inputs changed after the call, and inputs past the caches' size limits.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ascii, asciiCached, sha256hex, sha256hexCached } from "../capture/parse/reader.ts";
import { ja4, ja4s } from "../capture/parse/ja4.ts";
import type { ClientHello, ServerHello } from "../capture/parse/tls-hello.ts";
import { JA4_EXAMPLE_HELLO } from "./helpers/client-hello.ts";

describe("asciiCached", () => {
  it("equals ascii() for every length up to past the limit, bytes >= 0x80 included", () => {
    for (const n of [0, 1, 2, 15, 16, 17, 100, 254, 255, 256, 300]) {
      const b = randomBytes(n);
      expect(asciiCached(b)).toBe(ascii(b));
      expect(asciiCached(b)).toBe(ascii(b)); // the repeat, from the table
      const wide = new Uint8Array(n + 8);
      wide.set(b, 4);
      expect(asciiCached(wide, 4, 4 + n)).toBe(ascii(b));
    }
  });

  it("more distinct texts than slots, each asked twice: always its own text", () => {
    const texts = Array.from({ length: 10000 }, (_, i) => `host-${i}.example${i % 97}.com`);
    const enc = new TextEncoder();
    for (let round = 0; round < 2; round++) for (const t of texts) expect(asciiCached(enc.encode(t))).toBe(t);
  });

  it("keeps its own copy: bytes changed after the call give the new text", () => {
    const b = new TextEncoder().encode("api.example.com");
    expect(asciiCached(b)).toBe("api.example.com");
    b[0] = 0x62; // "bpi..."
    expect(asciiCached(b)).toBe("bpi.example.com");
    // same length and hash inputs differ by one byte in the middle
    const c = new TextEncoder().encode("h2");
    const d = new TextEncoder().encode("h3");
    expect([asciiCached(c), asciiCached(d), asciiCached(c)]).toEqual(["h2", "h3", "h2"]);
  });
});

describe("sha256hexCached", () => {
  const ref = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  it("equals SHA-256 for sizes around both limits, asked twice", () => {
    for (const n of [0, 1, 15, 16, 17, 1200, 8191, 8192, 8193, 20000]) {
      const b = randomBytes(n);
      expect(sha256hexCached(b)).toBe(ref(b));
      expect(sha256hexCached(b)).toBe(ref(b));
      expect(sha256hex(b)).toBe(ref(b));
    }
  });

  it("keeps its own copy: a view whose bytes change gives the new digest", () => {
    const buf = randomBytes(1500);
    const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    const before = sha256hexCached(view);
    expect(before).toBe(ref(buf));
    buf[700] ^= 1; // not among the last 16 bytes the slot is chosen by
    expect(sha256hexCached(view)).toBe(ref(buf));
    expect(sha256hexCached(view)).not.toBe(before);
  });

  it("same tail, same length, different bodies (the same slot): each its own digest", () => {
    const tail = randomBytes(16);
    const certs = Array.from({ length: 50 }, () => Buffer.concat([randomBytes(1000), tail]));
    for (let round = 0; round < 2; round++) for (const c of certs) expect(sha256hexCached(c)).toBe(ref(c));
  });

  it("more distinct inputs than slots: always the right digest", () => {
    const inputs = Array.from({ length: 3000 }, () => randomBytes(64 + Math.floor(Math.random() * 2000)));
    for (let round = 0; round < 2; round++) for (const b of inputs) expect(sha256hexCached(b)).toBe(ref(b));
  });
});

describe("JA4/JA4S fingerprint caches", () => {
  const enc = new TextEncoder();
  const base: ClientHello = { ...JA4_EXAMPLE_HELLO };
  // Each differs from base in one thing the fingerprint depends on.
  const variants: [ClientHello, boolean][] = [
    [base, false],
    [base, true],
    [{ ...base, extensions: base.extensions.filter((e) => e !== 0x0000) }, false], // no SNI: "i"
    [{ ...base, versions: [0x0303] }, false],
    [{ ...base, versions: undefined, legacyVersion: 0x0301 }, false],
    [{ ...base, alpnRaw: [enc.encode("http/1.1")] }, false],
    [{ ...base, alpnRaw: [enc.encode("x2")] }, false], // same last byte
    [{ ...base, alpnRaw: [enc.encode("h3")] }, false], // same first byte
    [{ ...base, alpnRaw: [Uint8Array.of(0xab, 0xcd)] }, false],
    [{ ...base, alpnRaw: undefined }, false],
    [{ ...base, suites: base.suites.slice(1) }, false],
    [{ ...base, suites: [...base.suites.slice(0, -1), 0x0036] }, false],
    [{ ...base, sigAlgs: [...base.sigAlgs!].reverse() }, false], // signature order counts
    [{ ...base, sigAlgs: undefined }, false],
    [{ ...base, extensions: [...base.extensions, 0x0039] }, false],
    [{ ...base, suites: [], extensions: [] }, true],
  ];

  it("a cold and a warm answer agree for every variant, and the variants all differ", () => {
    const cold = variants.map(([ch, q]) => ja4(ch, q));
    expect(new Set(cold).size).toBe(variants.length);
    const warm = [...variants].reverse().map(([ch, q]) => ja4(ch, q)).reverse();
    expect(warm).toEqual(cold);
    expect(cold[0]).toBe("t13d1516h2_8daaf6152771_e5627efa2ab1"); // JA4.md's worked example
    expect(cold[cold.length - 1]).toBe("q12i0000h2_000000000000_000000000000");
  });

  it("GREASE and extension order do not change the cached fingerprint", () => {
    const greased: ClientHello = {
      ...base,
      suites: [0x0a0a, ...base.suites].reverse(),
      extensions: [0x3a3a, ...base.extensions, 0xfafa].reverse(),
      sigAlgs: [0x5a5a, ...base.sigAlgs!],
      versions: [0x7a7a, 0x0304, 0x0303],
    };
    expect(ja4(greased, false)).toBe("t13d1516h2_8daaf6152771_e5627efa2ab1");
  });

  it("JA4S: every input it depends on is in its key", () => {
    const sh: ServerHello = { legacyVersion: 0x0303, sessionId: new Uint8Array(0), suite: 0xc030, extensions: [0x0005, 0x0017, 0xff01, 0x0000], helloRetry: false, pskSelected: false };
    const shs: [ServerHello, boolean][] = [
      [sh, false],
      [sh, true],
      [{ ...sh, suite: 0xc02f }, false],
      [{ ...sh, selectedVersion: 0x0304 }, false],
      [{ ...sh, extensions: [...sh.extensions].reverse() }, false], // JA4S keeps the server's order
      [{ ...sh, extensions: [] }, false],
      [{ ...sh, alpnRaw: enc.encode("h2") }, false],
      [{ ...sh, alpnRaw: enc.encode("http/1.1") }, false],
    ];
    const cold = shs.map(([s, q]) => ja4s(s, q));
    expect(new Set(cold).size).toBe(shs.length);
    expect([...shs].reverse().map(([s, q]) => ja4s(s, q)).reverse()).toEqual(cold);
    expect(cold[0]).toBe("t120400_c030_4e8089b08790"); // JA4S.md's worked example
  });
});
