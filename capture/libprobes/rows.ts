// A finished library handshake → library_events rows (one per observation) and certificates rows
// (source "uprobe"), with the process context from /proc.
import { sha256Hex } from "../rows.ts";
import { certificateFields, ParseError } from "../parse/index.ts";
import { TABLES, type Row } from "../lake/schema.ts";
import { processInfo } from "../enrich/index.ts";
import type { LibraryHandshake } from "./assemble.ts";
import { LIB_KIND, monoNsToUtcMicros, type LibRecord } from "./records.ts";

const CERT_COLUMNS = new Set(TABLES.certificates.map((c) => c.name));

export function processContext(pid: number, comm: string, cgroupId: bigint): Row {
  const p = processInfo(pid);
  return {
    pid, comm, exe: p?.exe ?? null, cgroup_id: p?.cgroup_id ?? cgroupId, container_id: p?.container_id ?? null, pod: p?.pod ?? null,
  };
}

function eventRow(r: LibRecord, h: LibraryHandshake, certIndex: number): Row | null {
  const base: Row = { ts: monoNsToUtcMicros(r.tsNs), tid: r.tid, context: h.obj };
  const str = () => r.data.toString("latin1").replace(/\0.*$/s, "");
  switch (r.kind) {
    case LIB_KIND.handshake: return { ...base, event: "handshake", key: "role", value_str: h.role };
    case LIB_KIND.cert: return { ...base, event: "certificate", key: "x509::der", value_int: certIndex, value_blob: r.data };
    case LIB_KIND.groupName: return { ...base, event: "group", key: "tls::group", value_str: str(), value_int: h.group };
    case LIB_KIND.groupId: return { ...base, event: "group", key: "tls::group", value_int: Number(r.value) };
    case LIB_KIND.eccBits: return { ...base, event: "group", key: "ecc::bits", value_int: Number(r.value) };
    case LIB_KIND.cipherNid: return { ...base, event: "cipher", key: "openssl::cipher_nid", value_int: Number(r.value) };
    case LIB_KIND.sigDigest: return { ...base, event: "signature", key: r.value === 1n ? "sign::digest" : "verify::digest", value_str: str() };
    case LIB_KIND.rsaPadding: return { ...base, event: "signature", key: "rsa::padding", value_int: Number(r.value) };
    case LIB_KIND.version: return { ...base, event: "version", key: "tls::protocol_version", value_int: Number(r.value) };
  }
  return null;
}

export function libraryEventRows(h: LibraryHandshake, host: string): Row[] {
  const ctx = processContext(h.pid, h.comm, h.cgroupId);
  const rows: Row[] = [];
  let certIndex = 0;
  for (const r of h.records) {
    const row = eventRow(r, h, r.kind === LIB_KIND.cert ? certIndex++ : 0);
    if (row) rows.push({ ...ctx, ...row, host, source: "uprobe", library: h.library, library_path: h.libraryPath });
  }
  if (h.sigScheme !== null) {
    rows.push({ ...ctx, ts: monoNsToUtcMicros(h.lastTsNs), host, source: "uprobe", library: h.library, library_path: h.libraryPath,
      tid: h.tid, context: h.obj, event: "signature", key: "tls::signature_algorithm", value_int: h.sigScheme });
  }
  return rows;
}

export function certificateRows(h: LibraryHandshake, host: string, extra: Row = {}): Row[] {
  const ctx = processContext(h.pid, h.comm, h.cgroupId);
  const ts = monoNsToUtcMicros(h.firstTsNs);
  return h.certificates.map((der, i) => {
    let fields: Row = {};
    try {
      fields = { ...certificateFields(der) };
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
    for (const k of Object.keys(fields)) if (!CERT_COLUMNS.has(k)) delete fields[k];
    return { ...fields, ...ctx, ...extra, ts, host, sha256: sha256Hex(der), chain_position: i, source: "uprobe", der };
  });
}
