// Attaches libprobes.bpf.o's programs once per library FILE (all processes, pid -1), keeps which processes
// map each file, and detaches a file's probes when no process maps it anymore. The library's index is
// the attach cookie; libcfg[index] tells the BPF side where the handshake marker and the TLS code sit.
import type { BpfObject } from "../bpf/native.ts";
import type { LibraryFile, LibraryKind } from "./discovery.ts";
import { ENGINE } from "./records.ts";

interface ProbeSpec { symbol: string; prog: string; retprobe?: boolean; marker?: boolean }

/** Which program goes on which symbol, per kind of file. The first listed marker symbol fills libcfg. */
const OPENSSL_SSL: ProbeSpec[] = [
  { symbol: "SSL_set_connect_state", prog: "ossl_connect_state", marker: true },
  { symbol: "SSL_set_accept_state", prog: "ossl_accept_state", marker: true },
];
const OPENSSL_VERSION: ProbeSpec[] = [{ symbol: "SSL_version", prog: "ossl_version_ret", retprobe: true }];
/* The default set costs ~6 uprobe hits per connection (client + server side, bench/libprobes.ts). The extended
 * set adds what the wire sees in clear anyway (cipher: 4 hits per side; version: 2 uretprobes per side; RSA
 * padding: TLS 1.2's signature algorithm is in the clear ServerKeyExchange) and the server's signing digest. */
const OPENSSL_CRYPTO: ProbeSpec[] = [
  { symbol: "d2i_X509", prog: "ossl_d2i_x509" },
  { symbol: "EVP_PKEY_CTX_set_group_name", prog: "ossl_group_name" },
  { symbol: "EVP_DigestVerifyInit_ex", prog: "ossl_verify_init" },
];
const OPENSSL_CRYPTO_EXTENDED: ProbeSpec[] = [
  { symbol: "EVP_PKEY_CTX_set_rsa_padding", prog: "ossl_rsa_padding" }, // RSA in TLS 1.3 is PSS anyway; 1.2's is on the wire
  { symbol: "EVP_CIPHER_get_key_length", prog: "ossl_cipher_key_length" },
  { symbol: "EVP_DigestSignInit_ex", prog: "ossl_sign_init" },
];
const GNUTLS: ProbeSpec[] = [
  { symbol: "gnutls_handshake", prog: "gnutls_handshake_entry", marker: true },
  { symbol: "gnutls_pcert_import_x509_raw", prog: "gnutls_pcert_import" },
  { symbol: "gnutls_pubkey_verify_data2", prog: "gnutls_verify_sig" },
  { symbol: "gnutls_pubkey_verify_hash2", prog: "gnutls_verify_sig" },
];
const HOGWEED: ProbeSpec[] = [
  { symbol: "nettle_curve25519_mul", prog: "nettle_x25519_mul" },
  { symbol: "nettle_curve448_mul", prog: "nettle_x448_mul" },
  { symbol: "nettle_ecc_point_mul", prog: "nettle_ecc_mul" },
];
const NSS_SSL: ProbeSpec[] = [{ symbol: "SSL_ImportFD", prog: "nss_import_fd", marker: true }];
const NSS: ProbeSpec[] = [
  { symbol: "CERT_NewTempCertificate", prog: "nss_new_temp_cert" },
  { symbol: "PK11_PubDeriveWithKDF", prog: "nss_derive" },
  { symbol: "PK11_VerifyWithMechanism", prog: "nss_verify" },
];
const GO: ProbeSpec[] = [
  { symbol: "crypto/tls.(*Conn).clientHandshake", prog: "go_client_handshake", marker: true },
  { symbol: "crypto/tls.(*Conn).serverHandshake", prog: "go_server_handshake", marker: true },
  { symbol: "crypto/tls.(*Conn).verifyServerCertificate", prog: "go_verify_server_cert" },
  { symbol: "crypto/tls.generateECDHEParameters", prog: "go_ecdhe" }, // Go <= 1.19
  { symbol: "crypto/tls.generateECDHEKey", prog: "go_ecdhe" },        // Go 1.20+
  { symbol: "crypto/tls.(*clientHandshakeStateTLS13).handshake", prog: "go_tls13_handshake" },
  { symbol: "crypto/tls.(*serverHandshakeStateTLS13).handshake", prog: "go_tls13_handshake" },
  { symbol: "crypto/tls.verifyHandshakeSignature", prog: "go_verify_sig" },
];

export function probesFor(kind: LibraryKind, extended: boolean): ProbeSpec[] {
  const v = extended ? OPENSSL_VERSION : [];
  const x = extended ? OPENSSL_CRYPTO_EXTENDED : [];
  switch (kind) {
    case "libssl": return [...OPENSSL_SSL, ...v];
    case "libcrypto": return [...OPENSSL_CRYPTO, ...x];
    case "openssl-static": return [...OPENSSL_SSL, ...v, ...OPENSSL_CRYPTO, ...x];
    case "gnutls": return GNUTLS;
    case "hogweed": return HOGWEED;
    case "go": return GO;
    case "nss": return NSS;
    case "nss-ssl": return NSS_SSL;
  }
}

const ENGINE_OF: Record<LibraryKind, number> = {
  libssl: ENGINE.openssl, libcrypto: ENGINE.openssl, "openssl-static": ENGINE.openssl, gnutls: ENGINE.gnutls, hogweed: ENGINE.gnutls, nss: ENGINE.nss, "nss-ssl": ENGINE.nss, go: ENGINE.go,
};

export interface AttachedFile {
  idx: number;
  file: LibraryFile;
  links: number[];
  pids: Set<number>;
  pinned: boolean; // system library attached up front: kept while the agent runs
  errors: string[];
}

export class LibraryAttacher {
  private byKey = new Map<string, AttachedFile>();
  private byIdx: (AttachedFile | undefined)[] = [];
  private freeIdx: number[] = [];
  private retired = new Map<number, AttachedFile>(); // detached files, for records still in flight
  readonly maxLibs = 256;
  attachErrors = 0;

  constructor(private obj: BpfObject, private opts: { extended: boolean; onError?: (msg: string) => void }) {}

  get(key: string): AttachedFile | undefined { return this.byKey.get(key); }
  at(idx: number): AttachedFile | undefined { return this.byIdx[idx] ?? this.retired.get(idx); }
  files(): AttachedFile[] { return [...this.byKey.values()]; }

  /** Makes sure `file` is probed and records that `pid` maps it (pid 0: pinned, no process). */
  ensure(file: LibraryFile, pid: number, pinned = false): AttachedFile | null {
    let a = this.byKey.get(file.key);
    if (!a) {
      const specs = probesFor(file.kind, this.opts.extended);
      if (specs.length === 0) return null;
      // fresh indexes first: records of a detached file may still be in the ring buffer
      const idx = this.byIdx.length < this.maxLibs ? this.byIdx.length : (this.freeIdx.shift() ?? this.maxLibs);
      if (idx >= this.maxLibs) {
        this.opts.onError?.(`library probes: more than ${this.maxLibs} library files, ${file.path} not probed`);
        return null;
      }
      a = { idx, file, links: [], pids: new Set(), pinned, errors: [] };
      this.writeConfig(a);
      for (const s of specs) {
        const sym = file.symbols.get(s.symbol);
        if (!sym) continue;
        try {
          // by file offset: libbpf's name lookup would work for C symbols but not every Go name
          const site = !s.retprobe && !s.marker ? sym.callSite : undefined;
          a.links.push(this.obj.attachUprobe(site?.prog ?? s.prog, { binary: file.openPath, offset: site?.offset ?? sym.offset, pid: -1,
            retprobe: s.retprobe, cookie: s.marker ? BigInt(idx) | (sym.vaddr << 16n) : idx }));
        } catch (e) {
          this.attachErrors++;
          const msg = `attach ${s.prog} at ${file.path}:${s.symbol}: ${(e as Error).message}`;
          a.errors.push(msg);
          this.opts.onError?.(msg);
        }
      }
      this.byKey.set(file.key, a);
      this.byIdx[idx] = a;
      this.retired.delete(idx);
    }
    if (pinned) a.pinned = true;
    if (pid > 0) a.pids.add(pid);
    return a;
  }

  private writeConfig(a: AttachedFile): void {
    const cfg = Buffer.alloc(32);
    if (a.file.codeRange) {
      cfg.writeBigUInt64LE(a.file.codeRange.lo, 8);
      cfg.writeBigUInt64LE(a.file.codeRange.hi, 16);
    }
    cfg.writeUInt32LE(ENGINE_OF[a.file.kind], 24);
    const key = Buffer.alloc(4);
    key.writeUInt32LE(a.idx);
    this.obj.mapUpdate("libcfg", key, cfg);
  }

  /** A process exited: drop it from every file; files nobody maps (and not pinned) are detached. */
  processGone(pid: number): void {
    for (const a of this.byKey.values()) {
      if (!a.pids.delete(pid) || a.pids.size > 0 || a.pinned) continue;
      this.detach(a);
    }
  }

  /** Re-checks the processes still alive (exit events can be lost). */
  prune(alive: (pid: number) => boolean): void {
    for (const a of [...this.byKey.values()]) {
      for (const p of a.pids) if (!alive(p)) a.pids.delete(p);
      if (a.pids.size === 0 && !a.pinned) this.detach(a);
    }
  }

  private detach(a: AttachedFile): void {
    for (const l of a.links) this.obj.detach(l);
    this.byKey.delete(a.file.key);
    this.byIdx[a.idx] = undefined;
    this.retired.set(a.idx, a);
    this.freeIdx.push(a.idx);
  }

  linkCount(): number { let n = 0; for (const a of this.byKey.values()) n += a.links.length; return n; }
}
