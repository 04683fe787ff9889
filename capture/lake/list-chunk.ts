// A column chunk of an INTEGER[] or VARCHAR[] column, written straight from the interned lists
// (columns.ts ListBuffer): each distinct list met in the chunk gets its elements' chunk-dictionary
// codes once, bit-packed once at the chunk's code width, and every row then copies its list's packed
// words, a word (not an element) at a time. Levels are never materialized per element:
//   repetition  one bit-packed run of width 1: all ones but a zero where each row starts;
//   definition  RLE runs over whole rows (2 for every element of a run of non-empty lists, 1 for an
//               empty list, 0 for a null one);
//   codes       one bit-packed run (one RLE run when the dictionary has a single value).
// Rows of a clustered file repeat their lists, so these streams are periodic and ZSTD squeezes them as
// well as it did the element-by-element hybrid encoding, at a fraction of the CPU.

import { Int32Buffer, type ListBuffer, StringBuffer } from "./columns.js";
import { bitWidth } from "./rle-hybrid.js";
import type { ByteSink } from "./thrift-compact.js";

const MAX_DICT = 1 << 16;
// Packed words are copied as Uint32 and read back as bytes: the bit order is right on little-endian
// machines only (everything Node runs on in practice); elsewhere the caller's generic path is used.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// Work arrays, reused (encoding is synchronous, one chunk at a time). listAt is indexed by list id
// and all zero between chunks, as are the dictionary tables.
let listAt: Int32Array = new Int32Array(1 << 12); // list id → start of its local codes in listCodes + 1
let packAt: Int32Array = new Int32Array(1 << 12); // list id → first word of its packed codes in packed
let listCodes: Int32Array = new Int32Array(1 << 14);
let metIds: Int32Array = new Int32Array(1 << 12);
let packed: Uint32Array = new Uint32Array(1 << 14);
let repBits: Uint32Array = new Uint32Array(1 << 14);
let codeBits: Uint32Array = new Uint32Array(1 << 16);
let g2l: Int32Array = new Int32Array(1 << 16); // global string code → local code + 1
const small = new Int32Array(1 << 16); // int value in [0, 2^16) → local code + 1
const i32 = (a: Int32Array, n: number) => (a.length >= n ? a : new Int32Array(Math.max(n, 2 * a.length)));
const u32 = (a: Uint32Array, n: number) => (a.length >= n ? a : new Uint32Array(Math.max(n, 2 * a.length)));

export interface ListChunk {
  /** Level entries (the page's num_values). */
  n: number;
  /** The dictionary page's body (PLAIN values in order of first appearance) and its size. */
  dict: Uint8Array;
  dictCount: number;
}

// What pass 1 found (one object, reused). Each pass is a function of its own with one hot loop, so
// V8 optimizes it with complete type feedback instead of deoptimizing a big function phase by phase.
const met = { lists: 0, n: 0, nv: 0, ok: true };

/**
 * Appends the data page body (rep levels, def levels, code width, codes) of rows [start, start+count)
 * (output row q is buffer row perm[q], or q) to `body` and returns the dictionary; null when a
 * dictionary does not pay or the list's elements are not ints or dictionary-coded strings (the caller
 * then writes the generic way). `dictSink` receives the dictionary page body.
 */
export function writeListChunk(body: ByteSink, dictSink: ByteSink, list: ListBuffer, perm: Int32Array | null, start: number, count: number): ListChunk | null {
  if (!LITTLE_ENDIAN) return null;
  const vb = list.child;
  const ints = vb instanceof Int32Buffer ? vb : null;
  const strs = vb instanceof StringBuffer && !vb.raw ? vb : null;
  if (ints === null && strs === null) return null;
  listAt = i32(listAt, list.lists);
  listCodes = i32(listCodes, list.offsets[list.lists]);
  metIds = i32(metIds, Math.min(count, list.lists));
  const values: number[] = [];
  if (ints !== null) meetLists(list, ints.data, small, perm, start, count, values);
  else {
    g2l = i32(g2l, strs!.dict.length);
    meetLists(list, strs!.codes, g2l, perm, start, count, values);
  }
  const { n, nv } = met;
  // A dictionary pays unless values are mostly distinct.
  if (!met.ok || nv === 0 || values.length > nv / 2 + 64) {
    for (let k = 0; k < met.lists; k++) listAt[metIds[k]] = 0;
    return null;
  }
  const dictCount = values.length;
  const w = Math.max(1, bitWidth(dictCount - 1));
  packLists(list, w);
  const repWords = (n + 31) >>> 5;
  const groups = (nv + 7) >>> 3; // the code run holds whole groups of 8 values
  const codeWords = (groups * w + 3) >>> 2;
  repBits = u32(repBits, repWords);
  codeBits = u32(codeBits, codeWords + 1);
  const defs = dictSink.reset(); // borrowed for the def levels; the dictionary is written after them
  copyRows(list, perm, start, count, w, defs);
  if (n & 31) repBits[repWords - 1] &= (1 << (n & 31)) - 1; // padding bits zero

  // Page body: rep block, def block (each prefixed by its byte length), code width, codes.
  const repBytes = (n + 7) >>> 3;
  body.u32le(varintLength(repBytes * 2 + 1) + repBytes);
  body.varint(repBytes * 2 + 1);
  body.bytes(new Uint8Array(repBits.buffer, 0, repBytes));
  body.u32le(defs.len);
  body.bytes(defs.result());
  body.byte(w);
  if (dictCount === 1) rleRun(body, nv, 0);
  else {
    body.varint(groups * 2 + 1);
    body.bytes(new Uint8Array(codeBits.buffer, 0, groups * w));
  }

  const ds = dictSink.reset();
  if (ints !== null) for (const v of values) ds.u32le(v);
  else for (const g of values) putBytes(ds, strs!.bytes, strs!.start(g), strs!.ends[g]);
  return { n, dict: ds.result(), dictCount };
}

/**
 * Pass 1: level and value counts of the rows, and the local codes of each distinct list met (values
 * numbered in order of first appearance through `table`, value → code + 1, or a Map outside it).
 */
function meetLists(list: ListBuffer, d: Int32Array, table: Int32Array, perm: Int32Array | null, start: number, count: number, values: number[]): void {
  const o = list.offsets;
  const ids = list.ids;
  const lbits = list.validity.bits;
  const at = listAt;
  const lc = listCodes;
  const map = new Map<number, number>();
  let lists = 0;
  let lcLen = 0;
  let ok = true;
  let n = 0;
  let nv = 0;
  for (let q = start; q < start + count; q++) {
    const r = perm === null ? q : perm[q];
    if (!(lbits[r >> 3] & (1 << (r & 7)))) {
      n++;
      continue;
    }
    const id = ids[r];
    const a = o[id];
    const len = o[id + 1] - a;
    if (len === 0) {
      n++;
      continue;
    }
    n += len;
    nv += len;
    if (at[id] !== 0) continue;
    at[id] = lcLen + 1;
    metIds[lists++] = id;
    for (let j = a; j < a + len; j++) {
      const v = d[j];
      let c: number;
      if (v >= 0 && v < table.length) {
        c = table[v] - 1;
        if (c < 0) {
          c = values.length;
          table[v] = c + 1;
          values.push(v);
        }
      } else {
        const m = map.get(v);
        if (m !== undefined) c = m;
        else {
          c = values.length;
          map.set(v, c);
          values.push(v);
        }
      }
      lc[lcLen++] = c;
    }
    if (values.length >= MAX_DICT) {
      ok = false;
      break;
    }
  }
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v >= 0 && v < table.length) table[v] = 0;
  }
  met.lists = lists;
  met.n = n;
  met.nv = nv;
  met.ok = ok;
}

/** Each distinct list's codes bit-packed at width w (LSB first) from a word boundary; listAt is zeroed again. */
function packLists(list: ListBuffer, w: number): void {
  const o = list.offsets;
  packAt = i32(packAt, list.lists);
  let words = 0;
  for (let k = 0; k < met.lists; k++) {
    const id = metIds[k];
    words += ((o[id + 1] - o[id]) * w + 31) >>> 5;
  }
  packed = u32(packed, words);
  const out = packed;
  const lc = listCodes;
  let pw = 0;
  for (let k = 0; k < met.lists; k++) {
    const id = metIds[k];
    const len = o[id + 1] - o[id];
    const c0 = listAt[id] - 1;
    packAt[id] = pw;
    let acc = 0;
    let bits = 0;
    for (let t = 0; t < len; t++) {
      const c = lc[c0 + t];
      acc |= c << bits;
      bits += w;
      if (bits >= 32) {
        out[pw++] = acc;
        bits -= 32;
        acc = bits > 0 ? c >>> (w - bits) : 0;
      }
    }
    if (bits > 0) out[pw++] = acc;
    listAt[id] = 0;
  }
}

/**
 * Pass 2: def runs into `defs`, rep bits (all ones, a zero where each row starts) into repBits, each
 * row's packed codes into codeBits. Words are assigned, not or-ed, as the position passes them, so
 * stale words of the reused arrays never leak into the output.
 */
function copyRows(list: ListBuffer, perm: Int32Array | null, start: number, count: number, w: number, defs: ByteSink): void {
  const o = list.offsets;
  const ids = list.ids;
  const lbits = list.validity.bits;
  const rep = repBits;
  const codes = codeBits;
  const src0 = packAt;
  const words = packed;
  rep.fill(0xffffffff, 0, (met.n + 31) >>> 5);
  let runV = -1;
  let runLen = 0;
  let lp = 0; // level position
  let cp = 0; // code bit position
  for (let q = start; q < start + count; q++) {
    const r = perm === null ? q : perm[q];
    let v = 0;
    let len = 1;
    let id = 0;
    if (lbits[r >> 3] & (1 << (r & 7))) {
      id = ids[r];
      len = o[id + 1] - o[id];
      if (len === 0) {
        v = 1;
        len = 1;
      } else v = 2;
    }
    rep[lp >>> 5] &= ~(1 << (lp & 31));
    lp += len;
    if (v !== runV) {
      if (runLen > 0) rleRun(defs, runLen, runV);
      runV = v;
      runLen = 0;
    }
    runLen += len;
    if (v !== 2) continue;
    const nbits = len * w;
    let src = src0[id];
    const sh = cp & 31;
    let dw = cp >>> 5;
    if (sh === 0) {
      for (let left = nbits; left > 0; left -= 32) codes[dw++] = words[src++];
    } else {
      const back = 32 - sh;
      for (let left = nbits; left > 0; left -= 32) {
        const x = words[src++];
        codes[dw] |= x << sh;
        codes[++dw] = x >>> back;
      }
    }
    cp += nbits;
  }
  if (runLen > 0) rleRun(defs, runLen, runV);
  // Bits past the last code are zero in its word; the words after it (the last group's padding) may
  // be stale from an earlier chunk.
  const groups = (met.nv + 7) >>> 3;
  codes.fill(0, (cp + 31) >>> 5, ((groups * w + 3) >>> 2) + 1);
}

/** One RLE run of `count` copies of v (v < 256: levels and single-value dictionaries). */
function rleRun(out: ByteSink, count: number, v: number): void {
  out.varint(count * 2);
  out.byte(v);
}

function varintLength(v: number): number {
  let k = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    k++;
  }
  return k;
}

/** A BYTE_ARRAY value: u32 length, then src[a..b). */
function putBytes(out: ByteSink, src: Uint8Array, a: number, b: number): void {
  out.u32le(b - a);
  out.bytes(src.subarray(a, b));
}
