// The capture agent: one lake, the wire capture, the library probes and the process tracker, live
// counts on stderr, and on SIGINT/SIGTERM or after --duration a clean stop that flushes every table.
import { hostname } from "node:os";
import { loadHashKey, hashIdentifier } from "./ingest.ts";
import { openLake, type LakeWriter } from "./lake/writer.ts";
import type { Row, TableName } from "./lake/schema.ts";
import { HandshakeJoiner, startLibraryProbes, startProcessTracker } from "./libprobes/index.ts";
import { WireCapture } from "./wire/capture.ts";

export interface AgentOptions {
  lake: string;
  host?: string;
  durationS?: number;
  cgroup?: string | null;
  /** cgroup v2 directories whose sockets the wire capture leaves alone (WireCapture excludeCgroups) */
  excludeCgroups?: string[];
  ifaces?: string[];
  ports?: number[];
  hashIdentifiers?: boolean;
  hashKeyFile?: string;
  libraryProbes?: boolean;
  flushIntervalMs?: number;
  /** live counts on stderr (default: when stderr is a TTY, else one line every 10 s) */
  progress?: "tty" | "lines" | "none";
  /** resolves when the agent should stop (besides signals and duration) */
  until?: Promise<unknown>;
  /** called once every hook is attached */
  onReady?: () => void;
}

export interface AgentSummary {
  handshakes: number;
  libraryEvents: number;
  kernelDrops: number;
  userDrops: number;
  lakeDrops: number;
  files: number;
  seconds: number;
}

interface Stoppable { stop(): Promise<unknown>; stats?(): Record<string, number> }

function logRow(host: string, event: string, message: string, extra: Row = {}): Row {
  return { ts: new Date(), host, level: "info", event, message, ...extra };
}

export async function runAgent(opts: AgentOptions): Promise<AgentSummary> {
  const host = opts.host ?? hostname();
  const lake: LakeWriter = await openLake({ root: opts.lake, host, flushIntervalMs: opts.flushIntervalMs });
  const t0 = Date.now();
  let ident: ((v: string) => string) | undefined;
  if (opts.hashIdentifiers) {
    const key = await loadHashKey(lake.root, opts.hashKeyFile);
    ident = (v) => hashIdentifier(key, v);
  }
  lake.append("agent_log", logRow(host, "start", `capture started (cgroup ${opts.cgroup ?? "root"}, ifaces ${opts.ifaces?.join(",") || "none"}, ports ${opts.ports?.join(",") || "all"})`));
  const parts: Stoppable[] = [];
  let wire: WireCapture | undefined;
  // Wire handshake rows wait a moment for the library probes' view of the same connection (pid, role,
  // time): TLS 1.3 hides the certificate and signature from the wire, the library sees them.
  let joiner: HandshakeJoiner | undefined;
  const wireSink = {
    append(table: TableName, row: Row): void {
      if (table === "handshakes" && joiner) joiner.offer(row);
      else lake.append(table, row);
    },
  };
  try {
    wire = new WireCapture({ sink: wireSink, host, cgroup: opts.cgroup, excludeCgroups: opts.excludeCgroups, ifaces: opts.ifaces, ports: opts.ports, ident });
    if (opts.libraryProbes !== false) {
      parts.push(await startProcessTracker({ lake, host }));
      const probes = await startLibraryProbes({ lake, host });
      parts.push(probes);
      joiner = new HandshakeJoiner(() => probes.recentHandshakes(), (row) => lake.append("handshakes", row), 1000);
    }
  } catch (e) {
    for (const p of parts) await p.stop().catch(() => {});
    await wire?.stop().catch(() => {});
    lake.append("agent_log", { ...logRow(host, "error", (e as Error).message), level: "error" });
    await lake.close();
    throw e;
  }

  opts.onReady?.();
  const mode = opts.progress ?? (process.stderr.isTTY ? "tty" : "lines");
  const show = () => {
    const w = wire!.refreshStats();
    const l = lake.stats();
    const line = `handshakes ${w.handshakes}  records ${w.records}  drops ${w.kernelDrops + w.userDrops + Object.values(l.dropped).reduce((a, b) => a + b, 0)}  files ${l.files}  ${((Date.now() - t0) / 1000).toFixed(0)} s`;
    if (mode === "tty") process.stderr.write(`\r\x1b[K${line}`);
    else if (mode === "lines") process.stderr.write(`cryptoscope capture: ${line}\n`);
  };
  const timer = mode === "none" ? undefined : setInterval(show, mode === "tty" ? 1000 : 10_000);

  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    if (opts.durationS) setTimeout(done, opts.durationS * 1000);
    opts.until?.then(done, done);
  });
  if (timer) clearInterval(timer);
  if (mode === "tty") process.stderr.write("\n");

  const w = await wire.stop();
  joiner?.flush();
  let libraryEvents = 0;
  for (const p of parts) {
    libraryEvents += p.stats?.().events ?? 0; // before stop: the counters live in BPF maps
    await p.stop();
  }
  const l = lake.stats();
  const lakeDrops = Object.values(l.dropped).reduce((a, b) => a + b, 0);
  lake.append("agent_log", logRow(host, "drops", `kernel ${w.kernelDrops}, consumer ${w.userDrops}`, { count: BigInt(w.kernelDrops + w.userDrops) }));
  lake.append("agent_log", logRow(host, "stop", `capture stopped: ${w.handshakes} handshakes`, { count: BigInt(w.handshakes) }));
  await lake.close();
  return {
    handshakes: w.handshakes, libraryEvents, kernelDrops: w.kernelDrops, userDrops: w.userDrops, lakeDrops,
    files: lake.stats().files, seconds: (Date.now() - t0) / 1000,
  };
}
