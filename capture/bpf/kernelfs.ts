// The kernel file systems BPF attachment relies on, mounted on demand (root): tracefs for tracepoint ids,
// bpffs for pinning, and the cgroup v2 hierarchy for cgroup_skb programs (which may sit at
// /sys/fs/cgroup or, on hybrid set-ups, /sys/fs/cgroup/unified).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

function mounts(): string[][] {
  return readFileSync("/proc/mounts", "utf8").trim().split("\n").map((l) => l.split(" "));
}

/** Makes /sys/kernel/tracing/events available; throws a clear error when it cannot. */
export function ensureTracefs(): void {
  if (existsSync("/sys/kernel/tracing/events") || existsSync("/sys/kernel/debug/tracing/events")) return;
  try {
    execFileSync("mount", ["-t", "tracefs", "tracefs", "/sys/kernel/tracing"], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    throw new Error(`tracefs is not mounted and mounting it failed (${(e as Error).message.split("\n")[0]}): needs root; try \`mount -t tracefs tracefs /sys/kernel/tracing\``);
  }
}

/** Mount point of the cgroup v2 hierarchy. */
export function cgroup2Root(): string {
  const m = mounts().find((f) => f[2] === "cgroup2");
  if (!m) throw new Error("no cgroup v2 hierarchy is mounted: cgroup_skb hooks need one (mount -t cgroup2 none /sys/fs/cgroup/unified)");
  return m[1];
}

/** The cgroup v2 path of a process (relative to cgroup2Root()), from /proc/PID/cgroup's "0::" line. */
export function cgroupOfPid(pid: number | "self"): string | null {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::"));
    return line ? line.slice(3) : null;
  } catch {
    return null;
  }
}
