// Finds crypto libraries in processes: shared libssl/libcrypto/libgnutls/libhogweed/libnss3 by name, and
// executables that carry a TLS stack inside (OpenSSL linked statically with its symbols, as node does; Go
// binaries with crypto/tls symbols). One answer per file (device + inode), cached, because the same
// libssl is mapped by hundreds of processes and a uprobe is per file anyway.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { ElfError, ElfFile } from "./elf.ts";

export type LibraryKind = "libssl" | "libcrypto" | "openssl-static" | "gnutls" | "hogweed" | "nss" | "nss-ssl" | "go";
export type LibraryName = "openssl" | "gnutls" | "go" | "nss";

export interface SymbolAt {
  name: string;
  vaddr: bigint;
  offset: number;
  /** a known instruction pattern: probe the emulatable call inside instead of the single-stepped first instruction */
  callSite?: { offset: number; prog: string };
}

/* Debian 12's libcrypto.so.3 EVP_Digest{Verify,Sign}Init_ex: sub $8,%rsp; push 0x10(%rsp); push $dir; push %r9;
 * mov %r8,%r9; mov %rcx,%r8; mov %rdx,%rcx; push $0; xor %edx,%edx; call do_sigver_init (at +0x19). */
const SIGVER_WRAPPER = /^4883ec08ff7424106a0[01]41514d89c14989c84889d16a0031d2e8$/;
const CALL_SITE_PROGS: Record<string, string> = { EVP_DigestVerifyInit_ex: "ossl_verify_init_cs", EVP_DigestSignInit_ex: "ossl_sign_init_cs" };

export interface LibraryFile {
  key: string;          // "dev:inode" as /proc/PID/maps shows them
  path: string;         // path inside the process's mount namespace
  openPath: string;     // a path this agent can open (/proc/PID/root/... for other mount namespaces)
  kind: LibraryKind;
  library: LibraryName;
  soname: string | null;
  version: string | null;
  symbols: Map<string, SymbolAt>; // the probe symbols this file defines
  /** TLS-code range (vaddrs) used to accept calls into libcrypto/nettle made from it */
  codeRange: { lo: bigint; hi: bigint } | null;
}

export interface MappedFile { path: string; key: string }

/** Symbols each kind may be probed at (not all need to exist). */
export const OPENSSL_SSL_SYMBOLS = ["SSL_set_connect_state", "SSL_set_accept_state", "SSL_do_handshake", "SSL_version"];
export const OPENSSL_CRYPTO_SYMBOLS = ["d2i_X509", "EVP_PKEY_CTX_set_group_name", "EVP_CIPHER_get_key_length",
  "EVP_DigestSignInit_ex", "EVP_DigestVerifyInit_ex", "EVP_PKEY_CTX_set_rsa_padding"];
export const GNUTLS_SYMBOLS = ["gnutls_handshake", "gnutls_pcert_import_x509_raw", "gnutls_pubkey_verify_data2", "gnutls_pubkey_verify_hash2"];
export const HOGWEED_SYMBOLS = ["nettle_curve25519_mul", "nettle_curve448_mul", "nettle_ecc_point_mul"];
export const NSS_SSL_SYMBOLS = ["SSL_ImportFD"];
export const NSS_SYMBOLS = ["CERT_NewTempCertificate", "PK11_PubDeriveWithKDF", "PK11_VerifyWithMechanism"];
export const GO_SYMBOLS = ["crypto/tls.(*Conn).clientHandshake", "crypto/tls.(*Conn).serverHandshake",
  "crypto/tls.(*Conn).verifyServerCertificate", "crypto/tls.generateECDHEParameters", "crypto/tls.generateECDHEKey",
  "crypto/tls.(*clientHandshakeStateTLS13).handshake", "crypto/tls.(*serverHandshakeStateTLS13).handshake", "crypto/tls.verifyHandshakeSignature"];

/** Files mapped executable by a process (one per file), from /proc/PID/maps. */
export function mappedFiles(pid: number): MappedFile[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch {
    return [];
  }
  const out = new Map<string, MappedFile>();
  for (const line of text.split("\n")) {
    // 7f1c..-7f1c.. r-xp 00000000 fd:01 1234  /usr/lib/x86_64-linux-gnu/libssl.so.3
    const m = line.match(/^[0-9a-f]+-[0-9a-f]+ (\S{4}) [0-9a-f]+ ([0-9a-f]+:[0-9a-f]+) (\d+)\s+(\/.*)$/);
    if (!m || m[3] === "0" || m[1][2] !== "x") continue;
    const path = m[4].replace(/ \(deleted\)$/, "");
    const key = `${m[2]}:${m[3]}`;
    if (!out.has(key)) out.set(key, { path, key });
  }
  return [...out.values()];
}

export function listPids(): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
}

/** The path under which this agent sees a file of process `pid`. */
export function openPathFor(pid: number, path: string): string {
  const viaRoot = `/proc/${pid}/root${path}`;
  try {
    // same mount namespace: use the plain path (nicer in records and in libbpf's messages)
    if (existsSync(path) && statSync(path).ino === statSync(viaRoot).ino) return path;
  } catch { /* fall through */ }
  return viaRoot;
}

const cache = new Map<string, LibraryFile | null>();

/** What a mapped file is, or null if it holds no TLS stack we probe. Cached per file. */
export function classify(pid: number, f: MappedFile): LibraryFile | null {
  if (cache.has(f.key)) return cache.get(f.key)!;
  let result: LibraryFile | null = null;
  try {
    result = classifyPath(openPathFor(pid, f.path), f.path, f.key);
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
  }
  cache.set(f.key, result);
  return result;
}

export function forgetClassification(key: string): void { cache.delete(key); }

function kindByName(name: string): LibraryKind | null {
  if (/^libssl\.so/.test(name)) return "libssl";
  if (/^libcrypto\.so/.test(name)) return "libcrypto";
  if (/^libgnutls\.so/.test(name)) return "gnutls";
  if (/^libhogweed\.so/.test(name)) return "hogweed";
  if (/^libnss3\.so/.test(name)) return "nss";
  if (/^libssl3\.so/.test(name)) return "nss-ssl";
  return null;
}

const LIBRARY_OF: Record<LibraryKind, LibraryName> = {
  libssl: "openssl", libcrypto: "openssl", "openssl-static": "openssl", gnutls: "gnutls", hogweed: "gnutls", nss: "nss", "nss-ssl": "nss", go: "go",
};

export function classifyPath(openPath: string, path = openPath, key = fileKey(openPath)): LibraryFile | null {
  const name = basename(path);
  const byName = kindByName(name);
  if (!byName && /^(ld-linux|libc\.so|libm\.so|libpthread|libdl|libstdc\+\+|libgcc_s|libz\.so)/.test(name)) return null;
  const elf = new ElfFile(openPath);
  try {
    const wanted = new Set([...OPENSSL_SSL_SYMBOLS, ...OPENSSL_CRYPTO_SYMBOLS, ...GNUTLS_SYMBOLS, ...HOGWEED_SYMBOLS, ...NSS_SSL_SYMBOLS, ...NSS_SYMBOLS, ...GO_SYMBOLS]);
    let kind = byName;
    let syms: Map<string, SymbolAt>;
    // executables of unknown kind: OpenSSL linked in must export its API (.dynsym, small) to be probed by name;
    // reading every program's full .symtab would cost tens of MB for some
    const pick = (names: string[], go = false, dynamicOnly = false) => {
      const found = elf.symbols((n) => names.includes(n), dynamicOnly);
      // a stripped Go binary has no .symtab: the pclntab still names every function
      if (go && found.size === 0) for (const [n, sym] of elf.goFunctions((n) => names.includes(n))) found.set(n, sym);
      const out = new Map<string, SymbolAt>();
      for (const [n, s] of found) {
        const offset = elf.vaddrToOffset(s.value);
        if (offset === null || s.value === 0n) continue;
        const at: SymbolAt = { name: n, vaddr: s.value, offset };
        if (CALL_SITE_PROGS[n] && offset + 0x1e <= elf.size && SIGVER_WRAPPER.test(elf.read(offset, 0x1a).toString("hex"))) {
          at.callSite = { offset: offset + 0x19, prog: CALL_SITE_PROGS[n] };
        }
        out.set(n, at);
      }
      return out;
    };
    if (kind) {
      syms = pick([...wanted]);
    } else {
      const go = elf.isGo();
      syms = pick(go ? GO_SYMBOLS : [...OPENSSL_SSL_SYMBOLS, ...OPENSSL_CRYPTO_SYMBOLS], go, !go);
      if (go && syms.has("crypto/tls.(*Conn).verifyServerCertificate")) kind = "go";
      else if (!go && syms.has("SSL_do_handshake") && syms.has("d2i_X509")) kind = "openssl-static";
      else return null;
    }
    const dyn = elf.dynamic();
    const lf: LibraryFile = {
      key, path, openPath, kind, library: LIBRARY_OF[kind], soname: dyn.soname, version: versionOf(elf, kind, name),
      symbols: syms, codeRange: null,
    };
    if (kind === "libssl" || kind === "gnutls" || kind === "nss-ssl") lf.codeRange = elf.loadSpan();
    else if (kind === "openssl-static") lf.codeRange = staticSslRange(elf);
    return lf;
  } finally {
    elf.close();
  }
}

/** In a binary linking OpenSSL statically, libssl's objects sit together: the cluster of its functions around
 * SSL_do_handshake (a gap of more than 256 KiB ends it; libcrypto has a few tls1_* helpers far away). */
function staticSslRange(elf: ElfFile): { lo: bigint; hi: bigint } | null {
  const syms = elf.symbols((n) => /^(SSL_|ssl_|ssl3_|tls_|tls1_|tls13_|dtls1_|ossl_statem_|DTLS_|TLSv1|SSLv3)/.test(n) && !n.startsWith("TLS_FEATURE"));
  const marker = syms.get("SSL_do_handshake");
  if (!marker) return null;
  const fns = [...syms.values()].filter((s) => s.type === 2 && s.value !== 0n).sort((a, b) => (a.value < b.value ? -1 : 1));
  const i0 = fns.findIndex((s) => s.name === "SSL_do_handshake");
  const GAP = 256n << 10n;
  let lo = i0, hi = i0;
  while (lo > 0 && fns[lo].value - (fns[lo - 1].value + BigInt(fns[lo - 1].size)) < GAP) lo--;
  while (hi + 1 < fns.length && fns[hi + 1].value - (fns[hi].value + BigInt(fns[hi].size)) < GAP) hi++;
  return { lo: fns[lo].value, hi: fns[hi].value + BigInt(Math.max(1, fns[hi].size)) };
}

function versionOf(elf: ElfFile, kind: LibraryKind, name: string): string | null {
  if (kind === "go") return elf.goVersion();
  if (kind === "libcrypto" || kind === "openssl-static" || kind === "libssl") {
    const v = elf.findInRodata(/OpenSSL (\d+\.\d+\.\d+[a-z]?)/);
    if (v) return v;
  }
  if (kind === "gnutls") {
    const v = elf.findInRodata(/GnuTLS (\d+\.\d+\.\d+)/) ?? elf.findInRodata(/\x00(3\.\d+\.\d+)\x00/);
    if (v) return v;
  }
  if (kind === "hogweed" || kind === "nss" || kind === "nss-ssl") {
    const v = elf.findInRodata(/NSS (\d+\.\d+(?:\.\d+)?)/);
    if (v && kind !== "hogweed") return v;
  }
  const m = name.match(/\.so\.([\d.]+)$/);
  return m ? m[1] : null;
}

function fileKey(path: string): string {
  const st = statSync(path);
  // the same "major:minor" hex shape as /proc/PID/maps (new_encode_dev: major in bits 8-19, minor in 0-7 and 20-31)
  const major = (st.dev >> 8) & 0xfff, minor = (st.dev & 0xff) | ((st.dev >> 12) & 0xfff00);
  return `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}:${st.ino}`;
}

/** Crypto libraries a process maps (for the processes table's `libraries` column). */
export function cryptoLibrariesOf(pid: number): { path: string; soname: string | null; version: string | null }[] {
  const out: { path: string; soname: string | null; version: string | null }[] = [];
  for (const f of mappedFiles(pid)) {
    const c = classify(pid, f);
    if (c) out.push({ path: c.path, soname: c.soname, version: c.version });
  }
  return out;
}
