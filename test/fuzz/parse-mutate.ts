// Fuzz helpers: mutations of real handshake bytes (bit flips, truncation, length-field corruption,
// insertions/deletions) and the check that a parser only ever throws ParseError and never hangs.
import fc from "fast-check";
import { expect } from "vitest";
import { ParseError } from "../../capture/parse/index.ts";

export const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
// A parser call over a few KB taking this long is a hang, not slowness.
const HANG_MS = 2000;

export type Mutation =
  | { kind: "flip"; pos: number; bit: number }
  | { kind: "set"; pos: number; val: number; len: number } // overwrite 1-4 bytes: a corrupted length field
  | { kind: "truncate"; pos: number }
  | { kind: "insert"; pos: number; val: number; len: number }
  | { kind: "delete"; pos: number; len: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), pos: fc.nat(), val: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x01, 0x40), len: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("truncate" as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), pos: fc.nat(), val: fc.integer({ min: 0, max: 255 }), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("delete" as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
);

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 6 });

export function mutate(seed: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = Uint8Array.from(seed);
  for (const m of muts) {
    if (b.length === 0) break;
    const pos = m.pos % b.length;
    switch (m.kind) {
      case "flip":
        b[pos]! ^= 1 << m.bit;
        break;
      case "set":
        for (let i = 0; i < m.len && pos + i < b.length; i++) b[pos + i] = m.val;
        break;
      case "truncate":
        b = b.subarray(0, pos);
        break;
      case "insert": {
        const n = new Uint8Array(b.length + m.len);
        n.set(b.subarray(0, pos), 0);
        n.fill(m.val, pos, pos + m.len);
        n.set(b.subarray(pos), pos + m.len);
        b = n;
        break;
      }
      case "delete": {
        const end = Math.min(b.length, pos + m.len);
        const n = new Uint8Array(b.length - (end - pos));
        n.set(b.subarray(0, pos), 0);
        n.set(b.subarray(end), pos);
        b = n;
        break;
      }
    }
  }
  return b;
}

// Run fn; it may return or throw ParseError, nothing else, and it must come back quickly.
export function onlyParseError(fn: () => unknown): void {
  const t0 = performance.now();
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ParseError)) {
      throw new Error(`escaped a non-ParseError: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
    }
    // guard() wraps unexpected exceptions (a parser bug) as "internal: ...": the fuzzer must still see them.
    if (e.message.includes(": internal: ")) throw new Error(`a parser bug surfaced as ${e.message}`);
    expect(typeof e.protocol).toBe("string");
    expect(Number.isInteger(e.offset)).toBe(true);
  }
  const ms = performance.now() - t0;
  if (ms > HANG_MS) throw new Error(`parser took ${ms.toFixed(0)} ms`);
}

// Must return a boolean and never throw.
export function neverThrows(fn: () => boolean): void {
  const t0 = performance.now();
  const v = fn();
  expect(typeof v).toBe("boolean");
  if (performance.now() - t0 > HANG_MS) throw new Error("stream-complete check hung");
}
