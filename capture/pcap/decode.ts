// Link layer → IP → TCP/UDP: turn a captured frame into a flow Segment, or null when it carries
// neither (ARP, ICMP, a non-first IP fragment, a frame cut short). Never throws: packet contents
// are untrusted, only the file structure can be "damaged".
import type { Segment } from "../flow/segment.ts";

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

/** Offset and version (4|6) of the IP header inside the frame, or null. */
function locateIp(linkType: number, d: Uint8Array): { at: number; ethertype: number } | null {
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      let at = 12;
      let type = 0;
      // Walk 802.1Q / 802.1ad (QinQ) / old 0x9100 VLAN tags.
      for (let tags = 0; tags < 4; tags++) {
        if (d.length < at + 2) return null;
        type = (d[at]! << 8) | d[at + 1]!;
        if (type === 0x8100 || type === 0x88a8 || type === 0x9100) at += 4;
        else break;
      }
      return { at: at + 2, ethertype: type };
    }
    case LINKTYPE.LINUX_SLL:
      if (d.length < 16) return null;
      return { at: 16, ethertype: (d[14]! << 8) | d[15]! };
    case LINKTYPE.LINUX_SLL2:
      if (d.length < 20) return null;
      return { at: 20, ethertype: (d[0]! << 8) | d[1]! };
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_OLD:
    case 14: // DLT_RAW on OpenBSD
      if (d.length < 1) return null;
      return { at: 0, ethertype: d[0]! >> 4 === 6 ? ETH_IPV6 : ETH_IPV4 };
    case LINKTYPE.IPV4:
      return { at: 0, ethertype: ETH_IPV4 };
    case LINKTYPE.IPV6:
      return { at: 0, ethertype: ETH_IPV6 };
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (d.length < 4) return null;
      // AF_ value in the writer's byte order (NULL) or big-endian (LOOP): accept either.
      const le = d[0]! | (d[1]! << 8);
      const be = (d[2]! << 8) | d[3]!;
      const af = le !== 0 ? le : be;
      if (af === 2) return { at: 4, ethertype: ETH_IPV4 };
      if (af === 24 || af === 28 || af === 30 || af === 10) return { at: 4, ethertype: ETH_IPV6 };
      return null;
    }
    case LINKTYPE.PPP:
    case LINKTYPE.PPP_HDLC: {
      let at = 0;
      if (d.length >= 2 && d[0] === 0xff && d[1] === 0x03) at = 2; // HDLC address/control
      if (d.length < at + 2) return null;
      const proto = (d[at]! << 8) | d[at + 1]!;
      if (proto === 0x0021) return { at: at + 2, ethertype: ETH_IPV4 };
      if (proto === 0x0057) return { at: at + 2, ethertype: ETH_IPV6 };
      return null;
    }
    default:
      return null;
  }
}

// The same few addresses come back in every packet: keep their text instead of making it anew.
const ipv4Text = new Map<number, string>();

export function formatIpv4(d: Uint8Array, at: number): string {
  const n = ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
  let t = ipv4Text.get(n);
  if (t === undefined) {
    if (ipv4Text.size >= 65536) ipv4Text.clear(); // bounded: a scan of many hosts just recomputes
    t = `${d[at]}.${d[at + 1]}.${d[at + 2]}.${d[at + 3]}`;
    ipv4Text.set(n, t);
  }
  return t;
}

/** RFC 5952 text form: lowercase, no leading zeros, the longest run of ≥ 2 zero groups as "::". */
export function formatIpv6(d: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((d[at + 2 * i]! << 8) | d[at + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  // IPv4-mapped addresses keep their dotted tail, as tools print them.
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${formatIpv4(d, at + 12)}`;
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
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

/**
 * Decode one frame; null when it holds no TCP segment or UDP datagram we can use. With
 * `skipPureAcks`, TCP segments without payload and without SYN/FIN/RST are null too (before any
 * string is made for them): nothing of a handshake is in them and they are half of all packets.
 */
export function decodeFrame(linkType: number, d: Uint8Array, tsUs: number, stats?: DecodeStats, skipPureAcks = false): Segment | null {
  const loc = locateIp(linkType, d);
  if (!loc) return skip(stats);
  let at = loc.at;
  let end = d.length;
  let proto: number;
  let v6 = false;
  let addrAt: number;
  if (loc.ethertype === ETH_IPV4) {
    if (end < at + 20 || d[at]! >> 4 !== 4) return skip(stats);
    const ihl = (d[at]! & 0x0f) * 4;
    const total = (d[at + 2]! << 8) | d[at + 3]!;
    if (ihl < 20 || end < at + ihl) return skip(stats);
    // Trust the IP length over the frame length (Ethernet pads short frames), unless TSO made it 0.
    if (total >= ihl && at + total < end) end = at + total;
    const fragOffset = ((d[at + 6]! & 0x1f) << 8) | d[at + 7]!;
    if (fragOffset !== 0) {
      if (stats) stats.fragments++;
      return null;
    }
    proto = d[at + 9]!;
    addrAt = at + 12;
    at += ihl;
  } else if (loc.ethertype === ETH_IPV6) {
    if (end < at + 40 || d[at]! >> 4 !== 6) return skip(stats);
    const plen = (d[at + 4]! << 8) | d[at + 5]!;
    if (plen !== 0 && at + 40 + plen < end) end = at + 40 + plen;
    proto = d[at + 6]!;
    v6 = true;
    addrAt = at + 8;
    at += 40;
    // Walk extension headers: hop-by-hop, routing, fragment, destination options, AH.
    for (let n = 0; n < 16; n++) {
      if (proto === 0 || proto === 43 || proto === 60) {
        if (end < at + 2) return skip(stats);
        const next = d[at]!;
        at += (d[at + 1]! + 1) * 8;
        proto = next;
      } else if (proto === 44) {
        if (end < at + 8) return skip(stats);
        const fragOffset = ((d[at + 2]! << 8) | d[at + 3]!) >> 3;
        if (fragOffset !== 0) {
          if (stats) stats.fragments++;
          return null;
        }
        proto = d[at]!;
        at += 8;
      } else if (proto === 51) {
        if (end < at + 2) return skip(stats);
        const next = d[at]!;
        at += (d[at + 1]! + 2) * 4;
        proto = next;
      } else break;
    }
    if (at > end) return skip(stats);
  } else {
    return skip(stats);
  }

  if (proto === 6) {
    if (end < at + 20) return skip(stats);
    const off = (d[at + 12]! >> 4) * 4;
    if (off < 20 || end < at + off) return skip(stats);
    const flags = d[at + 13]!;
    if (skipPureAcks && end === at + off && (flags & 0x07) === 0) return null;
    return {
      tsUs,
      srcAddr: v6 ? formatIpv6(d, addrAt) : formatIpv4(d, addrAt),
      dstAddr: v6 ? formatIpv6(d, addrAt + 16) : formatIpv4(d, addrAt + 4),
      srcPort: (d[at]! << 8) | d[at + 1]!,
      dstPort: (d[at + 2]! << 8) | d[at + 3]!,
      transport: "tcp",
      seq: ((d[at + 4]! << 24) | (d[at + 5]! << 16) | (d[at + 6]! << 8) | d[at + 7]!) >>> 0,
      flags,
      payload: d.subarray(at + off, end),
    };
  }
  if (proto === 17) {
    if (end < at + 8) return skip(stats);
    const ulen = (d[at + 4]! << 8) | d[at + 5]!;
    if (ulen >= 8 && at + ulen < end) end = at + ulen;
    return {
      tsUs,
      srcAddr: v6 ? formatIpv6(d, addrAt) : formatIpv4(d, addrAt),
      dstAddr: v6 ? formatIpv6(d, addrAt + 16) : formatIpv4(d, addrAt + 4),
      srcPort: (d[at]! << 8) | d[at + 1]!,
      dstPort: (d[at + 2]! << 8) | d[at + 3]!,
      transport: "udp",
      seq: 0,
      flags: 0,
      payload: d.subarray(at + 8, end),
    };
  }
  return skip(stats);
}

function skip(stats: DecodeStats | undefined): null {
  if (stats) stats.skipped++;
  return null;
}
