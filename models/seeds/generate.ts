// Writes the registry seeds (models/seeds/*.csv) with their quantum-risk classification.
// Run once by hand: `node --import tsx models/seeds/generate.ts`; the CSVs are committed and the
// models only ever read the CSVs. TLS cipher suite NAMES for the IANA-assigned ranges come from
// Wireshark's copy of the IANA registry (`tshark -G values`); everything else (groups, signature
// schemes, versions, SSH and X.509 names, all classifications) is written out below. See SOURCES.md.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

type QStatus = "shor-broken" | "grover-weakened" | "post-quantum" | "hybrid" | "none";
type Cnsa = "approved" | "transitional" | "not-approved";

interface Classified {
  family: string;
  classical_bits: number | null;
  nist_pq_level: number | null;
  quantum_status: QStatus;
  deprecated_after: number | null;
  disallowed_after: number | null;
  cnsa2: Cnsa;
}

// NIST IR 8547 (ipd) for quantum-vulnerable public-key algorithms; below 112 bits SP 800-131A already
// disallowed them (after 2013).
function ir8547(bits: number | null): Pick<Classified, "deprecated_after" | "disallowed_after"> {
  if (bits === null) return { deprecated_after: null, disallowed_after: 2035 };
  if (bits < 112) return { deprecated_after: 2010, disallowed_after: 2013 };
  if (bits < 128) return { deprecated_after: 2030, disallowed_after: 2035 };
  return { deprecated_after: null, disallowed_after: 2035 };
}

function shor(family: string, bits: number | null, cnsa2: Cnsa = "not-approved"): Classified {
  return { family, classical_bits: bits, nist_pq_level: 0, quantum_status: "shor-broken", ...ir8547(bits), cnsa2 };
}
function pq(family: string, level: number, bits: number, cnsa2: Cnsa = "not-approved"): Classified {
  return { family, classical_bits: bits, nist_pq_level: level, quantum_status: "post-quantum", deprecated_after: null, disallowed_after: null, cnsa2 };
}
function hybrid(family: string, level: number, bits: number, cnsa2: Cnsa = "not-approved"): Classified {
  return { family, classical_bits: bits, nist_pq_level: level, quantum_status: "hybrid", deprecated_after: null, disallowed_after: null, cnsa2 };
}
// Symmetric primitives: Grover halves the exponent; SP 800-131A dates only for the weak ones.
function sym(family: string, bits: number, cnsa2: Cnsa = "not-approved"): Classified {
  const weak = bits < 112;
  return {
    family,
    classical_bits: bits,
    nist_pq_level: null,
    quantum_status: bits === 0 ? "none" : "grover-weakened",
    deprecated_after: weak ? 2010 : bits < 128 ? 2023 : null,
    disallowed_after: weak ? 2013 : bits < 128 ? 2023 : null,
    cnsa2,
  };
}
const NONE = (family: string): Classified => ({
  family, classical_bits: null, nist_pq_level: null, quantum_status: "none", deprecated_after: null, disallowed_after: null, cnsa2: "not-approved",
});

function csv(file: string, header: string[], rows: Record<string, unknown>[], comment: string): void {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return "";
    const s = typeof v === "boolean" ? String(v) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [`# ${comment}`, header.join(","), ...rows.map((r) => header.map((h) => cell(r[h])).join(","))];
  writeFileSync(join(here, file), lines.join("\n") + "\n");
  console.log(`${file}: ${rows.length} rows`);
}
const CLASS_COLS = ["family", "classical_bits", "nist_pq_level", "quantum_status", "deprecated_after", "disallowed_after", "cnsa2"];

// ---------------------------------------------------------------- TLS cipher suites
const GREASE = [0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa];

function ianaSuiteRange(code: number): boolean {
  return (
    (code >= 0x0000 && code <= 0x00c7) || code === 0x00ff || (code >= 0x1301 && code <= 0x1307) || code === 0x5600 ||
    (code >= 0xc001 && code <= 0xc0b5) || (code >= 0xc100 && code <= 0xc106) || (code >= 0xcca8 && code <= 0xccae) ||
    (code >= 0xd001 && code <= 0xd005)
  );
}

function tsharkValues(field: string): Map<number, string> {
  const out = execFileSync("tshark", ["-G", "values"], { encoding: "utf8", maxBuffer: 256 << 20, stdio: ["ignore", "pipe", "ignore"] });
  const m = new Map<number, string>();
  for (const line of out.split("\n")) {
    const f = line.split("\t");
    if (f[0] === "V" && f[1] === field) m.set(Number(f[2]), f[3]);
  }
  return m;
}

interface SuiteParts { kex: string; auth: string; cipher: string; cipherBits: number; mac: string; tls13: boolean; fs: boolean }

const CIPHERS: [RegExp, string, number][] = [
  [/^NULL$/, "NULL", 0],
  [/^RC4_40$/, "RC4", 40], [/^RC4_56$/, "RC4", 56], [/^RC4_128$/, "RC4", 64], // RC4 counted as broken (RFC 7465)
  [/^RC2_CBC_40$/, "RC2", 40], [/^RC2_CBC_56$/, "RC2", 56],
  [/^DES40_CBC$/, "DES", 40], [/^DES_CBC_40$/, "DES", 40], [/^DES_CBC$/, "DES", 56],
  [/^3DES_EDE_CBC$/, "3DES", 112], [/^IDEA_CBC$/, "IDEA", 128], [/^SEED_CBC$/, "SEED", 128],
  [/^FORTEZZA_CBC$/, "SKIPJACK", 80],
  [/^AES_(128|256)_(CBC|GCM|CCM|CCM_8)$/, "AES", -1], [/^CAMELLIA_(128|256)_(CBC|GCM)$/, "CAMELLIA", -1],
  [/^ARIA_(128|256)_(CBC|GCM)$/, "ARIA", -1], [/^CHACHA20_POLY1305$/, "CHACHA20-POLY1305", 256],
  [/^SM4_(GCM|CCM|CBC)$/, "SM4", 128], [/^28147_CNT$/, "GOST28147", 256], [/^KUZNYECHIK_(CTR|MGM_L|MGM_S)$/, "KUZNYECHIK", 256],
  [/^MAGMA_(CTR|MGM_L|MGM_S)$/, "MAGMA", 256], [/^AEGIS_(128L|256)$/, "AEGIS", -1],
];

function parseCipher(s: string): { cipher: string; bits: number; aead: boolean } | null {
  for (const [re, fam, bits] of CIPHERS) {
    const m = re.exec(s);
    if (!m) continue;
    const b = bits >= 0 ? bits : Number((m[1] ?? "").replace("L", ""));
    return { cipher: fam === "NULL" ? "NULL" : `${fam}${bits >= 0 || fam === "CHACHA20-POLY1305" ? "" : "-" + b}${m[2] ? "-" + m[2] : ""}`.replace(/-(CBC|GCM|CCM|CCM_8|CTR|MGM_L|MGM_S)$/, "-$1"), bits: b, aead: /GCM|CCM|POLY1305|MGM|AEGIS/.test(s) };
  }
  return null;
}

function parseSuite(code: number, name: string): SuiteParts | null {
  if (code >= 0x1301 && code <= 0x1307 || code === 0x00c6 || code === 0x00c7 || code === 0xc0b4 || code === 0xc0b5) {
    const body = name.replace(/^TLS_/, "");
    const m = /^(.*)_(SHA256|SHA384|SHA512|SM3)$/.exec(body)!;
    let cipher = m[1];
    if (/^SHA(256|384)$/.test(cipher)) return { kex: "any", auth: "any", cipher: "NULL", cipherBits: 0, mac: m[2], tls13: true, fs: true };
    cipher = cipher.replace(/^AEGIS_128L$/, "AEGIS_128L").replace(/^AES_128_CCM_8$/, "AES_128_CCM_8");
    const c = parseCipher(cipher);
    if (!c) return null;
    return { kex: "any", auth: "any", cipher: c.cipher, cipherBits: c.bits, mac: "AEAD", tls13: true, fs: true };
  }
  const m = /^(?:TLS|SSL)_(.+?)_WITH_(.+)$/.exec(name);
  if (!m) return null;
  const [, kexAuth, rest] = m;
  let kex = kexAuth, auth = kexAuth;
  const ka = kexAuth.replace(/_EXPORT1024|_EXPORT/, "");
  const pairs: Record<string, [string, string]> = {
    NULL: ["NULL", "NULL"], RSA: ["RSA", "RSA"], RSA_FIPS: ["RSA", "RSA"], DH_DSS: ["DH", "DSA"], DH_RSA: ["DH", "RSA"],
    DHE_DSS: ["DHE", "DSA"], DHE_RSA: ["DHE", "RSA"], DH_anon: ["DHE", "anon"], ECDH_ECDSA: ["ECDH", "ECDSA"],
    ECDH_RSA: ["ECDH", "RSA"], ECDHE_ECDSA: ["ECDHE", "ECDSA"], ECDHE_RSA: ["ECDHE", "RSA"], ECDH_anon: ["ECDHE", "anon"],
    PSK: ["PSK", "PSK"], DHE_PSK: ["DHE_PSK", "PSK"], PSK_DHE: ["DHE_PSK", "PSK"], RSA_PSK: ["RSA_PSK", "PSK"], ECDHE_PSK: ["ECDHE_PSK", "PSK"],
    KRB5: ["KRB5", "KRB5"], SRP_SHA: ["SRP", "SRP"], SRP_SHA_RSA: ["SRP", "RSA"], SRP_SHA_DSS: ["SRP", "DSA"],
    FORTEZZA_KEA: ["KEA", "KEA"], ECCPWD: ["ECCPWD", "ECCPWD"], ECJPAKE: ["ECJPAKE", "ECJPAKE"],
    GOSTR341094: ["GOSTR341094", "GOSTR341094"], GOSTR341001: ["GOSTR341001", "GOSTR341001"], GOSTR341112_256: ["GOSTR341112", "GOSTR341112"],
  };
  const p = pairs[ka];
  if (!p) return null;
  [kex, auth] = p;
  const mm = /^(.+?)_(NULL|MD5|SHA|SHA256|SHA384|SM3|IMIT|GOSTR3411|OMAC|L|S)$/.exec(rest);
  let cipherStr = rest, mac = "AEAD";
  if (mm && !/CCM$/.test(rest)) { cipherStr = mm[1]; mac = mm[2] === "SHA" ? "SHA1" : mm[2]; }
  if (/_MGM_(L|S)$/.test(rest)) { cipherStr = rest; mac = "AEAD"; }
  if (/CCM(_8)?$/.test(rest)) { cipherStr = rest; mac = "AEAD"; }
  if (/_CNT_IMIT$/.test(rest)) { cipherStr = rest.replace(/_IMIT$/, ""); mac = "GOST28147-IMIT"; }
  if (/_CTR_OMAC$/.test(rest)) { cipherStr = rest.replace(/_OMAC$/, ""); mac = "OMAC"; }
  if (rest === "NULL_GOSTR3411") { cipherStr = "NULL"; mac = "GOSTR3411"; }
  const c = parseCipher(cipherStr);
  if (!c) return null;
  if (c.aead && mac !== "AEAD" && /GCM|POLY1305/.test(cipherStr)) mac = "AEAD";
  let bits = c.bits;
  if (/EXPORT/.test(kexAuth)) bits = Math.min(bits, /EXPORT1024/.test(kexAuth) ? 56 : 40);
  const fs = ["DHE", "ECDHE", "DHE_PSK", "ECDHE_PSK", "ECJPAKE", "ECCPWD"].includes(kex);
  return { kex, auth, cipher: c.cipher, cipherBits: bits, mac, tls13: false, fs };
}

const SHOR_KEX = new Set(["RSA", "DH", "DHE", "ECDH", "ECDHE", "DHE_PSK", "RSA_PSK", "ECDHE_PSK", "KEA", "ECCPWD", "ECJPAKE", "SRP", "GOSTR341094", "GOSTR341001", "GOSTR341112"]);
const SHOR_AUTH = new Set(["RSA", "DSA", "ECDSA", "KEA", "GOSTR341094", "GOSTR341001", "GOSTR341112"]);

function classifySuite(code: number, name: string, p: SuiteParts): Classified {
  const weakMac = p.mac === "MD5" || p.mac === "NULL";
  const bits = p.cipher === "NULL" ? 0 : p.cipherBits;
  const pk = SHOR_KEX.has(p.kex) || SHOR_AUTH.has(p.auth);
  let cnsa2: Cnsa = "not-approved";
  if (code === 0x1302) cnsa2 = "approved"; // AES-256-GCM + SHA-384 is the CNSA 2.0 symmetric suite
  if ([0xc02c, 0xc030, 0x009f].includes(code)) cnsa2 = "transitional"; // CNSA 1.0 suites (P-384 / RSA-3072 / DH-3072)
  const family = p.tls13 ? `TLS1.3-${p.cipher}` : `${p.kex}-${p.auth}-${p.cipher}`;
  if (pk) {
    // The public-key part decides the quantum status and the NIST IR 8547 date; sizes come from the group/certificate.
    const b = weakMac && bits > 64 ? 64 : bits;
    const dates = b < 112 ? ir8547(b) : b < 128 ? { deprecated_after: 2023, disallowed_after: 2023 } : ir8547(null);
    return { family, classical_bits: b, nist_pq_level: 0, quantum_status: "shor-broken", ...dates, cnsa2 };
  }
  const s = sym(family, weakMac && bits > 64 ? 64 : bits, cnsa2);
  if (bits === 0 && p.mac !== "NULL") s.quantum_status = "none";
  return s;
}

function cipherSuites(): Record<string, unknown>[] {
  const names = tsharkValues("tls.handshake.ciphersuite");
  // IANA entries newer than Wireshark 4.0's table.
  names.set(0x1306, "TLS_AEGIS_256_SHA512");
  names.set(0x1307, "TLS_AEGIS_128L_SHA256");
  const rows: Record<string, unknown>[] = [];
  for (const [code, name] of [...names].sort((a, b) => a[0] - b[0])) {
    if (!ianaSuiteRange(code) || GREASE.includes(code)) continue;
    if (code === 0x00ff || code === 0x5600) {
      rows.push({ code, name, kex: null, auth: null, cipher: null, mac: null, tls13: false, forward_secrecy: null, ...NONE("SCSV") });
      continue;
    }
    let nm = name;
    if (code === 0x1306) nm = "TLS_AEGIS_256_SHA512";
    const p = nm.startsWith("TLS_AEGIS")
      ? { kex: "any", auth: "any", cipher: nm.includes("AEGIS_256") ? "AEGIS-256" : "AEGIS-128L", cipherBits: nm.includes("AEGIS_256") ? 256 : 128, mac: "AEAD", tls13: true, fs: true }
      : parseSuite(code, nm);
    if (!p) throw new Error(`cannot classify cipher suite ${code.toString(16)} ${nm}`);
    rows.push({ code, name: nm, kex: p.kex, auth: p.auth, cipher: p.cipher, mac: p.mac, tls13: p.tls13, forward_secrecy: p.fs, ...classifySuite(code, nm, p) });
  }
  for (const g of GREASE) rows.push({ code: g, name: "GREASE", kex: null, auth: null, cipher: null, mac: null, tls13: false, forward_secrecy: null, ...NONE("GREASE") });
  return rows.sort((a, b) => (a.code as number) - (b.code as number));
}

// ---------------------------------------------------------------- TLS supported groups
function groups(): Record<string, unknown>[] {
  const ec = (code: number, name: string, bits: number, cnsa2: Cnsa = "not-approved") => ({ code, name, kex_class: "classical", ...shor("ECDH", bits, cnsa2) });
  const ff = (code: number, name: string, bits: number, cnsa2: Cnsa = "not-approved") => ({ code, name, kex_class: "classical", ...shor("FFDH", bits, cnsa2) });
  const rows: Record<string, unknown>[] = [
    ec(1, "sect163k1", 80), ec(2, "sect163r1", 80), ec(3, "sect163r2", 80), ec(4, "sect193r1", 96), ec(5, "sect193r2", 96),
    ec(6, "sect233k1", 112), ec(7, "sect233r1", 112), ec(8, "sect239k1", 112), ec(9, "sect283k1", 128), ec(10, "sect283r1", 128),
    ec(11, "sect409k1", 192), ec(12, "sect409r1", 192), ec(13, "sect571k1", 256), ec(14, "sect571r1", 256),
    ec(15, "secp160k1", 80), ec(16, "secp160r1", 80), ec(17, "secp160r2", 80), ec(18, "secp192k1", 96), ec(19, "secp192r1", 96),
    ec(20, "secp224k1", 112), ec(21, "secp224r1", 112), ec(22, "secp256k1", 128), ec(23, "secp256r1", 128),
    ec(24, "secp384r1", 192, "transitional"), ec(25, "secp521r1", 256),
    ec(26, "brainpoolP256r1", 128), ec(27, "brainpoolP384r1", 192), ec(28, "brainpoolP512r1", 256),
    { code: 29, name: "x25519", kex_class: "classical", ...shor("ECDH", 128) },
    { code: 30, name: "x448", kex_class: "classical", ...shor("ECDH", 224) },
    ec(31, "brainpoolP256r1tls13", 128), ec(32, "brainpoolP384r1tls13", 192), ec(33, "brainpoolP512r1tls13", 256),
    ec(34, "GC256A", 128), ec(35, "GC256B", 128), ec(36, "GC256C", 128), ec(37, "GC256D", 128), ec(38, "GC512A", 256), ec(39, "GC512B", 256), ec(40, "GC512C", 256),
    ec(41, "curveSM2", 128),
    ff(256, "ffdhe2048", 112), ff(257, "ffdhe3072", 128, "transitional"), ff(258, "ffdhe4096", 152, "transitional"), ff(259, "ffdhe6144", 176, "transitional"), ff(260, "ffdhe8192", 200, "transitional"),
    { code: 0x0200, name: "MLKEM512", kex_class: "pq", ...pq("ML-KEM", 1, 128) },
    { code: 0x0201, name: "MLKEM768", kex_class: "pq", ...pq("ML-KEM", 3, 192) },
    { code: 0x0202, name: "MLKEM1024", kex_class: "pq", ...pq("ML-KEM", 5, 256, "approved") },
    // Hybrids: secure while either part holds, so the classical strength is the stronger part's.
    { code: 0x11eb, name: "SecP256r1MLKEM768", kex_class: "hybrid", ...hybrid("ECDH+ML-KEM", 3, 192) },
    { code: 0x11ec, name: "X25519MLKEM768", kex_class: "hybrid", ...hybrid("ECDH+ML-KEM", 3, 192) },
    { code: 0x11ed, name: "SecP384r1MLKEM1024", kex_class: "hybrid", ...hybrid("ECDH+ML-KEM", 5, 256, "transitional") },
    { code: 0x11ee, name: "curveSM2MLKEM768", kex_class: "hybrid", ...hybrid("ECDH+ML-KEM", 3, 192) },
    { code: 0x6399, name: "X25519Kyber768Draft00", kex_class: "hybrid", ...hybrid("ECDH+Kyber", 3, 192) },
    { code: 0x639a, name: "SecP256r1Kyber768Draft00", kex_class: "hybrid", ...hybrid("ECDH+Kyber", 3, 192) },
    { code: 0xff01, name: "arbitrary_explicit_prime_curves", kex_class: "classical", ...shor("ECDH", null) },
    { code: 0xff02, name: "arbitrary_explicit_char2_curves", kex_class: "classical", ...shor("ECDH", null) },
  ];
  for (const g of GREASE) rows.push({ code: g, name: "GREASE", kex_class: "unknown", ...NONE("GREASE") });
  return rows.sort((a, b) => (a.code as number) - (b.code as number));
}

// ---------------------------------------------------------------- TLS signature schemes
function signatureSchemes(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const hashBits: Record<string, number> = { md5: 64, sha1: 80, sha224: 112, sha256: 128, sha384: 192, sha512: 256 };
  // TLS 1.2 (HashAlgorithm, SignatureAlgorithm) pairs (RFC 5246 §7.4.1.4.1); RSA/DSA strength comes from the key.
  const hashes = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];
  hashes.forEach((h, i) => {
    const hb = hashBits[h];
    const hashCap = hb < 112 ? hb : null;
    const push = (sig: number, fam: string, name: string, bits: number | null) =>
      rows.push({ code: ((i + 1) << 8) | sig, name, hash: h, ...shor(fam, hashCap ?? bits) });
    if (!rows.some((r) => r.code === (((i + 1) << 8) | 1))) {
      push(1, "RSA", `rsa_pkcs1_${h}`, null);
      push(2, "DSA", `dsa_${h}`, null);
      const ecName = h === "sha256" ? "ecdsa_secp256r1_sha256" : h === "sha384" ? "ecdsa_secp384r1_sha384" : h === "sha512" ? "ecdsa_secp521r1_sha512" : `ecdsa_${h}`;
      const ecBits = h === "sha256" ? 128 : h === "sha384" ? 192 : h === "sha512" ? 256 : h === "sha224" ? 112 : null;
      push(3, "ECDSA", ecName, ecBits);
    }
  });
  const s = (code: number, name: string, fam: string, hash: string | null, c: Classified) => rows.push({ code, name, hash, ...c, family: fam });
  for (const r of rows) if (r.name === "ecdsa_secp384r1_sha384") r.cnsa2 = "transitional";
  s(0x0708, "sm2sig_sm3", "SM2", "sm3", shor("SM2", 128));
  s(0x0804, "rsa_pss_rsae_sha256", "RSA-PSS", "sha256", shor("RSA-PSS", null));
  s(0x0805, "rsa_pss_rsae_sha384", "RSA-PSS", "sha384", shor("RSA-PSS", null, "transitional"));
  s(0x0806, "rsa_pss_rsae_sha512", "RSA-PSS", "sha512", shor("RSA-PSS", null));
  s(0x0807, "ed25519", "EdDSA", null, shor("EdDSA", 128));
  s(0x0808, "ed448", "EdDSA", null, shor("EdDSA", 224));
  s(0x0809, "rsa_pss_pss_sha256", "RSA-PSS", "sha256", shor("RSA-PSS", null));
  s(0x080a, "rsa_pss_pss_sha384", "RSA-PSS", "sha384", shor("RSA-PSS", null, "transitional"));
  s(0x080b, "rsa_pss_pss_sha512", "RSA-PSS", "sha512", shor("RSA-PSS", null));
  s(0x081a, "ecdsa_brainpoolP256r1tls13_sha256", "ECDSA", "sha256", shor("ECDSA", 128));
  s(0x081b, "ecdsa_brainpoolP384r1tls13_sha384", "ECDSA", "sha384", shor("ECDSA", 192));
  s(0x081c, "ecdsa_brainpoolP512r1tls13_sha512", "ECDSA", "sha512", shor("ECDSA", 256));
  s(0x0904, "mldsa44", "ML-DSA", null, pq("ML-DSA", 2, 128));
  s(0x0905, "mldsa65", "ML-DSA", null, pq("ML-DSA", 3, 192));
  s(0x0906, "mldsa87", "ML-DSA", null, pq("ML-DSA", 5, 256, "approved"));
  for (const g of GREASE) rows.push({ code: g, name: "GREASE", hash: null, ...NONE("GREASE") });
  return rows.sort((a, b) => (a.code as number) - (b.code as number));
}

// ---------------------------------------------------------------- TLS / DTLS versions
function versions(): Record<string, unknown>[] {
  return [
    { code: 0x0002, name: "SSL 2.0", proto: "ssl", deprecated: true },
    { code: 0x0300, name: "SSL 3.0", proto: "ssl", deprecated: true },
    { code: 0x0301, name: "TLS 1.0", proto: "tls", deprecated: true },
    { code: 0x0302, name: "TLS 1.1", proto: "tls", deprecated: true },
    { code: 0x0303, name: "TLS 1.2", proto: "tls", deprecated: false },
    { code: 0x0304, name: "TLS 1.3", proto: "tls", deprecated: false },
    { code: 0xfeff, name: "DTLS 1.0", proto: "dtls", deprecated: true },
    { code: 0xfefd, name: "DTLS 1.2", proto: "dtls", deprecated: false },
    { code: 0xfefc, name: "DTLS 1.3", proto: "dtls", deprecated: false },
    // pre-RFC TLS 1.3 drafts still seen in old captures (0x7F00 + draft number; Facebook's 0xFB17/0xFB1A)
    ...Array.from({ length: 28 - 14 + 1 }, (_, i) => ({ code: 0x7f00 + 14 + i, name: `TLS 1.3 (draft ${14 + i})`, proto: "tls", deprecated: true })),
    { code: 0xfb17, name: "TLS 1.3 (Facebook draft 23)", proto: "tls", deprecated: true },
    { code: 0xfb1a, name: "TLS 1.3 (Facebook draft 26)", proto: "tls", deprecated: true },
    ...GREASE.map((g) => ({ code: g, name: "GREASE", proto: "grease", deprecated: false })),
  ];
}

// ---------------------------------------------------------------- SSH (IANA "Secure Shell (SSH) Protocol Parameters" + OpenSSH names)
function ssh(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const kex = (name: string, kc: string, c: Classified) => rows.push({ kind: "kex", name, kex_class: kc, ...c });
  kex("curve25519-sha256", "classical", shor("ECDH", 128));
  kex("curve25519-sha256@libssh.org", "classical", shor("ECDH", 128));
  kex("curve448-sha512", "classical", shor("ECDH", 224));
  kex("ecdh-sha2-nistp256", "classical", shor("ECDH", 128));
  kex("ecdh-sha2-nistp384", "classical", shor("ECDH", 192, "transitional"));
  kex("ecdh-sha2-nistp521", "classical", shor("ECDH", 256));
  kex("ecdh-sha2-1.3.132.0.10", "classical", shor("ECDH", 128));
  kex("diffie-hellman-group1-sha1", "classical", shor("FFDH", 80));
  kex("diffie-hellman-group14-sha1", "classical", shor("FFDH", 80)); // SHA-1 exchange hash
  kex("diffie-hellman-group14-sha256", "classical", shor("FFDH", 112));
  kex("diffie-hellman-group15-sha512", "classical", shor("FFDH", 128, "transitional"));
  kex("diffie-hellman-group16-sha512", "classical", shor("FFDH", 152, "transitional"));
  kex("diffie-hellman-group17-sha512", "classical", shor("FFDH", 176, "transitional"));
  kex("diffie-hellman-group18-sha512", "classical", shor("FFDH", 200, "transitional"));
  kex("diffie-hellman-group-exchange-sha1", "classical", shor("FFDH", 80));
  kex("diffie-hellman-group-exchange-sha256", "classical", shor("FFDH", 112));
  kex("rsa1024-sha1", "classical", shor("RSA", 80));
  kex("rsa2048-sha256", "classical", shor("RSA", 112));
  kex("sntrup761x25519-sha512@openssh.com", "hybrid", hybrid("ECDH+sntrup761", 2, 128));
  kex("sntrup761x25519-sha512", "hybrid", hybrid("ECDH+sntrup761", 2, 128));
  kex("mlkem768x25519-sha256", "hybrid", hybrid("ECDH+ML-KEM", 3, 192));
  kex("mlkem768nistp256-sha256", "hybrid", hybrid("ECDH+ML-KEM", 3, 192));
  kex("mlkem1024nistp384-sha384", "hybrid", hybrid("ECDH+ML-KEM", 5, 256, "transitional"));
  for (const n of ["ext-info-c", "ext-info-s", "kex-strict-c-v00@openssh.com", "kex-strict-s-v00@openssh.com"]) kex(n, "unknown", NONE("pseudo"));
  const hk = (name: string, c: Classified) => rows.push({ kind: "hostkey", name, kex_class: null, ...c });
  for (const cert of ["", "-cert-v01@openssh.com"]) {
    hk(`ssh-ed25519${cert}`, shor("EdDSA", 128));
    hk(`sk-ssh-ed25519${cert ? "-cert-v01" : ""}@openssh.com`, shor("EdDSA", 128));
    hk(`ecdsa-sha2-nistp256${cert}`, shor("ECDSA", 128));
    hk(`ecdsa-sha2-nistp384${cert}`, shor("ECDSA", 192, "transitional"));
    hk(`ecdsa-sha2-nistp521${cert}`, shor("ECDSA", 256));
    hk(`sk-ecdsa-sha2-nistp256${cert ? "-cert-v01" : ""}@openssh.com`, shor("ECDSA", 128));
    hk(`ssh-dss${cert}`, shor("DSA", 80));
    hk(`ssh-rsa${cert}`, shor("RSA", 80)); // signatures use SHA-1
    hk(`rsa-sha2-256${cert}`, shor("RSA", null));
    hk(`rsa-sha2-512${cert}`, shor("RSA", null));
  }
  hk("ssh-ed448", shor("EdDSA", 224));
  const ci = (name: string, c: Classified) => rows.push({ kind: "cipher", name, kex_class: null, ...c });
  ci("chacha20-poly1305@openssh.com", sym("CHACHA20-POLY1305", 256));
  ci("aes128-ctr", sym("AES-128", 128)); ci("aes192-ctr", sym("AES-192", 192)); ci("aes256-ctr", sym("AES-256", 256, "approved"));
  ci("aes128-gcm@openssh.com", sym("AES-128-GCM", 128)); ci("aes256-gcm@openssh.com", sym("AES-256-GCM", 256, "approved"));
  ci("AEAD_AES_128_GCM", sym("AES-128-GCM", 128)); ci("AEAD_AES_256_GCM", sym("AES-256-GCM", 256, "approved"));
  ci("aes128-cbc", sym("AES-128", 128)); ci("aes192-cbc", sym("AES-192", 192)); ci("aes256-cbc", sym("AES-256", 256));
  ci("rijndael-cbc@lysator.liu.se", sym("AES-256", 256));
  ci("3des-cbc", sym("3DES", 112)); ci("3des-ctr", sym("3DES", 112));
  ci("blowfish-cbc", sym("Blowfish", 64)); ci("cast128-cbc", sym("CAST5", 64));
  ci("arcfour", sym("RC4", 56)); ci("arcfour128", sym("RC4", 64)); ci("arcfour256", sym("RC4", 64));
  ci("none", sym("NULL", 0));
  const mac = (name: string, c: Classified) => rows.push({ kind: "mac", name, kex_class: null, ...c });
  for (const etm of ["", "-etm@openssh.com"]) {
    mac(`hmac-sha1${etm}`, sym("HMAC-SHA1", 128)); mac(`hmac-sha1-96${etm}`, sym("HMAC-SHA1", 96));
    mac(`hmac-sha2-256${etm}`, sym("HMAC-SHA256", 256)); mac(`hmac-sha2-512${etm}`, sym("HMAC-SHA512", 256, "approved"));
    mac(`hmac-md5${etm}`, sym("HMAC-MD5", 64)); mac(`hmac-md5-96${etm}`, sym("HMAC-MD5", 64));
    mac(etm ? "umac-64-etm@openssh.com" : "umac-64@openssh.com", sym("UMAC", 64));
    mac(etm ? "umac-128-etm@openssh.com" : "umac-128@openssh.com", sym("UMAC", 128));
  }
  mac("hmac-ripemd160", sym("HMAC-RIPEMD160", 128)); mac("hmac-ripemd160@openssh.com", sym("HMAC-RIPEMD160", 128));
  mac("none", sym("NULL", 0));
  return rows;
}

// ---------------------------------------------------------------- X.509 algorithm OIDs
function x509(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const k = (oid: string, name: string, fam: string, c: Classified) => rows.push({ oid, name, kind: "key", hash: null, ...c, family: fam });
  const sg = (oid: string, name: string, fam: string, hash: string | null, c: Classified) => rows.push({ oid, name, kind: "signature", hash, ...c, family: fam });
  k("1.2.840.113549.1.1.1", "rsaEncryption", "RSA", shor("RSA", null));
  k("1.2.840.113549.1.1.10", "rsassaPss", "RSA-PSS", shor("RSA-PSS", null));
  k("1.2.840.10045.2.1", "id-ecPublicKey", "EC", shor("EC", null));
  k("1.2.840.10040.4.1", "id-dsa", "DSA", shor("DSA", null));
  k("1.2.840.10046.2.1", "dhpublicnumber", "FFDH", shor("FFDH", null));
  k("1.3.101.110", "X25519", "ECDH", shor("ECDH", 128));
  k("1.3.101.111", "X448", "ECDH", shor("ECDH", 224));
  k("1.3.101.112", "ED25519", "EdDSA", shor("EdDSA", 128));
  k("1.3.101.113", "ED448", "EdDSA", shor("EdDSA", 224));
  k("1.2.156.10197.1.301", "sm2", "SM2", shor("SM2", 128));
  k("2.16.840.1.101.3.4.4.1", "id-alg-ml-kem-512", "ML-KEM", pq("ML-KEM", 1, 128));
  k("2.16.840.1.101.3.4.4.2", "id-alg-ml-kem-768", "ML-KEM", pq("ML-KEM", 3, 192));
  k("2.16.840.1.101.3.4.4.3", "id-alg-ml-kem-1024", "ML-KEM", pq("ML-KEM", 5, 256, "approved"));
  // ML-DSA and SLH-DSA OIDs name both the key and the signature (FIPS 204/205, NIST CSOR).
  const mldsa: [string, string, number, number, Cnsa][] = [
    ["17", "id-ml-dsa-44", 2, 128, "not-approved"], ["18", "id-ml-dsa-65", 3, 192, "not-approved"], ["19", "id-ml-dsa-87", 5, 256, "approved"],
  ];
  for (const [arc, name, lvl, bits, cn] of mldsa) {
    k(`2.16.840.1.101.3.4.3.${arc}`, name, "ML-DSA", pq("ML-DSA", lvl, bits, cn));
    sg(`2.16.840.1.101.3.4.3.${arc}`, name, "ML-DSA", null, pq("ML-DSA", lvl, bits, cn));
  }
  const slh = ["sha2-128s", "sha2-128f", "sha2-192s", "sha2-192f", "sha2-256s", "sha2-256f", "shake-128s", "shake-128f", "shake-192s", "shake-192f", "shake-256s", "shake-256f"];
  slh.forEach((v, i) => {
    const size = Number(/-(\d+)/.exec(v)![1]);
    const lvl = size === 128 ? 1 : size === 192 ? 3 : 5;
    k(`2.16.840.1.101.3.4.3.${20 + i}`, `id-slh-dsa-${v}`, "SLH-DSA", pq("SLH-DSA", lvl, size));
    sg(`2.16.840.1.101.3.4.3.${20 + i}`, `id-slh-dsa-${v}`, "SLH-DSA", v.startsWith("sha2") ? "sha2" : "shake", pq("SLH-DSA", lvl, size));
  });
  k("1.2.840.113549.1.9.16.3.17", "id-alg-hss-lms-hashsig", "LMS", pq("LMS", 5, 256, "approved"));
  sg("1.2.840.113549.1.9.16.3.17", "id-alg-hss-lms-hashsig", "LMS", "sha256", pq("LMS", 5, 256, "approved"));
  k("1.3.6.1.5.5.7.6.34", "id-alg-xmss-hashsig", "XMSS", pq("XMSS", 5, 256, "approved"));
  sg("1.3.6.1.5.5.7.6.34", "id-alg-xmss-hashsig", "XMSS", "sha256", pq("XMSS", 5, 256, "approved"));
  k("1.3.6.1.5.5.7.6.35", "id-alg-xmssmt-hashsig", "XMSS", pq("XMSS", 5, 256, "approved"));
  sg("1.3.6.1.5.5.7.6.35", "id-alg-xmssmt-hashsig", "XMSS", "sha256", pq("XMSS", 5, 256, "approved"));
  // Signatures over a hash: strength is capped by the hash's collision resistance.
  sg("1.2.840.113549.1.1.2", "md2WithRSAEncryption", "RSA", "md2", shor("RSA", 63));
  sg("1.2.840.113549.1.1.4", "md5WithRSAEncryption", "RSA", "md5", shor("RSA", 64));
  sg("1.2.840.113549.1.1.5", "sha1WithRSAEncryption", "RSA", "sha1", shor("RSA", 80));
  sg("1.2.840.113549.1.1.14", "sha224WithRSAEncryption", "RSA", "sha224", shor("RSA", 112));
  sg("1.2.840.113549.1.1.11", "sha256WithRSAEncryption", "RSA", "sha256", shor("RSA", null));
  sg("1.2.840.113549.1.1.12", "sha384WithRSAEncryption", "RSA", "sha384", shor("RSA", null, "transitional"));
  sg("1.2.840.113549.1.1.13", "sha512WithRSAEncryption", "RSA", "sha512", shor("RSA", null));
  sg("1.2.840.113549.1.1.10", "rsassaPss", "RSA-PSS", null, shor("RSA-PSS", null));
  sg("1.2.840.10045.4.1", "ecdsa-with-SHA1", "ECDSA", "sha1", shor("ECDSA", 80));
  sg("1.2.840.10045.4.3.1", "ecdsa-with-SHA224", "ECDSA", "sha224", shor("ECDSA", 112));
  sg("1.2.840.10045.4.3.2", "ecdsa-with-SHA256", "ECDSA", "sha256", shor("ECDSA", 128));
  sg("1.2.840.10045.4.3.3", "ecdsa-with-SHA384", "ECDSA", "sha384", shor("ECDSA", 192, "transitional"));
  sg("1.2.840.10045.4.3.4", "ecdsa-with-SHA512", "ECDSA", "sha512", shor("ECDSA", 256));
  sg("1.2.840.10040.4.3", "dsaWithSHA1", "DSA", "sha1", shor("DSA", 80));
  sg("2.16.840.1.101.3.4.3.1", "dsa_with_SHA224", "DSA", "sha224", shor("DSA", 112));
  sg("2.16.840.1.101.3.4.3.2", "dsa_with_SHA256", "DSA", "sha256", shor("DSA", null));
  sg("1.3.101.112", "ED25519", "EdDSA", null, shor("EdDSA", 128));
  sg("1.3.101.113", "ED448", "EdDSA", null, shor("EdDSA", 224));
  sg("1.2.156.10197.1.501", "SM2-with-SM3", "SM2", "sm3", shor("SM2", 128));
  return rows;
}

csv("tls_versions.csv", ["code", "name", "proto", "deprecated"], versions(), "IANA TLS ProtocolVersion / DTLS versions (RFC 8446, 9147, 8996). Generated by generate.ts.");
csv("tls_cipher_suites.csv", ["code", "name", "kex", "auth", "cipher", "mac", "tls13", "forward_secrecy", ...CLASS_COLS], cipherSuites(),
  "IANA TLS Cipher Suites registry (names via Wireshark 4.0's copy); classification by generate.ts.");
csv("tls_groups.csv", ["code", "name", "kex_class", ...CLASS_COLS], groups(), "IANA TLS Supported Groups registry incl. ML-KEM and hybrid code points. Generated by generate.ts.");
csv("tls_signature_schemes.csv", ["code", "name", "hash", ...CLASS_COLS], signatureSchemes(), "IANA TLS SignatureScheme registry (RFC 8446) and TLS 1.2 hash/signature pairs (RFC 5246). Generated by generate.ts.");
csv("ssh_algorithms.csv", ["kind", "name", "kex_class", ...CLASS_COLS], ssh(), "IANA SSH Protocol Parameters + OpenSSH names. Generated by generate.ts.");
csv("x509_algorithms.csv", ["oid", "name", "kind", "hash", ...CLASS_COLS], x509(), "X.509 SubjectPublicKeyInfo and signature algorithm OIDs (RFC 3279/4055/5480/5758/8410, FIPS 204/205 via NIST CSOR). Generated by generate.ts.");
