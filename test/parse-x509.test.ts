// X.509 fields (capture/parse/der.ts + x509.ts) against OpenSSL's reading of the same DER: certificates from the corpus' handshakes
// (RSA, ECDSA, explicit-curve "curveball", ML-DSA-44) and certificates openssl makes here (Ed25519, Ed448, SANs).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { certificateFields, detectTcpProto, ParseError, parseTcpConversation } from "../capture/parse/index.ts";
import { tcpStreams } from "./parse-corpus.ts";

function openssl(args: string[], input?: Uint8Array): string {
  return execFileSync("openssl", args, { input: input ? Buffer.from(input) : undefined, encoding: "utf8", stdio: ["pipe", "pipe", "ignore"] });
}

interface OpensslView {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  text: string;
}

function opensslView(der: Uint8Array): OpensslView {
  const out = openssl(["x509", "-inform", "DER", "-noout", "-nameopt", "RFC2253", "-nameopt", "-esc_msb", "-subject", "-issuer", "-serial", "-startdate", "-enddate"], der);
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(out)?.[1] ?? "";
  return {
    subject: get("subject"),
    issuer: get("issuer"),
    serial: get("serial").toLowerCase(),
    notBefore: Date.parse(get("notBefore")),
    notAfter: Date.parse(get("notAfter")),
    text: openssl(["x509", "-inform", "DER", "-noout", "-text"], der),
  };
}

function checkAgainstOpenssl(der: Uint8Array) {
  const f = certificateFields(der);
  const o = opensslView(der);
  // OpenSSL spells some RFC 4514 short names in lower case (street): compare attribute types case-blind.
  const types = (n: unknown) => String(n).replace(/(^|,|\+)([A-Za-z]+)=/g, (_m, sep: string, t: string) => sep + t.toLowerCase() + "=");
  expect(types(f.subject)).toBe(types(o.subject));
  expect(types(f.issuer)).toBe(types(o.issuer));
  expect(f.serial).toBe(o.serial);
  expect((f.not_before as Date).getTime()).toBe(o.notBefore);
  expect((f.not_after as Date).getTime()).toBe(o.notAfter);
  const bits = /Public-Key: \((\d+) bit\)/.exec(o.text)?.[1];
  if (f.key_alg === "rsa" || f.key_alg === "ec") expect(f.key_bits).toBe(Number(bits));
  const nist = /NIST CURVE: (\S+)/.exec(o.text)?.[1];
  if (nist) expect(f.key_curve).toBe(nist);
  const sig = /Signature Algorithm: (\S+)/.exec(o.text)![1]!;
  expect([String(f.sig_alg).toLowerCase(), f.sig_alg_oid]).toContain(sig.toLowerCase());
  expect(f.is_ca).toBe(/CA:TRUE/.test(o.text) ? true : /CA:FALSE/.test(o.text) ? false : undefined);
  const sanLine = /X509v3 Subject Alternative Name:.*\n\s*(.*)/.exec(o.text)?.[1];
  if (sanLine) {
    const theirs = sanLine.split(", ").map((s) => s.replace(/^DNS:/, "dns:").replace(/^IP Address:/, "ip:").replace(/^email:/, "email:").replace(/^URI:/, "uri:"))
      // OpenSSL prints IPv6 uncompressed; we give the RFC 5952 form.
      .map((s) => (s.startsWith("ip:") && s.includes(":", 3) ? "ip:" + new URL(`http://[${s.slice(3)}]`).hostname.slice(1, -1) : s))
      .filter((s) => /^(dns|ip|email|uri):/.test(s));
    expect(f.sans).toEqual(theirs);
  }
  expect(f.der).toBe(der);
  return f;
}

function chainOf(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of tcpStreams(file)) {
    if (detectTcpProto(s.client) !== "tls") continue;
    out.push(...parseTcpConversation("tls", s.client, s.server).certificates);
  }
  return out;
}

describe("certificates from the corpus read as OpenSSL reads them", () => {
  it("RSA-2048 leaf and RSA-4096 intermediate", () => {
    const [leaf, ca] = chainOf("generated/tls12_rsa_kx.pcap").map(checkAgainstOpenssl);
    expect(leaf).toMatchObject({ key_alg: "rsa", key_bits: 2048, key_oid: "1.2.840.113549.1.1.1" });
    expect(ca).toMatchObject({ key_alg: "rsa", key_bits: 4096, is_ca: true });
  });

  it("ECDSA P-256", () => {
    const [leaf] = chainOf("generated/tls12_ecdhe_ecdsa.pcap").map(checkAgainstOpenssl);
    expect(leaf).toMatchObject({ key_alg: "ec", key_curve: "P-256", key_bits: 256 });
    for (const der of chainOf("public/zeek_zeek/ecdsa-cert.pcap")) checkAgainstOpenssl(der);
  });

  it("real public chains", () => {
    const ders = [...chainOf("public/zeek_zeek/missing-intermediate.pcap"), ...chainOf("public/FoxIO-LLC_ja4/tls-alpn-h2.pcap"), ...chainOf("public/zeek_zeek/tls1.2.pcap"),
      // 300 KB of SANs: more ASN.1 nodes than @peculiar/asn1-schema accepts.
      ...chainOf("public/zeek_zeek/tls-fragmented-handshake.pcap.gz")];
    expect(ders.length).toBeGreaterThan(3);
    for (const der of ders) checkAgainstOpenssl(der);
  });

  it("ML-DSA-44 by name", () => {
    const [der] = chainOf("public/zeek_zeek/ml-dsa-44-cert.pcap");
    const f = certificateFields(der!);
    expect(f).toMatchObject({ key_alg: "ml-dsa-44", key_oid: "2.16.840.1.101.3.4.3.17", sig_alg: "ML-DSA-44", sig_alg_oid: "2.16.840.1.101.3.4.3.17" });
    expect(f.subject).toBe(opensslView(der!).subject);
  });

  it("explicit curve parameters (CVE-2020-0601 'curveball')", () => {
    const ders = chainOf("public/FoxIO-LLC_ja4/badcurveball.pcap");
    const fields = ders.map((d) => certificateFields(d));
    expect(fields.some((f) => f.key_curve === "explicit")).toBe(true);
    for (const d of ders) expect(certificateFields(d).subject).toBe(opensslView(d).subject);
  });
});

describe("certificates made by openssl here", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cs-x509-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const make = (name: string, keyArgs: string[], extra: string[] = []): Uint8Array => {
    const key = path.join(dir, `${name}.key`), crt = path.join(dir, `${name}.der`);
    openssl(["genpkey", ...keyArgs, "-out", key]);
    openssl(["req", "-new", "-x509", "-key", key, "-days", "30", "-subj", `/C=DE/O=Crypto, Scope\\+Co/CN=${name}.test`, "-outform", "DER", "-out", crt, ...extra]);
    return Uint8Array.from(readFileSync(crt));
  };

  it("Ed25519 and Ed448", () => {
    expect(checkAgainstOpenssl(make("ed25519", ["-algorithm", "ed25519"]))).toMatchObject({ key_alg: "ed25519", sig_alg: "Ed25519", key_bits: 256 });
    expect(checkAgainstOpenssl(make("ed448", ["-algorithm", "ed448"]))).toMatchObject({ key_alg: "ed448", sig_alg: "Ed448" });
  });

  it("P-384 with DNS/IP/email/URI SANs, a CA flag and RFC 4514 escaping", () => {
    const der = make("p384", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"], [
      "-addext", "subjectAltName=DNS:a.example,IP:192.0.2.7,IP:2001:db8::1,email:pki@example.org,URI:https://example.org/x",
      "-addext", "basicConstraints=critical,CA:TRUE",
    ]);
    const f = checkAgainstOpenssl(der);
    expect(f).toMatchObject({ key_curve: "P-384", key_bits: 384, is_ca: true, sig_alg: "ecdsa-with-SHA256" });
    expect(f.subject).toBe("CN=p384.test,O=Crypto\\, Scope\\+Co,C=DE");
  });

  it("RSA-3072", () => {
    const f = checkAgainstOpenssl(make("rsa3072", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"]));
    expect(f).toMatchObject({ key_alg: "rsa", key_bits: 3072, sig_alg: "sha256WithRSAEncryption" });
    writeFileSync(path.join(dir, "ok"), "");
  });

  it("not a certificate: ParseError", () => {
    expect(() => certificateFields(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00))).toThrow(ParseError);
    expect(() => certificateFields(new Uint8Array(0))).toThrow(ParseError);
  });
});
