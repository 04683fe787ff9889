// X.509 certificate fields for the certificates table (RFC 5280), read with the small DER walker in
// der.ts. Why not @peculiar/asn1-x509 or pkijs: both were measured here at 1.5 and 3.5 ms per
// certificate, against a few µs for this; the fields are checked against OpenSSL in test/parse-x509.
import { Der, type Tlv } from "./der.ts";
import { ParseError } from "./errors.ts";
import { ascii, hex, plain, sha256hexCached } from "./reader.ts";

// RFC 4514 §3 short names, plus the ones OpenSSL prints.
const ATTR: Record<string, string> = {
  "2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C",
  "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
  "1.2.840.113549.1.9.1": "emailAddress", "2.5.4.5": "serialNumber", "2.5.4.4": "SN", "2.5.4.42": "GN",
  "2.5.4.12": "title", "2.5.4.17": "postalCode", "2.5.4.15": "businessCategory", "2.5.4.97": "organizationIdentifier",
  "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC", "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
  "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
};

const KEY_ALG: Record<string, string> = {
  "1.2.840.113549.1.1.1": "rsa", "1.2.840.113549.1.1.10": "rsa", "1.2.840.10045.2.1": "ec",
  "1.3.101.112": "ed25519", "1.3.101.113": "ed448", "1.3.101.110": "x25519", "1.3.101.111": "x448",
  "1.2.840.10040.4.1": "dsa", "1.2.840.10046.2.1": "dh",
  "2.16.840.1.101.3.4.3.17": "ml-dsa-44", "2.16.840.1.101.3.4.3.18": "ml-dsa-65", "2.16.840.1.101.3.4.3.19": "ml-dsa-87",
  "2.16.840.1.101.3.4.3.20": "slh-dsa-sha2-128s", "2.16.840.1.101.3.4.3.21": "slh-dsa-sha2-128f",
  "2.16.840.1.101.3.4.3.22": "slh-dsa-sha2-192s", "2.16.840.1.101.3.4.3.23": "slh-dsa-sha2-192f",
  "2.16.840.1.101.3.4.3.24": "slh-dsa-sha2-256s", "2.16.840.1.101.3.4.3.25": "slh-dsa-sha2-256f",
  "2.16.840.1.101.3.4.3.26": "slh-dsa-shake-128s", "2.16.840.1.101.3.4.3.27": "slh-dsa-shake-128f",
  "2.16.840.1.101.3.4.3.28": "slh-dsa-shake-192s", "2.16.840.1.101.3.4.3.29": "slh-dsa-shake-192f",
  "2.16.840.1.101.3.4.3.30": "slh-dsa-shake-256s", "2.16.840.1.101.3.4.3.31": "slh-dsa-shake-256f",
};

// Named curves: name and field size in bits.
const CURVES: Record<string, [string, number]> = {
  "1.2.840.10045.3.1.7": ["P-256", 256], "1.3.132.0.34": ["P-384", 384], "1.3.132.0.35": ["P-521", 521],
  "1.2.840.10045.3.1.1": ["P-192", 192], "1.3.132.0.33": ["P-224", 224], "1.3.132.0.10": ["secp256k1", 256],
  "1.3.36.3.3.2.8.1.1.7": ["brainpoolP256r1", 256], "1.3.36.3.3.2.8.1.1.11": ["brainpoolP384r1", 384],
  "1.3.36.3.3.2.8.1.1.13": ["brainpoolP512r1", 512], "1.2.156.10197.1.301": ["SM2", 256],
};

const SIG_ALG: Record<string, string> = {
  "1.2.840.113549.1.1.2": "md2WithRSAEncryption", "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption", "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption", "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption", "1.2.840.113549.1.1.10": "rsassaPss",
  "1.2.840.10045.4.1": "ecdsa-with-SHA1", "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
  "1.2.840.10045.4.3.2": "ecdsa-with-SHA256", "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512", "1.3.101.112": "Ed25519", "1.3.101.113": "Ed448",
  "1.2.840.10040.4.3": "dsa-with-SHA1", "2.16.840.1.101.3.4.3.2": "dsa-with-SHA256",
  "2.16.840.1.101.3.4.3.17": "ML-DSA-44", "2.16.840.1.101.3.4.3.18": "ML-DSA-65", "2.16.840.1.101.3.4.3.19": "ML-DSA-87",
  "1.2.156.10197.1.501": "SM2-with-SM3",
};

function escape4514(v: string): string {
  let s = v.replace(/[\\,+"<>;]/g, (c) => "\\" + c);
  if (s.startsWith("#") || s.startsWith(" ")) s = "\\" + s;
  if (s.endsWith(" ") && s.length > 1 && !s.endsWith("\\ ")) s = s.slice(0, -1) + "\\ ";
  return s;
}

const utf8 = new TextDecoder("utf-8");
const utf16be = new TextDecoder("utf-16be");

// A directory string's value; anything else as '#' and the hex of its whole encoding (RFC 4514 §2.4).
function stringValue(d: Der, t: Tlv): string {
  const v = d.value(t);
  switch (t.tag) {
    case 0x0c: // UTF8String
      return utf8.decode(v);
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
    case 0x12: // NumericString
    case 0x14: // TeletexString (T61): taken as ISO-8859-1, as most software does
      return ascii(v);
    case 0x1e: // BMPString
      return utf16be.decode(v);
    case 0x1c: { // UniversalString (UTF-32BE)
      let s = "";
      for (let i = 0; i + 3 < v.length; i += 4) {
        const cp = ((v[i]! << 24) >>> 0) + (v[i + 1]! << 16) + (v[i + 2]! << 8) + v[i + 3]!;
        s += String.fromCodePoint(cp <= 0x10ffff ? cp : 0xfffd);
      }
      return s;
    }
    default:
      return "#" + hex(d.buf.subarray(t.start, t.end));
  }
}

// RFC 4514: RDNs last-to-first, multi-valued RDNs joined with "+".
function nameToString(d: Der, name: Tlv): string {
  const rdns: string[] = [];
  for (const set of d.children(name)) {
    if (set.tag !== 0x31) d.fail(set.start, "Name: expected a SET");
    const parts: string[] = [];
    for (const atv of d.children(set)) {
      const [typ, val] = d.children(atv);
      if (!typ || !val) d.fail(atv.start, "Name: attribute without type or value");
      const oid = d.oid(typ);
      const value = stringValue(d, val);
      parts.push(`${ATTR[oid] ?? oid}=${value.startsWith("#") && !isStringTag(val.tag) ? value : escape4514(value)}`);
    }
    rdns.push(parts.join("+"));
  }
  return rdns.reverse().join(",");
}

function isStringTag(tag: number): boolean {
  return tag === 0x0c || tag === 0x13 || tag === 0x16 || tag === 0x1a || tag === 0x12 || tag === 0x14 || tag === 0x1e || tag === 0x1c;
}

function timeValue(d: Der, t: Tlv): Date {
  const s = ascii(d.value(t));
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s))) {
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (t.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(s))) {
    year = Number(m[1]);
  } else d.fail(t.start, `not a UTCTime/GeneralizedTime: ${JSON.stringify(s.slice(0, 20))}`);
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
}

function unsignedBits(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  if (i === b.length) return 0;
  return (b.length - i) * 8 - Math.clz32(b[i]!) + 24;
}

interface KeyInfo {
  key_alg: string;
  key_oid: string;
  key_bits?: number;
  key_curve?: string;
}

function keyInfo(d: Der, spki: Tlv): KeyInfo {
  const [alg, bits] = d.children(spki);
  if (!alg || !bits || alg.tag !== 0x30 || bits.tag !== 0x03) d.fail(spki.start, "SubjectPublicKeyInfo: expected AlgorithmIdentifier and BIT STRING");
  const [oidT, params] = d.children(alg);
  if (!oidT) d.fail(alg.start, "AlgorithmIdentifier without an OID");
  const oid = d.oid(oidT);
  const out: KeyInfo = { key_alg: KEY_ALG[oid] ?? "other", key_oid: oid };
  const key = d.value(bits).subarray(1); // after the unused-bits octet
  if (out.key_alg === "rsa") {
    const inner = new Der(key);
    const seq = inner.expect(0, key.length, 0x30, "RSAPublicKey");
    const n = inner.children(seq)[0];
    if (!n || n.tag !== 0x02) inner.fail(seq.start, "RSAPublicKey without a modulus");
    out.key_bits = unsignedBits(inner.value(n));
  } else if (out.key_alg === "ec" && params) {
    if (params.tag === 0x06) {
      const curve = d.oid(params);
      const c = CURVES[curve];
      out.key_curve = c ? c[0] : curve;
      if (c) out.key_bits = c[1];
    } else if (params.tag === 0x30) {
      out.key_curve = "explicit";
      // Uncompressed point 04||X||Y: the coordinate size gives the field size.
      if (key.length > 1 && key[0] === 4) out.key_bits = ((key.length - 1) / 2) * 8;
    }
  } else if (out.key_alg === "dsa" && params?.tag === 0x30) {
    const p = d.children(params)[0];
    if (p?.tag === 0x02) out.key_bits = unsignedBits(d.value(p));
  } else if (out.key_alg === "ed25519" || out.key_alg === "x25519") {
    out.key_bits = 256;
  } else if (out.key_alg === "ed448") {
    out.key_bits = 456;
  } else if (out.key_alg === "x448") {
    out.key_bits = 448;
  }
  return out;
}

function ipString(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return hex(b);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952: compress the longest run (>= 2) of zero groups, lower-case hex.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const h = groups.map((g) => g.toString(16));
  if (best < 0) return h.join(":");
  return h.slice(0, best).join(":") + "::" + h.slice(best + bestLen).join(":");
}

const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";

function readExtensions(d: Der, wrapper: Tlv, f: Record<string, unknown>): void {
  const seq = d.children(wrapper)[0];
  if (!seq || seq.tag !== 0x30) d.fail(wrapper.start, "extensions: expected a SEQUENCE");
  for (const ext of d.children(seq)) {
    const parts = d.children(ext);
    if (parts.length < 2) d.fail(ext.start, "Extension: too few fields");
    const oid = d.oid(parts[0]!);
    const octets = parts[parts.length - 1]!;
    if (octets.tag !== 0x04) d.fail(octets.start, "Extension: expected an OCTET STRING");
    if (oid === OID_BASIC_CONSTRAINTS) {
      const inner = d.read(octets.valueStart, octets.end);
      const first = d.children(inner)[0];
      f.is_ca = first !== undefined && first.tag === 0x01 && first.end > first.valueStart && d.buf[first.valueStart] !== 0;
    } else if (oid === OID_SUBJECT_ALT_NAME) {
      const inner = d.read(octets.valueStart, octets.end);
      const sans: string[] = [];
      for (const gn of d.children(inner)) {
        const v = d.value(gn);
        if (gn.tag === 0x82) sans.push("dns:" + ascii(v));
        else if (gn.tag === 0x87) sans.push("ip:" + ipString(v));
        else if (gn.tag === 0x81) sans.push("email:" + ascii(v));
        else if (gn.tag === 0x86) sans.push("uri:" + ascii(v));
      }
      f.sans = sans;
    }
  }
}

// The same certificates come with handshake after handshake: keep the fields of the last few (by SHA-256).
const cache = new Map<string, Record<string, unknown>>();
const CACHE_MAX = 1024;

export function certificateFields(der: Uint8Array): Record<string, unknown> {
  const sha256 = sha256hexCached(der);
  const hit = cache.get(sha256);
  if (hit) return copyFields(hit, der);
  const f = parseCertificate(plain(der), sha256);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(sha256, f);
  return copyFields(f, der);
}

// Callers own what they get: fresh Dates and lists, never the cached ones.
function copyFields(f: Record<string, unknown>, der: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = { ...f, not_before: new Date(f.not_before as Date), not_after: new Date(f.not_after as Date), der };
  if (f.sans) out.sans = [...(f.sans as string[])];
  return out;
}

function parseCertificate(der: Uint8Array, sha256: string): Record<string, unknown> {
  const d = new Der(der);
  try {
    const cert = d.expect(0, der.length, 0x30, "Certificate");
    const [tbs, sigAlg] = d.children(cert);
    if (!tbs || !sigAlg || tbs.tag !== 0x30 || sigAlg.tag !== 0x30) d.fail(cert.start, "Certificate: expected tbsCertificate and signatureAlgorithm");
    const fields = d.children(tbs);
    let i = 0;
    if (fields[0]?.tag === 0xa0) i++; // [0] version
    const serial = fields[i++], _sig = fields[i++], issuer = fields[i++], validity = fields[i++], subject = fields[i++], spki = fields[i++];
    if (!serial || serial.tag !== 0x02 || !issuer || issuer.tag !== 0x30 || !validity || validity.tag !== 0x30 ||
        !subject || subject.tag !== 0x30 || !spki || spki.tag !== 0x30 || !_sig) {
      d.fail(tbs.start, "tbsCertificate: fields missing or out of order");
    }
    const [nb, na] = d.children(validity);
    if (!nb || !na) d.fail(validity.start, "Validity: two times expected");
    const sigOidT = d.children(sigAlg)[0];
    if (!sigOidT) d.fail(sigAlg.start, "signatureAlgorithm without an OID");
    const sigOid = d.oid(sigOidT);
    const f: Record<string, unknown> = {
      sha256,
      subject: nameToString(d, subject),
      issuer: nameToString(d, issuer),
      serial: serialHex(d.value(serial)),
      not_before: timeValue(d, nb),
      not_after: timeValue(d, na),
      ...keyInfo(d, spki),
      sig_alg_oid: sigOid,
      sig_alg: SIG_ALG[sigOid] ?? sigOid,
      der,
    };
    for (; i < fields.length; i++) if (fields[i]!.tag === 0xa3) readExtensions(d, fields[i]!, f);
    return f;
  } catch (e) {
    if (e instanceof ParseError) throw e;
    throw new ParseError("x509", 0, `internal: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function serialHex(b: Uint8Array): string {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return hex(b.subarray(i));
}
