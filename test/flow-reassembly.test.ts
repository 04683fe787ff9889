// One TCP direction put back in order: out-of-order, retransmitted and overlapping segments, starts
// without a SYN, sequence wrap-around, holes, and the memory bounds.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DirectionStream, seqDiff } from "../capture/flow/reassembly.ts";

function stream(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Cut `data` into segments at the given cut points; each keeps its sequence number. */
function cut(data: Uint8Array, isn: number, cuts: number[]): { seq: number; payload: Uint8Array }[] {
  const points = [...new Set(cuts.map((c) => c % data.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: { seq: number; payload: Uint8Array }[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    out.push({ seq: (isn + 1 + prev) >>> 0, payload: data.slice(prev, p) });
    prev = p;
  }
  return out;
}

describe("DirectionStream", () => {
  it("reassembles any order of segments, with duplicates and overlapping retransmits", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 600 })), { maxLength: 8 }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
        (n, isn, cuts, overlaps, rnd) => {
          const data = stream(n, n);
          const segs = cut(data, isn, cuts);
          // Overlapping retransmits: arbitrary windows of the same bytes.
          for (const [start, len] of overlaps) {
            const s = start % n;
            segs.push({ seq: (isn + 1 + s) >>> 0, payload: data.slice(s, Math.min(n, s + len + 1)) });
          }
          const it = rnd[Symbol.iterator]();
          const shuffled = segs
            .map((s) => ({ s, k: it.next().value as number }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.s);
          const d = new DirectionStream({ maxBytes: 64 * 1024, maxSegments: 64 });
          d.syn(isn);
          for (const s of shuffled) d.add(s.seq, s.payload);
          expect(Buffer.from(d.bytes).equals(Buffer.from(data))).toBe(true);
          expect(d.waiting).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("wraps around 2^32", () => {
    const data = stream(3000);
    const isn = 0xffffffff - 1000;
    const segs = cut(data, isn, [500, 1000, 1001, 2500]).reverse();
    const d = new DirectionStream();
    d.syn(isn);
    for (const s of segs) d.add(s.seq, s.payload);
    expect(Buffer.from(d.bytes).equals(Buffer.from(data))).toBe(true);
    expect(seqDiff(5, 0xfffffff0)).toBe(21);
  });

  it("keeps the first copy of bytes when a retransmit differs (first wins)", () => {
    const d = new DirectionStream();
    d.syn(99);
    d.add(100, new Uint8Array([1, 2, 3, 4]));
    d.add(102, new Uint8Array([9, 9, 5, 6]));
    expect([...d.bytes]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.add(100, new Uint8Array([7, 7]))).toBe(false);
    expect(d.retransmits).toBe(1);
  });

  it("starts mid-stream without a SYN and moves the start back for late earlier segments", () => {
    const data = stream(4000);
    const segs = cut(data, 5000, [1000, 2000, 3000]);
    const d = new DirectionStream();
    // Capture began mid-connection and the 3rd, then 1st, 4th, 2nd segments were seen.
    for (const i of [2, 0, 3, 1]) d.add(segs[i]!.seq, segs[i]!.payload);
    expect(Buffer.from(d.bytes).equals(Buffer.from(data))).toBe(true);
  });

  it("does not move the start once the bytes were committed to a protocol", () => {
    const data = stream(2000);
    const segs = cut(data, 0, [1000]);
    const d = new DirectionStream();
    d.add(segs[1]!.seq, segs[1]!.payload);
    d.committed = true;
    d.add(segs[0]!.seq, segs[0]!.payload);
    expect(d.length).toBe(1000);
    expect(Buffer.from(d.bytes).equals(Buffer.from(data.subarray(1000)))).toBe(true);
  });

  it("a truncated stream (lost segment) yields the prefix before the hole only", () => {
    const data = stream(5000);
    const segs = cut(data, 7, [1000, 2000, 3000, 4000]);
    const d = new DirectionStream();
    d.syn(7);
    for (const [i, s] of segs.entries()) if (i !== 2) d.add(s.seq, s.payload);
    expect(d.length).toBe(2000);
    expect(d.waiting).toBe(2);
    expect(Buffer.from(d.bytes).equals(Buffer.from(data.subarray(0, 2000)))).toBe(true);
  });

  it("bounds assembled bytes: stops at maxBytes with reason overflow", () => {
    const d = new DirectionStream({ maxBytes: 4096, maxSegments: 8 });
    d.syn(0);
    const data = stream(10_000);
    for (const s of cut(data, 0, [1500, 3000, 4500, 6000, 7500, 9000])) d.add(s.seq, s.payload);
    expect(d.length).toBe(4096);
    expect(d.stopped).toBe("overflow");
    expect(d.memory).toBeLessThanOrEqual(4096);
    expect(Buffer.from(d.bytes).equals(Buffer.from(data.subarray(0, 4096)))).toBe(true);
  });

  it("bounds waiting segments: a hole with too many segments behind it stops the direction", () => {
    const d = new DirectionStream({ maxBytes: 64 * 1024, maxSegments: 4 });
    d.syn(0);
    d.add(1, new Uint8Array(10));
    for (let i = 0; i < 10; i++) d.add(1 + 100 + i * 10, new Uint8Array(10));
    expect(d.stopped).toBe("gap");
    expect(d.waiting).toBe(0);
    expect(d.length).toBe(10);
    // Segments far beyond the window are never buffered.
    const e = new DirectionStream({ maxBytes: 1000, maxSegments: 4 });
    e.syn(0);
    e.add(1 + 5000, new Uint8Array(100));
    expect(e.waiting).toBe(0);
    expect(e.memory).toBe(0);
  });

  it("copies what it keeps: the caller may reuse its buffers after add (live capture does)", () => {
    const data = stream(3000);
    const segs = cut(data, 0, [1000, 2000]);
    const d = new DirectionStream();
    d.syn(0);
    const scratch = Buffer.alloc(1000);
    for (const i of [2, 1, 0]) {
      scratch.set(segs[i]!.payload);
      d.add(segs[i]!.seq, scratch.subarray(0, segs[i]!.payload.length));
      scratch.fill(0xee); // the caller's next packet overwrites the buffer
    }
    expect(Buffer.from(d.bytes).equals(Buffer.from(data))).toBe(true);
    // Moving the start back (no SYN) must not let later appends overwrite what was requeued.
    const e = new DirectionStream();
    for (const i of [1, 0, 2]) e.add(segs[i]!.seq, Buffer.from(segs[i]!.payload));
    expect(Buffer.from(e.bytes).equals(Buffer.from(data))).toBe(true);
  });

  it("release frees everything", () => {
    const d = new DirectionStream();
    d.syn(0);
    d.add(1, new Uint8Array(3000));
    d.add(5000, new Uint8Array(3000));
    expect(d.memory).toBeGreaterThan(0);
    d.release();
    expect(d.memory).toBe(0);
    expect(d.add(3001, new Uint8Array(10))).toBe(false);
  });
});
