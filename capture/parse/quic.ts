// QUIC v1 (RFC 9000/9001) and v2 (RFC 9369) Initial packets: remove protection, read the frames, and
// reassemble the CRYPTO streams of both sides into the TLS ClientHello and ServerHello.
import { ParseError, Truncated, guard } from "./errors.ts";
import { Reader, plain } from "./reader.ts";
import { headerProtectionMask, initialKeys, openPayload, versionParams, type InitialKeys, type InitialSecrets } from "./quic-crypto.ts";
import { HS, splitHandshakeMessages, tlsResultFromMessages } from "./tls.ts";
import { PEEK_HRR, peekServerHello } from "./tls-hello.ts";
import type { HandshakeResult } from "./types.ts";

const MAX_CID = 20;
// A CRYPTO stream in Initials holds one hello; anything beyond this offset is not a handshake we parse.
const MAX_CRYPTO = 1 << 20;

function varint(r: Reader): number {
  const first = r.u8();
  const len = 1 << (first >> 6);
  let v = first & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + r.u8();
  return v;
}

interface LongHeader {
  first: number;
  version: number;
  type: number; // packet type bits (version-specific meaning)
  dcid: Uint8Array;
  scid: Uint8Array;
  start: number; // offset of the packet in the datagram
  pnOffset: number; // Initial only
  end: number; // end of this packet in the datagram (coalesced packets follow)
}

// Read one long-header packet's cleartext header; undefined when this is not a long header we can walk.
function readLongHeader(d: Uint8Array, start: number): LongHeader | undefined {
  const r = new Reader(d, "quic", start);
  try {
    const first = r.u8();
    if ((first & 0x80) === 0) return undefined; // short header: 1-RTT, nothing for us
    const version = r.u32();
    const dcid = r.bytes(r.u8());
    const scid = r.bytes(r.u8());
    if (version === 0) return { first, version, type: -1, dcid, scid, start, pnOffset: -1, end: d.length }; // version negotiation
    const vp = versionParams(version);
    if (!vp) return undefined;
    if (dcid.length > MAX_CID || scid.length > MAX_CID) return undefined;
    const type = (first >> 4) & 3;
    if (type === vp.retryType) return { first, version, type, dcid, scid, start, pnOffset: -1, end: d.length };
    if (type === vp.initialType) r.skip(varint(r)); // token
    const length = varint(r);
    const pnOffset = r.pos;
    const end = pnOffset + length;
    if (end > d.length) return { first, version, type, dcid, scid, start, pnOffset, end: -1 }; // cut off
    return { first, version, type, dcid, scid, start, pnOffset, end };
  } catch (e) {
    if (e instanceof Truncated) return undefined;
    throw e;
  }
}

// A server's Retry (RFC 9000 §17.2.5): keep it with the flow's datagrams, its SCID keys the next Initials.
export function isQuicLongHeaderRetry(datagram: Uint8Array): boolean {
  try {
    const h = readLongHeader(datagram, 0);
    if (!h || h.version === 0) return false;
    return h.type === versionParams(h.version)!.retryType;
  } catch {
    return false;
  }
}

export function isQuicLongHeaderInitial(datagram: Uint8Array): boolean {
  try {
    const h = readLongHeader(datagram, 0);
    if (!h || h.version === 0) return false;
    return h.type === versionParams(h.version)!.initialType;
  } catch {
    return false;
  }
}

export interface CryptoChunk {
  offset: number;
  data: Uint8Array;
}

// Remove header protection and open one Initial packet; undefined when the keys do not fit.
function openInitial(d: Uint8Array, h: LongHeader, keys: InitialKeys): { pn: number; payload: Buffer } | undefined {
  const sampleAt = h.pnOffset + 4;
  if (h.end < 0 || sampleAt + 16 > h.end) return undefined;
  const mask = headerProtectionMask(keys, d.subarray(sampleAt, sampleAt + 16));
  const first = h.first ^ (mask[0]! & 0x0f);
  const pnLen = (first & 3) + 1;
  const header = Buffer.from(d.subarray(h.start, h.pnOffset + pnLen));
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    const b = d[h.pnOffset + i]! ^ mask[1 + i]!;
    header[h.pnOffset - h.start + i] = b;
    pn = pn * 256 + b;
  }
  const payload = openPayload(keys, pn, header, d.subarray(h.pnOffset + pnLen, h.end));
  return payload ? { pn, payload } : undefined;
}

// Exported for the fuzz tests. Frames allowed in an Initial packet (RFC 9000 §12.4): PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE.
export function readInitialFrames(payload: Uint8Array, chunks: CryptoChunk[]): void {
  const r = new Reader(payload, "quic");
  try {
    while (r.remaining > 0) {
      const type = varint(r);
      switch (type) {
        case 0x00: { // PADDING: usually hundreds of zero bytes, skip them in one go
          const b = r.buf;
          let p = r.pos;
          while (p < r.end && b[p] === 0) p++;
          r.pos = p;
          break;
        }
        case 0x01: // PING
          break;
        case 0x02:
        case 0x03: { // ACK
          varint(r); // largest acknowledged
          varint(r); // delay
          const ranges = varint(r);
          varint(r); // first range
          for (let i = 0; i < ranges; i++) {
            varint(r);
            varint(r);
          }
          if (type === 0x03) { varint(r); varint(r); varint(r); }
          break;
        }
        case 0x06: { // CRYPTO
          const offset = varint(r);
          const len = varint(r);
          if (offset + len > MAX_CRYPTO) r.fail(`CRYPTO data up to offset ${offset + len}`);
          chunks.push({ offset, data: r.bytes(len) });
          break;
        }
        case 0x1c: // CONNECTION_CLOSE (transport)
          varint(r);
          varint(r);
          r.skip(varint(r));
          break;
        case 0x1d: // CONNECTION_CLOSE (application), not allowed in Initial but harmless to read
          varint(r);
          r.skip(varint(r));
          break;
        default:
          r.fail(`frame type 0x${type.toString(16)} is not allowed in an Initial packet`);
      }
    }
  } catch (e) {
    if (e instanceof Truncated) throw new ParseError("quic", e.offset, "frame runs past the end of its packet");
    throw e;
  }
}

// The contiguous prefix of a CRYPTO stream, from offset 0 on (later gaps end it).
function assemble(chunks: CryptoChunk[]): Uint8Array {
  if (chunks.length === 0) return new Uint8Array(0);
  chunks.sort((a, b) => a.offset - b.offset);
  let end = 0;
  for (const c of chunks) {
    if (c.offset > end) break;
    end = Math.max(end, c.offset + c.data.length);
  }
  if (chunks.length === 1) return chunks[0]!.data;
  const out = new Uint8Array(end);
  let filled = 0;
  for (const c of chunks) {
    if (c.offset > filled) break;
    const from = filled - c.offset;
    if (from < c.data.length) {
      out.set(c.data.subarray(from), filled);
      filled = c.offset + c.data.length;
    }
  }
  return out;
}

interface SideState {
  chunks: CryptoChunk[];
  version?: number;
}

// Callers re-parse a flow each time a datagram arrives: remember what each datagram gave (per side and
// key set), so an Initial is opened once. Keyed by the caller's datagram object; dropped with it.
interface Opened {
  keysId: string;
  version?: number;
  chunks: CryptoChunk[];
}
const openedCache = new WeakMap<Uint8Array, Opened>();

function walkDatagrams(
  datagrams: Uint8Array[],
  side: "client" | "server",
  candidates: { version: number; secrets: InitialSecrets }[],
  state: SideState,
  retryScids?: Uint8Array[],
  keysId = "",
): void {
  for (const original of datagrams) {
    const id = side + keysId;
    if (!retryScids) {
      const hit = openedCache.get(original);
      if (hit && hit.keysId === id) {
        if (hit.version !== undefined) state.version ??= hit.version;
        for (const c of hit.chunks) state.chunks.push(c);
        continue;
      }
    }
    const d = plain(original);
    const mine: Opened = { keysId: id, chunks: [] };
    let p = 0;
    while (p < d.length) {
      const h = readLongHeader(d, p);
      if (!h || h.version === 0) break;
      const vp = versionParams(h.version)!;
      if (h.type === vp.retryType) {
        if (retryScids) retryScids.push(h.scid);
        break;
      }
      if (h.type === vp.initialType) {
        for (const c of candidates) {
          if (c.version !== h.version) continue;
          const opened = openInitial(d, h, side === "client" ? c.secrets.client : c.secrets.server);
          if (opened) {
            mine.version ??= h.version;
            readInitialFrames(opened.payload, mine.chunks);
            break;
          }
        }
      }
      if (h.end < 0) break;
      p = h.end;
    }
    if (!retryScids) openedCache.set(original, mine);
    if (mine.version !== undefined) state.version ??= mine.version;
    for (const c of mine.chunks) state.chunks.push(c);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface QuicCrypto {
  version?: number;
  // Contiguous CRYPTO stream bytes (from offset 0) of each side's Initial packets: TLS handshake messages.
  client: Uint8Array;
  server: Uint8Array;
}

// Decrypt both sides' Initial packets and reassemble their CRYPTO streams.
export function quicInitialCrypto(clientDatagrams: Uint8Array[], serverDatagrams: Uint8Array[]): QuicCrypto {
  return guard("quic", () => {
    // Keys come from the DCID of the client's first Initial, or after a Retry from the Retry's SCID.
    let firstInitial: LongHeader | undefined;
    for (const d of clientDatagrams) {
      const h = readLongHeader(plain(d), 0);
      if (h && h.version !== 0 && h.type === versionParams(h.version)!.initialType) { firstInitial = h; break; }
    }
    const retryScids: Uint8Array[] = [];
    // Retry packets are found by walking the server side once without keys.
    walkDatagrams(serverDatagrams, "server", [], { chunks: [] }, retryScids);
    const cids: { version: number; dcid: Uint8Array }[] = [];
    if (firstInitial) {
      // Compatible version negotiation (RFC 9368): the server may answer a v1 Initial in v2, keyed by
      // the same connection id with v2's salt. So: every version seen in an Initial, for every id.
      const versions = new Set<number>([firstInitial.version]);
      for (const d of serverDatagrams) {
        const h = readLongHeader(plain(d), 0);
        if (h && h.version !== 0 && h.type === versionParams(h.version)!.initialType) versions.add(h.version);
      }
      const ids = [firstInitial.dcid];
      for (const s of retryScids) if (!ids.some((c) => sameBytes(c, s))) ids.push(s);
      for (const v of versions) for (const dcid of ids) cids.push({ version: v, dcid });
    }
    const candidates = cids.map((c) => ({ version: c.version, secrets: initialKeys(c.version, c.dcid)! }));
    const client: SideState = { chunks: [] };
    const server: SideState = { chunks: [] };
    const keysId = cids.map((c) => c.version + ":" + Buffer.from(c.dcid.buffer, c.dcid.byteOffset, c.dcid.byteLength).toString("hex")).join(",");
    walkDatagrams(clientDatagrams, "client", candidates, client, undefined, keysId);
    walkDatagrams(serverDatagrams, "server", candidates, server, undefined, keysId);
    return {
      version: client.version ?? server.version ?? firstInitial?.version,
      client: assemble(client.chunks),
      server: assemble(server.chunks),
    };
  });
}

/**
 * Whether the Initials hold both a ClientHello and a ServerHello that is not a HelloRetryRequest,
 * i.e. whether parseQuicConversation would say complete (or fail on a malformed hello), without
 * building its result: the flow table asks after every server Initial.
 */
export function quicHandshakeComplete(clientDatagrams: Uint8Array[], serverDatagrams: Uint8Array[]): boolean {
  let crypto: QuicCrypto;
  try {
    crypto = quicInitialCrypto(clientDatagrams, serverDatagrams);
  } catch (e) {
    if (e instanceof ParseError) return false;
    throw e;
  }
  if (crypto.server.length < 4 || crypto.client.length < 4 || crypto.client[0] !== HS.client_hello) return false;
  for (const m of splitHandshakeMessages(crypto.server, "quic").messages) {
    if (m.type !== HS.server_hello) continue;
    const k = peekServerHello(m.body);
    if (k < 0 || (k & PEEK_HRR) === 0) return true;
  }
  return false;
}

export function parseQuicConversation(clientDatagrams: Uint8Array[], serverDatagrams: Uint8Array[]): HandshakeResult {
  return guard("quic", () => {
    const crypto = quicInitialCrypto(clientDatagrams, serverDatagrams);
    const cMsgs = splitHandshakeMessages(crypto.client, "quic").messages;
    const sMsgs = splitHandshakeMessages(crypto.server, "quic").messages;
    const res = tlsResultFromMessages({ client: cMsgs, server: sMsgs, quic: true });
    if (crypto.version !== undefined) res.fields.quic_version = crypto.version;
    res.proto = "quic";
    return res;
  });
}
