// BPF timestamps (bpf_ktime_get_ns, CLOCK_MONOTONIC) → UTC. One anchor per process, so records from
// every ring buffer (wire, library probes, processes) are placed on the same wall clock.
let anchor: { monoNs: bigint; wallUs: bigint } | null = null;

/** CLOCK_MONOTONIC ns → UTC µs since the epoch. */
export function monoNsToUtcMicros(ns: bigint): bigint {
  if (!anchor) {
    const mono = process.hrtime.bigint(); // CLOCK_MONOTONIC in Node
    anchor = { monoNs: mono, wallUs: BigInt(Date.now()) * 1000n };
  }
  return anchor.wallUs + (ns - anchor.monoNs) / 1000n;
}
