// The flow table's index: connection → flow, keyed by the numbers of the 5-tuple (no string is made
// per packet), in one open-addressing hash table (linear probing, backward-shift deletion), plus the
// flows in order of last activity (a doubly linked list: oldest first) for idle sweeps and eviction.
//
// A key is KEY_WORDS 32-bit words: [meta, low endpoint's address (4 words), high endpoint's address
// (4 words), ports (low << 16 | high), hash of the view]. The endpoints are put in a fixed order so
// both directions of a connection have the same key. The view string (live capture) is compared in
// full as well, so two views whose hashes collide are still two flows.
import type { Packet } from "./segment.ts";

export const KEY_WORDS = 11;

/** What the index keeps per flow (the flow table's flow objects carry these fields). */
export interface Indexed {
  /** slot in the hash table, -1 when not in the index */
  slot: number;
  older: Indexed | null;
  newer: Indexed | null;
  view?: string;
}

function mix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x85ebca6b);
  return h ^ (h >>> 13);
}

export class FlowIndex<T extends Indexed> {
  private cap = 1024;
  private mask = this.cap - 1;
  private keys = new Int32Array(this.cap * KEY_WORDS);
  private hashes = new Int32Array(this.cap);
  private vals: (T | undefined)[] = new Array(this.cap).fill(undefined);
  private count = 0;
  /** the key being looked up or inserted: filled by setKey */
  private readonly key = new Int32Array(KEY_WORDS);
  private keyView = "";
  private keyHash = 0;
  /** least recently active first */
  oldest: T | null = null;
  newest: T | null = null;

  get size(): number {
    return this.count;
  }

  /**
   * Make the packet's connection the current key. Returns whether the packet's source is the
   * key's low endpoint (so the caller can tell the two directions apart).
   */
  setKey(p: Packet, textWords: boolean): boolean {
    const k = this.key;
    // Low endpoint first: compare address words unsigned, then ports.
    let srcLow = true;
    if (p.s0 !== p.d0) srcLow = p.s0 >>> 0 < p.d0 >>> 0;
    else if (p.s1 !== p.d1) srcLow = p.s1 >>> 0 < p.d1 >>> 0;
    else if (p.s2 !== p.d2) srcLow = p.s2 >>> 0 < p.d2 >>> 0;
    else if (p.s3 !== p.d3) srcLow = p.s3 >>> 0 < p.d3 >>> 0;
    else srcLow = p.srcPort <= p.dstPort;
    k[0] = p.ipProto | (p.v6 ? 0x100 : 0) | (textWords ? 0x200 : 0);
    if (srcLow) {
      k[1] = p.s0; k[2] = p.s1; k[3] = p.s2; k[4] = p.s3;
      k[5] = p.d0; k[6] = p.d1; k[7] = p.d2; k[8] = p.d3;
      k[9] = (p.srcPort << 16) | p.dstPort;
    } else {
      k[1] = p.d0; k[2] = p.d1; k[3] = p.d2; k[4] = p.d3;
      k[5] = p.s0; k[6] = p.s1; k[7] = p.s2; k[8] = p.s3;
      k[9] = (p.dstPort << 16) | p.srcPort;
    }
    k[10] = p.view === "" ? 0 : stringHash(p.view);
    this.keyView = p.view;
    let h = 0x9e3779b9;
    for (let i = 0; i < KEY_WORDS; i++) h = mix(h, k[i]!);
    this.keyHash = h;
    return srcLow;
  }

  /** The flow of the current key, if any. */
  get(): T | undefined {
    const k = this.key;
    const h = this.keyHash;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const v = this.vals[i];
      if (v === undefined) return undefined;
      if (this.hashes[i] === h && (v.view ?? "") === this.keyView) {
        const o = i * KEY_WORDS;
        const ks = this.keys;
        let same = true;
        for (let w = 0; w < KEY_WORDS; w++) {
          if (ks[o + w] !== k[w]) {
            same = false;
            break;
          }
        }
        if (same) return v;
      }
    }
  }

  /** Add a flow under the current key (which must not be in the index) as the most recently active one. */
  insert(v: T): void {
    if ((this.count + 1) * 2 > this.cap) this.grow();
    const h = this.keyHash;
    let i = h & this.mask;
    while (this.vals[i] !== undefined) i = (i + 1) & this.mask;
    this.keys.set(this.key, i * KEY_WORDS);
    this.hashes[i] = h;
    this.vals[i] = v;
    v.slot = i;
    this.count++;
    this.link(v);
  }

  /** Remove a flow (from the table and the activity order). */
  delete(v: T): void {
    if (v.slot < 0) return;
    this.unlink(v);
    let i = v.slot;
    v.slot = -1;
    this.count--;
    // Backward-shift deletion: pull later entries of the probe run into the hole, so lookups never
    // need tombstones.
    const mask = this.mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const w = this.vals[j];
      if (w === undefined) break;
      const home = this.hashes[j]! & mask;
      // The entry at j may move to i if its home slot is not cyclically within (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      this.keys.copyWithin(i * KEY_WORDS, j * KEY_WORDS, (j + 1) * KEY_WORDS);
      this.hashes[i] = this.hashes[j]!;
      this.vals[i] = w;
      w.slot = i;
      i = j;
    }
    this.vals[i] = undefined;
  }

  /** Put `neu` where `old` is: the same key, slot and place in the activity order; old leaves. */
  replace(old: T, neu: T): void {
    const i = old.slot;
    if (i < 0) return;
    this.vals[i] = neu;
    neu.slot = i;
    old.slot = -1;
    const o = old.older as T | null;
    const n = old.newer as T | null;
    neu.older = o;
    neu.newer = n;
    if (o) o.newer = neu;
    else this.oldest = neu;
    if (n) n.older = neu;
    else this.newest = neu;
    old.older = old.newer = null;
  }

  /** Make a flow the most recently active one. */
  touch(v: T): void {
    if (this.newest === v) return;
    this.unlink(v);
    this.link(v);
  }

  clear(): void {
    this.vals.fill(undefined);
    for (let v = this.oldest; v; ) {
      const next = v.newer as T | null;
      v.slot = -1;
      v.older = v.newer = null;
      v = next;
    }
    this.oldest = this.newest = null;
    this.count = 0;
  }

  private link(v: T): void {
    v.older = this.newest;
    v.newer = null;
    if (this.newest) this.newest.newer = v;
    else this.oldest = v;
    this.newest = v;
  }

  private unlink(v: T): void {
    const o = v.older as T | null;
    const n = v.newer as T | null;
    if (o) o.newer = n;
    else if (this.oldest === v) this.oldest = n;
    if (n) n.older = o;
    else if (this.newest === v) this.newest = o;
    v.older = v.newer = null;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldHashes = this.hashes;
    const oldVals = this.vals;
    this.cap *= 2;
    this.mask = this.cap - 1;
    this.keys = new Int32Array(this.cap * KEY_WORDS);
    this.hashes = new Int32Array(this.cap);
    this.vals = new Array(this.cap).fill(undefined);
    for (let j = 0; j < oldVals.length; j++) {
      const v = oldVals[j];
      if (v === undefined) continue;
      let i = oldHashes[j]! & this.mask;
      while (this.vals[i] !== undefined) i = (i + 1) & this.mask;
      this.keys.set(oldKeys.subarray(j * KEY_WORDS, (j + 1) * KEY_WORDS), i * KEY_WORDS);
      this.hashes[i] = oldHashes[j]!;
      this.vals[i] = v;
      v.slot = i;
    }
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function stringHash(s: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}
