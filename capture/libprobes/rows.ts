// A finished library handshake → library_events rows (one per observation) and certificates rows
// (source "uprobe"), with the process context from /proc.
import { firstThisHour, parseCert } from "./cert-cache.ts";
import { TABLES, type Row } from "../lake/schema.ts";
import { processInfo } from "../enrich/index.ts";
import { groupFromName, type LibraryHandshake } from "./assemble.ts";
import { LIB_KIND, monoNsToUtcMicros, type LibRecord } from "./records.ts";

const CERT_COLUMNS = new Set(TABLES.certificates.map((c) => c.name));

export function processContext(pid: number, comm: string, cgroupId: bigint): Row {
  const p = processInfo(pid);
  return {
    pid, comm, exe: p?.exe ?? null, cgroup_id: p?.cgroup_id ?? cgroupId, container_id: p?.container_id ?? null, pod: p?.pod ?? null,
  };
}

/** library_events rows of a handshake: one per observation (the marker, each certificate, the group, each
 * signature detail), plus the derived signature scheme. Written as literals: this runs per handshake. */
export function libraryEventRows(h: LibraryHandshake, host: string): Row[] {
  const ctx = processContext(h.pid, h.comm, h.cgroupId);
  const rows: Row[] = [];
  const row = (r: LibRecord | null, event: string, key: string, value_int: unknown, value_str: unknown): void => {
    rows.push({
      ts: monoNsToUtcMicros(r ? r.tsNs : h.lastTsNs), host, source: "uprobe", library: h.library, library_path: h.libraryPath,
      pid: ctx.pid, comm: ctx.comm, exe: ctx.exe, cgroup_id: ctx.cgroup_id, container_id: ctx.container_id, pod: ctx.pod,
      tid: r ? r.tid : h.tid, event, key, value_int, value_str, context: h.obj,
    });
  };
  const str = (r: LibRecord) => { const z = r.data.indexOf(0); return r.data.toString("latin1", 0, z < 0 ? r.data.length : z); };
  let certIndex = 0;
  for (const r of h.records) {
    switch (r.kind) {
      case LIB_KIND.handshake: row(r, "handshake", "role", null, h.role); break;
      // the DER goes to the certificates table once; here its SHA-256 and chain position
      case LIB_KIND.cert: row(r, "certificate", "x509::sha256", certIndex++, parseCert(r.data).sha256); break;
      case LIB_KIND.groupName: row(r, "group", "tls::group", groupFromName(str(r)), str(r)); break;
      case LIB_KIND.groupId: row(r, "group", "tls::group", Number(r.value), null); break;
      case LIB_KIND.eccBits: row(r, "group", "ecc::bits", Number(r.value), null); break;
      case LIB_KIND.cipherNid: row(r, "cipher", "openssl::cipher_nid", Number(r.value), null); break;
      case LIB_KIND.sigDigest: row(r, "signature", r.value === 1n ? "sign::digest" : "verify::digest", null, str(r)); break;
      case LIB_KIND.rsaPadding: row(r, "signature", "rsa::padding", Number(r.value), null); break;
      case LIB_KIND.version: row(r, "version", "tls::protocol_version", Number(r.value), null); break;
      case LIB_KIND.goSig: row(r, "signature", "go::sigtype_hash", Number(r.value), null); break;
      case LIB_KIND.groupOid: row(r, "group", "ec::curve_oid", Number(r.value), r.data.toString("hex")); break;
      case LIB_KIND.nssSig: row(r, "signature", "nss::mechanism_hash", r.value, null); break;
      case LIB_KIND.gnutlsSig: row(r, "signature", "gnutls::sign_algorithm", Number(r.value), null); break;
    }
  }
  if (h.sigScheme !== null) row(null, "signature", "tls::signature_algorithm", h.sigScheme, null);
  return rows;
}

/** certificates rows (source "uprobe") for the handshake's chain: once per certificate, process and hour
 * (the table holds certificates, not sightings; library_events has one certificate event per handshake). */
export function certificateRows(h: LibraryHandshake, host: string, extra: Row = {}, dedupe = true): Row[] {
  const ts = monoNsToUtcMicros(h.firstTsNs);
  const out: Row[] = [];
  let ctx: Row | undefined;
  h.certificates.forEach((der, i) => {
    const p = parseCert(der);
    if (dedupe && !firstThisHour(p.sha256, h.pid, ts)) return;
    ctx ??= processContext(h.pid, h.comm, h.cgroupId);
    const fields: Row = {};
    for (const [k, v] of Object.entries(p.fields ?? {})) if (CERT_COLUMNS.has(k)) fields[k] = v;
    out.push({ ...fields, ...ctx, ...extra, ts, host, sha256: p.sha256, chain_position: i, source: "uprobe", der });
  });
  return out;
}

/** A handshakes row (source "uprobe") for a library handshake the wire did not see (or when no wire capture
 * runs): what the library told, nothing about addresses. */
export function libraryHandshakeRow(h: LibraryHandshake, host: string): Row {
  const ctx = processContext(h.pid, h.comm, h.cgroupId);
  return {
    ts: monoNsToUtcMicros(h.firstTsNs), host, source: "uprobe", proto: "tls",
    pid: ctx.pid, comm: ctx.comm, exe: ctx.exe, cgroup_id: ctx.cgroup_id, container_id: ctx.container_id, pod: ctx.pod,
    role: h.role, version_chosen: h.version, suite_chosen: h.suite, group_chosen: h.group, sig_alg_chosen: h.sigScheme,
    cert_count: h.certificates.length > 0 ? h.certificates.length : null,
    leaf_cert_sha256: h.certificates.length > 0 ? parseCert(h.certificates[0]).sha256 : null,
    library: h.library,
  };
}
