// One worker of a parallel ingest (ingest-parallel.ts): reads every file, keeps the connections of its
// shard, writes their handshakes through a lake writer of its own, and hands certificates to the main
// thread, which keeps one per server endpoint over all shards.
import { parentPort, workerData } from "node:worker_threads";
import { ingestFile, type FileResult, type RowSink } from "./ingest.ts";
import type { FlowTableOptions } from "./flow/table.ts";
import { openLake } from "./lake/writer.ts";
import type { Row, TableName } from "./lake/schema.ts";

export interface WorkerInput {
  paths: string[];
  shard: { index: number; count: number };
  host: string;
  hashKey?: Uint8Array;
  flow?: FlowTableOptions;
  lake: { root: string; host: string; agentStartMs: number; flushIntervalMs?: number };
}

export type WorkerMessage =
  | { type: "certificates"; fileIndex: number; rows: Row[] }
  | { type: "progress"; fileIndex: number; bytesRead: number; fileSize: number; handshakes: number }
  | { type: "file"; fileIndex: number; result: Omit<FileResult, "error"> & { error?: string } }
  | { type: "done" }
  | { type: "fatal"; message: string; stack?: string };

const input = workerData as WorkerInput;
const port = parentPort!;
const post = (m: WorkerMessage) => port.postMessage(m);
const stop = new AbortController();
port.on("message", (m: { type: string }) => {
  if (m.type === "abort") stop.abort();
});
port.unref(); // listening for "abort" must not keep the worker alive once its work is done

async function main(): Promise<void> {
  const lake = await openLake({
    root: input.lake.root,
    host: input.lake.host,
    agentStart: new Date(input.lake.agentStartMs),
    flushIntervalMs: input.lake.flushIntervalMs,
  });
  let fileIndex = 0;
  let certs: Row[] = [];
  const sendCertificates = () => {
    if (certs.length === 0) return;
    post({ type: "certificates", fileIndex, rows: certs });
    certs = [];
  };
  const sink: RowSink = {
    append(table: TableName, row: Row) {
      if (table === "certificates") certs.push(row);
      else lake.append(table, row);
    },
    flush: () => lake.flush(),
    drain: () => lake.drain(),
  };
  try {
    for (; fileIndex < input.paths.length && !stop.signal.aborted; fileIndex++) {
      const r = await ingestFile(
        input.paths[fileIndex]!,
        sink,
        {
          host: input.host,
          hashKey: input.hashKey,
          flow: input.flow,
          signal: stop.signal,
          shard: input.shard,
          onProgress: (p) => {
            sendCertificates();
            post({ type: "progress", fileIndex: p.fileIndex, bytesRead: p.bytesRead, fileSize: p.fileSize, handshakes: p.handshakes });
          },
        },
        fileIndex,
      );
      sendCertificates();
      post({ type: "file", fileIndex, result: { ...r, error: r.error?.message } });
    }
  } finally {
    await lake.close(); // this worker's rows are published before the main thread hears "done"
  }
  post({ type: "done" });
}

main().catch((err: Error) => post({ type: "fatal", message: err.message, stack: err.stack }));
