// `cryptoscope ingest FILE...`: read pcap/pcapng captures into the lake with the same parsers the
// live agent uses.
import type { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { stat } from "node:fs/promises";
import { availableParallelism, hostname } from "node:os";
import { resolve } from "node:path";
import type { IngestOptions, IngestSummary } from "../ingest.ts";

interface IngestCliOptions {
  lake: string;
  host: string;
  hashIdentifiers?: boolean;
  hashKey?: string;
  jobs: string;
}

// Below this much capture data, starting workers costs more than it saves: each worker pays its own
// start-up and JIT warm-up (~1 CPU-s); measured on 2 cores, 135 MB: no gain; 674 MB: 12% less wall time.
const PARALLEL_MIN_BYTES = 256 * 1024 * 1024;

/** --jobs: a number, or "auto" (one per core up to 4 on 3 cores or more, for captures of 256 MiB and more; else 1). */
export function jobsFor(option: string, totalBytes: number, cores: number): number {
  // Two cores: one worker (measured: --jobs 2 saves 5-12% wall on 674 MB for 37-57% more CPU).
  if (option === "auto") return totalBytes >= PARALLEL_MIN_BYTES && cores > 2 ? Math.min(cores, 4) : 1;
  const n = Number(option);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`--jobs ${option}: expected "auto" or a whole number from 1 to 64`);
  return n;
}

export function summaryLine(s: IngestSummary, seconds: number, lakeRoot: string): string {
  const byProto: Record<string, number> = {};
  for (const f of s.files) for (const [p, n] of Object.entries(f.byProto)) byProto[p] = (byProto[p] ?? 0) + n;
  const protos = Object.entries(byProto)
    .sort()
    .map(([p, n]) => `${p} ${n}`)
    .join(", ");
  const frames = s.files.reduce((a, f) => a + f.frames, 0);
  return (
    `ingested ${s.files.length} file${s.files.length === 1 ? "" : "s"} (${frames} packets): ` +
    `${s.handshakes} handshakes${protos ? ` (${protos})` : ""}, ${s.certificates} certificates` +
    `${s.errors ? `, ${s.errors} file${s.errors === 1 ? "" : "s"} with errors` : ""} in ${seconds.toFixed(1)} s → ${lakeRoot}`
  );
}

export function register(program: Command): void {
  program
    .command("ingest")
    .description("read pcap/pcapng capture files (also .gz) into the lake: one handshakes row per TLS/SSH/QUIC handshake")
    .argument("<file...>", "capture files")
    .option("--lake <dir>", "lake root", "data/lake")
    .option("--host <name>", "value of the host column", hostname())
    .option("--hash-identifiers", "store keyed hashes (HMAC-SHA256) of SNI and addresses instead of clear text")
    .option("--hash-key <file>", "key for --hash-identifiers (default: one generated and kept in the lake root)")
    .option("--jobs <n>", "worker threads, each parsing a share of the connections (auto: one per core up to 4 on machines with 3 or more, from 256 MiB of captures)", "auto")
    .action(async (files: string[], o: IngestCliOptions) => {
      const started = Date.now();
      const [{ ingestFiles, loadHashKey }, { installSignalFlush, openLake }, { SingleBar }] = await Promise.all([
        import("../ingest.ts"), import("../lake/writer.ts"), import("cli-progress")]);
      const lakeRoot = resolve(o.lake);
      const hashKey = o.hashIdentifiers || o.hashKey ? await loadHashKey(lakeRoot, o.hashKey) : undefined;
      const stats = await Promise.all(files.map((f) => stat(f).catch(() => undefined)));
      const sizes = stats.map((s) => s?.size ?? 0);
      let jobs = jobsFor(o.jobs, sizes.reduce((a, b) => a + b, 0), availableParallelism());
      // Every worker reads every file in full: a pipe or FIFO can be read once only.
      if (jobs > 1 && stats.some((s) => s && !s.isFile())) {
        if (o.jobs !== "auto") process.stderr.write(`cryptoscope: --jobs ${o.jobs}: a pipe is among the inputs, reading with one worker\n`);
        jobs = 1;
      }
      const agentStart = new Date();
      const lake = await openLake({ root: lakeRoot, host: o.host, agentStart });
      // SIGINT/SIGTERM: stop reading, finish the connections already seen, write them, then exit.
      // A second signal exits at once (after the lake's own flush).
      const stop = new AbortController();
      let uninstall = () => {};
      const onSignal = (sig: NodeJS.Signals) => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        uninstall = installSignalFlush(lake);
        process.exitCode = sig === "SIGINT" ? 130 : 143;
        stop.abort();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);

      let bar: SingleBar | undefined;
      if (process.stderr.isTTY) {
        bar = new SingleBar(
          {
            stream: process.stderr,
            format: "ingest [{bar}] {percentage}% | {file} | {handshakes} handshakes",
            hideCursor: true,
            clearOnComplete: true,
          },
        );
        bar.start(Math.max(1, sizes.reduce((a, b) => a + b, 0)), 0, { file: "", handshakes: 0 });
      }
      let doneBefore = 0;
      let lastIndex = 0;
      let handshakesBefore = 0;
      let lastHandshakes = 0;
      let summary: IngestSummary;
      try {
        const ingestOpts: IngestOptions = {
          host: o.host,
          hashKey,
          signal: stop.signal,
          onProgress: (p) => {
            if (!bar) return;
            if (p.fileIndex !== lastIndex) {
              for (let i = lastIndex; i < p.fileIndex; i++) doneBefore += sizes[i] ?? 0;
              handshakesBefore += lastHandshakes;
              lastIndex = p.fileIndex;
            }
            lastHandshakes = p.handshakes;
            bar.update(doneBefore + p.bytesRead, {
              file: p.file.split("/").pop(),
              handshakes: handshakesBefore + p.handshakes,
            });
          },
        };
        summary = jobs > 1
          ? await (await import("../ingest-parallel.ts")).ingestFilesParallel(files, lake, ingestOpts, { jobs, lake: { root: lakeRoot, host: o.host, agentStart } })
          : await ingestFiles(files, lake, ingestOpts);
      } finally {
        bar?.stop();
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await lake.close();
        uninstall();
      }
      for (const f of summary.files) if (f.error) process.stderr.write(`cryptoscope: ${f.error.message}\n`);
      const interrupted = stop.signal.aborted ? ` (interrupted: ${files.length - summary.files.filter((f) => !f.aborted).length} file(s) not read to the end)` : "";
      process.stdout.write(summaryLine(summary, (Date.now() - started) / 1000, lakeRoot) + interrupted + "\n");
      if (summary.errors > 0 && !stop.signal.aborted) process.exitCode = 1;
      // An interrupted read of a pipe may leave a read pending that would keep the process alive.
      if (stop.signal.aborted) process.exit(process.exitCode);
    });
}
