// One shared exec/exit watcher (proc.bpf.o on sched_process_exec / sched_process_exit) for everything in
// the agent that needs to know about new and ended processes: the process tracker, the library probes and the
// wire capture. Each exec refreshes the shared process cache (processInfo) before the listeners run.
// Reference-counted: the BPF object is loaded on the first subscription and closed after the last.
import { forEachRecord, type BpfObject } from "../bpf/native.ts";
import { openVerifiedObject, type AgentLog } from "../bpf/loader.ts";
import { decodeProcRecord, type ProcRecord } from "../libprobes/records.ts";
import { forgetProcess, rememberExec } from "./process.ts";

export type ProcListener = (ev: ProcRecord) => void;

let obj: BpfObject | null = null;
const listeners = new Set<ProcListener>();
let delivered = 0;

function start(load: { log?: AgentLog; host?: string }): void {
  const o = openVerifiedObject("proc", load); // attested like every object the agent loads
  try {
    o.setRodata("wakeup_bytes", 0n, 8).load();
    o.attachTracepoint("on_exec", "sched", "sched_process_exec");
    o.attachTracepoint("on_exit", "sched", "sched_process_exit");
    o.consumeRingBuffers(["proc_events"], (batch) => forEachRecord(batch, (r) => {
      const ev = decodeProcRecord(r);
      delivered++;
      if (ev.type === "exec") {
        // once for every listener: a new image (new exe, cmdline), read while it surely exists, or what the
        // exec event said if it is already gone
        forgetProcess(ev.pid);
        rememberExec(ev);
      }
      for (const l of listeners) {
        try { l(ev); } catch (e) { process.stderr.write(`process watcher listener: ${(e as Error).message}\n`); }
      }
    }), { timeoutMs: 20 });
  } catch (e) {
    o.close();
    throw new Error(`process tracking (sched_process_exec/exit tracepoints) could not start: ${(e as Error).message}`);
  }
  obj = o;
}

/** Subscribes to exec/exit events; returns the unsubscribe function. Throws if the tracepoints cannot attach.
 * `load` (agent_log sink, host), if given, is used by the subscription that loads the object. */
export function watchProcesses(l: ProcListener): () => void;
export function watchProcesses(load: { log?: AgentLog; host?: string }, l: ProcListener): () => void;
export function watchProcesses(a: ProcListener | { log?: AgentLog; host?: string }, b?: ProcListener): () => void {
  const [load, l] = typeof a === "function" ? [{}, a] : [a, b!];
  if (!obj) start(load);
  listeners.add(l);
  return () => {
    listeners.delete(l);
    if (listeners.size === 0 && obj) {
      obj.close();
      obj = null;
    }
  };
}

export function processWatcherStats(): { delivered: number; kernelDrops: bigint } {
  return { delivered, kernelDrops: obj?.kernelDrops() ?? 0n };
}
