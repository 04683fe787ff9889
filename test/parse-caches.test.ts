// The parsers' caches of repeated values (parse/reader.ts asciiCached and sha256hexCached, ja4.ts's
// fingerprint caches): a cached answer is always the answer made anew, for repeats, near misses,
// slot collisions, inputs changed after the call, and inputs past the caches' size limits. Shared lists
// (ListCache) are frozen: a later parse never changes what an earlier one handed out.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ListCache, ascii, asciiCached, sha256hex, sha256hexCached, u16Lists } from "../capture/parse/reader.ts";
import { parseClientHello } from "../capture/parse/tls-hello.ts";
import { parseKexInitPayload } from "../capture/parse/ssh.ts";
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

describe("ListCache (offered lists, SSH name-lists)", () => {
  const u16 = (v: number[]) => Uint8Array.from(v.flatMap((x) => [x >> 8, x & 0xff]));
  it("one frozen array per distinct byte string; equal to a list made anew", () => {
    const a = u16Lists.of(u16([4865, 4866, 4867]), 0, 6);
    expect(a).toEqual([4865, 4866, 4867]);
    expect(Object.isFrozen(a)).toBe(true);
    const wide = new Uint8Array(10);
    wide.set(u16([4865, 4866, 4867]), 3);
    expect(u16Lists.of(wide, 3, 9)).toBe(a); // the same bytes elsewhere: the same object
    expect(() => (a as number[]).push(1)).toThrow(TypeError);
    expect(u16Lists.of(u16([4865, 4866, 4868]), 0, 6)).toEqual([4865, 4866, 4868]); // one byte differs
    expect(u16Lists.of(u16([]), 0, 0)).toEqual([]);
  });

  it("keeps its own copy of the key: bytes changed after the call give the new list", () => {
    const b = u16([29, 23, 24]);
    const first = u16Lists.of(b, 0, 6);
    b[1] = 30;
    expect(u16Lists.of(b, 0, 6)).toEqual([30, 23, 24]);
    expect(first).toEqual([29, 23, 24]);
  });

  it("more distinct lists than slots, in one set and across sets, each asked twice: always its own list", () => {
    const small = new ListCache<number>((b, s, e) => Array.from(b.subarray(s, e)), 4, 64); // one set of four
    const lists = Array.from({ length: 3000 }, (_, i) => [i & 0xff, i >> 8, (i * 7) & 0xff, 3]);
    for (const cache of [small, u16Lists])
      for (let round = 0; round < 2; round++) for (const l of lists) expect(cache.of(Uint8Array.from(l), 0, 4)).toEqual(cache === small ? l : [(l[0] << 8) | l[1], (l[2] << 8) | l[3]]);
    // Four lists that share a set stay cached together.
    const four = lists.slice(0, 4).map((l) => small.of(Uint8Array.from(l), 0, 4));
    lists.slice(0, 4).forEach((l, k) => expect(small.of(Uint8Array.from(l), 0, 4)).toBe(four[k]));
  });

  it("past maxBytes: built anew each time, frozen, still right", () => {
    const long = u16(Array.from({ length: 300 }, (_, i) => i));
    const a = u16Lists.of(long, 0, long.length);
    const b = u16Lists.of(long, 0, long.length);
    expect(a).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(b).not.toBe(a);
    expect(Object.isFrozen(b)).toBe(true);
  });

  it("ClientHello lists and SSH name-lists come back shared and frozen, and equal to their bytes", () => {
    // A ClientHello body: version, random, session id, suites, compression, extensions.
    const be16 = (n: number) => [n >> 8, n & 0xff];
    const ext = (type: number, body: number[]) => [...be16(type), ...be16(body.length), ...body];
    const vec16 = (b: number[]) => [...be16(b.length), ...b];
    const hello = (random: number, shareKey: number) => Uint8Array.from([
      3, 3, ...new Array(32).fill(random), 0, ...vec16([...u16([0x1301, 0x1302, 0xc02f])]), 1, 0,
      ...vec16([
        ...ext(43, [4, ...u16([0x0304, 0x0303])]), ...ext(10, vec16([...u16([29, 23])])), ...ext(13, vec16([...u16([0x0403, 0x0804])])),
        ...ext(51, vec16([...be16(29), ...vec16(new Array(32).fill(shareKey))])), ...ext(45, [1, 1]),
        ...ext(16, vec16([2, 0x68, 0x32, 8, ...new TextEncoder().encode("http/1.1")])),
      ]),
    ]);
    const first = parseClientHello(hello(1, 7));
    const again = parseClientHello(hello(2, 9)); // other random and key: the same lists
    expect(first.suites).toEqual([0x1301, 0x1302, 0xc02f]);
    expect(first.keyShareGroups).toEqual([29]);
    expect(first.pskModes).toEqual([1]);
    expect(first.alpn).toEqual(["h2", "http/1.1"]);
    for (const k of ["suites", "versions", "groups", "sigAlgs", "keyShareGroups", "pskModes", "alpn"] as const) {
      expect(first[k]).toBeDefined();
      expect(Object.isFrozen(first[k])).toBe(true);
      expect(again[k]).toBe(first[k]);
    }
    const names = (...lists: string[]) => {
      const enc = new TextEncoder();
      const parts = lists.map((l) => {
        const b = enc.encode(l);
        return Uint8Array.from([(b.length >>> 24) & 0xff, (b.length >>> 16) & 0xff, (b.length >>> 8) & 0xff, b.length & 0xff, ...b]);
      });
      return Uint8Array.from([20, ...new Uint8Array(16), ...parts.flatMap((p) => [...p]), 0, 0, 0, 0, 0]);
    };
    const lists = ["curve25519-sha256,ext-info-c", "ssh-ed25519", "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""];
    const k1 = parseKexInitPayload(names(...lists));
    const k2 = parseKexInitPayload(names(...lists));
    expect(k1.kex).toEqual(["curve25519-sha256", "ext-info-c"]);
    expect(k1.languages_c2s).toEqual([]);
    expect(k2.kex).toBe(k1.kex);
    expect(k2.ciphers_s2c).toBe(k1.ciphers_c2s); // the same bytes in another field: the same list
    expect(Object.isFrozen(k1.hostkey)).toBe(true);
    const k3 = parseKexInitPayload(names("curve25519-sha256,ext-info-s", ...lists.slice(1)));
    expect(k3.kex).toEqual(["curve25519-sha256", "ext-info-s"]);
    expect(k1.kex).toEqual(["curve25519-sha256", "ext-info-c"]);
  });
});
