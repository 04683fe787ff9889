// Socket inode → owning process, read from /proc/PID/fd (as `ss -p` does). The kernel tells us the
// inode of the socket a packet belongs to; the process may be gone by the time we look, in which case
// the owner the kernel learnt itself (connect() or the first send) is used instead.
import { readdirSync, readlinkSync } from "node:fs";

export class SocketOwners {
  private byInode = new Map<number, number>();
  private lastScan = 0;

  constructor(private readonly minRescanMs = 250) {}

  /** pid holding socket:[ino] open, or undefined. Rescans /proc at most every minRescanMs on a miss. */
  lookup(ino: number): number | undefined {
    if (!ino) return undefined;
    // inode numbers are unique while the socket lives, so a cached hit is trusted
    const hit = this.byInode.get(ino);
    if (hit !== undefined) return hit;
    const now = Date.now();
    if (now - this.lastScan < this.minRescanMs) return undefined;
    this.scan();
    this.lastScan = now;
    return this.byInode.get(ino);
  }

  private scan(): void {
    const next = new Map<number, number>();
    for (const ent of readdirSync("/proc")) {
      if (ent.charCodeAt(0) < 48 || ent.charCodeAt(0) > 57) continue;
      let fds: string[];
      try { fds = readdirSync(`/proc/${ent}/fd`); } catch { continue; }
      for (const fd of fds) {
        const l = readlinkSafe(`/proc/${ent}/fd/${fd}`);
        if (l && l.startsWith("socket:[")) {
          const ino = Number(l.slice(8, -1));
          if (!next.has(ino)) next.set(ino, Number(ent));
        }
      }
    }
    this.byInode = next;
  }
}

function readlinkSafe(p: string): string | undefined {
  try { return readlinkSync(p); } catch { return undefined; }
}
