// Fuzzing the QUIC parser. Mutated datagrams mostly die at the AEAD tag, so the frames and the TLS
// inside are fuzzed through Initial packets this test seals itself (RFC 9001 §5 with our key schedule):
// a real ClientHello, mutated before sealing. A round trip through the builder checks the opener too.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isQuicLongHeaderInitial, parseQuicConversation, quicInitialCrypto } from "../../capture/parse/index.ts";
import { readInitialFrames, type CryptoChunk } from "../../capture/parse/quic.ts";
import { cryptoFrame, sealInitial } from "../parse-quic-seal.ts";
import { udpFlows } from "../parse-corpus.ts";
import { mutate, mutationsArb, onlyParseError, RUNS } from "./parse-mutate.ts";

const FLOWS = ["generated/quic_curl_h3.pcap", "public/zeek_zeek/quicv2-http3-443.pcap", "public/zeek_zeek/retry.pcap"]
  .flatMap((f) => udpFlows(f).filter((u) => u.client.some(isQuicLongHeaderInitial)).slice(0, 1));
const HELLO = quicInitialCrypto(FLOWS[0]!.client, FLOWS[0]!.server).client;

function sealClient(dcid: Uint8Array, payload: Uint8Array, pn = 0): Uint8Array {
  return sealInitial({ dcid, payload, pn });
}

describe("QUIC fuzz", () => {
  it("round trip: a real ClientHello sealed by this test, split over two packets, opens and parses", () => {
    const dcid = randomBytes(8);
    const half = Math.floor(HELLO.length / 2);
    const p1 = sealClient(dcid, Buffer.concat([cryptoFrame(half, HELLO.subarray(half)), Buffer.alloc(20)]), 0);
    const p2 = sealClient(dcid, cryptoFrame(0, HELLO.subarray(0, half)), 1);
    const r = parseQuicConversation([p1, p2], []);
    const orig = parseQuicConversation(FLOWS[0]!.client, []);
    expect(r.fields.sni).toBe("srv.e2.test");
    expect(r.fields.ja4).toBe(orig.fields.ja4);
    expect(r.fields.key_share_groups).toEqual(orig.fields.key_share_groups);
  });

  it("mutated ClientHello and frames inside validly sealed Initials", () => {
    fc.assert(
      fc.property(mutationsArb, fc.boolean(), (muts, whole) => {
        const dcid = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
        const payload = whole ? mutate(cryptoFrame(0, HELLO), muts) : cryptoFrame(0, mutate(HELLO, muts));
        if (payload.length + 20 > 4000) return;
        const padded = Buffer.concat([payload, Buffer.alloc(Math.max(0, 20 - payload.length))]);
        onlyParseError(() => parseQuicConversation([sealClient(dcid, padded)], []));
        onlyParseError(() => readInitialFrames(padded, [] as CryptoChunk[]));
      }),
      { numRuns: RUNS },
    );
  });

  it("mutated real datagrams (headers, lengths, coalescing, Retry)", () => {
    fc.assert(
      fc.property(fc.nat(FLOWS.length - 1), fc.nat(), fc.boolean(), mutationsArb, (f, which, side, muts) => {
        const u = FLOWS[f]!;
        const dgs = side ? u.client : u.server;
        if (dgs.length === 0) return;
        const k = which % dgs.length;
        const mutated = dgs.map((d, i) => (i === k ? mutate(d, muts) : d));
        onlyParseError(() => (side ? parseQuicConversation(mutated, u.server) : parseQuicConversation(u.client, mutated)));
        onlyParseError(() => isQuicLongHeaderInitial(mutated[k]!));
      }),
      { numRuns: RUNS },
    );
  });

  it("random datagrams and frame payloads", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 1500 }), { maxLength: 4 }), (dgs) => {
        onlyParseError(() => parseQuicConversation(dgs, dgs));
        for (const d of dgs) onlyParseError(() => readInitialFrames(d, []));
      }),
      { numRuns: RUNS },
    );
  });
});
