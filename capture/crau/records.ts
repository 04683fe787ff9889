// Decoder for crau.bpf.c's records (struct cs_crau_rec in bpf/cryptoscope.h) and their library_events rows.
import type { Row } from "../lake/schema.ts";
import { monoNsToUtcMicros } from "../libprobes/records.ts";

export const CRAU_REC_SIZE = 16 + 16 + 16 + 8 + 8 + 16 + 32 + 64;
export const CRAU_KIND = { newContext: 1, word: 2, string: 3, blob: 4 } as const;

export interface CrauRecord {
  tsNs: bigint;
  pid: number;
  tid: number;
  kind: number;
  context: bigint;
  parent: bigint;
  valueInt: bigint;
  cgroupId: bigint;
  comm: string;
  key: string;
  value: Buffer;
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.toString("utf8", 0, z < 0 ? b.length : z);
}

export function decodeCrauRecord(r: Buffer): CrauRecord {
  if (r.length < CRAU_REC_SIZE) throw new Error(`crypto-auditing record of ${r.length} bytes, expected ${CRAU_REC_SIZE}`);
  const valueLen = Math.min(r.readUInt32LE(28), 64);
  return {
    tsNs: r.readBigUInt64LE(8),
    pid: r.readUInt32LE(16),
    tid: r.readUInt32LE(20),
    kind: r.readUInt32LE(24),
    context: r.readBigUInt64LE(32),
    parent: r.readBigUInt64LE(40),
    valueInt: r.readBigInt64LE(48),
    cgroupId: r.readBigUInt64LE(56),
    comm: cstr(r.subarray(64, 80)),
    key: cstr(r.subarray(80, 112)),
    value: Buffer.from(r.subarray(112, 112 + valueLen)),
  };
}

/** One library_events row per record (source "usdt", library "crypto_auditing"). */
export function crauRow(r: CrauRecord, host: string, ctx: Row, libraryPath: string | null): Row {
  const base: Row = {
    ...ctx, ts: monoNsToUtcMicros(r.tsNs), host, source: "usdt", library: "crypto_auditing", library_path: libraryPath,
    tid: r.tid, context: r.context,
  };
  switch (r.kind) {
    case CRAU_KIND.newContext: return { ...base, event: "new_context", parent_context: r.parent };
    case CRAU_KIND.word: return { ...base, event: "word_data", key: r.key, value_int: r.valueInt };
    case CRAU_KIND.string: return { ...base, event: "string_data", key: r.key, value_str: r.value.toString("utf8") };
    default: return { ...base, event: "blob_data", key: r.key, value_int: r.valueInt, value_blob: r.value };
  }
}
