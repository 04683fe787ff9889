// Parallel ingest of capture files over worker threads, for large captures on machines with cores to
// spare: every worker reads the files in full (decoding a frame's headers is cheap) and keeps only the
// connections of its shard (flow/shard.ts: a symmetric hash of both endpoints), so reassembly and the
// parsers, the bulk of the work, are split without any per-packet hand-off between threads.
// Workers write their handshakes through lake writers of their own (same root, host and agent start;
// layout.ts keeps their temp files and final names apart). Certificates come back to this thread, which
// keeps one row per certificate per server endpoint per file over all shards, as serial ingest does
// (the row's flow_id, sni and ts then name one of the connections that presented it, not always the first).
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { FileResult, IngestOptions, IngestSummary, RowSink } from "./ingest.ts";
import type { FlowTableStats } from "./flow/table.ts";
import type { WorkerInput, WorkerMessage } from "./ingest-worker.ts";
import { REPO_ROOT } from "./repo-root.ts";

export interface ParallelOptions {
  jobs: number;
  /** where the workers write handshakes: the lake the main thread's sink writes to */
  lake: { root: string; host: string; agentStart: Date; flushIntervalMs?: number };
}

// Compiled (build/cli): the compiled worker. Otherwise the TypeScript, through tsx registered in the worker.
const compiled = fileURLToPath(import.meta.url).endsWith(".js");
const WORKER_FILE = join(REPO_ROOT, compiled ? "build/cli/capture/ingest-worker.js" : "capture/ingest-worker-tsx.mjs");

type WorkerFileResult = Extract<WorkerMessage, { type: "file" }>["result"];

/** Like ingestFiles(): damaged files are reported in their result, the others still read. */
export async function ingestFilesParallel(paths: string[], sink: RowSink, opts: IngestOptions, par: ParallelOptions): Promise<IngestSummary> {
  const jobs = Math.max(1, Math.floor(par.jobs));
  const perFile: WorkerFileResult[][] = paths.map(() => []);
  const certsSeen = new Set<string>();
  const certsPerFile = paths.map(() => 0);
  const progress = paths.map(() => new Array<number>(jobs).fill(0)); // handshakes per worker per file
  let certificateError: Error | undefined;

  const keepCertificates = (fileIndex: number, rows: Record<string, unknown>[]) => {
    for (const row of rows) {
      const key = `${fileIndex}|${row.sha256}|${row.server_addr}|${row.server_port}|${row.chain_position}`;
      if (certsSeen.has(key)) continue;
      certsSeen.add(key);
      try {
        sink.append("certificates", row as never);
        certsPerFile[fileIndex]!++;
      } catch (err) {
        certificateError ??= err as Error;
      }
    }
  };

  const workers: Worker[] = [];
  const finished = Array.from({ length: jobs }, (_, index) => {
    const input: WorkerInput = {
      paths,
      shard: { index, count: jobs },
      host: opts.host,
      hashKey: opts.hashKey,
      flow: opts.flow,
      lake: { root: par.lake.root, host: par.lake.host, agentStartMs: par.lake.agentStart.getTime(), flushIntervalMs: par.lake.flushIntervalMs },
    };
    const w = new Worker(WORKER_FILE, { workerData: input });
    workers.push(w);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      w.on("message", (m: WorkerMessage) => {
        switch (m.type) {
          case "certificates":
            keepCertificates(m.fileIndex, m.rows as Record<string, unknown>[]);
            break;
          case "progress": {
            progress[m.fileIndex]![index] = m.handshakes;
            // Every worker reads every byte; the first one's position stands for all.
            if (index === 0 && opts.onProgress) {
              const handshakes = progress[m.fileIndex]!.reduce((a, b) => a + b, 0);
              opts.onProgress({ file: paths[m.fileIndex]!, fileIndex: m.fileIndex, bytesRead: m.bytesRead, fileSize: m.fileSize, handshakes });
            }
            break;
          }
          case "file":
            perFile[m.fileIndex]![index] = m.result;
            break;
          case "done":
            done = true;
            break;
          case "fatal": {
            const e = new Error(m.message);
            if (m.stack) e.stack = m.stack;
            reject(e);
            break;
          }
        }
      });
      w.on("error", reject);
      w.on("exit", (code) => (done ? resolve() : reject(new Error(`ingest worker ${index} exited (${code}) before it finished`))));
    });
  });

  const abort = () => workers.forEach((w) => w.postMessage({ type: "abort" }));
  opts.signal?.addEventListener("abort", abort, { once: true });
  const settled = await Promise.allSettled(finished);
  opts.signal?.removeEventListener("abort", abort);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  // The other workers have published what they read (each closes its lake before it ends).
  if (failed) throw failed.reason;
  if (certificateError) throw certificateError;

  const files: FileResult[] = [];
  for (let i = 0; i < paths.length; i++) {
    const parts = perFile[i]!.filter(Boolean);
    if (parts.length === 0) continue; // not reached (interrupted before this file)
    // Interrupted before some worker reached this file: its shard of the file was not read.
    files.push(mergeResults(parts, certsPerFile[i]!, parts.length < jobs));
  }
  return {
    files,
    handshakes: files.reduce((a, f) => a + f.handshakes, 0),
    certificates: files.reduce((a, f) => a + f.certificates, 0),
    errors: files.filter((f) => f.error).length,
  };
}

/** One file's result from its shards: frames and decoding are every worker's (all read all), the rest adds up. */
function mergeResults(parts: WorkerFileResult[], certificates: number, shardMissing: boolean): FileResult {
  const first = parts[0]!;
  const byProto: Record<string, number> = {};
  const flows = { ...first.flows };
  for (const k of Object.keys(flows) as (keyof FlowTableStats)[]) flows[k] = 0;
  for (const p of parts) {
    for (const [proto, n] of Object.entries(p.byProto)) byProto[proto] = (byProto[proto] ?? 0) + n;
    for (const k of Object.keys(flows) as (keyof FlowTableStats)[]) flows[k] += p.flows[k];
  }
  const error = parts.find((p) => p.error)?.error;
  return {
    file: first.file,
    frames: first.frames,
    handshakes: parts.reduce((a, p) => a + p.handshakes, 0),
    byProto,
    certificates,
    decode: first.decode,
    flows,
    error: error === undefined ? undefined : new Error(error),
    aborted: shardMissing || parts.some((p) => p.aborted),
  };
}
