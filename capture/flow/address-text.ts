// Addresses as text (RFC 5952 for IPv6), from the bytes of a packet. Made once per flow, not per packet.
import type { Packet } from "./segment.ts";

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

/** The address text of a decoded packet's source (which=0) or destination (1). */
export function packetAddress(p: Packet, which: 0 | 1): string {
  if (p.addrAt < 0) return which === 0 ? p.srcText : p.dstText;
  return p.v6 ? formatIpv6(p.bytes, p.addrAt + 16 * which) : formatIpv4(p.bytes, p.addrAt + 4 * which);
}
