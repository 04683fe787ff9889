// Fuzzing the SSH parser: mutated real banners + KEXINITs and random bytes after a banner.
import fc from "fast-check";
import { describe, it } from "vitest";
import { detectTcpProto, parseTcpConversation, tcpStreamComplete } from "../../capture/parse/index.ts";
import { parseKexInitPayload } from "../../capture/parse/ssh.ts";
import { tcpStreams } from "../parse-corpus.ts";
import { mutate, mutationsArb, neverThrows, onlyParseError, RUNS } from "./parse-mutate.ts";

const SEEDS = ["generated/ssh10_mlkem.pcap", "generated/ssh92.pcap", "public/zeek_zeek/server-pre-banner-data.pcap", "public/FoxIO-LLC_ja4/sshv1.pcap"]
  .flatMap((f) => tcpStreams(f).filter((s) => detectTcpProto(s.client) === "ssh").slice(0, 1));

describe("SSH fuzz", () => {
  it("mutated sessions", () => {
    fc.assert(
      fc.property(fc.nat(SEEDS.length - 1), fc.boolean(), mutationsArb, (i, side, muts) => {
        const s = SEEDS[i]!;
        // Mutations aimed at the banner and the first packet: the first 3 KB.
        const cut = (b: Uint8Array) => b.subarray(0, 3000);
        const client = side ? mutate(cut(s.client), muts) : s.client;
        const server = side ? s.server : mutate(cut(s.server), muts);
        onlyParseError(() => parseTcpConversation("ssh", client, server));
        neverThrows(() => tcpStreamComplete("ssh", client, "c2s"));
        neverThrows(() => tcpStreamComplete("ssh", server, "s2c"));
      }),
      { numRuns: RUNS },
    );
  });

  it("random bytes after a banner, and random KEXINIT payloads", () => {
    const banner = new TextEncoder().encode("SSH-2.0-fuzz\r\n");
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), (x) => {
        const b = new Uint8Array(banner.length + x.length);
        b.set(banner);
        b.set(x, banner.length);
        onlyParseError(() => parseTcpConversation("ssh", b, x));
        neverThrows(() => tcpStreamComplete("ssh", b, "c2s"));
        const payload = Uint8Array.from(x);
        if (payload.length > 0) payload[0] = 20;
        onlyParseError(() => parseKexInitPayload(payload));
      }),
      { numRuns: RUNS },
    );
  });
});
