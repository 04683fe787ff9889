// The rolling lake writer: rows are appended into columnar buffers per (table, hour of the row's ts);
// a buffer is sealed at the hour boundary, at a row/byte limit, under memory pressure or at the flush
// interval, and sealed buffers are written one at a time by the JS Parquet encoder (js-encoder.ts; or
// DuckDB's COPY, duckdb-encoder.ts) to hidden temp files that are fsynced and then published (layout.ts). Memory is bounded: past
// maxBufferedRows, appends are counted as drops and reported to agent_log at the next flush.

import { existsSync } from "node:fs";
import { mkdir, rm, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { threadId } from "node:worker_threads";
import { CLUSTER_BY, clusterRows } from "./cluster.js";
import { ColumnBuffer, LakeValueError, ListBuffer, compileAppender, newColumnBuffer } from "./columns.js";
import { type EncoderName, type ParquetEncoder, openEncoder } from "./encoder.js";
import { LakeError, describeIoFailure } from "./errors.js";
import {
  agentStartStamp,
  fsyncPath,
  hostSegment,
  hourIndexOfMicros,
  hourKey,
  makeDirDurable,
  partFileName,
  partitionDir,
  publish,
  removeStaleTemps,
  tempNameFor,
} from "./layout.js";
import { type Column, type Row, SCHEMA_VERSION, TABLES, type TableName } from "./schema.js";

export { LakeError } from "./errors.js";

export interface LakeOptions {
  root: string;
  host: string;
  /** Seal and write everything at this interval so analysts see fresh data (default 60000). */
  flushIntervalMs?: number;
  /** Names the files of this run: part-<agent-start>-<seq>.parquet (default: now). */
  agentStart?: Date;
  /** Roll a file at this many rows (default 1,000,000). */
  maxRowsPerFile?: number;
  /** Roll a file when its estimated Parquet size reaches this (default 128 MiB; estimated from the table's last files). */
  maxBytesPerFile?: number;
  /** Buffered rows (all tables, not yet in files) past which appends are dropped (default 200,000). */
  maxBufferedRows?: number;
  /** Parquet row group size (default 100,000). */
  rowGroupSize?: number;
  /** ZSTD level (default 3). */
  compressionLevel?: number;
  /** Table schemas (default schema.ts TABLES); a later version may add columns. */
  tables?: Partial<Record<TableName, Column[]>>;
  /** Written as cryptoscope.schema_version (default schema.ts SCHEMA_VERSION). */
  schemaVersion?: number;
  /** Columns a file's rows are clustered by before writing (default cluster.ts CLUSTER_BY; {} keeps append order). */
  clusterBy?: Partial<Record<TableName, string[]>>;
  /** Parquet encoder: "js" (default, measured fastest and leanest) or "duckdb" (DuckDB's COPY). */
  encoder?: EncoderName;
  /** Temp files left by a killed writer in this host's last 48 hour partitions are removed at open once this old (default 10 min). */
  staleTempAgeMs?: number;
  /** Failures of background (timer or limit) writes; default: one line on stderr. Rows stay buffered for the next flush. */
  onError?: (err: LakeError) => void;
}

export interface LakeStats {
  /** Rows in complete, published files, per table. */
  rows: Record<string, number>;
  /** Rows refused because the buffer was full, per table. */
  dropped: Record<string, number>;
  /** Files published. */
  files: number;
  /** Bytes of the published files. */
  bytes: number;
  /** Rows appended but not yet in a published file. */
  buffered: number;
}

export interface LakeWriter {
  /** Never blocks, never throws for a full buffer: counts a drop instead (reported to agent_log). Throws LakeError for a bad row or a closed writer. */
  append(table: TableName, row: Row): void;
  /** Write everything buffered as complete files. Rejects with LakeError if a file could not be written (the rows stay buffered). */
  flush(): Promise<void>;
  /** flush + stop timers + release DuckDB. Rows appended once close() has begun are counted as drops. */
  close(): Promise<void>;
  stats(): LakeStats;
  /** Resolves once buffered rows are below half of maxBufferedRows: producers that can wait use it to avoid drops. */
  drain(): Promise<void>;
  readonly root: string;
}

interface Partition {
  table: TableName;
  hourIndex: number;
  bufs: ColumnBuffer[];
  rows: number;
  push: (row: Row, ts: unknown) => void;
}

interface Batch extends Partition {
  seq: number;
  /** Clustered row order, computed once (null: as buffered). */
  order?: Int32Array | ColumnBuffer[] | null;
}

const tsScratch = new BigInt64Array(1);
const tsWords = new Int32Array(tsScratch.buffer);

const defaults = {
  flushIntervalMs: 60_000,
  maxRowsPerFile: 1_000_000,
  maxBytesPerFile: 128 * 1024 * 1024,
  maxBufferedRows: 200_000,
  rowGroupSize: 100_000,
};

export async function openLake(opts: LakeOptions): Promise<LakeWriter> {
  const root = path.resolve(opts.root);
  if (!opts.host) throw new LakeError(`lake ${root}: no host name given`);
  await probeWritable(root);
  await removeStaleTemps(root, hostSegment(opts.host), 48, opts.staleTempAgeMs ?? 10 * 60_000);
  const encoder = await openEncoder(opts.encoder ?? "js", opts.compressionLevel);
  return new Lake(root, opts, encoder);
}

async function probeWritable(root: string): Promise<void> {
  // Per process and thread: parallel ingest workers open the same lake at once.
  const probe = path.join(root, `.cryptoscope-probe-${process.pid}-${threadId}.tmp`);
  try {
    await makeDirDurable(root);
    await writeFile(probe, "probe");
    await unlink(probe);
  } catch (err) {
    await rm(probe, { force: true }).catch(() => {});
    throw new LakeError(`lake ${root}: ${describeIoFailure(await realMkdirError(root, err))}; cannot write the lake, nothing was written`);
  }
}

/** Recursive mkdir reports ENOENT where the real cause is e.g. EROFS: retry the first missing level alone. */
async function realMkdirError(dir: string, err: unknown): Promise<unknown> {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") return err;
  let d = dir;
  while (!existsSync(path.dirname(d)) && path.dirname(d) !== d) d = path.dirname(d);
  try {
    await mkdir(d);
    await rm(d, { recursive: true });
    return err;
  } catch (e) {
    return e;
  }
}

class Lake implements LakeWriter {
  private readonly tables: Record<string, Column[]>;
  private readonly tsIndex: Record<string, number> = {};
  private readonly appenders: Record<string, (bufs: ColumnBuffer[]) => (row: Row, ts: unknown) => void> = {};
  private readonly open = new Map<string, Map<number, Partition>>();
  private readonly sealed: Batch[] = [];
  private readonly host: string;
  private readonly hostDir: string;
  private readonly stamp: string;
  private readonly o: typeof defaults;
  private readonly schemaVersion: number;
  private readonly timer: NodeJS.Timeout;
  private readonly onError: (err: LakeError) => void;
  private readonly clusterBy: Partial<Record<TableName, string[]>>;
  private readonly compressionLevel: number | undefined;
  private readonly encoderName: EncoderName;

  private lastPartition: Partition | null = null;
  private openRows = 0;
  private buffered = 0;
  private latestHour = -Infinity;
  private batchSeq = 0;
  private fileSeq = 0;
  private writing: Promise<void> | null = null;
  private pausedByError = false;
  private closed = false;
  private closing = false;
  private readonly bytesPerRow: Record<string, number> = {};
  /** Sizes of the table's last sealed batch: new partitions are pre-sized from them (no doubling, no copies). */
  private readonly sizeHint: Record<string, [number, number][]> = {};
  private readonly written: Record<string, number> = {};
  private readonly dropped: Record<string, number> = {};
  private readonly droppedUnlogged: Record<string, number> = {};
  private files = 0;
  private bytes = 0;
  private flushWaiters: { seq: number; resolve: () => void; reject: (e: LakeError) => void }[] = [];
  private drainWaiters: { resolve: () => void; reject: (e: LakeError) => void }[] = [];
  private writtenSeq = 0;

  constructor(
    readonly root: string,
    opts: LakeOptions,
    private readonly encoder: ParquetEncoder,
  ) {
    this.o = { ...defaults };
    for (const k of Object.keys(defaults) as (keyof typeof defaults)[]) if (opts[k] !== undefined) this.o[k] = opts[k]!;
    this.tables = { ...TABLES, ...opts.tables } as Record<string, Column[]>;
    for (const [t, cols] of Object.entries(this.tables)) {
      const i = cols.findIndex((c) => c.name === "ts");
      if (i < 0 || cols[i].type !== "TIMESTAMP") throw new LakeError(`lake ${root}: table ${t} has no TIMESTAMP column ts`);
      this.tsIndex[t] = i;
      this.appenders[t] = compileAppender(cols, i);
      this.written[t] = 0;
      this.dropped[t] = 0;
      this.droppedUnlogged[t] = 0;
      this.bytesPerRow[t] = 50; // first guess until a file of the table has been written
    }
    this.host = opts.host;
    this.hostDir = hostSegment(opts.host);
    this.stamp = agentStartStamp(opts.agentStart ?? new Date());
    this.schemaVersion = opts.schemaVersion ?? SCHEMA_VERSION;
    this.clusterBy = opts.clusterBy ?? CLUSTER_BY;
    this.compressionLevel = opts.compressionLevel;
    this.encoderName = opts.encoder ?? "js";
    this.onError = opts.onError ?? ((e) => process.stderr.write(`cryptoscope: ${e.message}\n`));
    this.timer = setInterval(() => this.flush().catch((e: LakeError) => this.onError(e)), this.o.flushIntervalMs);
    this.timer.unref();
  }

  append(table: TableName, row: Row): void {
    if (this.closed) throw new LakeError(`lake ${this.root}: the writer is closed; cannot append to ${table}`);
    if (this.buffered >= this.o.maxBufferedRows || this.closing) {
      this.dropped[table]++;
      this.droppedUnlogged[table]++;
      return;
    }
    this.appendUnchecked(table, row);
  }

  private appendUnchecked(table: string, row: Row): void {
    const cols = this.tables[table];
    if (cols === undefined) throw new LakeError(`lake ${this.root}: unknown table ${table}`);
    const ts = row.ts ?? new Date(); // the agent stamps rows that come without a time
    let us: number;
    if (ts instanceof Date) us = ts.getTime() * 1000;
    else if (typeof ts === "bigint") {
      // Through a BigInt64Array (Number(bigint) is a slow call); a value beyond 64 bits wraps here and
      // is refused by the ts column's push below.
      tsScratch[0] = ts;
      us = tsWords[1] * 4294967296 + (tsWords[0] >>> 0);
    }
    else throw new LakeError(`lake ${this.root}: bad row for ${table}: ts must be a Date or bigint µs, got ${typeof ts}`);
    if (!Number.isFinite(us)) throw new LakeError(`lake ${this.root}: bad row for ${table}: ts is not a valid time`);
    const hour = hourIndexOfMicros(us);
    const last = this.lastPartition; // rows come in runs of one table and hour
    const p = last !== null && last.hourIndex === hour && last.table === table ? last : (this.lastPartition = this.partition(table, hour, row));
    const bufs = p.bufs;
    try {
      p.push(row, ts);
    } catch (err) {
      for (const b of bufs) if (b.length > p.rows) b.truncate(p.rows);
      if (err instanceof LakeValueError) throw new LakeError(`lake ${this.root}: bad row for ${table}: ${err.message}`);
      throw err;
    }
    p.rows++;
    this.openRows++;
    this.buffered++;
    if (p.rows >= this.o.maxRowsPerFile || p.rows * this.bytesPerRow[table] >= this.o.maxBytesPerFile) this.seal(p);
    else if (this.openRows >= this.o.maxBufferedRows / 2) this.sealAll(); // memory pressure: write what we have
    if (hour > this.latestHour) {
      if (this.latestHour !== -Infinity) this.sealAll((q) => q.hourIndex < hour); // roll at the hour boundary
      this.latestHour = hour;
    }
  }

  private partition(table: string, hour: number, row: Row): Partition {
    let byHour = this.open.get(table);
    if (byHour === undefined) this.open.set(table, (byHour = new Map()));
    let p = byHour.get(hour);
    if (p === undefined) {
      // The first row of each partition is checked for column names the schema does not have (typos lose data).
      const cols = this.tables[table];
      for (const k of Object.keys(row))
        if (!cols.some((c) => c.name === k)) throw new LakeError(`lake ${this.root}: bad row for ${table}: no column named ${k}`);
      const bufs = cols.map(newColumnBuffer);
      const hint = this.sizeHint[table];
      if (hint) bufs.forEach((b, i) => b.reserve(Math.ceil(hint[i][0] * 1.05), Math.ceil(hint[i][1] * 1.05)));
      p = { table: table as TableName, hourIndex: hour, bufs, rows: 0, push: this.appenders[table](bufs) };
      byHour.set(hour, p);
    }
    return p;
  }

  private seal(p: Partition): void {
    this.open.get(p.table)!.delete(p.hourIndex);
    if (this.lastPartition === p) this.lastPartition = null;
    this.openRows -= p.rows;
    if (p.rows === 0) return;
    if (p.rows >= 1000) this.sizeHint[p.table] = p.bufs.map((b) => [b.length, b instanceof ListBuffer ? b.child.length : 0]);
    this.sealed.push({ ...p, seq: ++this.batchSeq });
    this.kick();
  }

  private sealAll(which: (p: Partition) => boolean = () => true): void {
    for (const byHour of this.open.values()) for (const p of [...byHour.values()]) if (which(p)) this.seal(p);
  }

  /** Starts the background writer unless it runs or is paused after a failure (then the next flush retries). */
  private kick(): void {
    if (this.writing === null && !this.pausedByError && this.sealed.length > 0) this.writing = this.writeSealed();
  }

  private async writeSealed(): Promise<void> {
    await Promise.resolve(); // let append() return before the first (synchronous) chunk building
    try {
      while (this.sealed.length > 0) {
        const b = this.sealed[0];
        try {
          await this.writeBatch(b);
        } catch (err) {
          const e = err instanceof LakeError ? err : new LakeError(`lake ${this.root}: ${describeIoFailure(err)} while writing ${b.table}`);
          this.pausedByError = true;
          const waiters = this.flushWaiters;
          this.flushWaiters = [];
          for (const w of this.drainWaiters.splice(0)) w.reject(e);
          if (waiters.length > 0) for (const w of waiters) w.reject(e);
          else this.onError(e);
          return;
        }
        this.sealed.shift();
        this.buffered -= b.rows;
        this.writtenSeq = b.seq;
        this.flushWaiters = this.flushWaiters.filter((w) => (w.seq <= b.seq ? (w.resolve(), false) : true));
        if (this.buffered < this.o.maxBufferedRows / 2) for (const w of this.drainWaiters.splice(0)) w.resolve();
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeBatch(b: Batch): Promise<void> {
    const hour = hourKey(b.hourIndex);
    const dir = partitionDir(this.root, b.table, hour, this.hostDir);
    const seq = ++this.fileSeq;
    const name = partFileName(this.stamp, seq);
    const tmp = path.join(dir, tempNameFor(name));
    try {
      await makeDirDurable(dir);
      const cols = this.tables[b.table];
      if (b.order === undefined) b.order = clusterRows(b.bufs, cols.map((c) => c.name), this.clusterBy[b.table], b.rows, this.encoderName === "duckdb");
      if (b.order instanceof Array) {
        b.bufs = b.order; // the DuckDB encoder takes rows in order: the batch was permuted (and the unclustered copy freed)
        b.order = null;
      }
      await this.encoder.writeParquet(b.table, cols, b.bufs, b.rows, tmp, {
        rowGroupSize: this.o.rowGroupSize,
        order: b.order ?? undefined,
        compressionLevel: this.compressionLevel,
        kvMetadata: {
          "cryptoscope.schema_version": String(this.schemaVersion),
          "cryptoscope.table": b.table,
          "cryptoscope.host": this.host,
          "cryptoscope.agent_start": this.stamp,
        },
      });
      await fsyncPath(tmp);
      const final = await publish(tmp, dir, (bump) => (bump === 0 ? name : partFileName(this.stamp, (this.fileSeq = seq + bump))));
      const size = (await stat(final)).size;
      this.files++;
      this.bytes += size;
      this.written[b.table] += b.rows;
      // Estimate of the table's Parquet bytes per row, for maxBytesPerFile (weighted to large files).
      const bpr = size / b.rows;
      this.bytesPerRow[b.table] = b.rows >= 10_000 ? bpr : 0.8 * this.bytesPerRow[b.table] + 0.2 * bpr;
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      throw new LakeError(`lake ${this.root}: ${describeIoFailure(err)} while writing ${b.table}; files already written are intact`);
    }
  }

  async flush(): Promise<void> {
    this.logDrops();
    this.sealAll();
    this.pausedByError = false;
    if (this.sealed.length === 0) return;
    const target = this.sealed[this.sealed.length - 1].seq;
    const done = new Promise<void>((resolve, reject) => this.flushWaiters.push({ seq: target, resolve, reject }));
    this.kick();
    await done;
  }

  /** Drops since the last flush become one agent_log row per table (these rows bypass the limit). */
  private logDrops(): void {
    for (const t of Object.keys(this.droppedUnlogged)) {
      const n = this.droppedUnlogged[t];
      if (n === 0) continue;
      this.droppedUnlogged[t] = 0;
      this.appendUnchecked("agent_log", {
        ts: new Date(),
        host: this.host,
        level: "warn",
        event: "drops",
        message: `${n} ${t} rows dropped: the lake writer's buffer was full (maxBufferedRows ${this.o.maxBufferedRows})`,
        object_name: t,
        count: n,
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    try {
      this.closing = true; // from here on appends are counted as drops: close() must end even if producers do not stop
      await this.flush();
    } finally {
      this.closed = true;
      if (this.writing) await this.writing.catch(() => {});
      this.encoder.close();
    }
  }

  drain(): Promise<void> {
    if (this.buffered < this.o.maxBufferedRows / 2) return Promise.resolve();
    if (this.openRows > 0 && this.sealed.length === 0) this.sealAll();
    this.pausedByError = false;
    this.kick();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  stats(): LakeStats {
    return { rows: { ...this.written }, dropped: { ...this.dropped }, files: this.files, bytes: this.bytes, buffered: this.buffered };
  }
}

/**
 * On SIGINT/SIGTERM: flush and close the lake, then exit (130 / 143, or 1 if the flush failed).
 * Returns a function that removes the handlers.
 */
export function installSignalFlush(lake: LakeWriter, signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"]): () => void {
  const codes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  const handler = (sig: NodeJS.Signals) => {
    uninstall();
    lake.close().then(
      () => process.exit(codes[sig] ?? 128),
      (e: Error) => {
        process.stderr.write(`cryptoscope: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  const uninstall = () => {
    for (const s of signals) process.off(s, handler);
  };
  for (const s of signals) process.on(s, handler);
  return uninstall;
}
