// Cgroup v2 subtrees the wire capture leaves alone (WireCapture `excludeCgroups`, CLI --exclude-cgroup):
// the agent's own traffic, backup jobs, a noisy system slice. The cgroup_skb programs compare the
// socket's ancestor at each excluded cgroup's level with that cgroup's id, so what the kernel needs is
// the id (the directory's inode number on cgroup2) and the level (its depth below the hierarchy's root).
import { statSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { cgroup2Root } from "../bpf/kernelfs.ts";

/** As many as the BPF side checks (MAX_EXCLUDED in bpf/wire.bpf.c). */
export const MAX_EXCLUDED_CGROUPS = 4;

export class ExcludedCgroupError extends Error {}

export interface ExcludedCgroup {
  path: string;
  id: bigint;
  level: number;
}

/** Resolves each path (absolute, or relative to the cgroup v2 root) to its id and level; a path that is no
 * cgroup v2 directory below the root gives a one-line ExcludedCgroupError. */
export function resolveExcludedCgroups(paths: readonly string[], root = cgroup2Root()): ExcludedCgroup[] {
  if (paths.length > MAX_EXCLUDED_CGROUPS) {
    throw new ExcludedCgroupError(`--exclude-cgroup: at most ${MAX_EXCLUDED_CGROUPS} cgroups can be excluded (got ${paths.length})`);
  }
  return paths.map((p) => {
    const abs = resolve(root, p);
    const rel = relative(root, abs);
    if (rel === "") throw new ExcludedCgroupError(`--exclude-cgroup ${p}: that is the cgroup v2 root, excluding it would leave nothing to capture`);
    if (rel === ".." || rel.startsWith(`..${sep}`)) {
      throw new ExcludedCgroupError(`--exclude-cgroup ${p}: not inside the cgroup v2 hierarchy at ${root}`);
    }
    let st;
    try { st = statSync(abs, { bigint: true }); } catch {
      throw new ExcludedCgroupError(`--exclude-cgroup ${p}: no such cgroup (${abs} does not exist)`);
    }
    if (!st.isDirectory()) throw new ExcludedCgroupError(`--exclude-cgroup ${p}: ${abs} is not a cgroup directory`);
    // a directory of the cgroup2 mount has cgroup.procs; anything else there is not a cgroup
    try { statSync(`${abs}/cgroup.procs`); } catch {
      throw new ExcludedCgroupError(`--exclude-cgroup ${p}: ${abs} is not a cgroup v2 directory (no cgroup.procs)`);
    }
    return { path: abs, id: st.ino, level: rel.split(sep).length };
  });
}

/** The three rodata values of bpf/wire.bpf.c: excluded_n, excluded_ids (u64 each), excluded_levels (u32 each). */
export function excludedRodata(cgroups: readonly ExcludedCgroup[]): { n: number; ids: Buffer; levels: Buffer } {
  const ids = Buffer.alloc(8 * MAX_EXCLUDED_CGROUPS), levels = Buffer.alloc(4 * MAX_EXCLUDED_CGROUPS);
  cgroups.forEach((c, i) => {
    ids.writeBigUInt64LE(c.id, 8 * i);
    levels.writeUInt32LE(c.level, 4 * i);
  });
  return { n: cgroups.length, ids, levels };
}
