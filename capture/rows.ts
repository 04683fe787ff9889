// One handshake from the flow table → its `handshakes` row and `certificates` rows. Shared by pcap
// ingest and live wire capture, which differ only in `source` and the process context they add.
import type { Handshake } from "./flow/table.ts";
import { certificateFields, ParseError } from "./parse/index.ts";
import { sha256hexCached } from "./parse/reader.ts";
import { TABLES, type Row } from "./lake/schema.ts";

const CERTIFICATE_COLUMNS = new Set(TABLES.certificates.map((c) => c.name));

// One-shot SHA-256 (no Hash object per call), the parsers' own: a repeat of recent bytes (the same
// certificates come again and again) is a byte compare and gives the same string object back.
export const sha256Hex: (b: Uint8Array) => string = sha256hexCached;

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

/** The columns handshakeRows sets itself, whatever the parser or the context say. */
const OWN_COLUMNS = ["ts", "host", "source", "proto", "transport", "client_addr", "client_port", "server_addr", "server_port", "flow_id", "sni", "cert_count", "leaf_cert_sha256"] as const;
type RowOwn = Record<(typeof OWN_COLUMNS)[number], unknown>;
const OWN = new Set<string>(OWN_COLUMNS);
const NO_CONTEXT: Row = {};

/**
 * A `handshakes` row as ONE object literal with every column, in the schema's order (an absent value is
 * undefined, which the lake writes as NULL): rows of every protocol then share one hidden class with
 * fast properties, so the lake's appender reads each column with a monomorphic load. Built field by
 * field with keyed stores (as before), ~40 properties made dictionary-mode objects of ~30 shapes, and
 * the lake appended them ~25% slower (bench/lake, measured by the lake's engineer). A column comes from
 * the process context (live capture) when that has it, else from the parser's fields.
 */
const buildHandshakeRow = new Function(
  "own",
  "f",
  "c",
  `return {\n${TABLES.handshakes
    .map((col) => {
      const k = JSON.stringify(col.name);
      return OWN.has(col.name) ? `  ${k}: own[${k}],` : `  ${k}: c[${k}] !== undefined ? c[${k}] : f[${k}],`;
    })
    .join("\n")}\n};`,
) as (own: RowOwn, f: Record<string, unknown>, c: Row) => Row;

export function handshakeRows(h: Handshake, ctx: RowContext): HandshakeRows {
  const r = h.result;
  const clientAddr = ctx.ident(h.clientAddr);
  const serverAddr = ctx.ident(h.serverAddr);
  const ts = BigInt(Math.trunc(h.firstTsUs));
  const fields = r.fields;
  const context = ctx.context;
  const fieldSni = fields.sni;
  const sniValue = typeof fieldSni === "string" ? ctx.ident(fieldSni) : fieldSni;
  const hasCerts = r.certificates.length > 0;
  const own: RowOwn = {
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
    sni: context?.sni !== undefined ? context.sni : sniValue,
    cert_count: fields.cert_count ?? (hasCerts ? r.certificates.length : undefined),
    leaf_cert_sha256: fields.leaf_cert_sha256 ?? (hasCerts ? sha256Hex(r.certificates[0]!) : undefined),
  };
  const row = buildHandshakeRow(own, fields, context ?? NO_CONTEXT);
  const sni = (row.sni as string | undefined) ?? null;
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
