// Process facts from /proc, cached per pid until the process execs again or exits (forgetProcess).
import { readFileSync, readlinkSync, statSync } from "node:fs";
import { cgroup2Root } from "../bpf/kernelfs.ts";
import { cgroupPathById } from "./cgroup-ids.ts";
import { containerFromCgroup } from "./container.ts";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  comm: string;
  exe: string | null;
  cmdline: string[];
  cgroup: string | null;
  cgroup_id: bigint | null; // inode of the cgroup v2 directory = bpf_get_current_cgroup_id()
  container_id: string | null;
  container_runtime: string | null;
  pod: string | null;
  start_time: number;       // clock ticks after boot (field 22 of stat): tells a reused pid apart
}

const cache = new Map<number, ProcessInfo>();
const MAX_CACHE = 65536;
let cgRoot: string | null | undefined;

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** Reads a process from /proc; null if it is gone (or was never there). */
export function readProcess(pid: number): ProcessInfo | null {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // comm is in parentheses and may itself contain ") "
  const close = stat.lastIndexOf(")");
  const comm = stat.slice(stat.indexOf("(") + 1, close);
  const f = stat.slice(close + 2).split(" ");
  const ppid = Number(f[1]), startTime = Number(f[19]);
  const status = read(`/proc/${pid}/status`) ?? "";
  const uid = Number(status.match(/^Uid:\s+(\d+)/m)?.[1] ?? -1);
  let exe: string | null = null;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
  } catch { /* kernel thread or no permission */ }
  const cmd = read(`/proc/${pid}/cmdline`) ?? "";
  const cmdline = cmd.length ? cmd.replace(/\0$/, "").split("\0") : [];
  const cg = (read(`/proc/${pid}/cgroup`) ?? "").split("\n").find((l) => l.startsWith("0::"));
  const cgroup = cg ? cg.slice(3) : null;
  let cgroupId: bigint | null = null;
  if (cgroup !== null) {
    if (cgRoot === undefined) {
      try { cgRoot = cgroup2Root(); } catch { cgRoot = null; }
    }
    if (cgRoot) {
      try { cgroupId = statSync(cgRoot + (cgroup === "/" ? "" : cgroup), { bigint: true }).ino; } catch { /* raced with removal */ }
    }
  }
  return { pid, ppid, uid, comm, exe, cmdline, cgroup, cgroup_id: cgroupId, ...containerFromCgroup(cgroup ?? ""), start_time: startTime };
}

/** Cached process info; reads /proc on a miss. */
export function processInfo(pid: number): ProcessInfo | null {
  const hit = cache.get(pid);
  if (hit) return hit;
  const info = readProcess(pid);
  if (info) {
    if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value!);
    cache.set(pid, info);
  }
  return info;
}

/** What an exec event told about a process already gone from /proc (short-lived clients): better than nothing. */
export function rememberExec(ev: { pid: number; ppid: number; uid: number; comm: string; filename: string; cgroupId: bigint }): ProcessInfo {
  const read = processInfo(ev.pid);
  // a zombie still has /proc/PID/cgroup but no exe link: the exec event names the program
  if (read && !read.exe && ev.filename) cache.set(ev.pid, { ...read, exe: ev.filename });
  const info = (read && cache.get(ev.pid)) ?? (() => {
    // gone already: the cgroup id from the exec event still names its container and pod
    const cgroup = cgroupPathById(ev.cgroupId);
    return {
      pid: ev.pid, ppid: ev.ppid, uid: ev.uid, comm: ev.comm, exe: ev.filename || null, cmdline: [], cgroup, cgroup_id: ev.cgroupId,
      ...containerFromCgroup(cgroup ?? ""), start_time: 0,
    };
  })();
  if (!cache.has(ev.pid)) cache.set(ev.pid, info);
  return info;
}

export function forgetProcess(pid: number): void {
  cache.delete(pid);
}

/** For tests and the agent's stats. */
export function cachedProcessCount(): number {
  return cache.size;
}
