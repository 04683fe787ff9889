// One handshake from the flow table → its `handshakes` row and `certificates` rows. Shared by pcap
// ingest and live wire capture, which differ only in `source` and the process context they add.
import { createHash } from "node:crypto";
import type { Handshake } from "./flow/table.ts";
import { certificateFields, ParseError } from "./parse/index.ts";
import { TABLES, type Row } from "./lake/schema.ts";

const HANDSHAKE_COLUMNS = new Set(TABLES.handshakes.map((c) => c.name));
const CERTIFICATE_COLUMNS = new Set(TABLES.certificates.map((c) => c.name));

export function sha256Hex(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

export interface RowContext {
  host: string;
  source: "pcap" | "wire";
  /** identity, or the keyed hash of --hash-identifiers */
  ident: (v: string) => string;
  /** stable id of the connection */
  flowId: string;
  /** process/container/netns columns and role, when known (live capture) */
  context?: Row;
  /** return false to leave a certificate out (pcap ingest keeps a server's chain once per file) */
  keepCertificate?: (der: Uint8Array, position: number) => boolean;
}

export interface HandshakeRows {
  handshake: Row;
  certificates: Row[];
}

export function handshakeRows(h: Handshake, ctx: RowContext): HandshakeRows {
  const r = h.result;
  const clientAddr = ctx.ident(h.clientAddr);
  const serverAddr = ctx.ident(h.serverAddr);
  const ts = BigInt(Math.trunc(h.firstTsUs));
  const row: Row = {};
  for (const [k, v] of Object.entries(r.fields)) if (HANDSHAKE_COLUMNS.has(k) && v !== undefined) row[k] = v;
  if (typeof row.sni === "string") row.sni = ctx.ident(row.sni);
  const sni = (row.sni as string | undefined) ?? null;
  if (r.certificates.length > 0) {
    row.cert_count ??= r.certificates.length;
    row.leaf_cert_sha256 ??= sha256Hex(r.certificates[0]!);
  }
  Object.assign(row, ctx.context ?? {}, {
    ts,
    host: ctx.host,
    source: ctx.source,
    proto: r.proto,
    transport: h.transport,
    client_addr: clientAddr,
    client_port: h.clientPort,
    server_addr: serverAddr,
    server_port: h.serverPort,
    flow_id: ctx.flowId,
  });
  const certificates: Row[] = [];
  r.certificates.forEach((der, position) => {
    if (ctx.keepCertificate && !ctx.keepCertificate(der, position)) return;
    let cert: Row;
    try {
      cert = { ...certificateFields(der) };
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      cert = {}; // not X.509 we can read: keep the bytes and the hash at least
    }
    for (const k of Object.keys(cert)) if (!CERTIFICATE_COLUMNS.has(k)) delete cert[k];
    const processCols: Row = {};
    for (const k of ["pid", "comm", "exe", "cgroup_id", "container_id", "pod"]) if (ctx.context?.[k] !== undefined) processCols[k] = ctx.context[k];
    Object.assign(cert, processCols, {
      ts,
      host: ctx.host,
      sha256: sha256Hex(der),
      chain_position: position,
      source: ctx.source,
      server_addr: serverAddr,
      server_port: h.serverPort,
      sni,
      flow_id: ctx.flowId,
      der,
    });
    certificates.push(cert);
  });
  return { handshake: row, certificates };
}
