// Where files go (hive layout) and how they appear there: written under a hidden temporary name that
// `*.parquet` globs never match, fsynced, then published under the final name and the directory fsynced,
// so a reader, a shipper or a crash never sees half a file.

import { link, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { threadId } from "node:worker_threads";

const HOUR_US = 3_600_000_000;

export function hourIndexOfMicros(us: number): number {
  return Math.floor(us / HOUR_US);
}

/** `YYYY-MM-DDTHH` (UTC) of an hour index (years outside 0000-9999 keep ISO's expanded form, e.g. `+010000-01-01T00`). */
export function hourKey(hourIndex: number): string {
  return new Date(hourIndex * 3_600_000).toISOString().replace(/:.*$/, "");
}

/** Host names go into a path segment: keep [A-Za-z0-9._-], replace anything else. */
export function hostSegment(host: string): string {
  const s = host.replace(/[^A-Za-z0-9._-]/g, "_");
  return s === "" || s === "." || s === ".." ? "_" : s;
}

/** `20261201T185600Z`: sortable, no colons. */
export function agentStartStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export function partitionDir(root: string, table: string, hour: string, host: string): string {
  return path.join(root, table, `hour=${hour}`, `host=${host}`);
}

export function partFileName(agentStart: string, seq: number): string {
  return `part-${agentStart}-${String(seq).padStart(6, "0")}.parquet`;
}

/**
 * Hidden name a part is written under before it is published. It names the writing process and thread
 * too: two writers that started in the same second (parallel ingest workers, an agent and an ingest)
 * choose the same final name, and must not write into one temp file (publish() then gives one of them
 * the next free name).
 */
export function tempNameFor(finalName: string): string {
  return `.${finalName.replace(/\.parquet$/, "")}.${process.pid}-${threadId}.parquet.tmp`;
}

export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p that also fsyncs every directory it created and the parent of the first one. */
export async function makeDirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  let d = dir;
  const chain: string[] = [];
  while (d.length >= first.length) {
    chain.push(d);
    d = path.dirname(d);
  }
  chain.push(path.dirname(first));
  for (const c of chain) await fsyncPath(c);
}

/**
 * Publishes a complete, fsynced temp file under `dir/name(seq)`, never replacing an existing file
 * (link fails on EEXIST; the seq is bumped). Returns the final path.
 */
export async function publish(tmp: string, dir: string, nameFor: (bump: number) => string): Promise<string> {
  for (let bump = 0; bump < 1000; bump++) {
    const final = path.join(dir, nameFor(bump));
    try {
      await link(tmp, final);
      await unlink(tmp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      if (code === "EPERM" || code === "ENOTSUP" || code === "EXDEV" || code === "EMLINK" || code === "EOPNOTSUPP") {
        await rename(tmp, final); // file systems without hard links
      } else throw err;
    }
    await fsyncPath(dir);
    return final;
  }
  throw new Error(`no free file name in ${dir}`);
}

/**
 * Removes temp files a killed writer left in this host's recent partitions (the last `hours` hour
 * directories of each table), if older than `minAgeMs` (so a second writer still running is left alone).
 * They are hidden from readers anyway; this only returns the space. Returns how many were removed.
 */
export async function removeStaleTemps(root: string, host: string, hours = 48, minAgeMs = 10 * 60_000): Promise<number> {
  let removed = 0;
  const now = Date.now();
  const list = async (d: string) => readdir(d).catch(() => [] as string[]);
  for (const table of await list(root)) {
    if (table.startsWith(".")) continue;
    const hourDirs = (await list(path.join(root, table))).filter((h) => h.startsWith("hour=")).sort().slice(-hours);
    for (const h of hourDirs) {
      const dir = partitionDir(root, table, h.slice(5), host);
      for (const f of await list(dir)) {
        if (!(f.startsWith(".part-") && f.endsWith(".parquet.tmp"))) continue;
        const p = path.join(dir, f);
        const st = await stat(p).catch(() => null);
        if (st && now - st.mtimeMs >= minAgeMs) {
          await unlink(p).catch(() => {});
          removed++;
        }
      }
    }
  }
  return removed;
}
