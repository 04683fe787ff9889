// One handshake from the flow table → its `handshakes` row and `certificates` rows. Shared by pcap
// ingest and live wire capture, which differ only in `source` and the process context they add.
import type { Handshake } from "./flow/table.ts";
import { certificateFields, ParseError } from "./parse/index.ts";
import { sha256hex } from "./parse/reader.ts";
import { TABLES, type Row } from "./lake/schema.ts";

const HANDSHAKE_COLUMNS = new Set(TABLES.handshakes.map((c) => c.name));
const CERTIFICATE_COLUMNS = new Set(TABLES.certificates.map((c) => c.name));

// One-shot SHA-256 (no Hash object per call), the parsers' own.
export const sha256Hex: (b: Uint8Array) => string = sha256hex;

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

const PROCESS_COLUMNS = ["pid", "comm", "exe", "cgroup_id", "container_id", "pod"] as const;

export function handshakeRows(h: Handshake, ctx: RowContext): HandshakeRows {
  const r = h.result;
  const clientAddr = ctx.ident(h.clientAddr);
  const serverAddr = ctx.ident(h.serverAddr);
  const ts = BigInt(Math.trunc(h.firstTsUs));
  const row: Row = {};
  const fields = r.fields;
  for (const k in fields) {
    const v = fields[k];
    if (v !== undefined && HANDSHAKE_COLUMNS.has(k)) row[k] = v;
  }
  if (typeof row.sni === "string") row.sni = ctx.ident(row.sni);
  const sni = (row.sni as string | undefined) ?? null;
  if (r.certificates.length > 0) {
    row.cert_count ??= r.certificates.length;
    row.leaf_cert_sha256 ??= sha256Hex(r.certificates[0]!);
  }
  const context = ctx.context;
  if (context) for (const k in context) row[k] = context[k];
  row.ts = ts;
  row.host = ctx.host;
  row.source = ctx.source;
  row.proto = r.proto;
  row.transport = h.transport;
  row.client_addr = clientAddr;
  row.client_port = h.clientPort;
  row.server_addr = serverAddr;
  row.server_port = h.serverPort;
  row.flow_id = ctx.flowId;
  if (r.certificates.length === 0) return { handshake: row, certificates: [] };
  const certificates: Row[] = [];
  for (let position = 0; position < r.certificates.length; position++) {
    const der = r.certificates[position]!;
    if (ctx.keepCertificate && !ctx.keepCertificate(der, position)) continue;
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = certificateFields(der);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      // not X.509 we can read: keep the bytes and the hash at least
    }
    const cert: Row = {};
    if (parsed) for (const k in parsed) if (CERTIFICATE_COLUMNS.has(k)) cert[k] = parsed[k];
    if (context) for (const k of PROCESS_COLUMNS) if (context[k] !== undefined) cert[k] = context[k];
    cert.ts = ts;
    cert.host = ctx.host;
    cert.sha256 = typeof parsed?.sha256 === "string" ? parsed.sha256 : sha256Hex(der);
    cert.chain_position = position;
    cert.source = ctx.source;
    cert.server_addr = serverAddr;
    cert.server_port = h.serverPort;
    cert.sni = sni;
    cert.flow_id = ctx.flowId;
    cert.der = der;
    certificates.push(cert);
  }
  return { handshake: row, certificates };
}
