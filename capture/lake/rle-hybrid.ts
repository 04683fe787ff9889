// Parquet's RLE / bit-packing hybrid (definition and repetition levels, dictionary indices):
// runs of >= 8 equal values become RLE runs, everything else is bit-packed in groups of 8, LSB first.

import type { ByteSink } from "./thrift-compact.js";

export function bitWidth(maxValue: number): number {
  return maxValue <= 0 ? 0 : 32 - Math.clz32(maxValue);
}

/** Appends the hybrid encoding of values[0..n) (no length prefix, no bit-width byte). */
export function writeHybrid(out: ByteSink, values: Int32Array | Uint8Array, n: number, width: number): void {
  const valueBytes = (width + 7) >> 3;
  let i = 0;
  while (i < n) {
    const v = values[i];
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    if (j - i >= 8) {
      out.varint((j - i) * 2);
      for (let b = 0; b < valueBytes; b++) out.byte((v >>> (8 * b)) & 0xff);
      i = j;
      continue;
    }
    // Bit-pack whole groups of 8 until a run of >= 8 starts on a group boundary (or the end).
    const start = i;
    let end = i;
    while (end < n) {
      if (end > start && (end - start) % 8 === 0) {
        const w = values[end];
        let k = end + 1;
        while (k < n && k - end < 8 && values[k] === w) k++;
        if (k - end >= 8) break;
      }
      end++;
    }
    const groups = Math.ceil((end - start) / 8);
    out.varint(groups * 2 + 1);
    let acc = 0;
    let bits = 0;
    for (let k = start; k < start + groups * 8; k++) {
      const x = k < end ? values[k] : 0;
      // width <= 24 keeps acc within 32 bits (levels and dictionary indices are far below that)
      acc |= x << bits;
      bits += width;
      while (bits >= 8) {
        out.byte(acc & 0xff);
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) out.byte(acc & 0xff);
    i = end;
  }
}
