// TLS parser on real handshakes: tshark reassembles each TCP stream, our parser reads the bytes, and every
// field is compared with tshark's own dissection (the corpus' NAME.tshark.tsv).
import { execFileSync } from "node:child_process";
import { createHash, getDiffieHellman } from "node:crypto";
import { describe, expect, it } from "vitest";
import { detectTcpProto, parseClientHello, parseTcpConversation, ParseError, tcpStreamComplete } from "../capture/parse/index.ts";
import { HS, scanTlsRecords } from "../capture/parse/tls.ts";
import { ffdheGroupOf } from "../capture/parse/tls-kx.ts";
import { conversationRows, corpusFile, tcpStreams, tlsDifferences, tsvRows, type TcpStream } from "./parse-corpus.ts";

const FILES = [
  "generated/curl35_mlkem.pcap",
  "generated/curl_tls12.pcap",
  "generated/curl_tls13.pcap",
  "generated/gnutls_cli_openssl_srv.pcap",
  "generated/gnutls_tls12.pcap",
  "generated/gnutls_tls13.pcap",
  "generated/gnutls_to_openssl35_tls12.pcap",
  "generated/openssl30_to_35.pcap",
  "generated/python_tls12.pcap",
  "generated/tls12_dhe_rsa.pcap",
  "generated/tls12_ecdhe_ecdsa.pcap",
  "generated/tls12_ecdhe_rsa.pcap",
  "generated/tls12_ecdhe_rsa_tso.pcap",
  "generated/tls12_rsa_kx.pcap",
  "generated/tls12_rsa_kx_mtu576.pcap",
  "generated/tls13_ffdhe3072.pcap",
  "generated/tls13_hrr_p256.pcap",
  "generated/tls13_ipv6.pcap",
  "generated/tls13_mlkem1024.pcap",
  "generated/tls13_mlkem_hrr.pcap",
  "generated/tls13_secp256r1mlkem768.pcap",
  "generated/tls13_x25519mlkem768.pcap",
  "generated/tls13_x25519mlkem768_mtu576.pcap",
  "public/FoxIO-LLC_ja4/tls-handshake.pcapng",
  "public/FoxIO-LLC_ja4/tls12.pcap",
  "public/FoxIO-LLC_ja4/tls-non-ascii-alpn.pcapng",
  "public/FoxIO-LLC_ja4/badcurveball.pcap",
  "public/zeek_zeek/chrome-1250-tls-x25519-kyber.pcap",
  "public/zeek_zeek/openjdk-25.0.2-zeek.org.pcap",
  "public/zeek_zeek/hrr.pcap",
  "public/zeek_zeek/tls13-ech.pcap",
  "public/zeek_zeek/tls13_psk_succesfull.pcap",
  "public/zeek_zeek/tls-13draft19-early-data.pcap",
  "public/zeek_zeek/tls13draft23-chrome67.0.3368.0-canary.pcap",
  "public/zeek_zeek/tls1_1.pcap",
  "public/zeek_zeek/dhe.pcap",
  "public/zeek_zeek/ecdhe.pcap",
  "public/zeek_zeek/ecdsa-cert.pcap",
  "public/zeek_zeek/client-certificate.pcap",
  "public/zeek_zeek/missing-intermediate.pcap",
  "public/zeek_zeek/google-duplicate.pcap",
];

// Where tshark's dissection is the one that is short.
const TSHARK_MISSES_FINAL_HELLO: Record<string, string> = {
  "public/zeek_zeek/hrr.pcap": "the final ServerHello follows an out-of-order segment; tshark's TLS dissector does not show it (follow,tcp does)",
};

function tlsStreams(file: string): TcpStream[] {
  return tcpStreams(file).filter((s) => detectTcpProto(s.client) === "tls");
}

function firstClientHello(s: TcpStream) {
  const m = scanTlsRecords(s.client, "c2s").messages.find((x) => x.type === HS.client_hello)!;
  return parseClientHello(m.body);
}

// DER certificates of the server's Certificate message as tshark sees them.
function tsharkCertificates(file: string, serverPort: number, clientPort: number): Uint8Array[][] {
  const out = execFileSync("tshark", ["-r", corpusFile(file), "-Y", `tls.handshake.type == 11 && tcp.srcport == ${serverPort} && tcp.dstport == ${clientPort}`,
    "-T", "fields", "-e", "tls.handshake.certificate"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return out.split("\n").filter(Boolean).map((l) => l.split(",").map((h) => Uint8Array.from(Buffer.from(h.replaceAll(":", ""), "hex"))));
}

describe("TLS handshakes agree with tshark field by field", () => {
  for (const file of FILES) {
    it(file, () => {
      const rows = tsvRows(file).filter((r) => r.kind === "tls" && r.transport === "tcp");
      const streams = tlsStreams(file);
      expect(streams.length).toBeGreaterThan(0);
      let compared = 0;
      for (const s of streams) {
        const conv = conversationRows(rows, s.clientPort, s.serverPort);
        if (conv.client.length + conv.server.length === 0) continue;
        const r = parseTcpConversation("tls", s.client, s.server);
        expect(r.proto).toBe("tls");
        expect({ stream: s.stream, diffs: tlsDifferences(r.fields, conv, firstClientHello(s).extensions) }).toEqual({ stream: s.stream, diffs: [] });
        const hasBothHellos = conv.client.some((x) => x["tls.handshake.type"] === "1") &&
          conv.server.some((x) => x["tls.handshake.type"] === "2" && !x["tls.handshake.extensions_key_share_selected_group"]);
        if (TSHARK_MISSES_FINAL_HELLO[file]) {
          // We read a final ServerHello that tshark's dissector lost; it must carry the retried group.
          expect(r.complete).toBe(true);
          expect(r.fields.group_chosen).toBe(Number(conv.server.find((x) => x["tls.handshake.extensions_key_share_selected_group"])?.["tls.handshake.extensions_key_share_selected_group"]));
        } else expect(r.complete).toBe(hasBothHellos);
        compared++;
      }
      expect(compared).toBeGreaterThan(0);
    });
  }
});

describe("TLS specifics", () => {
  it("TLS 1.2 DHE: the signature scheme, and no group claimed for a non-RFC 7919 prime", () => {
    const [s] = tlsStreams("generated/tls12_dhe_rsa.pcap");
    const r = parseTcpConversation("tls", s!.client, s!.server);
    expect(r.fields).toMatchObject({ version_chosen: 0x0303, suite_chosen: 0x009f, sig_alg_chosen: 0x0804 });
    // OpenSSL 3.0's s_server sends the RFC 3526 2048-bit MODP prime, which has no TLS group code point.
    const ske = scanTlsRecords(s!.server, "s2c").messages.find((m) => m.type === HS.server_key_exchange)!;
    const pLen = (ske.body[0]! << 8) | ske.body[1]!;
    expect(Buffer.from(ske.body.subarray(2, 2 + pLen)).equals(getDiffieHellman("modp14").getPrime())).toBe(true);
    expect(r.fields.group_chosen).toBeUndefined();
  });

  it("the ffdhe prime table is what openssl calls ffdhe2048..8192", () => {
    for (const [i, name] of ["ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"].entries()) {
      const pem = execFileSync("openssl", ["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", `group:${name}`], { encoding: "utf8" });
      const der = Buffer.from(pem.split("\n").filter((l) => !l.startsWith("-----")).join(""), "base64");
      // DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER }
      let o = 1;
      o += der[o]! & 0x80 ? 1 + (der[o]! & 0x7f) : 1;
      o++; // INTEGER tag
      let len = der[o++]!;
      if (len & 0x80) {
        const n = len & 0x7f;
        len = 0;
        for (let k = 0; k < n; k++) len = len * 256 + der[o++]!;
      }
      const p = Uint8Array.from(der.subarray(o, o + len));
      expect(ffdheGroupOf(p)).toBe(0x0100 + i);
      expect(ffdheGroupOf(getDiffieHellman("modp14").getPrime())).toBeUndefined();
    }
  });

  it("HelloRetryRequest to X25519MLKEM768: retry flagged, final group, second ClientHello read after the dummy CCS", () => {
    const [s] = tlsStreams("generated/tls13_mlkem_hrr.pcap");
    const r = parseTcpConversation("tls", s!.client, s!.server);
    expect(r.fields).toMatchObject({ hello_retry: true, group_chosen: 0x11ec, key_share_groups: [29], version_chosen: 0x0304 });
    expect(r.complete).toBe(true);
    const hellos = scanTlsRecords(s!.client, "c2s", true).messages.filter((m) => m.type === HS.client_hello);
    expect(hellos.length).toBe(2);
    expect(parseClientHello(hellos[1]!.body).keyShareGroups).toEqual([0x11ec]);
    const serverHellos = scanTlsRecords(s!.server, "s2c").messages.filter((m) => m.type === HS.server_hello);
    expect(serverHellos.length).toBe(2);
    expect(tcpStreamComplete("tls", s!.client, "c2s")).toBe(true);
    expect(tcpStreamComplete("tls", s!.server, "s2c")).toBe(true);
  });

  it("certificates: the DER chain equals tshark's, over records split across many segments", () => {
    for (const file of ["generated/tls12_rsa_kx_mtu576.pcap", "public/zeek_zeek/missing-intermediate.pcap", "generated/tls12_ecdhe_ecdsa.pcap"]) {
      for (const s of tlsStreams(file)) {
        const r = parseTcpConversation("tls", s.client, s.server);
        const theirs = tsharkCertificates(file, s.serverPort, s.clientPort)[0] ?? [];
        expect(r.certificates.map((c) => Buffer.from(c).toString("hex"))).toEqual(theirs.map((c) => Buffer.from(c).toString("hex")));
        if (theirs.length > 0) expect(r.fields.leaf_cert_sha256).toBe(createHash("sha256").update(theirs[0]!).digest("hex"));
      }
    }
  });

  it("a Certificate fragmented over hundreds of records (tshark 4.0 misses it) is reassembled", () => {
    const [s] = tlsStreams("public/zeek_zeek/tls-fragmented-handshake.pcap.gz");
    const r = parseTcpConversation("tls", s!.client, s!.server);
    expect(r.fields.cert_count).toBe(1);
    // The DER is whole: openssl reads it.
    const text = execFileSync("openssl", ["x509", "-inform", "DER", "-noout", "-fingerprint", "-sha256"], { input: Buffer.from(r.certificates[0]!), encoding: "utf8" });
    expect(text.replace(/[^0-9A-F]/g, "").slice(-64).toLowerCase()).toBe(r.fields.leaf_cert_sha256);
  });

  it("mutual TLS 1.2: the client's own chain, as tshark sees it", () => {
    const file = "public/zeek_zeek/client-certificate.pcap";
    const [s] = tlsStreams(file);
    const r = parseTcpConversation("tls", s!.client, s!.server);
    const theirs = tsharkCertificates(file, s!.clientPort, s!.serverPort)[0]!;
    expect(theirs.length).toBe(2);
    expect((r.clientCertificates ?? []).map((c) => Buffer.from(c).toString("hex"))).toEqual(theirs.map((c) => Buffer.from(c).toString("hex")));
    expect(r.certificates.length).toBe(3);
  });

  it("ECH, PSK resumption and key-share groups", () => {
    const ech = tlsStreams("public/zeek_zeek/tls13-ech.pcap").map((s) => parseTcpConversation("tls", s.client, s.server).fields);
    expect(ech.some((f) => f.ech === true)).toBe(true);
    const psk = tlsStreams("public/zeek_zeek/tls13_psk_succesfull.pcap").map((s) => parseTcpConversation("tls", s.client, s.server).fields);
    expect(psk.map((f) => f.resumed)).toContain(true);
    const [k] = tlsStreams("generated/tls13_x25519mlkem768.pcap");
    expect(parseTcpConversation("tls", k!.client, k!.server).fields).toMatchObject({ key_share_groups: [0x11ec, 0x001d], group_chosen: 0x11ec });
  });

  it("stream completeness: a TLS 1.3 client may still be asked to retry; a TLS 1.2 client is done at its CCS", () => {
    const [s13] = tlsStreams("generated/tls13_x25519.pcap");
    const chLen = 5 + ((s13!.client[3]! << 8) | s13!.client[4]!);
    expect(tcpStreamComplete("tls", s13!.client.subarray(0, chLen), "c2s")).toBe(false);
    expect(tcpStreamComplete("tls", s13!.client, "c2s")).toBe(true);
    // The server is done at its (TLS 1.3) ServerHello: the rest is encrypted.
    const shLen = 5 + ((s13!.server[3]! << 8) | s13!.server[4]!);
    expect(tcpStreamComplete("tls", s13!.server.subarray(0, shLen), "s2c")).toBe(true);
    expect(tcpStreamComplete("tls", s13!.server.subarray(0, shLen - 1), "s2c")).toBe(false);
    const [s12] = tlsStreams("generated/tls12_ecdhe_rsa.pcap");
    const ch12 = 5 + ((s12!.client[3]! << 8) | s12!.client[4]!);
    expect(tcpStreamComplete("tls", s12!.client.subarray(0, ch12), "c2s")).toBe(false);
    // Records up to and including the client's ChangeCipherSpec (20).
    let p = 0;
    while (s12!.client[p] !== 20) p += 5 + ((s12!.client[p + 3]! << 8) | s12!.client[p + 4]!);
    const ccsEnd = p + 6;
    expect(tcpStreamComplete("tls", s12!.client.subarray(0, ccsEnd - 1), "c2s")).toBe(false);
    expect(tcpStreamComplete("tls", s12!.client.subarray(0, ccsEnd), "c2s")).toBe(true);
  });

  it("truncated input: what was read so far, complete=false, no exception", () => {
    const [s] = tlsStreams("generated/tls12_rsa_kx_mtu576.pcap");
    const full = parseTcpConversation("tls", s!.client, s!.server);
    for (const cut of [0, 3, 10, 60, 200, 700, 1500, s!.server.length - 1]) {
      const r = parseTcpConversation("tls", s!.client, s!.server.subarray(0, cut));
      expect(r.fields.suites_offered).toEqual(full.fields.suites_offered);
      expect(r.fields.cert_count === undefined || r.fields.cert_count === full.fields.cert_count).toBe(true);
      if (cut < 60) expect(r.complete).toBe(false);
    }
    expect(parseTcpConversation("tls", s!.client.subarray(0, 100), new Uint8Array(0)).complete).toBe(false);
  });

  it("malformed: a ParseError with protocol and offset", () => {
    const [s] = tlsStreams("generated/tls12_ecdhe_rsa.pcap");
    const bad = Uint8Array.from(s!.client);
    bad[5 + 4 + 34] = 200; // session id length 200 > 32
    let err: unknown;
    try {
      parseTcpConversation("tls", bad, s!.server);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).protocol).toBe("tls");
    expect((err as ParseError).offset).toBeGreaterThan(0);
  });

  it("detectTcpProto", () => {
    expect(detectTcpProto(Uint8Array.of(0x16, 3, 1, 0, 5))).toBe("tls");
    expect(detectTcpProto(new TextEncoder().encode("SSH-2.0-x\r\n"))).toBe("ssh");
    expect(detectTcpProto(new TextEncoder().encode("GET / HTTP/1.1"))).toBe(null);
    expect(detectTcpProto(Uint8Array.of(0x17, 3, 3))).toBe(null);
    expect(detectTcpProto(new Uint8Array(0))).toBe(null);
  });
});

describe("TLS peers that do not answer in TLS", () => {
  it("a plaintext server reply keeps the ClientHello; a non-TLS client is a ParseError", () => {
    const [s] = tlsStreams("generated/tls13_x25519.pcap");
    const http = new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n");
    const r = parseTcpConversation("tls", s!.client, http);
    expect(r.complete).toBe(false);
    expect(r.fields.sni).toBe(parseTcpConversation("tls", s!.client, s!.server).fields.sni);
    expect(r.fields.suite_chosen).toBeUndefined();
    expect(tcpStreamComplete("tls", http, "s2c")).toBe(true);
    expect(() => parseTcpConversation("tls", http, s!.server)).toThrow(ParseError);
  });
});

describe("TLS record layer", () => {
  it("the same handshake re-recorded one byte per record gives the same fields", () => {
    const [s] = tlsStreams("generated/tls12_rsa_kx.pcap");
    const rerecord = (b: Uint8Array, dir: "c2s" | "s2c") => {
      const out: number[] = [];
      for (const m of scanTlsRecords(b, dir).messages) {
        const msg = [m.type, (m.body.length >> 16) & 0xff, (m.body.length >> 8) & 0xff, m.body.length & 0xff, ...m.body];
        for (const x of msg) out.push(22, 3, 3, 0, 1, x);
      }
      return Uint8Array.from(out);
    };
    const a = parseTcpConversation("tls", s!.client, s!.server);
    const b = parseTcpConversation("tls", rerecord(s!.client, "c2s"), rerecord(s!.server, "s2c"));
    expect(b.fields).toEqual(a.fields);
    expect(b.certificates.map((c) => Buffer.from(c).toString("hex"))).toEqual(a.certificates.map((c) => Buffer.from(c).toString("hex")));
    expect(b.complete).toBe(true);
  });
});
