// cgroup v2 id → path. The kernel's cgroup id is the inode number of the cgroup's directory, so a walk of
// the hierarchy maps one to the other. Used when a process is gone before /proc could be read: the BPF
// side still told us its cgroup id (and a socket's), which names its container and pod.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { cgroup2Root } from "../bpf/kernelfs.ts";

let byId = new Map<bigint, string>();
let lastWalk = 0;
const MIN_REWALK_MS = 500;

function walk(root: string): Map<bigint, string> {
  const out = new Map<bigint, string>();
  const stack = [""];
  while (stack.length) {
    const rel = stack.pop()!;
    const dir = root + rel;
    try {
      out.set(statSync(dir, { bigint: true }).ino, rel || "/");
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) stack.push(join(rel || "/", e.name));
    } catch { /* removed while walking */ }
  }
  return out;
}

/** The cgroup v2 path (relative to the hierarchy's root, like /proc/PID/cgroup) of a cgroup id, or null. */
export function cgroupPathById(id: bigint | number | null | undefined): string | null {
  if (id === null || id === undefined || id === 0n || id === 0) return null;
  const key = BigInt(id);
  const hit = byId.get(key);
  if (hit !== undefined) return hit;
  const now = Date.now();
  if (now - lastWalk < MIN_REWALK_MS) return null;
  lastWalk = now;
  let root: string;
  try { root = cgroup2Root(); } catch { return null; }
  byId = walk(root);
  return byId.get(key) ?? null;
}
