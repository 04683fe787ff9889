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
// The same lists come from the same client software over and over: keep the last few thousand
// hashes (input text → 12 hex digits) instead of hashing each again.
const hashCache = new Map<string, string>();
const HASH_CACHE_MAX = 4096;
function hash12(s: string): string {
  if (s === "") return "000000000000";
  let h = hashCache.get(s);
  if (h === undefined) {
    h = (oneShot ? oneShot("sha256", s, "hex") : cryptoModule.createHash("sha256").update(s).digest("hex")).slice(0, 12);
    if (hashCache.size >= HASH_CACHE_MAX) hashCache.clear();
    hashCache.set(s, h);
  }
  return h;
}

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

// First and last character of the first ALPN value; its hex form's first and last digits when either
// end byte is not alphanumeric; "00" when there is none.
export function alpnChars(alpn: Uint8Array | undefined): string {
  if (!alpn || alpn.length === 0) return "00";
  const first = alpn[0]!, last = alpn[alpn.length - 1]!;
  if (isAlnum(first) && isAlnum(last)) return String.fromCharCode(first, last);
  const h = first.toString(16).padStart(2, "0")[0]! + last.toString(16).padStart(2, "0")[1]!;
  return h;
}

// Comma-joined 4-digit hex; numeric order equals the hex order JA4 sorts by.
function hexList(v: readonly number[]): string {
  let s = "";
  for (let i = 0; i < v.length; i++) s += i === 0 ? hex4(v[i]!) : "," + hex4(v[i]!);
  return s;
}

const byNumber = (a: number, b: number) => a - b;

/** The values that are not GREASE, sorted when asked (plain arrays: cheaper than typed ones here). */
function notGrease(v: readonly number[] | undefined, sorted: boolean, skipSniAlpn = false): number[] {
  const out: number[] = [];
  if (v) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (isGrease(x) || (skipSniAlpn && (x === EXT.server_name || x === EXT.alpn))) continue;
      out.push(x);
    }
  }
  return sorted && out.length > 1 ? out.sort(byNumber) : out;
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
  const suites = notGrease(ch.suites, true);
  let version = ch.legacyVersion;
  if (ch.versions && sv) {
    let best = -1;
    for (const v of ch.versions) if (!isGrease(v) && v > best) best = v;
    if (best >= 0) version = best;
  }
  const a =
    (quic ? "q" : "t") + versionCode(version) + (sni ? "d" : "i") + two(suites.length) + two(extCount) + alpnChars(ch.alpnRaw?.[0]);
  const b = hash12(hexList(suites));
  const sortedExts = hexList(notGrease(ch.extensions, true, true));
  const sigs = hexList(notGrease(ch.sigAlgs, false));
  const c = sortedExts === "" ? "000000000000" : hash12(sigs === "" ? sortedExts : `${sortedExts}_${sigs}`);
  return `${a}_${b}_${c}`;
}

export function ja4s(sh: ServerHello, quic: boolean): string {
  const version = sh.selectedVersion ?? sh.legacyVersion;
  const a = (quic ? "q" : "t") + versionCode(version) + two(sh.extensions.length) + alpnChars(sh.alpnRaw);
  return `${a}_${hex4(sh.suite)}_${hash12(hexList(sh.extensions))}`;
}
