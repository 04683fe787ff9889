// The handshake parsers shared by live capture and pcap ingest. They see bytes of a reassembled TCP
// stream (one Uint8Array per direction, maybe truncated) or UDP datagrams, nothing capture-specific.
// Only ParseError ever escapes.
import { ParseError } from "./errors.ts";
import { parseTlsConversation, tlsStreamComplete } from "./tls.ts";
import { parseSshConversation, sshStreamComplete } from "./ssh.ts";
import type { HandshakeResult, StreamProto } from "./types.ts";

export { ParseError } from "./errors.ts";
export type { HandshakeResult, StreamProto } from "./types.ts";
export { isQuicLongHeaderInitial, parseQuicConversation, quicInitialCrypto, type QuicCrypto } from "./quic.ts";
export { certificateFields } from "./x509.ts";
// Lower-level pieces, for callers that have handshake messages without TLS records.
export { splitHandshakeMessages, tlsResultFromMessages, type HandshakeMessage } from "./tls.ts";
export { parseClientHello, parseServerHello, type ClientHello, type ServerHello } from "./tls-hello.ts";
export { ja4, ja4s } from "./ja4.ts";

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
