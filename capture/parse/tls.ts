// TLS over TCP: the record layer of each direction, handshake messages reassembled across records, and
// the handshake fields of a conversation (RFC 5246, RFC 8446). Handshake messages without records
// (QUIC CRYPTO frames) go straight to splitHandshakeMessages / tlsResultFromMessages.
import { ParseError, Truncated, guard } from "./errors.ts";
import { Reader, hex, plain, sha256hexCached } from "./reader.ts";
import {
  PEEK_HRR,
  PEEK_TLS13,
  parseClientHello,
  parseServerHello,
  peekClientHelloTls13,
  peekServerHello,
  type ClientHello,
  type ServerHello,
} from "./tls-hello.ts";
import { parseServerKeyExchange } from "./tls-kx.ts";
import { ja4, ja4s } from "./ja4.ts";
import type { HandshakeResult } from "./types.ts";

export const HS = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  certificate: 11,
  server_key_exchange: 12,
  certificate_request: 13,
  server_hello_done: 14,
  client_key_exchange: 16,
} as const;

const REC = { change_cipher_spec: 20, alert: 21, handshake: 22, application_data: 23, heartbeat: 24 } as const;
// RFC 8446 §5.2: a record is at most 2^14 + 256 bytes of ciphertext (TLS 1.2 allows 2^14 + 2048).
const MAX_RECORD = 16384 + 2048;

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
}

// Split a handshake byte stream into messages; stops (truncated=true) at a message not fully present.
export function splitHandshakeMessages(buf: Uint8Array, protocol = "tls"): { messages: HandshakeMessage[]; truncated: boolean; used: number } {
  const messages: HandshakeMessage[] = [];
  let p = 0;
  while (p < buf.length) {
    if (p + 4 > buf.length) return { messages, truncated: true, used: p };
    const type = buf[p]!;
    const len = (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
    if (p + 4 + len > buf.length) return { messages, truncated: true, used: p };
    messages.push({ type, body: buf.subarray(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  void protocol;
  return { messages, truncated: false, used: p };
}

export interface RecordScan {
  messages: HandshakeMessage[];
  // A record or handshake message was cut off by the end of the bytes.
  truncated: boolean;
  // Nothing more of this direction is needed (see tcpStreamComplete).
  complete: boolean;
  // Handshake messages that came before this direction's first ChangeCipherSpec (-1: no CCS).
  messagesBeforeCcs: number;
  // The direction does not start with a TLS record at all (e.g. a plaintext HTTP error from the server).
  notTls: boolean;
}

function isTls13(v: number | undefined): boolean {
  return v !== undefined && (v === 0x0304 || (v >> 8) === 0x7f || v === 0xfb1a /* draft-era experiment */);
}

// PEEK_HRR / PEEK_TLS13 of a ServerHello: peeked, or from the full parser when the peek finds it
// not well-formed (which then throws the ParseError that says why).
function serverHelloKind(buf: Uint8Array, start = 0, end = buf.length): number {
  const k = peekServerHello(buf, start, end);
  if (k >= 0) return k;
  const sh = parseServerHello(buf.subarray(start, end));
  return (sh.helloRetry ? PEEK_HRR : 0) | (isTls13(sh.selectedVersion ?? sh.legacyVersion) ? PEEK_TLS13 : 0);
}

// Handshake bytes not yet split into messages: record fragments as ranges of the direction's bytes,
// joined only when a message spans several of them (a Certificate over many records), so each byte
// is copied at most once and a message inside one record is read in place. One instance serves
// every scan (scans do not nest); next() leaves the message in msgBuf[msgStart, msgEnd).
class HandshakeBuffer {
  private bytes: Uint8Array = new Uint8Array(0);
  private readonly ranges: number[] = []; // start, end, start, end, ...
  private head = 0; // index of the first live range's start
  pending = 0; // bytes in the live ranges
  msgType = 0;
  msgBuf: Uint8Array = this.bytes;
  msgStart = 0; // the body (after the 4-byte header)
  msgEnd = 0;

  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.ranges.length = 0;
    this.head = 0;
    this.pending = 0;
    this.msgBuf = bytes;
  }

  append(start: number, end: number): void {
    if (end <= start) return;
    this.ranges.push(start, end);
    this.pending += end - start;
  }

  // Total size of the next message (header included), or -1 when its header is not all here.
  nextMessageSize(): number {
    if (this.pending < 4) return -1;
    const r = this.ranges;
    const b = this.bytes;
    let k = 0, len = 0;
    for (let c = this.head; c < r.length && k < 4; c += 2) {
      for (let i = r[c]!; i < r[c + 1]! && k < 4; i++, k++) if (k > 0) len = (len << 8) | b[i]!;
    }
    return 4 + len;
  }

  // Take the next n bytes (n <= pending) as one message.
  next(n: number): void {
    const r = this.ranges;
    const start = r[this.head]!;
    this.pending -= n;
    if (r[this.head + 1]! - start >= n) {
      this.msgBuf = this.bytes;
      this.msgType = this.bytes[start]!;
      this.msgStart = start + 4;
      this.msgEnd = start + n;
      r[this.head] = start + n;
      if (r[this.head] === r[this.head + 1]) this.head += 2;
      return;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const s0 = r[this.head]!;
      const m = Math.min(r[this.head + 1]! - s0, n - o);
      out.set(this.bytes.subarray(s0, s0 + m), o);
      o += m;
      r[this.head] = s0 + m;
      if (r[this.head] === r[this.head + 1]) this.head += 2;
    }
    this.msgBuf = out;
    this.msgType = out[0]!;
    this.msgStart = 4;
    this.msgEnd = n;
  }
}

const hs = new HandshakeBuffer();

// Walk the records of one direction, collecting the cleartext handshake messages (a client's own
// Certificate in TLS 1.2 mutual authentication too). Handshake records are cleartext until this direction's
// ChangeCipherSpec; after it only the hello that follows a HelloRetryRequest (TLS 1.3 middlebox mode)
// is still cleartext, everything else is encrypted (TLS 1.2 Finished) and ends what we can see.
// collect=false only answers complete/truncated/notTls (messages stays empty): the completeness check.
export function scanTlsRecords(bytes: Uint8Array, dir: "c2s" | "s2c", hrrKnown?: boolean, collect = true): RecordScan {
  const helloType = dir === "c2s" ? HS.client_hello : HS.server_hello;
  const scan: RecordScan = { messages: [], truncated: false, complete: false, messagesBeforeCcs: -1, notTls: false };
  hs.reset(bytes);
  let ccs = false;
  let hellos = 0;
  let hrrSeen = false;
  let no13 = false; // c2s: the ClientHello offers no TLS 1.3
  let count = 0; // messages so far
  let p = 0;

  while (p < bytes.length) {
    if (p + 5 > bytes.length) { scan.truncated = true; break; }
    const type = bytes[p]!;
    const major = bytes[p + 1]!;
    const len = (bytes[p + 3]! << 8) | bytes[p + 4]!;
    if (type < REC.change_cipher_spec || type > REC.heartbeat + 1 || major !== 3) {
      if (p === 0) {
        scan.notTls = true;
        scan.complete = true;
        break;
      }
      throw new ParseError("tls", p, `not a TLS record (type ${type}, version ${major}.${bytes[p + 2]})`);
    }
    if (len > MAX_RECORD) throw new ParseError("tls", p, `record of ${len} bytes (max ${MAX_RECORD})`);
    let partial = false;
    if (p + 5 + len > bytes.length) {
      scan.truncated = true;
      // A partial handshake record still carries the start of a message: keep it for partial results.
      if (type !== REC.handshake || ccs) break;
      hs.append(p + 5, bytes.length);
      partial = true;
    } else {
      const fragStart = p + 5;
      p += 5 + len;
      if (type === REC.application_data || type === REC.alert) { scan.complete = true; break; }
      if (type === REC.change_cipher_spec) {
        if (!ccs) {
          ccs = true;
          scan.messagesBeforeCcs = count;
        }
        // Nothing cleartext follows a CCS unless it sits between a HelloRetryRequest and the second hello.
        if (dir === "s2c" ? !hrrSeen : hrrKnown === false || no13) { scan.complete = true; break; }
        continue;
      }
      if (type !== REC.handshake) continue;
      if (ccs) {
        // After CCS: only the second hello of a HelloRetryRequest exchange is readable.
        const allowed =
          len > 0 && bytes[fragStart] === helloType && hellos === 1 &&
          (dir === "s2c" ? hrrSeen : hrrKnown !== false);
        if (!allowed || hs.pending > 0) { scan.complete = true; break; }
      }
      hs.append(fragStart, fragStart + len);
    }
    // Split what has arrived into messages and look at the hellos among them.
    for (let size = hs.nextMessageSize(); size >= 0 && size <= hs.pending; size = hs.nextMessageSize()) {
      hs.next(size);
      count++;
      const mType = hs.msgType;
      if (collect) scan.messages.push({ type: mType, body: hs.msgBuf.subarray(hs.msgStart, hs.msgEnd) });
      if (mType === helloType) {
        hellos++;
        if (dir === "s2c") {
          const k = serverHelloKind(hs.msgBuf, hs.msgStart, hs.msgEnd);
          if (k & PEEK_HRR) hrrSeen = true;
          else if (k & PEEK_TLS13) scan.complete = true; // the rest is encrypted
        } else if (hellos === 1) {
          // A client that cannot do TLS 1.3 is never asked to retry: its CCS ends the cleartext.
          let offers = peekClientHelloTls13(hs.msgBuf, hs.msgStart, hs.msgEnd);
          if (offers < 0) {
            const ch = parseClientHello(hs.msgBuf.subarray(hs.msgStart, hs.msgEnd)); // not well-formed for the peek: the parser says why
            offers = ch.versions && ch.versions.some(isTls13) ? 1 : 0;
          }
          if (offers === 0) no13 = true;
        }
      }
      if (dir === "s2c" && mType === HS.server_hello_done) scan.complete = true;
      if (scan.complete) break;
    }
    if (partial || scan.complete) break;
  }
  if (!scan.complete && hs.pending > 0) scan.truncated = true;
  hs.reset(EMPTY);
  return scan;
}

const EMPTY = new Uint8Array(0);

function parseCertificateList(body: Uint8Array, withContext: boolean): Uint8Array[] {
  const r = new Reader(body, "tls");
  try {
    if (withContext) r.skip(r.u8());
    const list = r.vec24();
    const out: Uint8Array[] = [];
    while (list.remaining > 0) {
      out.push(list.bytes(list.u24()));
      if (withContext) list.skip(list.u16()); // per-certificate extensions
    }
    return out;
  } catch (e) {
    if (e instanceof Truncated) throw new ParseError("tls", e.offset, "Certificate: a length runs past the end of its message");
    throw e;
  }
}

export interface TlsMessagesInput {
  client: HandshakeMessage[];
  server: HandshakeMessage[];
  quic: boolean;
  // Messages of the server before its ChangeCipherSpec (-1 = none seen), for TLS 1.2 abbreviated handshakes.
  serverMessagesBeforeCcs?: number;
}

// The handshakes-table fields of one TLS conversation, from its handshake messages.
export function tlsResultFromMessages(input: TlsMessagesInput): HandshakeResult {
  return guard("tls", () => {
    const f: Record<string, unknown> = {};
    const certificates: Uint8Array[] = [];
    let ch1: ClientHello | undefined;
    const sHellos: ServerHello[] = [];
    for (const m of input.client) {
      if (m.type !== HS.client_hello) continue;
      if (!ch1) ch1 = parseClientHello(m.body);
      else break; // the second ClientHello (after HRR) repeats the offer; the first is the client's own choice
    }
    for (const m of input.server) if (m.type === HS.server_hello) sHellos.push(parseServerHello(m.body));
    const hrr = sHellos.find((s) => s.helloRetry);
    const sh = sHellos.find((s) => !s.helloRetry);
    if (ch1) {
      if (ch1.sni !== undefined) f.sni = ch1.sni;
      if (ch1.alpn) f.alpn_offered = ch1.alpn;
      f.legacy_version = ch1.legacyVersion;
      if (ch1.versions) f.versions_offered = ch1.versions;
      f.suites_offered = ch1.suites;
      if (ch1.groups) f.groups_offered = ch1.groups;
      if (ch1.keyShareGroups) f.key_share_groups = ch1.keyShareGroups;
      if (ch1.sigAlgs) f.sig_algs_offered = ch1.sigAlgs;
      if (ch1.pskModes) f.psk_modes = ch1.pskModes;
      f.ech = ch1.ech;
      f.ja4 = ja4(ch1, input.quic);
    }
    if (sHellos.length > 0) {
      f.hello_retry = hrr !== undefined;
      f.ja4s = ja4s(sHellos[0]!, input.quic);
    }
    if (hrr && hrr.keyShareGroup !== undefined) f.group_chosen = hrr.keyShareGroup;
    const final = sh ?? hrr;
    if (final) {
      const version = final.selectedVersion ?? final.legacyVersion;
      f.version_chosen = version;
      f.suite_chosen = final.suite;
      if (final.alpn !== undefined) f.alpn_chosen = final.alpn;
    }
    if (sh) {
      const version = sh.selectedVersion ?? sh.legacyVersion;
      if (sh.keyShareGroup !== undefined) f.group_chosen = sh.keyShareGroup;
      if (isTls13(version)) {
        f.resumed = sh.pskSelected;
      } else {
        const sameSession = ch1 !== undefined && sh.sessionId.length > 0 && ch1.sessionId.length === sh.sessionId.length &&
          sh.sessionId.every((b, i) => b === ch1!.sessionId[i]);
        // Abbreviated handshake: the server's ChangeCipherSpec follows the ServerHello (and maybe a ticket).
        const before = input.serverMessagesBeforeCcs ?? -1;
        const abbreviated = before >= 0 && input.server.slice(0, before).every((m) => m.type === HS.server_hello || m.type === HS.new_session_ticket);
        f.resumed = sameSession || abbreviated;
      }
      let sawCert = false;
      for (const m of input.server) {
        if (m.type === HS.certificate && !sawCert) {
          sawCert = true;
          certificates.push(...parseCertificateList(m.body, isTls13(version)));
        } else if (m.type === HS.server_key_exchange && !isTls13(version)) {
          const ske = parseServerKeyExchange(m.body, sh.suite, version);
          if (ske.group !== undefined) f.group_chosen = ske.group;
          if (ske.sigAlg !== undefined) f.sig_alg_chosen = ske.sigAlg;
        }
      }
      if (sawCert) {
        f.cert_count = certificates.length;
        if (certificates.length > 0) f.leaf_cert_sha256 = sha256hexCached(certificates[0]!);
      }
    }
    const result: HandshakeResult = { proto: input.quic ? "quic" : "tls", fields: f, certificates, complete: ch1 !== undefined && sh !== undefined };
    if (sh && !isTls13(sh.selectedVersion ?? sh.legacyVersion)) {
      const cc = input.client.find((m) => m.type === HS.certificate);
      if (cc) result.clientCertificates = parseCertificateList(cc.body, false);
    }
    return result;
  });
}

export function tlsStreamComplete(bytes: Uint8Array, dir: "c2s" | "s2c"): boolean {
  try {
    return scanTlsRecords(plain(bytes), dir, undefined, false).complete;
  } catch (e) {
    // Malformed: more bytes will not help.
    if (e instanceof ParseError) return true;
    if (e instanceof Truncated) return false;
    return true;
  }
}

export function parseTlsConversation(client: Uint8Array, server: Uint8Array): HandshakeResult {
  client = plain(client);
  server = plain(server);
  return guard("tls", () => {
    let s: RecordScan | undefined = server.length > 0 ? scanTlsRecords(server, "s2c") : undefined;
    // A server that answers in something else than TLS leaves the ClientHello standing on its own.
    if (s?.notTls) s = undefined;
    let hrrKnown: boolean | undefined;
    if (s) hrrKnown = s.messages.some((m) => m.type === HS.server_hello && (serverHelloKind(m.body) & PEEK_HRR) !== 0);
    const c = client.length > 0 ? scanTlsRecords(client, "c2s", hrrKnown) : undefined;
    if (c?.notTls) throw new ParseError("tls", 0, `the client does not start with a TLS record (first byte ${client[0]})`);
    return tlsResultFromMessages({
      client: c?.messages ?? [],
      server: s?.messages ?? [],
      quic: false,
      serverMessagesBeforeCcs: s?.messagesBeforeCcs,
    });
  });
}

export { hex };
