// Library probes for the agent: discovers crypto libraries in running and new processes, attaches
// libprobes.bpf.o once per library file, assembles per-handshake observations and writes library_events and
// certificates rows. Also the process tracker (processes table) fed by the shared exec/exit watcher.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { forEachRecord, type RingBufConsumer } from "../bpf/native.ts";
import { openVerifiedObject } from "../bpf/loader.ts";
import type { LakeWriter } from "../lake/writer.ts";
import type { Row } from "../lake/schema.ts";
import { forgetProcess, processInfo, watchProcesses } from "../enrich/index.ts";
import { LibraryAttacher } from "./attach.ts";
import { HandshakeAssembler, type LibraryHandshake } from "./assemble.ts";
import { classify, classifyPath, cryptoLibrariesOf, listPids, mappedFiles } from "./discovery.ts";
import { decodeLibRecord, LIB_KIND, monoNsToUtcMicros, REC_LIB, type ProcRecord } from "./records.ts";
import { certificateRows, libraryEventRows, libraryHandshakeRow } from "./rows.ts";
import { ElfError } from "./elf.ts";
import { CrauProbes } from "../crau/probes.ts";
import { crauRow } from "../crau/records.ts";
import { processContext } from "./rows.ts";

export type { LibraryHandshake } from "./assemble.ts";
export { HandshakeJoiner, joinLibraryToHandshake, matchLibraryHandshake } from "./join.ts";
export { certificateRows, libraryEventRows, libraryHandshakeRow } from "./rows.ts";

export interface LibraryProbeOptions {
  lake: LakeWriter;
  host: string;
  /** Only these processes (discovery and events); default: every process. */
  pids?: number[];
  onHandshake?: (ev: LibraryHandshake) => void;
  /** Also probe what the wire sees in clear (OpenSSL cipher NID, SSL_version uretprobe) and the server's signing
   * digest: ~2x the uprobe hits per handshake (default false; see bench/libprobes.ts). */
  extended?: boolean;
  /** Errors that do not stop the probes (a library that could not be attached ...). Default: stderr. */
  onError?: (msg: string) => void;
  /** crypto-auditing USDT probes in files that declare them (default: on if crau.bpf.o loads; true: required). */
  crau?: boolean;
  /** Also write a handshakes row (source "uprobe") per library handshake (default false: the wire's rows are
   * the handshakes, joinLibraryToHandshake completes them; turn on when no wire capture runs). */
  handshakeRows?: boolean;
  /** Every process is scanned again at this interval for libraries loaded later with dlopen (default 30000). */
  rescanIntervalMs?: number;
  /** How many finished handshakes recentHandshakes() keeps for joins (default 4096). */
  keepRecent?: number;
}

export interface LibraryProbes {
  stop(): Promise<void>;
  stats(): Record<string, number>;
  /** Finished handshakes, newest last, for joinLibraryToHandshake. */
  recentHandshakes(): readonly LibraryHandshake[];
  /** Library files probed now. */
  attachedFiles(): { path: string; kind: string; library: string; soname: string | null; version: string | null; pids: number[]; links: number }[];
  /** Re-scans a process now (the agent may call it when the wire sees a new pid). */
  scanPid(pid: number): void;
}

/** Crypto libraries the system's dynamic linker knows, attached up front so new processes are covered at once. */
function systemLibraries(): string[] {
  let out = "";
  try {
    out = execFileSync("ldconfig", ["-p"], { encoding: "utf8" });
  } catch {
    return [];
  }
  const paths = new Set<string>();
  for (const m of out.matchAll(/^\s*(libssl\.so\.3|libcrypto\.so\.3|libgnutls\.so\.30|libhogweed\.so\.\d+|libssl3\.so|libnss3\.so) \(([^)]*)\) => (\S+)$/gm)) {
    if (m[2].includes("x86-64") || m[2].includes("AArch64") || !m[2].includes(",")) paths.add(m[3]);
  }
  return [...paths];
}

export async function startLibraryProbes(opts: LibraryProbeOptions): Promise<LibraryProbes> {
  const onError = opts.onError ?? ((m: string) => process.stderr.write(`cryptoscope: ${m}\n`));
  const only = opts.pids ? new Set(opts.pids) : null;
  // attested: loaded only if the load policy allows these bytes (signed at set-up); the decision goes to agent_log
  const obj = openVerifiedObject("libprobes", { log: opts.lake, host: opts.host });
  const counters = { events: 0, batchUs: 0, doneUs: 0, crauRecords: 0, records: 0, handshakes: 0, certificates: 0, rows: 0, decodeErrors: 0, scans: 0 };
  const recent: LibraryHandshake[] = [];
  const keep = opts.keepRecent ?? 4096;
  let consumer: RingBufConsumer | undefined;
  let unwatch: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    obj.setRodata("wakeup_bytes", 256 * 1024, 8).load();
  } catch (e) {
    obj.close();
    throw new Error(`library probes: loading libprobes.bpf.o failed: ${(e as Error).message}`);
  }
  const attacher = new LibraryAttacher(obj, { extended: opts.extended ?? false, onError });
  let crau: CrauProbes | undefined;
  if (opts.crau ?? true) {
    try {
      crau = new CrauProbes({ log: opts.lake, host: opts.host }, (r) => {
        if (only && !only.has(r.pid)) return;
        counters.crauRecords++;
        try {
          opts.lake.append("library_events", crauRow(r, opts.host, processContext(r.pid, r.comm, r.cgroupId), crau!.pathByPid.get(r.pid) ?? null));
          counters.rows++;
          counters.events++;
        } catch (e) {
          onError(`crypto-auditing row not written: ${(e as Error).message}`);
        }
      }, onError);
    } catch (e) {
      if (opts.crau === true) {
        obj.close();
        throw e;
      }
      onError(`${(e as Error).message}; crypto-auditing probes disabled`); // the library probes still run
    }
  }

  const assembler = new HandshakeAssembler((idx) => {
    const a = attacher.at(idx);
    if (!a) return undefined;
    const engine = { openssl: 1, gnutls: 2, go: 3, nss: 4 }[a.file.library];
    return { engine, path: a.file.path };
  }, (h) => {
    const t0 = process.hrtime.bigint();
    try {
      finished(h);
    } finally {
      counters.doneUs += Number(process.hrtime.bigint() - t0) / 1000;
    }
  }, { paddingProbed: opts.extended ?? false });
  const finished = (h: LibraryHandshake) => {
    counters.handshakes++;
    counters.certificates += h.certificates.length;
    try {
      for (const r of libraryEventRows(h, opts.host)) { opts.lake.append("library_events", r); counters.rows++; counters.events++; }
      for (const r of certificateRows(h, opts.host)) { opts.lake.append("certificates", r); counters.rows++; }
      if (opts.handshakeRows) { opts.lake.append("handshakes", libraryHandshakeRow(h, opts.host)); counters.rows++; }
    } catch (e) {
      onError(`library probes: rows for pid ${h.pid} not written: ${(e as Error).message}`);
    }
    recent.push(h);
    if (recent.length > keep) recent.splice(0, recent.length - keep);
    opts.onHandshake?.(h);
  };

  const scanPid = (pid: number, explicit = false) => {
    if (only && !only.has(pid)) {
      if (!explicit) return;
      only.add(pid); // asked for by the caller: watch it from now on
    }
    counters.scans++;
    processInfo(pid); // cached now: records may be decoded after the process is gone
    for (const f of mappedFiles(pid)) {
      const lf = classify(pid, f);
      if (lf) attacher.ensure(lf, pid);
      crau?.consider(pid, f); // GnuTLS 3.8.11+ built with crypto-auditing declares them in libgnutls itself
    }
  };

  const cleanup = () => {
    for (const t of timers) clearInterval(t);
    unwatch?.();
    consumer?.stop();
    crau?.stop();
    obj.close();
  };
  try {
    // up front: the system's libraries (their probes cover every process that maps them, now or later; with
    // `pids` the records of other processes are dropped), then every running process
    {
      for (const p of systemLibraries()) {
        try {
          const lf = classifyPath(p);
          if (lf) attacher.ensure(lf, 0, true);
        } catch (e) {
          if (!(e instanceof ElfError)) throw e;
          onError(`library probes: ${(e as Error).message}`);
        }
      }
    }
    for (const pid of only ? [...only] : listPids()) scanPid(pid);

    consumer = obj.consumeRingBuffers(["lib_events"], (batch) => {
      const t0 = process.hrtime.bigint();
      forEachRecord(batch, (rec) => {
        if (rec.readUInt32LE(0) !== REC_LIB) return;
        counters.records++;
        try {
          const r = decodeLibRecord(rec);
          if (only && !only.has(r.pid)) return;
          assembler.add(r);
        } catch {
          counters.decodeErrors++;
        }
      });
      counters.batchUs += Number(process.hrtime.bigint() - t0) / 1000;
    }, { timeoutMs: 50 });

    // new processes: look at the executable at once, at the libraries once the dynamic loader has run
    unwatch = watchProcesses({ log: opts.lake, host: opts.host }, (ev: ProcRecord) => {
      if (ev.type === "exec") {
        if (only && !only.has(ev.pid)) return;
        scanPid(ev.pid); // the watcher already refreshed the process cache for this exec
        // the executable is mapped at exec (static OpenSSL, Go); libraries outside the system's (pinned) ones
        // show up once the dynamic loader ran, or later with dlopen
        for (const delay of [50, 1000]) {
          const t = setTimeout(() => { if (existsSync(`/proc/${ev.pid}`)) scanPid(ev.pid); }, delay);
          t.unref();
        }
      } else {
        attacher.processGone(ev.pid);
        setTimeout(() => forgetProcess(ev.pid), 2000).unref(); // after the records still in flight
      }
    });

    const tick = setInterval(() => assembler.tick(process.hrtime.bigint()), 100);
    const prune = setInterval(() => attacher.prune((pid) => existsSync(`/proc/${pid}`)), 10_000);
    const rescan = setInterval(() => { for (const pid of only ? [...only] : listPids()) scanPid(pid); }, opts.rescanIntervalMs ?? 30_000);
    for (const t of [tick, prune, rescan]) t.unref();
    timers.push(tick, prune, rescan);
  } catch (e) {
    cleanup(); // nothing stays attached when the start fails half-way
    throw e;
  }

  return {
    async stop() {
      for (const t of timers) clearInterval(t);
      unwatch?.();
      unwatch = undefined;
      consumer?.stop();
      await new Promise((r) => setTimeout(r, 10)); // batches already queued by the poll thread are delivered
      assembler.flushAll();
      cleanup();
    },
    stats() {
      const hits: Record<string, number> = {};
      const names = Object.entries(LIB_KIND);
      for (const [n, k] of names) {
        hits[`hits_${n}`] = Number(obj.percpuSum("hits", k));
      }
      hits.filtered_cert = Number(obj.percpuSum("hits", LIB_KIND.cert + 16));
      return {
        ...counters, ...hits,
        attached_files: attacher.files().length,
        uprobe_links: attacher.linkCount(),
        attach_errors: attacher.attachErrors,
        kernel_drops: Number(obj.kernelDrops()),
        ringbuf_dropped: consumer?.stats().droppedRecords ?? 0,
        marker_only: assembler.markerOnly,
        ...(crau?.stats() ?? {}),
      };
    },
    recentHandshakes: () => recent,
    attachedFiles: () => attacher.files().map((a) => ({ path: a.file.path, kind: a.file.kind, library: a.file.library, soname: a.file.soname,
      version: a.file.version, pids: [...a.pids], links: a.links.length })),
    scanPid: (pid: number) => scanPid(pid, true),
  };
}

/** processes table: a "scan" row per running process at start, "exec" and "exit" rows after. */
export async function startProcessTracker(opts: { lake: LakeWriter; host: string; execDelayMs?: number }): Promise<{ stop(): Promise<void> }> {
  const pending = new Set<NodeJS.Timeout>();
  const delay = opts.execDelayMs ?? 100;
  const row = (event: string, pid: number, ts: bigint, extra: Row = {}): Row | null => {
    const p = processInfo(pid);
    if (!p) return null;
    return {
      ts, host: opts.host, event, pid, ppid: p.ppid, uid: p.uid, comm: p.comm, exe: p.exe, cmdline: p.cmdline, cgroup: p.cgroup,
      cgroup_id: p.cgroup_id, container_id: p.container_id, container_runtime: p.container_runtime, pod: p.pod,
      libraries: cryptoLibrariesOf(pid), ...extra,
    };
  };
  const append = (r: Row | null) => { if (r) opts.lake.append("processes", r); };

  const now = BigInt(Date.now()) * 1000n;
  for (const pid of listPids()) append(row("scan", pid, now));

  const unwatch = watchProcesses({ log: opts.lake, host: opts.host }, (ev) => {
    const ts = monoNsToUtcMicros(ev.tsNs);
    if (ev.type === "exec") {
      const fallback: Row = {
        ts, host: opts.host, event: "exec", pid: ev.pid, ppid: ev.ppid, uid: ev.uid, comm: ev.comm, exe: ev.filename, cgroup_id: ev.cgroupId,
      };
      // read /proc a little later: the dynamic loader has then mapped the libraries
      const first = processInfo(ev.pid); // read by the watcher at this exec (or what the exec said, if gone)
      const t = setTimeout(() => {
        pending.delete(t);
        const r = row("exec", ev.pid, ts);
        if (r) append(r);
        else if (first) {
          // gone already: what /proc said at exec time
          append({ ...fallback, exe: first.exe ?? ev.filename, cmdline: first.cmdline, cgroup: first.cgroup, cgroup_id: first.cgroup_id,
            container_id: first.container_id, container_runtime: first.container_runtime, pod: first.pod, libraries: [] });
        } else append({ ...fallback, libraries: [] });
      }, delay);
      pending.add(t);
    } else {
      const p = processInfo(ev.pid);
      append({
        ts, host: opts.host, event: "exit", pid: ev.pid, ppid: p?.ppid ?? ev.ppid, uid: p?.uid ?? ev.uid, comm: p?.comm ?? ev.comm,
        exe: p?.exe ?? null, cmdline: p?.cmdline ?? null, cgroup: p?.cgroup ?? null, cgroup_id: p?.cgroup_id ?? ev.cgroupId,
        container_id: p?.container_id ?? null, container_runtime: p?.container_runtime ?? null, pod: p?.pod ?? null,
        exit_code: ev.exitCode, libraries: null,
      });
      setTimeout(() => forgetProcess(ev.pid), delay * 2).unref();
    }
  });
  return {
    async stop() {
      unwatch();
      for (const t of pending) clearTimeout(t);
      pending.clear();
    },
  };
}
