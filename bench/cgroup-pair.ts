// Two sibling cgroups for running the same workload twice side by side (bench/wire's part "ab"): each
// side's CPU is its cgroup v2 cpu.stat usage_usec (the scheduler's exact run time of its tasks, which
// includes softirq work run in their context when the kernel does not account IRQ time apart), and the
// two get equal CPU shares from a cpu controller: the v2 one when the hierarchy offers it (cpu.weight),
// else the v1 cpu hierarchy of a hybrid set-up (cpu.shares), else none (then per-task fairness, which is
// even only because both sides run the same processes).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cgroup2Root } from "../capture/bpf/kernelfs.ts";

export interface CgroupSide {
  name: "A" | "B";
  /** the cgroup v2 directory (what a cgroup_skb program attaches to) */
  dir: string;
  /** its cgroup id (the directory's inode number), as BPF records carry it */
  id: bigint;
  /** the v1 cpu cgroup holding the same processes, on a hybrid set-up */
  v1Dir?: string;
  /** CPU its processes have used so far, µs */
  usageUs(): number;
  pids(): number[];
  /** argv that runs cmd inside this side's cgroups (the shell joins them, then execs cmd), on one CPU if given */
  wrap(cmd: string, args: string[], cpu?: number): [string, string[]];
}

export interface CgroupPair {
  a: CgroupSide;
  b: CgroupSide;
  /** how the two get equal CPU shares */
  cpuControl: string;
  /** kills every process left in the two cgroups and removes them (synchronous: runs in an exit handler) */
  remove(): void;
}

const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const v1CpuRoot = () => readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" "))
  .find((f) => f[2] === "cgroup" && f[3]?.split(",").includes("cpu"))?.[1];

/** Processes in a cgroup directory (v1 or v2), [] when it is gone. */
function procsOf(dir: string): number[] {
  try { return readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number); } catch { return []; }
}

/** Kills what is left in dir's leaves and removes them and dir; true when dir is gone. */
function removeTree(dir: string): boolean {
  if (!existsSync(dir)) return true;
  const leaves = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(dir, d.name));
  for (const d of [...leaves, dir]) {
    for (const p of procsOf(d)) { try { process.kill(p, "SIGKILL"); } catch {} }
  }
  for (const d of [...leaves, dir]) {
    // a killed task leaves its cgroup only once it has fully exited: wait a little for that
    for (let i = 0; i < 100 && existsSync(d); i++) {
      try { rmdirSync(d); } catch { sleepMs(20); }
    }
  }
  return !existsSync(dir);
}

/** Leftovers of an interrupted run of this bench: <tag>-<pid> directories whose process is gone. */
function removeStale(parent: string, tag: string): void {
  for (const name of readdirSync(parent)) {
    const m = name.match(new RegExp(`^${tag}-(\\d+)$`));
    if (!m) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch {}
    removeTree(join(parent, name));
  }
}

/** Creates <root>/<tag>-<pid>/{a,b} (and the same under the v1 cpu hierarchy when the v2 one has no cpu). */
export function createCgroupPair(tag: string): CgroupPair {
  const root = cgroup2Root();
  removeStale(root, tag);
  const parent = join(root, `${tag}-${process.pid}`);
  mkdirSync(parent);
  let cpuControl = "none: per-task fairness (no cpu controller in either hierarchy)";
  let v1Parent: string | undefined;
  if (readFileSync(join(root, "cgroup.controllers"), "utf8").split(/\s+/).includes("cpu")) {
    // the parent of a v2 cgroup that enables a controller for its children must itself enable it too
    try {
      writeFileSync(join(parent, "cgroup.subtree_control"), "+cpu");
      cpuControl = "cgroup v2 cpu controller, cpu.weight 100 each";
    } catch (e) {
      cpuControl = `none: enabling the v2 cpu controller failed (${(e as Error).message.split("\n")[0]}); per-task fairness`;
    }
  } else {
    const v1 = v1CpuRoot();
    if (v1) {
      removeStale(v1, tag);
      v1Parent = join(v1, `${tag}-${process.pid}`);
      mkdirSync(v1Parent);
      cpuControl = `cgroup v1 cpu hierarchy (${v1}; the v2 one at ${root} has no cpu controller), cpu.shares 1024 each`;
    }
  }
  const side = (name: "A" | "B"): CgroupSide => {
    const dir = join(parent, name.toLowerCase());
    mkdirSync(dir);
    let v1Dir: string | undefined;
    if (v1Parent) {
      v1Dir = join(v1Parent, name.toLowerCase());
      mkdirSync(v1Dir);
      writeFileSync(join(v1Dir, "cpu.shares"), "1024");
    } else if (cpuControl.startsWith("cgroup v2")) {
      writeFileSync(join(dir, "cpu.weight"), "100");
    }
    const join$ = `echo $$ >${dir}/cgroup.procs` + (v1Dir ? ` && echo $$ >${v1Dir}/cgroup.procs` : "");
    return {
      name, dir, v1Dir,
      id: BigInt(statSync(dir).ino),
      usageUs: () => Number(readFileSync(join(dir, "cpu.stat"), "utf8").match(/usage_usec (\d+)/)![1]),
      pids: () => procsOf(dir),
      wrap: (cmd, args, cpu) => ["sh", ["-c", `${join$} && exec ${cpu === undefined ? "" : `taskset -c ${cpu} `}"$@"`, "sh", cmd, ...args]],
    };
  };
  const pair: CgroupPair = {
    a: side("A"), b: side("B"), cpuControl,
    remove() {
      const gone = removeTree(parent) && (!v1Parent || removeTree(v1Parent));
      if (!gone) console.error(`bench: could not remove ${parent}${v1Parent ? ` / ${v1Parent}` : ""} (processes left in it?)`);
    },
  };
  return pair;
}

/** The cgroups (v2, and the v1 cpu one) of every thread of this process, as "v2:/path" / "cpu:/path". */
export function cgroupsOfSelf(): string[] {
  const out = new Set<string>();
  for (const t of readdirSync("/proc/self/task")) {
    try {
      for (const l of readFileSync(`/proc/self/task/${t}/cgroup`, "utf8").split("\n")) {
        const [, ctl, path] = l.split(":");
        if (ctl === "" || ctl?.split(",").includes("cpu")) out.add(`${ctl || "v2"}:${path}`);
      }
    } catch {}
  }
  return [...out];
}

/** True when a thread of this process sits in (or below) one of the pair's cgroups. */
export function selfInside(pair: CgroupPair): boolean {
  const v1 = v1CpuRoot();
  const mine = [pair.a, pair.b].flatMap((s) => [`v2:${s.dir.slice(cgroup2Root().length)}`, ...(s.v1Dir && v1 ? [`cpu:${s.v1Dir.slice(v1.length)}`] : [])]);
  return cgroupsOfSelf().some((c) => mine.some((m) => c === m || c.startsWith(`${m}/`)));
}

/** Whether the kernel accounts IRQ time apart (then softirq work is charged to no task and no cgroup). */
export function irqTimeAccounting(): boolean | undefined {
  let config = "";
  try { config = execFileSync("zcat", ["/proc/config.gz"], { stdio: ["ignore", "pipe", "ignore"] }).toString(); } catch {
    try { config = readFileSync(`/boot/config-${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}`, "utf8"); } catch { return undefined; }
  }
  return /^CONFIG_IRQ_TIME_ACCOUNTING=y/m.test(config);
}

/** Busy CPU of the whole machine so far (user, nice, system, irq, softirq of /proc/stat), µs. */
export function machineBusyUs(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) * 1e4;
}

/** CPU ticks (1/100 s) used so far by the kernel's softirq threads: softirq work no side is charged for. */
let ksoftirqdPids: string[] | undefined;
export function ksoftirqdTicks(): number {
  ksoftirqdPids ??= readdirSync("/proc").filter((p) => {
    try { return /^\d+$/.test(p) && readFileSync(`/proc/${p}/comm`, "utf8").startsWith("ksoftirqd/"); } catch { return false; }
  });
  let t = 0;
  for (const p of ksoftirqdPids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ");
      t += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return t;
}

/** TC programs attached in a network namespace (bpftool net), by name. */
export function tcPrograms(netns: string): string[] {
  try {
    const j = JSON.parse(execFileSync("ip", ["netns", "exec", netns, "bpftool", "net", "show", "-j"]).toString() || "[]") as { tc?: { name?: string }[] }[];
    return j.flatMap((x) => x.tc ?? []).map((t) => t.name ?? "?");
  } catch { return []; }
}

/** BPF programs attached to a cgroup directory (bpftool), by name: proof of which side is captured. */
export function cgroupPrograms(dir: string): string[] {
  try {
    return (JSON.parse(execFileSync("bpftool", ["cgroup", "show", dir, "-j"]).toString() || "[]") as { name: string }[]).map((p) => p.name);
  } catch { return []; }
}
