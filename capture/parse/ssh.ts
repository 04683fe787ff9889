// SSH: the identification banner and the first binary packet (KEXINIT) of each direction, before any
// encryption (RFC 4253 §4.2, §6, §7.1), and the algorithms the two sides settle on.
import { ParseError, Truncated, guard } from "./errors.ts";
import { Reader, asciiCached, asciiRange, plain } from "./reader.ts";
import type { HandshakeResult } from "./types.ts";

const MSG_KEXINIT = 20;
// RFC 4253 §6.1: implementations must handle packets of 35000 bytes; a KEXINIT is a few KB at most.
const MAX_PACKET = 256 * 1024;
const MAX_BANNER_LINE = 8192;

// Name-lists are frozen and shared between KEXINITs with the same text (nameListOf below).
export interface KexInit {
  kex: readonly string[];
  hostkey: readonly string[];
  ciphers_c2s: readonly string[];
  ciphers_s2c: readonly string[];
  macs_c2s: readonly string[];
  macs_s2c: readonly string[];
  compression_c2s: readonly string[];
  compression_s2c: readonly string[];
  languages_c2s: readonly string[];
  languages_s2c: readonly string[];
  firstKexFollows: boolean;
}

const EMPTY_KEXINIT: KexInit = Object.freeze({
  kex: [], hostkey: [], ciphers_c2s: [], ciphers_s2c: [], macs_c2s: [], macs_s2c: [], compression_c2s: [],
  compression_s2c: [], languages_c2s: [], languages_s2c: [], firstKexFollows: false,
}) as KexInit;

export interface SshSide {
  banner?: string;
  kexinit?: KexInit;
  // SSH-1 (or anything but 2.0 / 1.99): nothing binary we parse follows.
  legacy: boolean;
  truncated: boolean;
}

// Find the identification line: "SSH-" at the start of a line; a server may send other lines first.
function findBanner(b: Uint8Array): { banner: string; next: number } | undefined {
  let lineStart = 0;
  while (lineStart < b.length) {
    let eol = b.indexOf(0x0a, lineStart);
    if (eol >= lineStart + MAX_BANNER_LINE) eol = -1;
    if (eol < 0) {
      if (b.length - lineStart >= MAX_BANNER_LINE) throw new ParseError("ssh", lineStart, "no identification line within 8 KB");
      return undefined;
    }
    if (b[lineStart] === 0x53 && b[lineStart + 1] === 0x53 && b[lineStart + 2] === 0x48 && b[lineStart + 3] === 0x2d) {
      let end = eol;
      if (end > lineStart && b[end - 1] === 0x0d) end--;
      return { banner: asciiCached(b, lineStart, end), next: eol + 1 };
    }
    lineStart = eol + 1;
  }
  return undefined;
}

// The same implementations send the same lists over and over: one frozen split list per distinct
// text, shared by every KEXINIT that sends it, its names shared with it. Keyed by the text (one native
// latin1 copy and hash: name-lists are kilobytes, which a byte-keyed ListCache would hash and compare
// in JS). Bounded: cleared at 4096 texts (lists handed out before stay valid: they are frozen).
const listCache = new Map<string, readonly string[]>();
const LIST_CACHE_MAX = 4096;
const EMPTY_LIST: readonly string[] = Object.freeze([]);

/** The frozen list of a name-list's text (shared with ssh.ts's own parses). */
export function nameListOf(text: string): readonly string[] {
  if (text.length === 0) return EMPTY_LIST;
  let list = listCache.get(text);
  if (list === undefined) {
    list = Object.freeze(text.split(","));
    if (listCache.size >= LIST_CACHE_MAX) listCache.clear();
    listCache.set(text, list);
  }
  return list;
}

function nameList(r: Reader): readonly string[] {
  const len = r.u32();
  if (len > r.remaining) r.fail(`name-list of ${len} bytes runs past the packet`);
  const s = len === 0 ? "" : asciiRange(r.buf, r.pos, r.pos + len);
  r.pos += len;
  return nameListOf(s);
}

export function parseKexInitPayload(payload: Uint8Array, base = 0): KexInit {
  const r = new Reader(payload, "ssh", 0, payload.length, base);
  try {
    if (r.u8() !== MSG_KEXINIT) r.fail("first binary packet is not a KEXINIT");
    r.skip(16); // cookie
    const k: KexInit = {
      kex: nameList(r),
      hostkey: nameList(r),
      ciphers_c2s: nameList(r),
      ciphers_s2c: nameList(r),
      macs_c2s: nameList(r),
      macs_s2c: nameList(r),
      compression_c2s: nameList(r),
      compression_s2c: nameList(r),
      languages_c2s: nameList(r),
      languages_s2c: nameList(r),
      firstKexFollows: r.u8() !== 0,
    };
    r.u32(); // reserved
    return k;
  } catch (e) {
    if (e instanceof Truncated) throw new ParseError("ssh", e.offset, "KEXINIT ends before its fields do");
    throw e;
  }
}

// withLists=false only checks that the KEXINIT is all there (for tcpStreamComplete, called often).
export function scanSshSide(b: Uint8Array, withLists = true): SshSide {
  const side: SshSide = { legacy: false, truncated: false };
  const found = findBanner(b);
  if (!found) {
    side.truncated = true;
    return side;
  }
  side.banner = found.banner;
  const proto = found.banner.slice(4, found.banner.indexOf("-", 4) >>> 0);
  if (proto !== "2.0" && proto !== "1.99") {
    side.legacy = true;
    return side;
  }
  const p = found.next;
  if (p + 5 > b.length) {
    side.truncated = true;
    return side;
  }
  const len = ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  const pad = b[p + 4]!;
  if (len < 5 || len > MAX_PACKET) throw new ParseError("ssh", p, `binary packet length ${len}`);
  if (pad + 1 > len) throw new ParseError("ssh", p, `padding of ${pad} bytes in a packet of ${len}`);
  if (p + 4 + len > b.length) {
    side.truncated = true;
    return side;
  }
  if (!withLists) {
    if (b[p + 5] !== MSG_KEXINIT) throw new ParseError("ssh", p + 5, "first binary packet is not a KEXINIT");
    side.kexinit = EMPTY_KEXINIT;
    return side;
  }
  side.kexinit = parseKexInitPayload(b.subarray(p + 5, p + 4 + len - pad), p + 5);
  return side;
}

// Pseudo-algorithms that signal extensions in kex_algorithms; never a key exchange.
function isPseudoKex(name: string): boolean {
  return name.startsWith("ext-info-") || name.startsWith("kex-strict-");
}

const AEAD = new Set(["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]);

// RFC 4253 §7.1: the first algorithm on the client's list that the server also supports.
function choose(client: readonly string[], server: readonly string[], skip?: (n: string) => boolean): string | undefined {
  // Lists are a few dozen names at most: a scan costs less than building a Set each time.
  if (server.length > 64) {
    const s = new Set(server);
    for (const c of client) if (!(skip && skip(c)) && s.has(c)) return c;
    return undefined;
  }
  for (const c of client) if (!(skip && skip(c)) && server.includes(c)) return c;
  return undefined;
}

export function chooseAlgorithms(c: KexInit, s: KexInit): Record<string, string> {
  const out: Record<string, string> = {};
  const kex = choose(c.kex, s.kex, isPseudoKex);
  const hostkey = choose(c.hostkey, s.hostkey);
  const cc2s = choose(c.ciphers_c2s, s.ciphers_c2s);
  const cs2c = choose(c.ciphers_s2c, s.ciphers_s2c);
  if (kex) out.ssh_kex = kex;
  if (hostkey) out.ssh_hostkey = hostkey;
  if (cc2s) out.ssh_cipher_c2s = cc2s;
  if (cs2c) out.ssh_cipher_s2c = cs2c;
  // An AEAD cipher authenticates itself: no MAC is used, whatever was negotiated.
  const mc2s = cc2s && AEAD.has(cc2s) ? undefined : choose(c.macs_c2s, s.macs_c2s);
  const ms2c = cs2c && AEAD.has(cs2c) ? undefined : choose(c.macs_s2c, s.macs_s2c);
  if (mc2s) out.ssh_mac_c2s = mc2s;
  if (ms2c) out.ssh_mac_s2c = ms2c;
  return out;
}

export function sshStreamComplete(b: Uint8Array): boolean {
  b = plain(b);
  try {
    const s = scanSshSide(b, false);
    return s.legacy || s.kexinit !== undefined;
  } catch (e) {
    return e instanceof ParseError || !(e instanceof Truncated);
  }
}

export function parseSshConversation(client: Uint8Array, server: Uint8Array): HandshakeResult {
  client = plain(client);
  server = plain(server);
  return guard("ssh", () => {
    const c = scanSshSide(client);
    const s = scanSshSide(server);
    const f: Record<string, unknown> = {};
    if (c.banner !== undefined) f.ssh_client_banner = c.banner;
    if (s.banner !== undefined) f.ssh_server_banner = s.banner;
    if (c.kexinit) {
      f.ssh_kex_client = c.kexinit.kex;
      f.ssh_hostkey_client = c.kexinit.hostkey;
      f.ssh_ciphers_client = c.kexinit.ciphers_c2s;
      f.ssh_macs_client = c.kexinit.macs_c2s;
    }
    if (s.kexinit) {
      f.ssh_kex_server = s.kexinit.kex;
      f.ssh_hostkey_server = s.kexinit.hostkey;
      f.ssh_ciphers_server = s.kexinit.ciphers_s2c;
      f.ssh_macs_server = s.kexinit.macs_s2c;
    }
    if (c.kexinit && s.kexinit) Object.assign(f, chooseAlgorithms(c.kexinit, s.kexinit));
    return { proto: "ssh", fields: f, certificates: [], complete: c.kexinit !== undefined && s.kexinit !== undefined };
  });
}
