// Groups library records into one observation per handshake: (pid, engine, connection object). The
// probes have no "handshake done" hook (that would need a uretprobe per handshake), so a handshake is
// complete once it has been quiet for `quietMs`, or when the thread starts another one.
import { parseCert } from "./cert-cache.ts";
import { ENGINE, LIB_KIND, type LibRecord } from "./records.ts";

export interface LibraryHandshake {
  pid: number;
  tid: number;
  comm: string;
  cgroupId: bigint;
  library: "openssl" | "gnutls" | "go" | "nss";
  libraryPath: string;
  obj: bigint;                 // SSL* / gnutls_session_t / *tls.Conn (0 when unknown)
  role: "client" | "server" | null;
  firstTsNs: bigint;
  lastTsNs: bigint;
  certificates: Buffer[];      // peer chain, leaf first, as parsed by the library
  truncatedCerts: number;      // certificates longer than the copy limit (not stored)
  groupName: string | null;    // OpenSSL's name for the group
  group: number | null;        // IANA TLS supported-group code point
  cipherNid: number | null;    // OpenSSL cipher NID
  suite: number | null;        // TLS 1.3 cipher suite derived from the cipher NID
  sigDigest: string | null;    // digest of the CertificateVerify / ServerKeyExchange signature
  sigDirection: "sign" | "verify" | null;
  rsaPss: boolean | null;     // PSS padding seen (null: the padding probe is not attached)
  sigScheme: number | null;    // IANA SignatureScheme, when derivable
  version: number | null;      // protocol version (0x0304 = TLS 1.3)
  versionInferred: boolean;    // OpenSSL without the SSL_version probe: from the order of key share and certificate
  goSig: number | null;        // Go: sigType << 8 | crypto.Hash of the verified handshake signature
  nssSig: bigint | null;       // NSS: mechanism << 24 | PSS hash mechanism << 8 | hash length
  records: LibRecord[];
}

/** OpenSSL group names (the provider's and the TLS names) → IANA supported-group code points. */
export const GROUP_BY_NAME: Record<string, number> = {
  secp256r1: 23, prime256v1: 23, "p-256": 23, secp384r1: 24, "p-384": 24, secp521r1: 25, "p-521": 25,
  x25519: 29, x448: 30, brainpoolp256r1tls13: 31, brainpoolp384r1tls13: 32, brainpoolp512r1tls13: 33,
  ffdhe2048: 256, ffdhe3072: 257, ffdhe4096: 258, ffdhe6144: 259, ffdhe8192: 260,
  secp256k1: 22, brainpoolp256r1: 26, brainpoolp384r1: 27, brainpoolp512r1: 28,
  mlkem512: 0x0200, mlkem768: 0x0201, mlkem1024: 0x0202, x25519mlkem768: 0x11ec, secp256r1mlkem768: 0x11eb, secp384r1mlkem1024: 0x11ed,
};
const GROUP_BY_ECC_BITS: Record<number, number> = { 256: 23, 384: 24, 521: 25 };

/** TLS 1.3 suites by OpenSSL cipher NID (the AEAD alone decides the suite in 1.3). */
const TLS13_SUITE_BY_NID: Record<number, number> = { 895: 0x1301, 901: 0x1302, 1018: 0x1303, 896: 0x1304 };

export function groupFromName(name: string): number | null {
  return GROUP_BY_NAME[name.toLowerCase()] ?? null;
}

/** SignatureScheme from the digest, PSS padding (null: not observed) and the signer's key (the leaf
 * certificate); TLS 1.3 only allows PSS for RSA keys, so the version stands in for the padding there. */
export function signatureScheme(digest: string | null, pss: boolean | null, leaf: Buffer | undefined, version: number | null = null): number | null {
  let keyType: string | undefined, pssKey = false;
  if (leaf) {
    const f = parseCert(leaf).fields;
    keyType = f?.key_alg as string | undefined;
    pssKey = f?.key_oid === "1.2.840.113549.1.1.10"; // id-RSASSA-PSS key: rsa_pss_pss_* schemes
  }
  // OpenSSL names: "SHA2-256", "SHA256", "SHA1"; GnuTLS/Go would say "SHA256"
  const d = (digest ?? "").toLowerCase().replace(/[-_]/g, "").replace(/^sha2(256|384|512)$/, "sha$1");
  const h = d === "sha256" ? 0 : d === "sha384" ? 1 : d === "sha512" ? 2 : d === "sha1" ? -1 : null;
  if (!d) {
    if (keyType === "ed25519") return 0x0807;
    if (keyType === "ed448") return 0x0808;
    return null;
  }
  if (h === null) return null;
  if (keyType === "rsa" || (keyType === undefined && pss)) {
    if (pss === null && !pssKey && version !== 0x0304) return null; // TLS 1.2 RSA: PKCS#1 or PSS, not known here
    if (pss !== false || pssKey) return h < 0 ? null : (pssKey ? 0x0809 : 0x0804) + h;
    return h < 0 ? 0x0201 : [0x0401, 0x0501, 0x0601][h];
  }
  if (keyType === "ec") {
    return h < 0 ? 0x0203 : [0x0403, 0x0503, 0x0603][h];
  }
  return null;
}

/** Go's signature type and crypto.Hash (crypto/tls auth.go, crypto/crypto.go) → SignatureScheme. */
export function goSignatureScheme(v: number, leaf: Buffer | undefined): number | null {
  const sigType = v >> 8, hash = v & 0xff;
  const h = hash === 5 ? 0 : hash === 6 ? 1 : hash === 7 ? 2 : hash === 3 ? -1 : null;
  if (sigType === 228) return 0x0807; // Ed25519
  if (h === null) return null;
  if (sigType === 226) { // RSA-PSS: rsae unless the certificate's key is an id-RSASSA-PSS key
    const pssKey = leaf ? parseCert(leaf).fields?.key_oid === "1.2.840.113549.1.1.10" : false;
    return h < 0 ? null : (pssKey ? 0x0809 : 0x0804) + h;
  }
  if (sigType === 225) return h < 0 ? 0x0201 : [0x0401, 0x0501, 0x0601][h];
  if (sigType === 227) return h < 0 ? 0x0203 : [0x0403, 0x0503, 0x0603][h];
  return null;
}

const LIBRARY_BY_ENGINE: Record<number, LibraryHandshake["library"]> = { [ENGINE.openssl]: "openssl", [ENGINE.gnutls]: "gnutls", [ENGINE.go]: "go", [ENGINE.nss]: "nss" };

/** DER-encoded curve OIDs (as in NSS's SECKEYECParams) → IANA groups. */
const GROUP_BY_OID_HEX: Record<string, number> = {
  "06082a8648ce3d030107": 23, "06052b81040022": 24, "06052b81040023": 25,
  "06092b06010401da470f01": 29, "06032b656e": 29, "06032b656f": 30,
};

/** gnutls_sign_algorithm_t (gnutls.h) → SignatureScheme. */
export const GNUTLS_SIGN_TO_SCHEME: Record<number, number> = {
  1: 0x0201, 6: 0x0401, 7: 0x0501, 8: 0x0601, 12: 0x0203, 14: 0x0403, 15: 0x0503, 16: 0x0603,
  32: 0x0809, 33: 0x080a, 34: 0x080b, 35: 0x0807, 37: 0x0403, 38: 0x0503, 39: 0x0603, 40: 0x0804, 41: 0x0805, 42: 0x0806, 46: 0x0808,
};

/** NSS PK11_VerifyWithMechanism (mechanism, PSS hash mechanism, hash length) → SignatureScheme. */
export function nssSignatureScheme(v: bigint, leaf: Buffer | undefined): number | null {
  const mech = Number(v >> 24n), hashAlg = Number((v >> 8n) & 0xffffn), hashLen = Number(v & 0xffn);
  if (mech === 0x1057) return 0x0807; // CKM_EDDSA (Ed25519)
  if (mech === 0x0d) { // CKM_RSA_PKCS_PSS
    const h = { 0x250: 0, 0x260: 1, 0x270: 2 }[hashAlg];
    if (h === undefined) return null;
    const pssKey = leaf ? parseCert(leaf).fields?.key_oid === "1.2.840.113549.1.1.10" : false;
    return (pssKey ? 0x0809 : 0x0804) + h;
  }
  if (mech === 0x1041) return { 32: 0x0403, 48: 0x0503, 64: 0x0603, 20: 0x0203 }[hashLen] ?? null; // CKM_ECDSA over the hash
  if (mech === 0x01) return { 51: 0x0401, 67: 0x0501, 83: 0x0601, 35: 0x0201 }[hashLen] ?? null;   // CKM_RSA_PKCS over DigestInfo
  return null;
}

export interface LibInfo { engine: number; path: string }

export class HandshakeAssembler {
  private open = new Map<string, LibraryHandshake>();
  markerOnly = 0; // markers not followed by any handshake observation (e.g. SSL_set_connect_state on a finished connection)
  private byTid = new Map<number, string>(); // tid → open handshake key (for events carrying obj 0)
  private byPid = new Map<string, string>();   // pid:engine → latest open key (Go: goroutines move between threads)

  private quietMs: number;
  private maxQuietMs: number;
  private paddingProbed: boolean;

  constructor(private libOf: (idx: number) => LibInfo | undefined, private onDone: (h: LibraryHandshake) => void,
    opts: { quietMs?: number; maxQuietMs?: number; paddingProbed?: boolean } = {}) {
    this.quietMs = opts.quietMs ?? 300;
    this.maxQuietMs = opts.maxQuietMs ?? 5000;
    this.paddingProbed = opts.paddingProbed ?? true;
  }

  add(r: LibRecord): void {
    const lib = this.libOf(r.libIdx);
    if (!lib || !LIBRARY_BY_ENGINE[lib.engine]) return;
    let key: string | undefined;
    if (r.kind === LIB_KIND.handshake) {
      const prev = this.byTid.get(r.tid);
      if (prev && prev !== this.keyOf(r, lib.engine)) this.finish(prev); // the thread moved on to another connection
      key = this.keyOf(r, lib.engine);
      const cur = this.open.get(key);
      // the same object again after the handshake made progress: a new connection reusing the address. Not for
      // GnuTLS, whose marker (gnutls_handshake) a non-blocking application calls again until the handshake is done.
      if (cur && lib.engine !== ENGINE.gnutls && cur.records.some((x) => x.kind !== LIB_KIND.handshake)) this.finish(key);
      if (!this.open.has(key)) this.open.set(key, this.fresh(r, lib));
      const h = this.open.get(key)!;
      if (r.value === 1n) h.role = "client";
      else if (r.value === 2n) h.role = "server";
    } else if (r.obj !== 0n) {
      key = this.keyOf(r, lib.engine);
      if (!this.open.has(key)) this.open.set(key, this.fresh(r, lib));
    } else {
      key = this.byTid.get(r.tid) ?? this.byPid.get(`${r.pid}:${lib.engine}`);
      if (!key || !this.open.has(key)) return; // outside any handshake we know of
    }
    const h = this.open.get(key)!;
    this.byTid.set(r.tid, key);
    this.byPid.set(`${r.pid}:${lib.engine}`, key);
    h.lastTsNs = r.tsNs > h.lastTsNs ? r.tsNs : h.lastTsNs;
    h.records.push(r);
    switch (r.kind) {
      case LIB_KIND.cert:
        if (BigInt(r.data.length) < r.value) h.truncatedCerts++;
        else if (!h.certificates.some((c) => c.equals(r.data))) h.certificates.push(r.data);
        break;
      case LIB_KIND.groupName: {
        h.groupName = r.data.toString("latin1").replace(/\0.*$/s, "");
        h.group = groupFromName(h.groupName);
        break;
      }
      case LIB_KIND.groupId: h.group = Number(r.value); break;
      case LIB_KIND.eccBits: h.group = GROUP_BY_ECC_BITS[Number(r.value)] ?? h.group; break;
      case LIB_KIND.cipherNid: h.cipherNid = Number(r.value); break;
      case LIB_KIND.sigDigest:
        h.sigDigest = r.data.toString("latin1").replace(/\0.*$/s, "");
        h.sigDirection = r.value === 1n ? "sign" : "verify";
        h.rsaPss = this.paddingProbed ? false : null;
        break;
      case LIB_KIND.rsaPadding: if (r.value === 6n) h.rsaPss = true; break;
      case LIB_KIND.version: if (r.value > 0n && r.value < 0x10000n) h.version = Number(r.value); break;
      case LIB_KIND.goSig: h.goSig = Number(r.value); break;
      case LIB_KIND.groupOid: h.group = GROUP_BY_OID_HEX[r.data.toString("hex")] ?? h.group; break;
      case LIB_KIND.nssSig: h.nssSig = r.value; break;
      case LIB_KIND.gnutlsSig: h.sigScheme = GNUTLS_SIGN_TO_SCHEME[Number(r.value)] ?? null; h.sigDirection = "verify"; break;
    }
  }

  /** Finishes handshakes quiet for quietMs once they got past the peer's certificate or signature, and any
   * handshake quiet for maxQuietMs (a loaded host can stall a handshake between two messages for longer
   * than quietMs: finishing it early would split it in two). nowNs is on the records' clock. */
  tick(nowNs: bigint): void {
    const quiet = BigInt(this.quietMs) * 1_000_000n, maxQuiet = BigInt(this.maxQuietMs) * 1_000_000n;
    for (const [k, h] of this.open) {
      const idle = nowNs - h.lastTsNs;
      if (idle >= maxQuiet || (idle >= quiet && this.pastAuthentication(h))) this.finish(k);
    }
  }

  private pastAuthentication(h: LibraryHandshake): boolean {
    return h.certificates.length > 0 || h.truncatedCerts > 0 || h.sigDigest !== null || h.goSig !== null || h.nssSig !== null || h.sigScheme !== null;
  }

  flushAll(): void { for (const k of [...this.open.keys()]) this.finish(k); }

  private keyOf(r: LibRecord, engine: number): string { return `${r.pid}:${engine}:${r.obj}`; }

  private fresh(r: LibRecord, lib: LibInfo): LibraryHandshake {
    return {
      pid: r.pid, tid: r.tid, comm: r.comm, cgroupId: r.cgroupId, library: LIBRARY_BY_ENGINE[lib.engine], libraryPath: lib.path,
      obj: r.obj, role: null, firstTsNs: r.tsNs, lastTsNs: r.tsNs, certificates: [], truncatedCerts: 0, groupName: null, group: null,
      cipherNid: null, suite: null, sigDigest: null, sigDirection: null, rsaPss: null, sigScheme: null, version: null, versionInferred: false, goSig: null, nssSig: null, records: [],
    };
  }

  private finish(key: string): void {
    const h = this.open.get(key);
    if (!h) return;
    this.open.delete(key);
    for (const [t, k] of this.byTid) if (k === key) this.byTid.delete(t);
    for (const [p, k] of this.byPid) if (k === key) this.byPid.delete(p);
    if (h.role === null && h.sigDirection) h.role = h.sigDirection === "verify" ? "client" : "server";
    if (h.role === null && h.certificates.length > 0) h.role = "client";
    if (h.version === null && h.library === "openssl" && h.role === "client") {
      // a TLS 1.3 client makes its key share before it sees a certificate; a TLS 1.2 client after (ServerKeyExchange)
      const g = h.records.findIndex((x) => x.kind === LIB_KIND.groupName), c = h.records.findIndex((x) => x.kind === LIB_KIND.cert);
      if (g >= 0 && c >= 0) { h.version = g < c ? 0x0304 : 0x0303; h.versionInferred = true; }
    }
    if (h.cipherNid !== null && h.version === 0x0304) h.suite = TLS13_SUITE_BY_NID[h.cipherNid] ?? null;
    if (h.library === "gnutls") {
      // set from gnutls_sign_algorithm_t as it came
    } else if (h.nssSig !== null) {
      h.sigScheme = nssSignatureScheme(h.nssSig, h.certificates[0]);
      h.sigDirection = "verify";
    } else if (h.goSig !== null) {
      h.sigScheme = goSignatureScheme(h.goSig, h.certificates[0]);
      h.sigDirection = "verify";
    } else if (h.sigDigest !== null || h.library === "openssl") {
      h.sigScheme = h.sigDirection === "verify" ? signatureScheme(h.sigDigest, h.rsaPss, h.certificates[0], h.version) : null;
    }
    if (h.records.every((x) => x.kind === LIB_KIND.handshake)) { this.markerOnly++; return; } // no handshake followed
    this.onDone(h);
  }
}
