// Every prefix of real handshake streams is valid data cut short: the parsers must return (never throw,
// not even ParseError), and a direction once complete stays complete as more bytes arrive.
import { describe, expect, it } from "vitest";
import { detectTcpProto, isQuicLongHeaderInitial, parseQuicConversation, parseTcpConversation, tcpStreamComplete } from "../../capture/parse/index.ts";
import { tcpStreams, udpFlows } from "../parse-corpus.ts";

const TCP = [
  "generated/tls12_rsa_kx_mtu576.pcap",
  "generated/tls13_mlkem_hrr.pcap",
  "generated/tls12_dhe_rsa.pcap",
  "generated/tls13_x25519mlkem768_mtu576.pcap",
  "public/zeek_zeek/tls-13draft19-early-data.pcap",
  "public/zeek_zeek/tls13_psk_succesfull.pcap",
  "generated/ssh10_mlkem_mtu576.pcap",
  "public/zeek_zeek/server-pre-banner-data.pcap",
];

describe("prefixes of real streams", () => {
  for (const file of TCP) {
    it(file, () => {
      for (const s of tcpStreams(file).slice(0, 2)) {
        const proto = detectTcpProto(s.client);
        if (!proto) continue;
        const full = parseTcpConversation(proto, s.client, s.server);
        for (const side of ["c2s", "s2c"] as const) {
          const b = side === "c2s" ? s.client : s.server;
          let wasComplete = false;
          for (let n = 0; n <= Math.min(b.length, 12000); n++) {
            const part = b.subarray(0, n);
            const r = side === "c2s" ? parseTcpConversation(proto, part, s.server) : parseTcpConversation(proto, s.client, part);
            if (r.complete) expect(full.complete).toBe(true);
            const done = tcpStreamComplete(proto, part, side);
            if (wasComplete) expect(done, `${side} complete at a shorter prefix, not at ${n}`).toBe(true);
            wasComplete = done;
          }
          expect(tcpStreamComplete(proto, b, side)).toBe(true);
        }
      }
    });
  }

  it("QUIC: the first k datagrams of each side", () => {
    for (const file of ["generated/quic_curl_h3.pcap", "public/zeek_zeek/retry.pcap", "public/zeek_zeek/quicv2-echo-443.pcap"]) {
      for (const u of udpFlows(file).filter((f) => f.client.some(isQuicLongHeaderInitial))) {
        for (let i = 0; i <= u.client.length; i++) {
          for (let j = 0; j <= Math.min(u.server.length, 6); j++) parseQuicConversation(u.client.slice(0, i), u.server.slice(0, j));
        }
      }
    }
  });
});
