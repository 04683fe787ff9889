// JA4 (TLS client) and JA4S (TLS server) fingerprints, per FoxIO's published definition
// (technical_details/JA4.md and JA4S.md of FoxIO-LLC/ja4; JA4 is BSD-3-Clause, JA4S is under the FoxIO License 1.1).
import * as cryptoModule from "node:crypto";
import { EXT, isGrease, type ClientHello, type ServerHello } from "./tls-hello.ts";

function versionCode(v: number | undefined): string {
  switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
  }
}

const oneShot = (cryptoModule as { hash?: (alg: string, data: string, enc: "hex") => string }).hash;
function sha12(text: string): string {
  return (oneShot ? oneShot("sha256", text, "hex") : cryptoModule.createHash("sha256").update(text).digest("hex")).slice(0, 12);
}

// The same lists come from the same client software over and over: the last few thousand hashes
// are kept, each under a compact key (one UTF-16 code unit per 16-bit value, made in one call)
// so that a repeat costs neither the hex text nor the SHA-256.
const HASH_CACHE_MAX = 4096;
const ZEROS = "000000000000";

function listText(a: readonly number[], b: readonly number[] | undefined): string {
  return b && b.length > 0 ? `${hexList(a)}_${hexList(b)}` : hexList(a);
}

class ListHashes {
  private readonly cache = new Map<string, string>();
  private readonly key: number[] = [];

  /** sha256(hex(a) [+ "_" + hex(b)])[:12], cached; b only when it is not empty */
  of(a: readonly number[], b?: readonly number[]): string {
    // Lists too long for one fromCharCode call are hashed as they are (and never repeat anyway).
    if (a.length + (b?.length ?? 0) > 4096) return sha12(listText(a, b));
    const key = this.key;
    key.length = 0;
    key.push(a.length);
    for (let i = 0; i < a.length; i++) key.push(a[i]!);
    if (b) for (let i = 0; i < b.length; i++) key.push(b[i]!);
    const k = String.fromCharCode.apply(null, key);
    let h = this.cache.get(k);
    if (h === undefined) {
      h = sha12(listText(a, b));
      if (this.cache.size >= HASH_CACHE_MAX) this.cache.clear();
      this.cache.set(k, h);
    }
    return h;
  }
}

const suitesHash = new ListHashes();
const extsHash = new ListHashes();
const serverExtsHash = new ListHashes();

function two(n: number): string {
  return n > 99 ? "99" : n < 10 ? `0${n}` : String(n);
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function hex4(v: number): string {
  return HEX2[(v >> 8) & 0xff]! + HEX2[v & 0xff]!;
}

function isAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

const PAIRS: (string | undefined)[] = new Array(65536);

// First and last character of the first ALPN value; its hex form's first and last digits when either
// end byte is not alphanumeric; "00" when there is none.
export function alpnChars(alpn: Uint8Array | undefined): string {
  if (!alpn || alpn.length === 0) return "00";
  const first = alpn[0]!, last = alpn[alpn.length - 1]!;
  if (isAlnum(first) && isAlnum(last)) return (PAIRS[(first << 8) | last] ??= String.fromCharCode(first, last));
  const h = first.toString(16).padStart(2, "0")[0]! + last.toString(16).padStart(2, "0")[1]!;
  return h;
}

// Comma-joined 4-digit hex; numeric order equals the hex order JA4 sorts by.
function hexList(v: readonly number[]): string {
  let s = "";
  for (let i = 0; i < v.length; i++) s += i === 0 ? hex4(v[i]!) : "," + hex4(v[i]!);
  return s;
}

// Scratch lists, refilled for every hello (ja4 is not re-entrant).
const SUITES: number[] = [];
const EXTS: number[] = [];
const SIGS: number[] = [];

/** The values that are not GREASE, into out (emptied first), optionally without SNI and ALPN. */
function notGrease(out: number[], v: readonly number[] | undefined, skipSniAlpn = false): number[] {
  out.length = 0;
  if (v) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (isGrease(x) || (skipSniAlpn && (x === EXT.server_name || x === EXT.alpn))) continue;
      out.push(x);
    }
  }
  return out;
}

// Insertion sort: the lists are a few dozen values, and Array#sort with a comparator allocates.
function sortNumbers(a: number[]): number[] {
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
  return a;
}

// Whole fingerprints, cached: the same client software sends the same hello over and over, and a
// fingerprint made anew per handshake is a new (cons) string that every consumer then reads character
// by character (the lake compares and hashes it). Under one key of everything the text depends on
// (one UTF-16 code unit per 16-bit value, made in one call), a repeat gets the same string object back
// with no hex text, no SHA-256 and no concatenation. Strings are immutable: sharing one is safe.
const FP_CACHE_MAX = 4096;
const ja4Cache = new Map<string, string>();
const ja4sCache = new Map<string, string>();
const KEY: number[] = [];

/** The cached fingerprint under KEY, or undefined (KEY too long to be a key: the caller computes it). */
function cachedKey(): string | undefined {
  return KEY.length > 4096 ? undefined : String.fromCharCode.apply(null, KEY);
}
function remember(cache: Map<string, string>, k: string | undefined, fp: string): string {
  if (k === undefined) return fp;
  // A flat copy: the concatenation is a tree of pieces that each reader would flatten.
  const flat = flatString(fp);
  if (cache.size >= FP_CACHE_MAX) cache.clear();
  cache.set(k, flat);
  return flat;
}
const flatString = (s: string): string => Buffer.from(s, "latin1").toString("latin1");

/** The ALPN units of a key: presence, then first and last byte (all alpnChars looks at). */
function pushAlpn(alpn: Uint8Array | undefined): void {
  if (!alpn || alpn.length === 0) KEY.push(0, 0);
  else KEY.push(1, (alpn[0]! << 8) | alpn[alpn.length - 1]!);
}

export function ja4(ch: ClientHello, quic: boolean): string {
  let extCount = 0;
  let sni = false;
  let sv = false;
  for (const e of ch.extensions) {
    if (isGrease(e)) continue;
    extCount++;
    if (e === EXT.server_name) sni = true;
    else if (e === EXT.supported_versions) sv = true;
  }
  const suites = sortNumbers(notGrease(SUITES, ch.suites));
  let version = ch.legacyVersion;
  if (ch.versions && sv) {
    let best = -1;
    for (const v of ch.versions) if (!isGrease(v) && v > best) best = v;
    if (best >= 0) version = best;
  }
  const exts = sortNumbers(notGrease(EXTS, ch.extensions, true));
  const sigs = notGrease(SIGS, ch.sigAlgs);
  const alpn = ch.alpnRaw?.[0];
  KEY.length = 0;
  KEY.push((quic ? 1 : 0) | (sni ? 2 : 0), version, extCount);
  pushAlpn(alpn);
  KEY.push(suites.length);
  for (let i = 0; i < suites.length; i++) KEY.push(suites[i]!);
  KEY.push(exts.length);
  for (let i = 0; i < exts.length; i++) KEY.push(exts[i]!);
  for (let i = 0; i < sigs.length; i++) KEY.push(sigs[i]!);
  const k = cachedKey();
  const hit = k === undefined ? undefined : ja4Cache.get(k);
  if (hit !== undefined) return hit;
  const a =
    (quic ? "q" : "t") + versionCode(version) + (sni ? "d" : "i") + two(suites.length) + two(extCount) + alpnChars(alpn);
  const b = suites.length === 0 ? ZEROS : suitesHash.of(suites);
  const c = exts.length === 0 ? ZEROS : extsHash.of(exts, sigs);
  return remember(ja4Cache, k, `${a}_${b}_${c}`);
}

export function ja4s(sh: ServerHello, quic: boolean): string {
  const version = sh.selectedVersion ?? sh.legacyVersion;
  const exts = sh.extensions;
  KEY.length = 0;
  KEY.push(quic ? 1 : 0, version, sh.suite);
  pushAlpn(sh.alpnRaw);
  for (let i = 0; i < exts.length; i++) KEY.push(exts[i]!);
  const k = cachedKey();
  const hit = k === undefined ? undefined : ja4sCache.get(k);
  if (hit !== undefined) return hit;
  const a = (quic ? "q" : "t") + versionCode(version) + two(exts.length) + alpnChars(sh.alpnRaw);
  return remember(ja4sCache, k, `${a}_${hex4(sh.suite)}_${exts.length === 0 ? ZEROS : serverExtsHash.of(exts)}`);
}
