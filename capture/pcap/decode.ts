// Link layer → IP → TCP/UDP: turn a captured frame into a flow Segment, or null when it carries
// neither (ARP, ICMP, a non-first IP fragment, a frame cut short). Never throws: packet contents
// are untrusted, only the file structure can be "damaged".
import { packetAddress } from "../flow/address-text.ts";
import { Packet, type Segment } from "../flow/segment.ts";

export { formatIpv4, formatIpv6 } from "../flow/address-text.ts";

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  RAW_OLD: 12, // some BSDs write DLT_RAW's own number
  PPP_HDLC: 50,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

const IP4 = 1;
const IP6 = 2;

/**
 * Where the IP header starts in d[start, end) and which IP version it is, packed as
 * (offset << 2) | IP4 or IP6; -1 for anything else. A number, not an object: this runs per frame.
 */
function locateIp(linkType: number, d: Uint8Array, start: number, end: number): number {
  const len = end - start;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      let at = start + 12;
      let type = 0;
      // Walk 802.1Q / 802.1ad (QinQ) / old 0x9100 VLAN tags.
      for (let tags = 0; tags < 4; tags++) {
        if (end < at + 2) return -1;
        type = (d[at]! << 8) | d[at + 1]!;
        if (type === 0x8100 || type === 0x88a8 || type === 0x9100) at += 4;
        else break;
      }
      return ipAt(at + 2, type);
    }
    case LINKTYPE.LINUX_SLL:
      if (len < 16) return -1;
      return ipAt(start + 16, (d[start + 14]! << 8) | d[start + 15]!);
    case LINKTYPE.LINUX_SLL2:
      if (len < 20) return -1;
      return ipAt(start + 20, (d[start]! << 8) | d[start + 1]!);
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_OLD:
    case 14: // DLT_RAW on OpenBSD
      if (len < 1) return -1;
      return (start << 2) | (d[start]! >> 4 === 6 ? IP6 : IP4);
    case LINKTYPE.IPV4:
      return (start << 2) | IP4;
    case LINKTYPE.IPV6:
      return (start << 2) | IP6;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (len < 4) return -1;
      // AF_ value in the writer's byte order (NULL) or big-endian (LOOP): accept either.
      const le = d[start]! | (d[start + 1]! << 8);
      const be = (d[start + 2]! << 8) | d[start + 3]!;
      const af = le !== 0 ? le : be;
      if (af === 2) return ((start + 4) << 2) | IP4;
      if (af === 24 || af === 28 || af === 30 || af === 10) return ((start + 4) << 2) | IP6;
      return -1;
    }
    case LINKTYPE.PPP:
    case LINKTYPE.PPP_HDLC: {
      let at = start;
      if (len >= 2 && d[start] === 0xff && d[start + 1] === 0x03) at += 2; // HDLC address/control
      if (end < at + 2) return -1;
      const proto = (d[at]! << 8) | d[at + 1]!;
      if (proto === 0x0021) return ((at + 2) << 2) | IP4;
      if (proto === 0x0057) return ((at + 2) << 2) | IP6;
      return -1;
    }
    default:
      return -1;
  }
}

function ipAt(at: number, ethertype: number): number {
  if (ethertype === ETH_IPV4) return (at << 2) | IP4;
  if (ethertype === ETH_IPV6) return (at << 2) | IP6;
  return -1;
}

export interface DecodeStats {
  /** frames that were not TCP/UDP over IPv4/IPv6 or were cut short */
  skipped: number;
  /** non-first IPv4/IPv6 fragments */
  fragments: number;
}

export function newDecodeStats(): DecodeStats {
  return { skipped: 0, fragments: 0 };
}

function word(d: Uint8Array, at: number): number {
  return (d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!;
}

/**
 * Decode the frame d[start, end) into `out` (refilled, nothing allocated); false when it holds no TCP
 * segment or UDP datagram we can use. With `skipPureAcks`, TCP segments without payload and without
 * SYN/FIN/RST give false too: nothing of a handshake is in them and they are half of all packets.
 */
export function decodePacket(
  linkType: number,
  d: Uint8Array,
  start: number,
  end: number,
  tsUs: number,
  out: Packet,
  stats?: DecodeStats,
  skipPureAcks = false,
): boolean {
  const loc = locateIp(linkType, d, start, end);
  if (loc < 0) return skipped(stats);
  let at = loc >>> 2;
  let proto: number;
  let v6 = false;
  let addrAt: number;
  if ((loc & 3) === IP4) {
    if (end < at + 20 || d[at]! >> 4 !== 4) return skipped(stats);
    const ihl = (d[at]! & 0x0f) * 4;
    const total = (d[at + 2]! << 8) | d[at + 3]!;
    if (ihl < 20 || end < at + ihl) return skipped(stats);
    // Trust the IP length over the frame length (Ethernet pads short frames), unless TSO made it 0.
    if (total >= ihl && at + total < end) end = at + total;
    const fragOffset = ((d[at + 6]! & 0x1f) << 8) | d[at + 7]!;
    if (fragOffset !== 0) {
      if (stats) stats.fragments++;
      return false;
    }
    proto = d[at + 9]!;
    addrAt = at + 12;
    at += ihl;
  } else {
    if (end < at + 40 || d[at]! >> 4 !== 6) return skipped(stats);
    const plen = (d[at + 4]! << 8) | d[at + 5]!;
    if (plen !== 0 && at + 40 + plen < end) end = at + 40 + plen;
    proto = d[at + 6]!;
    v6 = true;
    addrAt = at + 8;
    at += 40;
    // Walk extension headers: hop-by-hop, routing, fragment, destination options, AH.
    for (let n = 0; n < 16; n++) {
      if (proto === 0 || proto === 43 || proto === 60) {
        if (end < at + 2) return skipped(stats);
        const next = d[at]!;
        at += (d[at + 1]! + 1) * 8;
        proto = next;
      } else if (proto === 44) {
        if (end < at + 8) return skipped(stats);
        const fragOffset = ((d[at + 2]! << 8) | d[at + 3]!) >> 3;
        if (fragOffset !== 0) {
          if (stats) stats.fragments++;
          return false;
        }
        proto = d[at]!;
        at += 8;
      } else if (proto === 51) {
        if (end < at + 2) return skipped(stats);
        const next = d[at]!;
        at += (d[at + 1]! + 2) * 4;
        proto = next;
      } else break;
    }
    if (at > end) return skipped(stats);
  }

  let payloadStart: number;
  let seq = 0;
  let flags = 0;
  if (proto === 6) {
    if (end < at + 20) return skipped(stats);
    const off = (d[at + 12]! >> 4) * 4;
    if (off < 20 || end < at + off) return skipped(stats);
    flags = d[at + 13]!;
    if (skipPureAcks && end === at + off && (flags & 0x07) === 0) return false;
    seq = word(d, at + 4) >>> 0;
    payloadStart = at + off;
  } else if (proto === 17) {
    if (end < at + 8) return skipped(stats);
    const ulen = (d[at + 4]! << 8) | d[at + 5]!;
    if (ulen >= 8 && at + ulen < end) end = at + ulen;
    payloadStart = at + 8;
  } else {
    return skipped(stats);
  }
  out.tsUs = tsUs;
  out.ipProto = proto;
  out.v6 = v6;
  if (v6) {
    out.s0 = word(d, addrAt);
    out.s1 = word(d, addrAt + 4);
    out.s2 = word(d, addrAt + 8);
    out.s3 = word(d, addrAt + 12);
    out.d0 = word(d, addrAt + 16);
    out.d1 = word(d, addrAt + 20);
    out.d2 = word(d, addrAt + 24);
    out.d3 = word(d, addrAt + 28);
  } else {
    out.s0 = word(d, addrAt);
    out.d0 = word(d, addrAt + 4);
    out.s1 = out.s2 = out.s3 = out.d1 = out.d2 = out.d3 = 0;
  }
  out.srcPort = (d[at]! << 8) | d[at + 1]!;
  out.dstPort = (d[at + 2]! << 8) | d[at + 3]!;
  out.seq = seq;
  out.flags = flags;
  out.bytes = d;
  out.payloadStart = payloadStart;
  out.payloadEnd = end;
  out.addrAt = addrAt;
  out.srcText = out.dstText = out.view = "";
  return true;
}

const scratch = new Packet();

/**
 * Decode one frame into a Segment (address text, payload view); null when it holds no TCP segment
 * or UDP datagram we can use. `skipPureAcks` as in decodePacket.
 */
export function decodeFrame(linkType: number, d: Uint8Array, tsUs: number, stats?: DecodeStats, skipPureAcks = false): Segment | null {
  const p = scratch;
  if (!decodePacket(linkType, d, 0, d.length, tsUs, p, stats, skipPureAcks)) return null;
  const s: Segment = {
    tsUs,
    srcAddr: packetAddress(p, 0),
    dstAddr: packetAddress(p, 1),
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    transport: p.ipProto === 6 ? "tcp" : "udp",
    seq: p.seq,
    flags: p.flags,
    payload: d.subarray(p.payloadStart, p.payloadEnd),
  };
  p.bytes = EMPTY; // keep no reference to the caller's buffer
  return s;
}

const EMPTY = new Uint8Array(0);

function skipped(stats: DecodeStats | undefined): false {
  if (stats) stats.skipped++;
  return false;
}
