// The handshake parsers shared by live capture and pcap ingest. They see bytes of a reassembled TCP
// stream (one Uint8Array per direction, maybe truncated) or UDP datagrams, nothing capture-specific.
// Only ParseError ever escapes; bytes that are valid but cut short give complete=false, never an error.
//
// What the fields mean where a choice was made:
// - Offered fields (sni, suites, groups, key_share_groups, sig algs, ALPN, versions, psk_modes, ech) and ja4
//   come from the FIRST ClientHello: after a HelloRetryRequest the second one only repeats the offer with
//   the share the server asked for (group_chosen says which).
// - group_chosen: the final ServerHello's key_share (TLS 1.3), else the HRR's selected group; TLS 1.2: the
//   ServerKeyExchange named curve, or the RFC 7919 ffdhe group when the DHE prime is one of those.
// - ja4s is computed from the first ServerHello, i.e. the HelloRetryRequest when there was one (as FoxIO's
//   tool does); version/suite_chosen come from the final ServerHello.
// - resumed: TLS 1.3 pre_shared_key accepted; TLS <= 1.2 session id echoed or an abbreviated handshake.
// - alpn_chosen is only visible in TLS <= 1.2 (TLS 1.3 and QUIC carry it encrypted).
// - certificates/cert_count/leaf_cert_sha256: only from a cleartext Certificate (TLS <= 1.2); a client's
//   own chain (TLS 1.2 mutual authentication) comes as clientCertificates.
// - tcpStreamComplete: c2s ends at the client's CCS (TLS 1.2, or when the server did no HRR) or its first
//   encrypted/alert record; s2c at ServerHelloDone, a TLS 1.3 ServerHello, a CCS with no HRR pending, or
//   an encrypted/alert record. A direction that does not start with a TLS record is complete too.
// - ALPN and SNI strings keep every byte as one character (ISO-8859-1), so nothing is lost.
// - parseQuicConversation remembers what each datagram object decrypted to (WeakMap): pass the same
//   objects again as a flow grows, and do not reuse a datagram's buffer for other bytes.
// - SSH: banners, kex/hostkey/cipher/MAC lists as the schema names them, and the RFC 4253 choice; the
//   other name-lists are in scanSshSide()'s KexInit. SSH-1 gives banners only (complete=false).
import { ParseError } from "./errors.ts";
import { parseTlsConversation, tlsStreamComplete } from "./tls.ts";
import { parseSshConversation, sshStreamComplete } from "./ssh.ts";
import type { HandshakeResult, StreamProto } from "./types.ts";

export { ParseError } from "./errors.ts";
export type { HandshakeResult, StreamProto } from "./types.ts";
export {
  isQuicLongHeaderInitial,
  isQuicLongHeaderRetry,
  parseQuicConversation,
  quicHandshakeComplete,
  quicInitialCrypto,
  type QuicCrypto,
} from "./quic.ts";
export { certificateFields } from "./x509.ts";
// Lower-level pieces, for callers that have handshake messages without TLS records.
export { splitHandshakeMessages, tlsResultFromMessages, type HandshakeMessage } from "./tls.ts";
export { parseClientHello, parseServerHello, type ClientHello, type ServerHello } from "./tls-hello.ts";
export { ja4, ja4s } from "./ja4.ts";
export { scanSshSide, type KexInit } from "./ssh.ts";

// TLS: a handshake record (22) with major version 3 and a known minor; SSH: the "SSH-" banner.
export function detectTcpProto(firstBytes: Uint8Array): StreamProto | null {
  const b = firstBytes;
  if (b.length >= 3 && b[0] === 0x16 && b[1] === 0x03 && b[2]! <= 0x04) return "tls";
  if (b.length >= 4 && b[0] === 0x53 && b[1] === 0x53 && b[2] === 0x48 && b[3] === 0x2d) return "ssh";
  return null;
}

export function tcpStreamComplete(proto: StreamProto, bytes: Uint8Array, dir: "c2s" | "s2c"): boolean {
  if (proto === "tls") return tlsStreamComplete(bytes, dir);
  if (proto === "ssh") return sshStreamComplete(bytes);
  return true;
}

export function parseTcpConversation(proto: StreamProto, client: Uint8Array, server: Uint8Array): HandshakeResult {
  if (proto === "tls") return parseTlsConversation(client, server);
  if (proto === "ssh") return parseSshConversation(client, server);
  throw new ParseError(String(proto), 0, "unknown stream protocol");
}
