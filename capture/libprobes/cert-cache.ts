// Parsed certificates by SHA-256: the same server certificate comes with every handshake, and parsing it
// (5 µs with certificateFields, 110 µs with node's X509Certificate) must not be paid each time. Also
// remembers which (certificate, process) pairs already got a certificates row this hour.
import { certificateFields, ParseError } from "../parse/index.ts";
import { sha256Hex } from "../rows.ts";

export interface ParsedCert { sha256: string; fields: Record<string, unknown> | null }

const MAX = 4096;
const parsed = new Map<string, ParsedCert>();
const byBytes = new WeakMap<Buffer, ParsedCert>();

export function parseCert(der: Buffer): ParsedCert {
  const hit = byBytes.get(der);
  if (hit) return hit;
  const sha256 = sha256Hex(der);
  let p = parsed.get(sha256);
  if (!p) {
    let fields: Record<string, unknown> | null = null;
    try {
      fields = certificateFields(der);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
    p = { sha256, fields };
    if (parsed.size >= MAX) parsed.delete(parsed.keys().next().value!);
    parsed.set(sha256, p);
  }
  byBytes.set(der, p);
  return p;
}

const written = new Map<string, number>(); // sha256:pid → hour index of the last row

/** True the first time a certificate is seen for a process in this hour: write its certificates row then. */
export function firstThisHour(sha256: string, pid: number, tsMicros: bigint): boolean {
  const hour = Number(tsMicros / 3_600_000_000n);
  const k = `${sha256}:${pid}`;
  if (written.get(k) === hour) return false;
  if (written.size >= 65536) written.delete(written.keys().next().value!);
  written.set(k, hour);
  return true;
}
