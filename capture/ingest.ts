// pcap/pcapng ingest: capture files → frames → segments → flow table → one `handshakes` row per
// handshake and one `certificates` row per certificate (per server, per file). The same flow table
// and parsers serve live capture; only the frame source differs.
import { createHmac, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FlowTable, type FlowTableOptions, type FlowTableStats, type Handshake } from "./flow/table.ts";
import { CaptureFormatError } from "./pcap/errors.ts";
import { decodePacket, newDecodeStats, type DecodeStats } from "./pcap/decode.ts";
import { Packet } from "./flow/segment.ts";
import { shardOf } from "./flow/shard.ts";
import { readCaptureFile } from "./pcap/reader.ts";
import type { Row, TableName } from "./lake/schema.ts";
import { handshakeRows, sha256Hex } from "./rows.ts";

/** Where rows go: the lake writer, or anything with its append (a counter in benchmarks). */
export interface RowSink {
  append(table: TableName, row: Row): void;
  flush?(): Promise<void>;
  /** resolves when the sink can take more rows (the lake writer's back-pressure) */
  drain?(): Promise<void>;
}

export interface IngestProgress {
  file: string;
  fileIndex: number;
  bytesRead: number;
  fileSize: number;
  handshakes: number;
}

export interface IngestOptions {
  /** value of the `host` column */
  host: string;
  /** when set, SNI and addresses are stored as HMAC-SHA256(key, value) */
  hashKey?: Uint8Array;
  flow?: FlowTableOptions;
  onProgress?: (p: IngestProgress) => void;
  /** stop early (SIGINT): the file being read ends where it is, its open connections are still finished and written */
  signal?: AbortSignal;
  /** parallel ingest (ingest-parallel.ts): only the connections of this shard, by shardOf() */
  shard?: { index: number; count: number };
}

export interface FileResult {
  file: string;
  frames: number;
  handshakes: number;
  byProto: Record<string, number>;
  certificates: number;
  decode: DecodeStats;
  flows: FlowTableStats;
  /** the damage that stopped reading, or an unreadable file; rows before it were still written */
  error?: Error;
  /** reading was stopped by the signal before the end of the file */
  aborted?: boolean;
}

export interface IngestSummary {
  files: FileResult[];
  handshakes: number;
  certificates: number;
  errors: number;
}

/** Keyed hash of an identifier: 128 bits of HMAC-SHA256, hex. Same key + value → same text. */
export function hashIdentifier(key: Uint8Array, value: string): string {
  return createHmac("sha256", key).update(value).digest("hex").slice(0, 32);
}

const KEY_FILE = ".hash-identifiers.key";

/**
 * The --hash-identifiers key: read from `keyFile` when given (64 hex characters, or ≥ 16 raw bytes),
 * else the lake's own key, made on first use and kept in the lake root so hashes stay joinable.
 */
export async function loadHashKey(lakeRoot: string, keyFile?: string): Promise<Uint8Array> {
  const path = keyFile ?? join(lakeRoot, KEY_FILE);
  let raw: Buffer | undefined;
  try {
    raw = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || keyFile) {
      throw new Error(`hash key ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (!raw) {
    await mkdir(lakeRoot, { recursive: true });
    const fresh = randomBytes(32).toString("hex") + "\n";
    try {
      await writeFile(path, fresh, { flag: "wx", mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    raw = await readFile(path); // whoever won the race wrote the key
  }
  const text = raw.toString("utf8").trim();
  if (/^[0-9a-fA-F]{32,}$/.test(text) && text.length % 2 === 0) return Buffer.from(text, "hex");
  if (raw.length < 16) throw new Error(`hash key ${path}: too short (need 64 hex characters or at least 16 bytes)`);
  return raw;
}

/**
 * Stable id of a connection: the same file ingested twice gives the same ids. 64 bits of FNV-1a
 * (two 32-bit lanes) over the 5-tuple and the first packet's time: unique enough within a lake's
 * ingest runs, and far cheaper than a cryptographic hash per handshake.
 */
export function flowId(transport: string, clientAddr: string, clientPort: number, serverAddr: string, serverPort: number, firstTsUs: number): string {
  // The hash of `${transport}|${clientAddr}|${clientPort}|${serverAddr}|${serverPort}|${firstTsUs}`,
  // fed piece by piece (the same ids as hashing that text, without making it).
  laneA = 0x811c9dc5;
  laneB = 0x050c5d1f;
  feed(transport);
  feed("|");
  feed(clientAddr);
  feed("|");
  feed(String(clientPort));
  feed("|");
  feed(serverAddr);
  feed("|");
  feed(String(serverPort));
  feed("|");
  feedNumber(firstTsUs);
  return hex32(laneA) + hex32(laneB);
}

// The decimal digits String(n) would give, fed without making the string (for the integer
// microsecond times of captures; anything else goes through String).
function feedNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) return feed(String(n));
  if (n < 1e8) return feedDigits(n, false);
  feedDigits(Math.floor(n / 1e8), false);
  feedDigits(n % 1e8, true);
}

const DIGITS = new Array<number>(8);
function feedDigits(v: number, pad8: boolean): void {
  let k = 0;
  do {
    DIGITS[k++] = 48 + (v % 10);
    v = Math.floor(v / 10);
  } while (v > 0);
  if (pad8) while (k < 8) DIGITS[k++] = 48;
  let a = laneA;
  let b = laneB;
  for (let i = k - 1; i >= 0; i--) {
    const c = DIGITS[i]!;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  laneA = a;
  laneB = b;
}

let laneA = 0;
let laneB = 0;

function feed(text: string): void {
  let a = laneA;
  let b = laneB;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  laneA = a;
  laneB = b;
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function hex32(v: number): string {
  return HEX2[(v >>> 24) & 0xff]! + HEX2[(v >>> 16) & 0xff]! + HEX2[(v >>> 8) & 0xff]! + HEX2[v & 0xff]!;
}

class FileIngest {
  handshakes = 0;
  certificates = 0;
  byProto: Record<string, number> = {};
  private readonly certsSeen = new Set<string>();
  private readonly lastChain = new Map<string, Uint8Array>();

  constructor(
    private readonly sink: RowSink,
    private readonly opts: IngestOptions,
  ) {}

  private ident(v: string): string {
    return this.opts.hashKey ? hashIdentifier(this.opts.hashKey, v) : v;
  }

  private readonly identity = (v: string): string => this.ident(v);
  // The handshake whose certificates keepCertificate is asked about.
  private current: { serverAddr: string; serverPort: number; leaf: unknown } = { serverAddr: "", serverPort: 0, leaf: undefined };

  // One row per certificate per server endpoint per file: the chain a server sends on every
  // connection is stored once, and which servers present it stays answerable. The same bytes
  // as last time at this endpoint and position are known without hashing them again.
  private readonly keepCertificate = (der: Uint8Array, position: number): boolean => {
    const { serverAddr, serverPort, leaf } = this.current;
    const slot = `${serverAddr}|${serverPort}|${position}`;
    const last = this.lastChain.get(slot);
    if (last && sameBytes(last, der)) return false;
    // A copy: der is a view of the connection's reassembly buffer, which would stay alive with it.
    this.lastChain.set(slot, new Uint8Array(der));
    const digest = position === 0 && typeof leaf === "string" ? leaf : sha256Hex(der);
    const seenKey = `${digest}|${slot}`;
    if (this.certsSeen.has(seenKey)) return false;
    this.certsSeen.add(seenKey);
    return true;
  };

  onHandshake = (h: Handshake): void => {
    const serverAddr = this.ident(h.serverAddr);
    const id = flowId(h.transport, this.ident(h.clientAddr), h.clientPort, serverAddr, h.serverPort, h.firstTsUs);
    const cur = this.current;
    cur.serverAddr = serverAddr;
    cur.serverPort = h.serverPort;
    cur.leaf = h.result.fields.leaf_cert_sha256;
    const { handshake, certificates } = handshakeRows(h, {
      host: this.opts.host,
      source: "pcap",
      ident: this.identity,
      flowId: id,
      keepCertificate: this.keepCertificate,
    });
    this.sink.append("handshakes", handshake);
    this.handshakes++;
    this.byProto[h.result.proto] = (this.byProto[h.result.proto] ?? 0) + 1;
    for (const c of certificates) {
      this.sink.append("certificates", c);
      this.certificates++;
    }
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Ingest one file; never throws for a damaged file (the error is in the result). */
export async function ingestFile(path: string, sink: RowSink, opts: IngestOptions, fileIndex = 0): Promise<FileResult> {
  const out = new FileIngest(sink, opts);
  const table = new FlowTable(out.onHandshake, opts.flow);
  const decode = newDecodeStats();
  // One Packet refilled per frame: decoding and the flow lookup allocate nothing.
  const packet = new Packet();
  const shardIndex = opts.shard?.index ?? 0;
  const shardCount = opts.shard?.count ?? 1;
  let frames = 0;
  let error: Error | undefined;
  let aborted = false;
  try {
    const r = await readCaptureFile(
      path,
      (f) => {
        frames++;
        if (!decodePacket(f.linkType, f.buffer, f.start, f.end, f.tsUs, packet, decode, true)) return;
        if (shardCount === 1 || shardOf(packet, shardCount) === shardIndex) table.addPacket(packet);
      },
      (p) => {
        opts.onProgress?.({ file: path, fileIndex, ...p, handshakes: out.handshakes });
        return sink.drain?.();
      },
      opts.signal,
    );
    aborted = r.aborted;
  } catch (err) {
    if (!(err instanceof CaptureFormatError) && !(err instanceof Error && err.message.startsWith(path))) {
      // A bug, not bad input: still keep what was read, then let it surface.
      table.finishAll();
      await sink.flush?.();
      throw err;
    }
    error = err as Error;
  }
  // Whatever the end, the connections seen so far are handed on (a cut file keeps its handshakes).
  table.finishAll();
  if (error) await sink.flush?.();
  return {
    file: path,
    frames,
    handshakes: out.handshakes,
    byProto: out.byProto,
    certificates: out.certificates,
    decode,
    flows: table.stats,
    error,
    aborted,
  };
}

/** Ingest capture files one after the other. Damaged files are reported, the others still read. */
export async function ingestFiles(paths: string[], sink: RowSink, opts: IngestOptions): Promise<IngestSummary> {
  const files: FileResult[] = [];
  for (let i = 0; i < paths.length && !opts.signal?.aborted; i++) files.push(await ingestFile(paths[i]!, sink, opts, i));
  return {
    files,
    handshakes: files.reduce((a, f) => a + f.handshakes, 0),
    certificates: files.reduce((a, f) => a + f.certificates, 0),
    errors: files.filter((f) => f.error).length,
  };
}
