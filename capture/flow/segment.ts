// What the flow table takes: one TCP segment or UDP datagram, already cut out of its packet.
// pcap ingest decodes these from files; live capture will build them from BPF-copied bytes.
export type Transport = "tcp" | "udp";

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface Segment {
  /** capture time, µs since the Unix epoch */
  tsUs: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  transport: Transport;
  /** TCP sequence number (0 for UDP) */
  seq: number;
  /** TCP flags byte (0 for UDP) */
  flags: number;
  /** TCP payload or UDP datagram payload; may be a view the caller reuses after the call */
  payload: Uint8Array;
  /** live capture: which observation point saw it (a local socket, or an interface); part of the flow key,
   *  so the two local sockets of a loopback connection are two flows, one per process */
  view?: string;
}

/**
 * A TCP segment or UDP datagram as numbers, for the per-packet path of the flow table: the
 * addresses as 32-bit words (IPv4 in a0/b0, the others 0) and the payload as a range of the
 * frame's bytes, so a packet costs no strings and no objects. One Packet is refilled for every
 * frame (see decodePacket); the flow table copies what it keeps.
 */
export class Packet {
  tsUs = 0;
  /** 6 = TCP, 17 = UDP */
  ipProto = 0;
  v6 = false;
  /** source address words (network order, as signed 32-bit numbers) */
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  /** destination address words */
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  flags = 0;
  /** the frame's bytes; the payload is bytes[payloadStart, payloadEnd) */
  bytes: Uint8Array = new Uint8Array(0);
  payloadStart = 0;
  payloadEnd = 0;
  /** where the source address starts in bytes (the destination follows it), -1 when the text is given */
  addrAt = -1;
  /** address text when the packet came from a Segment (else made from bytes when a flow starts) */
  srcText = "";
  dstText = "";
  /** Segment.view (live capture), or "" */
  view = "";

  get payloadLength(): number {
    return this.payloadEnd - this.payloadStart;
  }

  payload(): Uint8Array {
    return this.bytes.subarray(this.payloadStart, this.payloadEnd);
  }
}
