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
