// Which of `count` parallel ingest workers owns a packet's connection: a hash of the two endpoints
// (addresses and ports) that is the same in both directions, so every packet of a connection, and
// nothing of any other, reaches the one worker that reassembles and parses it.
import type { Packet } from "./segment.ts";

function endpoint(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w1 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ w2 ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ w3 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ port ^ (h >>> 16), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

/** 0 <= shard < count; symmetric: swapping source and destination gives the same shard. */
export function shardOf(p: Packet, count: number): number {
  const a = endpoint(p.s0, p.s1, p.s2, p.s3, p.srcPort);
  const b = endpoint(p.d0, p.d1, p.d2, p.d3, p.dstPort);
  // Sum, then one more mix: XOR would send every connection between two equal endpoints to shard 0.
  const h = Math.imul(((a + b) >>> 0) ^ ((a + b) >>> 16), 0x45d9f3b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) % count;
}
