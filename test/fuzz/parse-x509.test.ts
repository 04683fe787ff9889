// Fuzzing certificateFields with mutated real certificates and random bytes.
import fc from "fast-check";
import { describe, it } from "vitest";
import { certificateFields, detectTcpProto, parseTcpConversation } from "../../capture/parse/index.ts";
import { tcpStreams } from "../parse-corpus.ts";
import { mutate, mutationsArb, onlyParseError, RUNS } from "./parse-mutate.ts";

const CERTS = ["generated/tls12_rsa_kx.pcap", "generated/tls12_ecdhe_ecdsa.pcap", "public/zeek_zeek/ml-dsa-44-cert.pcap", "public/FoxIO-LLC_ja4/badcurveball.pcap"]
  .flatMap((f) => tcpStreams(f).filter((s) => detectTcpProto(s.client) === "tls").flatMap((s) => parseTcpConversation("tls", s.client, s.server).certificates));

describe("X.509 fuzz", () => {
  it("mutated certificates", () => {
    fc.assert(
      fc.property(fc.nat(CERTS.length - 1), mutationsArb, (i, muts) => {
        onlyParseError(() => certificateFields(mutate(CERTS[i]!, muts)));
      }),
      { numRuns: RUNS },
    );
  });

  it("random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => onlyParseError(() => certificateFields(b))), { numRuns: RUNS });
  });
});
