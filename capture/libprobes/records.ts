// Decoders for the ring-buffer records of libprobes.bpf.c (struct cs_lib_rec) and proc.bpf.c (struct cs_proc_rec).
// Layouts: bpf/cryptoscope.h; sizes are checked by test/libprobes-records.test.ts against the BPF object's BTF.

export const REC_EXEC = 10, REC_EXIT = 11, REC_LIB = 30, REC_CRAU = 40;

export const LIB_KIND = {
  handshake: 1, cert: 2, groupName: 3, cipherNid: 4, sigDigest: 5, rsaPadding: 6, version: 7, groupId: 8, eccBits: 9, goSig: 10, groupOid: 11, nssSig: 12, gnutlsSig: 13,
} as const;
export const ENGINE = { openssl: 1, gnutls: 2, go: 3, nss: 4 } as const;

export const LIB_REC_HEADER = 72; // sizeof(struct cs_lib_rec) without data
export const PROC_REC_SIZE = 16 + 24 + 16 + 256;

export interface LibRecord {
  tsNs: bigint;
  pid: number;
  tid: number;
  kind: number;
  libIdx: number;
  obj: bigint;
  value: bigint;
  cgroupId: bigint;
  comm: string;
  data: Buffer;
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.toString("utf8", 0, z < 0 ? b.length : z);
}

export function decodeLibRecord(r: Buffer): LibRecord {
  if (r.length < LIB_REC_HEADER) throw new Error(`library record of ${r.length} bytes is shorter than its ${LIB_REC_HEADER}-byte header`);
  const dataLen = r.readUInt32LE(28);
  return {
    tsNs: r.readBigUInt64LE(8),
    pid: r.readUInt32LE(16),
    tid: r.readUInt32LE(20),
    kind: r.readUInt16LE(24),
    libIdx: r.readUInt16LE(26),
    obj: r.readBigUInt64LE(32),
    value: r.readBigInt64LE(40),
    cgroupId: r.readBigUInt64LE(48),
    comm: cstr(r.subarray(56, 72)),
    data: Buffer.from(r.subarray(72, 72 + Math.min(dataLen, r.length - 72))),
  };
}

export interface ProcRecord {
  type: "exec" | "exit";
  tsNs: bigint;
  pid: number;
  ppid: number;
  uid: number;
  exitCode: number;
  cgroupId: bigint;
  comm: string;
  filename: string;
}

export function decodeProcRecord(r: Buffer): ProcRecord {
  if (r.length < PROC_REC_SIZE) throw new Error(`process record of ${r.length} bytes, expected ${PROC_REC_SIZE}`);
  return {
    type: r.readUInt32LE(0) === REC_EXEC ? "exec" : "exit",
    tsNs: r.readBigUInt64LE(8),
    pid: r.readUInt32LE(16),
    ppid: r.readUInt32LE(20),
    uid: r.readUInt32LE(24),
    exitCode: r.readInt32LE(28),
    cgroupId: r.readBigUInt64LE(32),
    comm: cstr(r.subarray(40, 56)),
    filename: cstr(r.subarray(56, 56 + 256)),
  };
}

export { monoNsToUtcMicros } from "../bpf/clock.ts";
