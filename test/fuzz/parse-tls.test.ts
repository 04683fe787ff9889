// Fuzzing the TLS parsers: mutated real handshakes (both directions), random bytes behind a valid record
// header, and mutated hello bodies: only ParseError may come out, never a hang.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detectTcpProto, parseClientHello, parseServerHello, parseTcpConversation, tcpStreamComplete } from "../../capture/parse/index.ts";
import { HS, scanTlsRecords } from "../../capture/parse/tls.ts";
import { PEEK_HRR, PEEK_TLS13, peekClientHelloTls13, peekServerHello } from "../../capture/parse/tls-hello.ts";
import { tcpStreams } from "../parse-corpus.ts";
import { mutate, mutationsArb, neverThrows, onlyParseError, RUNS } from "./parse-mutate.ts";

const SEEDS = [
  "generated/tls12_rsa_kx_mtu576.pcap",
  "generated/tls12_dhe_rsa.pcap",
  "generated/tls13_mlkem_hrr.pcap",
  "generated/tls12_ecdhe_ecdsa.pcap",
  "public/zeek_zeek/tls13-ech.pcap",
  "public/zeek_zeek/tls-13draft19-early-data.pcap",
].flatMap((f) => tcpStreams(f).filter((s) => detectTcpProto(s.client) === "tls").slice(0, 2));

const hellos = SEEDS.flatMap((s) => [
  ...scanTlsRecords(s.client, "c2s").messages.filter((m) => m.type === HS.client_hello).map((m) => ({ type: 1, body: m.body })),
  ...scanTlsRecords(s.server, "s2c").messages.filter((m) => m.type === HS.server_hello).map((m) => ({ type: 2, body: m.body })),
]);

describe("TLS fuzz", () => {
  it("mutated conversations", () => {
    fc.assert(
      fc.property(fc.nat(SEEDS.length - 1), fc.boolean(), mutationsArb, (i, side, muts) => {
        const s = SEEDS[i]!;
        const client = side ? mutate(s.client, muts) : s.client;
        const server = side ? s.server : mutate(s.server, muts);
        onlyParseError(() => parseTcpConversation("tls", client, server));
        neverThrows(() => tcpStreamComplete("tls", client, "c2s"));
        neverThrows(() => tcpStreamComplete("tls", server, "s2c"));
      }),
      { numRuns: RUNS },
    );
  });

  it("mutated hello bodies", () => {
    fc.assert(
      fc.property(fc.nat(hellos.length - 1), mutationsArb, (i, muts) => {
        const h = hellos[i]!;
        const body = mutate(h.body, muts);
        onlyParseError(() => (h.type === 1 ? parseClientHello(body) : parseServerHello(body)));
      }),
      { numRuns: RUNS },
    );
  });

  it("random bytes, bare and behind a handshake record header", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), fc.boolean(), (a, b, framed) => {
        const frame = (x: Uint8Array) => {
          if (!framed) return x;
          const out = new Uint8Array(x.length + 9);
          out.set([0x16, 0x03, 0x03, (x.length + 4) >> 8, (x.length + 4) & 0xff, a.length % 3 === 0 ? 1 : 2, 0, x.length >> 8, x.length & 0xff]);
          out.set(x, 9);
          return out;
        };
        onlyParseError(() => parseTcpConversation("tls", frame(a), frame(b)));
        neverThrows(() => tcpStreamComplete("tls", frame(a), "c2s"));
        onlyParseError(() => parseClientHello(a));
        onlyParseError(() => parseServerHello(b));
      }),
      { numRuns: RUNS },
    );
  });

  // The completeness check peeks at hellos instead of parsing them: whenever the parser reads a
  // (mutated) hello, the peek says the same about it or declines (-1, and the parser is asked).
  it("hello peeks agree with the parsers", () => {
    const tls13 = (v: number | undefined) => v !== undefined && (v === 0x0304 || v >> 8 === 0x7f || v === 0xfb1a);
    const check = (type: number, body: Uint8Array) => {
      if (type === 1) {
        const peek = peekClientHelloTls13(body);
        let ch;
        try {
          ch = parseClientHello(body);
        } catch {
          return;
        }
        if (peek >= 0) expect(peek).toBe(ch.versions && ch.versions.some(tls13) ? 1 : 0);
      } else {
        const peek = peekServerHello(body);
        let sh;
        try {
          sh = parseServerHello(body);
        } catch {
          return;
        }
        if (peek >= 0) expect(peek).toBe((sh.helloRetry ? PEEK_HRR : 0) | (tls13(sh.selectedVersion ?? sh.legacyVersion) ? PEEK_TLS13 : 0));
      }
    };
    // Unmutated, the peek never declines.
    for (const h of hellos) {
      expect(h.type === 1 ? peekClientHelloTls13(h.body) : peekServerHello(h.body)).toBeGreaterThanOrEqual(0);
      check(h.type, h.body);
    }
    fc.assert(
      fc.property(fc.nat(hellos.length - 1), mutationsArb, (i, muts) => {
        const h = hellos[i]!;
        check(h.type, mutate(h.body, muts));
      }),
      { numRuns: RUNS * 4 },
    );
  });
});
