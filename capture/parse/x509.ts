// X.509 certificate fields for the certificates table. DER structure through @peculiar/asn1-x509 (a
// maintained ASN.1 schema of RFC 5280, already a dependency of @peculiar/x509); names and key sizes here.
import { createHash } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  BasicConstraints, Certificate, SubjectAlternativeName, id_ce_basicConstraints, id_ce_subjectAltName,
  type Name,
} from "@peculiar/asn1-x509";
import { ECParameters } from "@peculiar/asn1-ecc";
import { RSAPublicKey } from "@peculiar/asn1-rsa";
import { ParseError } from "./errors.ts";
import { hex } from "./reader.ts";

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
  let s = v.replace(/[\\,+"<>;=]/g, (c) => "\\" + c);
  if (s.startsWith("#") || s.startsWith(" ")) s = "\\" + s;
  if (s.endsWith(" ") && s.length > 1) s = s.slice(0, -1) + "\\ ";
  return s;
}

// RFC 4514: RDNs last-to-first, multi-valued RDNs joined with "+".
export function nameToString(name: Name): string {
  const rdns: string[] = [];
  for (const rdn of name) {
    rdns.push(
      rdn.map((atv) => {
        const type = ATTR[atv.type] ?? atv.type;
        const value = atv.value.anyValue ? "#" + hex(new Uint8Array(atv.value.anyValue)) : escape4514(atv.value.toString());
        return `${type}=${value}`;
      }).join("+"),
    );
  }
  return rdns.reverse().join(",");
}

function unsignedBits(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  if (i === b.length) return 0;
  return (b.length - i) * 8 - Math.clz32(b[i]!) + 24;
}

function keyInfo(cert: Certificate): { key_alg: string; key_oid: string; key_bits?: number; key_curve?: string } {
  const spki = cert.tbsCertificate.subjectPublicKeyInfo;
  const oid = spki.algorithm.algorithm;
  const out: { key_alg: string; key_oid: string; key_bits?: number; key_curve?: string } = { key_alg: KEY_ALG[oid] ?? "other", key_oid: oid };
  const key = new Uint8Array(spki.subjectPublicKey);
  if (out.key_alg === "rsa") {
    const rsa = AsnConvert.parse(key, RSAPublicKey);
    out.key_bits = unsignedBits(new Uint8Array(rsa.modulus));
  } else if (out.key_alg === "ec" && spki.algorithm.parameters) {
    const params = AsnConvert.parse(spki.algorithm.parameters, ECParameters);
    if (params.namedCurve) {
      const c = CURVES[params.namedCurve];
      out.key_curve = c ? c[0] : params.namedCurve;
      if (c) out.key_bits = c[1];
    } else if (params.specifiedCurve) {
      out.key_curve = "explicit";
      // Uncompressed point 04||X||Y: the coordinate size gives the field size.
      if (key.length > 1 && key[0] === 4) out.key_bits = ((key.length - 1) / 2) * 8;
    }
  } else if (out.key_alg === "ed25519" || out.key_alg === "x25519") {
    out.key_bits = 256;
  } else if (out.key_alg === "ed448") {
    out.key_bits = 456;
  } else if (out.key_alg === "x448") {
    out.key_bits = 448;
  }
  return out;
}

function ipString(v: string | ArrayBuffer | undefined): string {
  return typeof v === "string" ? v : v ? hex(new Uint8Array(v)) : "";
}

// The same certificates come with handshake after handshake: keep the fields of the last few (by SHA-256).
const cache = new Map<string, Record<string, unknown>>();
const CACHE_MAX = 1024;

export function certificateFields(der: Uint8Array): Record<string, unknown> {
  const sha256 = createHash("sha256").update(der).digest("hex");
  const hit = cache.get(sha256);
  if (hit) return copyFields(hit, der);
  const f = parseCertificate(der, sha256);
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
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch (e) {
    throw new ParseError("x509", 0, `not a DER certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const tbs = cert.tbsCertificate;
    const f: Record<string, unknown> = {
      sha256,
      subject: nameToString(tbs.subject),
      issuer: nameToString(tbs.issuer),
      serial: serialHex(new Uint8Array(tbs.serialNumber)),
      not_before: tbs.validity.notBefore.getTime(),
      not_after: tbs.validity.notAfter.getTime(),
      ...keyInfo(cert),
      sig_alg_oid: cert.signatureAlgorithm.algorithm,
      sig_alg: SIG_ALG[cert.signatureAlgorithm.algorithm] ?? cert.signatureAlgorithm.algorithm,
      der,
    };
    for (const ext of tbs.extensions ?? []) {
      if (ext.extnID === id_ce_basicConstraints) {
        f.is_ca = AsnConvert.parse(ext.extnValue, BasicConstraints).cA;
      } else if (ext.extnID === id_ce_subjectAltName) {
        const sans: string[] = [];
        for (const gn of AsnConvert.parse(ext.extnValue, SubjectAlternativeName)) {
          if (gn.dNSName !== undefined) sans.push("dns:" + gn.dNSName);
          else if (gn.iPAddress !== undefined) sans.push("ip:" + ipString(gn.iPAddress as unknown as string));
          else if (gn.rfc822Name !== undefined) sans.push("email:" + gn.rfc822Name);
          else if (gn.uniformResourceIdentifier !== undefined) sans.push("uri:" + gn.uniformResourceIdentifier);
        }
        f.sans = sans;
      }
    }
    return f;
  } catch (e) {
    if (e instanceof ParseError) throw e;
    throw new ParseError("x509", 0, `malformed certificate content: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function serialHex(b: Uint8Array): string {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return hex(b.subarray(i));
}
