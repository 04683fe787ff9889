// ClientHello / ServerHello bodies and the extensions cryptoscope records (RFC 8446 §4.1, RFC 6066, RFC 7301,
// draft-ietf-tls-esni). Input is one complete handshake message body; a length that runs past it is malformed.
import { ListCache, Reader, within, asciiCached, u16Lists, u8Lists } from "./reader.ts";

export const EXT = {
  server_name: 0,
  supported_groups: 10,
  signature_algorithms: 13,
  alpn: 16,
  session_ticket: 35,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  psk_key_exchange_modes: 45,
  key_share: 51,
  key_share_draft: 40, // key_share's code point in TLS 1.3 drafts before -23
  quic_transport_parameters: 57,
  quic_transport_parameters_draft: 0xffa5,
  encrypted_client_hello: 0xfe0d,
} as const;

// SHA-256("HelloRetryRequest"): the ServerHello.random that marks a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM = Uint8Array.from(
  Buffer.from("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "hex"),
);

const EMPTY: Uint8Array = new Uint8Array(0);

export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

export interface ClientHello {
  legacyVersion: number;
  sessionId: Uint8Array;
  // The offered lists are frozen and shared between hellos with the same bytes (reader.ts ListCache).
  suites: readonly number[];
  extensions: number[]; // extension types in wire order (GREASE kept)
  sni?: string;
  alpn?: readonly string[];
  alpnRaw?: Uint8Array[]; // ALPN protocol names as bytes (JA4 needs the bytes, not a decoding)
  versions?: readonly number[];
  groups?: readonly number[];
  keyShareGroups?: readonly number[];
  sigAlgs?: readonly number[];
  pskModes?: readonly number[];
  psk: boolean;
  ech: boolean;
}

export interface ServerHello {
  legacyVersion: number;
  sessionId: Uint8Array;
  suite: number;
  extensions: number[];
  helloRetry: boolean;
  selectedVersion?: number;
  keyShareGroup?: number; // ServerHello key_share, or the HelloRetryRequest's selected_group
  alpn?: string;
  alpnRaw?: Uint8Array;
  pskSelected: boolean;
}

/** The rest of r as 16-bit values: the same frozen array for the same bytes (reader.ts u16Lists). */
function u16list(r: Reader): readonly number[] {
  if (r.remaining & 1) r.fail("odd length in a list of 16-bit values");
  const list = u16Lists.of(r.buf, r.pos, r.end);
  r.pos = r.end;
  return list;
}

function parseAlpnList(list: Reader): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (list.remaining > 0) out.push(list.bytes(list.u8()));
  return out;
}

/** An ALPN ProtocolNameList's names (already checked by parseAlpnList), each from asciiCached. */
function alpnNames(b: Uint8Array, start: number, end: number): string[] {
  const out: string[] = [];
  for (let p = start; p < end; p += 1 + b[p]!) out.push(asciiCached(b, p + 1, p + 1 + b[p]!));
  return out;
}
export const alpnLists = new ListCache<string>(alpnNames, 256, 256);

// Key share groups, written as 16-bit values here so that they are looked up like any other list.
let shareBytes = new Uint8Array(64);
function keyShareGroups(list: Reader): readonly number[] {
  let n = 0;
  while (list.remaining > 0) {
    const g = list.u16();
    list.skip(list.u16());
    if (n + 2 > shareBytes.length) {
      const b = new Uint8Array(2 * shareBytes.length);
      b.set(shareBytes);
      shareBytes = b;
    }
    shareBytes[n++] = g >> 8;
    shareBytes[n++] = g & 0xff;
  }
  return u16Lists.of(shareBytes, 0, n);
}

function readHelloPrefix(r: Reader): { legacyVersion: number; sessionId: Uint8Array } {
  const legacyVersion = r.u16();
  r.skip(32); // random
  const sidLen = r.u8();
  if (sidLen > 32) r.fail(`session id of ${sidLen} bytes (max 32)`);
  return { legacyVersion, sessionId: r.bytes(sidLen) };
}

// The few facts the completeness check needs, read without building a hello object (it runs each
// time a flight may have ended). -1: the hello is not well-formed as far as the peek looks; the
// caller then runs the full parser, which says what is wrong.
export const PEEK_HRR = 1;
export const PEEK_TLS13 = 2;

function isTls13Version(v: number): boolean {
  return v === 0x0304 || v >> 8 === 0x7f || v === 0xfb1a;
}

/** ServerHello body[start, n): PEEK_HRR | PEEK_TLS13 bits (selected version, else legacy version), or -1. */
export function peekServerHello(body: Uint8Array, start = 0, n = body.length): number {
  if (n - start < 38) return -1;
  const legacyVersion = (body[start]! << 8) | body[start + 1]!;
  let hrr = true;
  for (let i = 0; i < 32; i++) if (body[start + 2 + i] !== HRR_RANDOM[i]) { hrr = false; break; }
  const draft = legacyVersion >> 8 === 0x7f && (legacyVersion & 0xff) < 22;
  let p = start + 34;
  if (!draft) {
    const sid = body[p]!;
    if (sid > 32) return -1;
    p += 1 + sid + 3; // session id, suite, compression
  } else {
    p += 2;
  }
  let version = legacyVersion;
  if (p > n) return -1;
  if (p < n) {
    if (p + 2 > n) return -1;
    const end = p + 2 + ((body[p]! << 8) | body[p + 1]!);
    if (end > n) return -1;
    for (p += 2; p < end; ) {
      if (p + 4 > end) return -1;
      const type = (body[p]! << 8) | body[p + 1]!;
      const len = (body[p + 2]! << 8) | body[p + 3]!;
      p += 4;
      if (p + len > end) return -1;
      if (type === EXT.supported_versions) {
        if (len < 2) return -1;
        version = (body[p]! << 8) | body[p + 1]!;
      }
      p += len;
    }
  }
  return (hrr ? PEEK_HRR : 0) | (isTls13Version(version) ? PEEK_TLS13 : 0);
}

/** ClientHello body[start, n): 1 when its supported_versions offers TLS 1.3, 0 when not, -1 when not well-formed. */
export function peekClientHelloTls13(body: Uint8Array, start = 0, n = body.length): number {
  if (n - start < 35) return -1;
  let p = start + 34;
  const sid = body[p]!;
  if (sid > 32) return -1;
  p += 1 + sid;
  if (p + 2 > n) return -1;
  p += 2 + ((body[p]! << 8) | body[p + 1]!); // suites
  if (p + 1 > n) return -1;
  p += 1 + body[p]!; // compression methods
  if (p > n) return -1;
  if (p === n) return 0; // no extensions
  if (p + 2 > n) return -1;
  const end = p + 2 + ((body[p]! << 8) | body[p + 1]!);
  if (end > n) return -1;
  let offers = 0;
  for (p += 2; p < end; ) {
    if (p + 4 > end) return -1;
    const type = (body[p]! << 8) | body[p + 1]!;
    const len = (body[p + 2]! << 8) | body[p + 3]!;
    p += 4;
    if (p + len > end) return -1;
    if (type === EXT.supported_versions && len >= 1) {
      const listEnd = p + 1 + body[p]!;
      if (listEnd > p + len) return -1;
      for (let q = p + 1; q + 1 < listEnd; q += 2) if (isTls13Version((body[q]! << 8) | body[q + 1]!)) offers = 1;
    }
    p += len;
  }
  return offers;
}

export function parseClientHello(body: Uint8Array, protocol = "tls"): ClientHello {
  const r = new Reader(body, protocol);
  return within(r, "ClientHello", () => {
    const { legacyVersion, sessionId } = readHelloPrefix(r);
    const suitesR = r.vec16();
    const suites = u16list(suitesR);
    r.skip(r.u8()); // compression methods
    const ch: ClientHello = { legacyVersion, sessionId, suites, extensions: [], psk: false, ech: false };
    if (r.remaining === 0) return ch; // no extensions (SSL 3.0 / old TLS)
    let draftShares: Reader | undefined;
    const exts = r.vec16();
    while (exts.remaining > 0) {
      const type = exts.u16();
      const data = exts.vec16();
      ch.extensions.push(type);
      switch (type) {
        case EXT.server_name: {
          if (data.remaining === 0) break; // an empty server_name is legal in a ServerHello-style echo
          const list = data.vec16();
          while (list.remaining > 0) {
            const nameType = list.u8();
            const name = list.vec16();
            if (nameType === 0 && ch.sni === undefined) ch.sni = asciiCached(name.buf, name.pos, name.end);
          }
          break;
        }
        case EXT.alpn: {
          const list = data.vec16();
          const start = list.pos;
          ch.alpnRaw = parseAlpnList(list);
          ch.alpn = alpnLists.of(list.buf, start, list.end);
          break;
        }
        case EXT.supported_versions:
          ch.versions = u16list(data.vec8());
          break;
        case EXT.supported_groups:
          ch.groups = u16list(data.vec16());
          break;
        case EXT.signature_algorithms:
          ch.sigAlgs = u16list(data.vec16());
          break;
        case EXT.key_share_draft:
          if (ch.keyShareGroups) break;
          draftShares = data;
          break;
        case EXT.key_share:
          ch.keyShareGroups = keyShareGroups(data.vec16());
          break;
        case EXT.psk_key_exchange_modes: {
          const modes = data.vec8();
          ch.pskModes = u8Lists.of(modes.buf, modes.pos, modes.end);
          modes.pos = modes.end;
          break;
        }
        case EXT.pre_shared_key:
          ch.psk = true;
          break;
        case EXT.encrypted_client_hello:
          ch.ech = true;
          break;
      }
    }
    // Extension 40 is a key_share only from a client offering a pre-23 draft of TLS 1.3.
    if (draftShares && !ch.keyShareGroups && ch.versions?.some((v) => v >> 8 === 0x7f && (v & 0xff) < 23)) {
      ch.keyShareGroups = keyShareGroups(draftShares.vec16());
    }
    return ch;
  });
}

export function parseServerHello(body: Uint8Array, protocol = "tls"): ServerHello {
  const r = new Reader(body, protocol);
  return within(r, "ServerHello", () => {
    const legacyVersion = r.u16();
    r.need(32);
    const randomAt = r.pos;
    r.pos += 32;
    // TLS 1.3 drafts before -22 had no session id and no compression method in the ServerHello.
    const draft = legacyVersion >> 8 === 0x7f && (legacyVersion & 0xff) < 22;
    let sessionId = EMPTY;
    if (!draft) {
      const sidLen = r.u8();
      if (sidLen > 32) r.fail(`session id of ${sidLen} bytes (max 32)`);
      sessionId = r.bytes(sidLen);
    }
    const suite = r.u16();
    if (!draft) r.u8(); // compression
    let helloRetry = true;
    for (let i = 0; i < 32; i++) if (body[randomAt + i] !== HRR_RANDOM[i]) { helloRetry = false; break; }
    const sh: ServerHello = { legacyVersion, sessionId, suite, extensions: [], helloRetry, pskSelected: false };
    if (r.remaining === 0) return sh;
    const exts = r.vec16();
    while (exts.remaining > 0) {
      const type = exts.u16();
      const data = exts.vec16();
      sh.extensions.push(type);
      switch (type) {
        case EXT.supported_versions:
          sh.selectedVersion = data.u16();
          break;
        case EXT.key_share_draft:
          if (draft || (legacyVersion >> 8 === 0x7f && (legacyVersion & 0xff) < 23)) sh.keyShareGroup = data.u16();
          break;
        case EXT.key_share:
          // HelloRetryRequest: selected_group only; ServerHello: one KeyShareEntry.
          sh.keyShareGroup = data.u16();
          break;
        case EXT.alpn: {
          const raw = parseAlpnList(data.vec16());
          if (raw.length > 0) {
            sh.alpnRaw = raw[0];
            sh.alpn = asciiCached(raw[0]!);
          }
          break;
        }
        case EXT.pre_shared_key:
          sh.pskSelected = true;
          break;
      }
    }
    return sh;
  });
}
