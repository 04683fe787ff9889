// Decoder of struct cs_segment_rec (bpf/cryptoscope.h): the handshake bytes wire.bpf.c copied.
export const REC_SEGMENT = 20;
// hdr 16 | 3×u64 | 5×u32 | 2×u16 | 8×u8 | saddr 16 | daddr 16 | 2×u16 | comm 16  (packed)
export const SEGMENT_HEADER_SIZE = 124;

/** Field offsets in the record (struct cs_segment_rec, packed). */
export const R = {
  tsNs: 8, sockCookie: 16, netnsCookie: 24, cgroupId: 32, ifindex: 40, ownerTgid: 44, sockIno: 48, seq: 52,
  origLen: 56, payloadLen: 60, gsoSize: 62, hook: 64, dir: 65, family: 66, l4proto: 67, tcpFlags: 68, proto: 69,
  last: 70, ownerHow: 71, saddr: 72, daddr: 88, sport: 104, dport: 106, ownerComm: 108,
} as const;

export const HOOK_CGROUP = 1;
export const HOOK_TC = 2;
export const PROTO_NAMES = ["", "tls", "ssh", "quic"] as const;

export interface SegmentRecord {
  tsNs: bigint;
  sockCookie: bigint;
  netnsCookie: bigint;
  cgroupId: bigint;
  ifindex: number;
  ownerTgid: number;
  sockIno: number;
  seq: number;
  origLen: number;
  gsoSize: number;
  hook: number;
  dir: 0 | 1; // 0 ingress, 1 egress
  family: 4 | 6;
  l4proto: number;
  tcpFlags: number;
  proto: number;
  last: boolean;
  /** 2: owner learnt at the socket's first send (likely), 0: unknown (1, connect(), is no longer made) */
  ownerHow: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  ownerComm: string;
  payload: Buffer;
}

export class RecordError extends Error {}

function ipString(b: Buffer, off: number, family: number): string {
  if (family === 4) return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(off + i).toString(16));
  // canonical compression of the longest run of zero groups (RFC 5952)
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== "0") { i++; continue; }
    let j = i;
    while (j < 8 && parts[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return parts.join(":");
  return `${parts.slice(0, best).join(":")}::${parts.slice(best + bestLen).join(":")}`;
}

export function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString("latin1", off, end >= 0 && end < off + len ? end : off + len);
}

export function decodeSegment(r: Buffer): SegmentRecord {
  if (r.length < SEGMENT_HEADER_SIZE) throw new RecordError(`segment record of ${r.length} bytes is shorter than its header`);
  const family = r[66] === 6 ? 6 : 4;
  const payloadLen = r.readUInt16LE(60);
  if (SEGMENT_HEADER_SIZE + payloadLen > r.length) throw new RecordError("segment record payload overruns the record");
  return {
    tsNs: r.readBigUInt64LE(8),
    sockCookie: r.readBigUInt64LE(16),
    netnsCookie: r.readBigUInt64LE(24),
    cgroupId: r.readBigUInt64LE(32),
    ifindex: r.readUInt32LE(40),
    ownerTgid: r.readUInt32LE(44),
    sockIno: r.readUInt32LE(48),
    seq: r.readUInt32LE(52),
    origLen: r.readUInt32LE(56),
    gsoSize: r.readUInt16LE(62),
    hook: r[64],
    dir: r[65] ? 1 : 0,
    family,
    l4proto: r[67],
    tcpFlags: r[68],
    proto: r[69],
    last: r[70] !== 0,
    ownerHow: r[71],
    srcAddr: ipString(r, 72, family),
    dstAddr: ipString(r, 88, family),
    srcPort: r.readUInt16LE(104),
    dstPort: r.readUInt16LE(106),
    ownerComm: cstr(r, 108, 16),
    payload: r.subarray(SEGMENT_HEADER_SIZE, SEGMENT_HEADER_SIZE + payloadLen),
  };
}
