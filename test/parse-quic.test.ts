// QUIC parser on real captures: Initial keys from the client's DCID, header protection removed, AES-GCM
// opened, CRYPTO frames reassembled; the hellos inside are compared with tshark's dissection.
import { describe, expect, it } from "vitest";
import { isQuicLongHeaderInitial, isQuicLongHeaderRetry, parseClientHello, parseQuicConversation, quicInitialCrypto, splitHandshakeMessages } from "../capture/parse/index.ts";
import { QUIC_V2 } from "../capture/parse/quic-crypto.ts";
import { cryptoFrame, sealInitial } from "./parse-quic-seal.ts";
import { conversationRows, tlsDifferences, tsvRows, udpFlows, type UdpFlow } from "./parse-corpus.ts";

const FILES = [
  "generated/quic_curl_h3.pcap",
  "generated/quic_curl_h3_x25519.pcap",
  "generated/quic_openssl_sclient.pcap",
  "public/zeek_zeek/chromium-115.0.5790.110-api-cirrus-com.pcap",
  "public/zeek_zeek/curl-8.1.2-dev-http3-www-google-de.pcap",
  "public/zeek_zeek/quic-multiple-initial-fragmented-crypto.pcap",
  "public/zeek_zeek/quicv2-http3-443.pcap",
  "public/zeek_zeek/quicv2-echo-443.pcap",
  "public/zeek_zeek/handshake.pcap",
  "public/zeek_zeek/retry.pcap",
  "public/FoxIO-LLC_ja4/chrome-cloudflare-quic-with-secrets.pcapng",
  "public/FoxIO-LLC_ja4/quic-with-several-tls-frames.pcapng",
];

function quicFlows(file: string): UdpFlow[] {
  return udpFlows(file).filter((u) => u.client.some(isQuicLongHeaderInitial));
}

describe("QUIC Initials agree with tshark", () => {
  for (const file of FILES) {
    it(file, () => {
      const rows = tsvRows(file).filter((r) => r.transport === "udp");
      const flows = quicFlows(file);
      expect(flows.length).toBeGreaterThan(0);
      for (const u of flows) {
        const r = parseQuicConversation(u.client, u.server);
        expect(r.proto).toBe("quic");
        const crypto = quicInitialCrypto(u.client, u.server);
        const ch = splitHandshakeMessages(crypto.client).messages.find((m) => m.type === 1);
        expect(ch, "a ClientHello was decrypted").toBeDefined();
        const serverPort = Number(rows.find((x) => Number(x.srcport) === u.clientPort)?.dstport);
        const conv = conversationRows(rows, u.clientPort, serverPort);
        expect(conv.client.length).toBeGreaterThan(0);
        expect(tlsDifferences(r.fields, conv, parseClientHello(ch!.body).extensions)).toEqual([]);
        expect(r.complete).toBe(conv.server.some((x) => x["tls.handshake.type"] === "2"));
        expect(r.fields.ja4).toMatch(/^q13/);
      }
    });
  }
});

describe("QUIC specifics", () => {
  it("v1: a post-quantum ClientHello larger than a datagram, reassembled from two Initial packets", () => {
    const [u] = quicFlows("generated/quic_curl_h3.pcap");
    const crypto = quicInitialCrypto(u!.client, u!.server);
    expect(crypto.version).toBe(1);
    const ch = splitHandshakeMessages(crypto.client).messages[0]!;
    expect(ch.type).toBe(1);
    expect(ch.body.length + 4).toBeGreaterThan(Math.max(...u!.client.map((d) => d.length)));
    const r = parseQuicConversation(u!.client, u!.server);
    expect(r.fields).toMatchObject({ quic_version: 1, key_share_groups: [0x11ec, 0x001d], alpn_offered: ["h3"], version_chosen: 0x0304 });
  });

  it("v2 (RFC 9369): its own salt, labels and packet types", () => {
    const [u] = quicFlows("public/zeek_zeek/quicv2-http3-443.pcap");
    const r = parseQuicConversation(u!.client, u!.server);
    expect(r.fields.quic_version).toBe(0x6b3343cf);
    expect(r.complete).toBe(true);
  });

  it("Retry: the client's next Initial uses keys from the Retry's connection id", () => {
    const [u] = quicFlows("public/zeek_zeek/retry.pcap");
    // A v1 Retry is long-header type 3.
    expect(u!.server.some((d) => (d[0]! & 0xf0) === 0xf0)).toBe(true);
    expect(u!.server.filter(isQuicLongHeaderRetry).length).toBe(u!.server.filter((d) => (d[0]! & 0xf0) === 0xf0).length);
    expect(u!.client.some(isQuicLongHeaderRetry)).toBe(false);
    const r = parseQuicConversation(u!.client, u!.server);
    expect(r.complete).toBe(true);
    // Without the Retry the server's Initials cannot be opened.
    const noRetry = parseQuicConversation(u!.client, u!.server.filter((d) => (d[0]! & 0xf0) !== 0xf0));
    expect(noRetry.fields.suite_chosen).toBeUndefined();
  });

  it("compatible version negotiation: a v1 ClientHello answered by a v2 server Initial", () => {
    const [u] = quicFlows("generated/quic_curl_h3.pcap");
    const real = quicInitialCrypto(u!.client, u!.server);
    const dcid = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);
    const client = sealInitial({ dcid, payload: cryptoFrame(0, real.client) });
    const server = sealInitial({ version: QUIC_V2, side: "server", dcid: Uint8Array.of(1, 1), keyDcid: dcid, scid: Uint8Array.of(5, 5, 5, 5), payload: cryptoFrame(0, real.server) });
    // The server Initial's own DCID is the client's SCID; the keys still come from the client's first DCID.
    const r = parseQuicConversation([client], [server]);
    expect(r.complete).toBe(true);
    expect(r.fields.quic_version).toBe(1);
    expect(r.fields.suite_chosen).toBe(parseQuicConversation(u!.client, u!.server).fields.suite_chosen);
  });

  it("isQuicLongHeaderInitial", () => {
    const [u] = quicFlows("generated/quic_curl_h3_x25519.pcap");
    expect(isQuicLongHeaderInitial(u!.client[0]!)).toBe(true);
    expect(isQuicLongHeaderInitial(u!.client[0]!.subarray(0, 4))).toBe(false);
    expect(isQuicLongHeaderInitial(Uint8Array.of(0x40, 1, 2, 3))).toBe(false);
    expect(isQuicLongHeaderInitial(new Uint8Array(0))).toBe(false);
  });

  it("truncated and damaged datagrams: fewer fields, complete=false, no exception", () => {
    const [u] = quicFlows("generated/quic_curl_h3.pcap");
    const cut = u!.client.map((d) => d.subarray(0, 600));
    expect(parseQuicConversation(cut, u!.server).complete).toBe(false);
    const flipped = u!.client.map((d) => {
      const c = Uint8Array.from(d);
      c[c.length - 20]! ^= 1; // breaks the AEAD tag
      return c;
    });
    const r = parseQuicConversation(flipped, u!.server);
    expect(r.fields.sni).toBeUndefined();
    expect(parseQuicConversation([], []).complete).toBe(false);
  });
});
