export type StreamProto = "tls" | "ssh";

export interface HandshakeResult {
  proto: "tls" | "ssh" | "quic";
  // Keys are column names of TABLES.handshakes (capture/lake/schema.ts); absent = not seen.
  fields: Record<string, unknown>;
  // DER, chain order (leaf first), from a cleartext Certificate message (TLS <= 1.2).
  certificates: Uint8Array[];
  // The client's chain when it sent one in the clear (TLS <= 1.2 mutual authentication).
  clientCertificates?: Uint8Array[];
  // Both hellos (or both KEXINITs) seen.
  complete: boolean;
}
