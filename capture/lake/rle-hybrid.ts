// Parquet's RLE / bit-packing hybrid (definition and repetition levels, dictionary indices):
// runs of >= 8 equal values become RLE runs, everything else is bit-packed in groups of 8, LSB first.

import type { ByteSink } from "./thrift-compact.js";

export function bitWidth(maxValue: number): number {
  return maxValue <= 0 ? 0 : 32 - Math.clz32(maxValue);
}

/** Writes v as a ULEB128 varint at buf[p..]; returns the end. */
function putVarint(buf: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    buf[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

/** Appends the hybrid encoding of values[0..n) (no length prefix, no bit-width byte). */
export function writeHybrid(out: ByteSink, values: Int32Array, n: number, width: number): void {
  // Worst case: a header per 8 values plus the packed bits; written straight into the sink's array.
  // No closures (one over `p` made it a context slot, every buf[p++] a memory load and store), and the
  // loops are functions of their own, called per run: this one is called per column chunk, and its
  // loops were recompiled by on-stack replacement (7 TurboFan compiles over 1M bench rows).
  out.ensure(Math.ceil(n / 8) * (width + 5) + 32);
  const buf = out.buf;
  let p = out.len;
  const valueBytes = (width + 7) >> 3;
  let i = 0;
  while (i < n) {
    const v = values[i];
    const j = runEnd(values, i, n);
    if (j - i >= 8) {
      p = putVarint(buf, p, (j - i) * 2);
      for (let b = 0; b < valueBytes; b++) buf[p++] = (v >>> (8 * b)) & 0xff;
      i = j;
      continue;
    }
    const end = bitPackedEnd(values, i, n);
    const groups = (end - i + 7) >> 3;
    p = putVarint(buf, p, groups * 2 + 1);
    p = width <= 4 ? packSmall(buf, p, values, i, end, width) : packGroups(buf, p, values, i, end, groups, width);
    i = end;
  }
  out.len = p;
}

/** The end of the run of values equal to values[i]. */
function runEnd(values: Int32Array, i: number, n: number): number {
  const v = values[i];
  let j = i + 1;
  while (j < n && values[j] === v) j++;
  return j;
}

/**
 * Bit-packed groups of 8 from `start` go on until a run of >= 8 starts on a group boundary (or the end);
 * checked only at group boundaries: a whole group at a time.
 */
function bitPackedEnd(values: Int32Array, start: number, n: number): number {
  let end = start + 8;
  while (end < n) {
    const w = values[end];
    let k = end + 1;
    while (k < n && k - end < 8 && values[k] === w) k++;
    if (k - end >= 8) break;
    end += 8;
  }
  return end > n ? n : end;
}

/** Levels and small dictionaries (width <= 4): a group of 8 values is at most 32 bits, packed in one word. */
function packSmall(buf: Uint8Array, p: number, values: Int32Array, start: number, end: number, width: number): number {
  for (let k = start; k < end; k += 8) {
    let a = 0;
    const m = end - k < 8 ? end - k : 8;
    for (let t = 0; t < m; t++) a |= values[k + t] << (t * width);
    for (let b = 0; b < width; b++) buf[p++] = (a >>> (8 * b)) & 0xff;
  }
  return p;
}

/** Wider values (width <= 24 keeps the accumulator within 32 bits), the last group zero-padded. */
function packGroups(buf: Uint8Array, p: number, values: Int32Array, start: number, end: number, groups: number, width: number): number {
  let acc = 0;
  let bits = 0;
  for (let k = start; k < end; k++) {
    acc |= values[k] << bits;
    bits += width;
    while (bits >= 8) {
      buf[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  // Zero padding of the last group: (8 - values in it) × width more bits.
  bits += (start + groups * 8 - end) * width;
  while (bits >= 8) {
    buf[p++] = acc & 0xff;
    acc >>>= 8;
    bits -= 8;
  }
  if (bits > 0) buf[p++] = acc & 0xff;
  return p;
}
