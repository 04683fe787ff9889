// Joins what the library saw to the wire's row of the same handshake. The wire row knows the process (pid
// from the socket owner) and the time; a library handshake matches on pid, role and time. The library fills
// what the wire could not see: TLS 1.3 encrypts the certificate and the CertificateVerify.
import type { Row } from "../lake/schema.ts";
import { sha256Hex } from "../rows.ts";
import type { LibraryHandshake } from "./assemble.ts";
import { monoNsToUtcMicros } from "./records.ts";

export interface JoinResult { row: Row; matched: LibraryHandshake | null }

function tsMicros(v: unknown): bigint | null {
  if (typeof v === "bigint") return v;
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n;
  if (typeof v === "number") return BigInt(Math.trunc(v));
  return null;
}

/** Best library handshake for a wire row: same pid, compatible role, closest start within windowMs. */
export function matchLibraryHandshake(row: Row, recent: readonly LibraryHandshake[], windowMs = 3000): LibraryHandshake | null {
  const pid = row.pid as number | null | undefined;
  const ts = tsMicros(row.ts);
  if (pid == null || ts === null) return null;
  let best: LibraryHandshake | null = null, bestDist = BigInt(windowMs) * 1000n;
  for (const h of recent) {
    if (h.pid !== pid) continue;
    if (row.role && h.role && row.role !== h.role) continue;
    const d = monoNsToUtcMicros(h.firstTsNs) - ts;
    const dist = d < 0n ? -d : d;
    if (dist <= bestDist) { best = h; bestDist = dist; }
  }
  return best;
}

/** Copies library observations into the handshake row where the wire has nothing (never overwrites). */
export function joinLibraryToHandshake(handshakeRow: Row, recentLibraryEvents: readonly LibraryHandshake[], windowMs = 3000): JoinResult {
  const h = matchLibraryHandshake(handshakeRow, recentLibraryEvents, windowMs);
  if (!h) return { row: handshakeRow, matched: null };
  const row = { ...handshakeRow };
  const fill = (k: string, v: unknown) => { if ((row[k] === undefined || row[k] === null) && v !== null && v !== undefined) row[k] = v; };
  if (h.certificates.length > 0) {
    fill("leaf_cert_sha256", sha256Hex(h.certificates[0]));
    fill("cert_count", h.certificates.length);
  }
  fill("sig_alg_chosen", h.sigScheme);
  fill("group_chosen", h.group);
  fill("version_chosen", h.version);
  fill("suite_chosen", h.suite);
  fill("library", h.library);
  return { row, matched: h };
}

/** Holds each wire handshake row until the library side of the same handshake has had time to finish
 * (library handshakes complete ~300 ms after their last probe hit), joins, then hands the row on. */
export class HandshakeJoiner {
  private pending = new Set<NodeJS.Timeout>();
  private held = new Map<NodeJS.Timeout, Row>();
  joined = 0;
  passed = 0;

  constructor(private recent: () => readonly LibraryHandshake[], private sink: (row: Row, matched: LibraryHandshake | null) => void,
    private delayMs = 1000, private windowMs = 3000) {}

  offer(row: Row): void {
    const t: NodeJS.Timeout = setTimeout(() => this.release(t), this.delayMs);
    this.pending.add(t);
    this.held.set(t, row);
  }

  private release(t: NodeJS.Timeout): void {
    const row = this.held.get(t);
    this.pending.delete(t);
    this.held.delete(t);
    if (!row) return;
    const { row: out, matched } = joinLibraryToHandshake(row, this.recent(), this.windowMs);
    if (matched) this.joined++;
    else this.passed++;
    this.sink(out, matched);
  }

  /** Joins and hands on everything still held (call before the library probes stop). */
  flush(): void {
    for (const t of [...this.pending]) {
      clearTimeout(t);
      this.release(t);
    }
  }
}
