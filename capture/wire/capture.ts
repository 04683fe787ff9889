// Live wire capture: wire.bpf.c copies handshake bytes from cgroup_skb (every local socket, every
// network namespace) and optionally TC on interfaces (forwarded / pod traffic); here the records become
// flow-table segments, handshakes become lake rows attributed to their process and container.
//
// Attribution, in order of trust: the process holding the socket's inode open (/proc/PID/fd), then the
// owner the kernel learnt in process context (connect() for clients, the first send for servers).
// Blind spots: TC-only flows have no socket (no pid); a process that exits before we look and never ran
// connect()/send in its own context; sockets handed between processes (fd passing) keep the first owner.
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { monoNsToUtcMicros } from "../bpf/clock.ts";
import { cgroup2Root } from "../bpf/kernelfs.ts";
import { openVerifiedObject, type AgentLog } from "../bpf/loader.ts";
import { forEachRecord, type BpfObject, type RingBufConsumer } from "../bpf/native.ts";
import { cgroupPathById, containerFromCgroup, processInfo, watchProcesses, type ProcessInfo } from "../enrich/index.ts";
import { FlowTable, type Handshake } from "../flow/table.ts";
import type { Segment } from "../flow/segment.ts";
import type { Row, TableName } from "../lake/schema.ts";
import { handshakeRows } from "../rows.ts";
import { decodeSegment, HOOK_CGROUP, REC_SEGMENT, RecordError, type SegmentRecord } from "./records.ts";
import { SocketOwners } from "./socket-owners.ts";

export interface WireSink extends AgentLog {
  append(table: TableName, row: Row): void;
}

export interface WireCaptureOptions {
  sink: WireSink;
  host: string;
  /** cgroup v2 directory to watch (default: the root, i.e. every local socket); null = no cgroup hook */
  cgroup?: string | null;
  /** interfaces for TC clsact ingress+egress: "eth0" or "NETNS:ifname" */
  ifaces?: string[];
  /** only these TCP/UDP ports (either side); empty = all */
  ports?: number[];
  ident?: (v: string) => string;
  onHandshake?: (row: Row) => void;
  /** every decoded record (diagnostics and tests: what left the kernel) */
  onRecord?: (rec: SegmentRecord) => void;
}

export interface WireStats {
  records: number;
  bytes: number;
  handshakes: number;
  kernelDrops: number;
  userDrops: number;
  badRecords: number;
  dedupedTc: number;
}

interface ViewMeta {
  hook: number;
  sockIno: number;
  ownerTgid: number;
  ownerComm: string;
  cgroupId: bigint;
  netnsCookie: bigint;
  localPort?: number;
  ifindex: number;
  process?: ProcessInfo | null;
}

interface PendingHandshake {
  h: Handshake;
  meta: ViewMeta | undefined;
  flowId: string;
  deadline: number;
}


export class WireCapture {
  readonly stats: WireStats = { records: 0, bytes: 0, handshakes: 0, kernelDrops: 0, userDrops: 0, badRecords: 0, dedupedTc: 0 };
  private obj: BpfObject;
  private consumer: RingBufConsumer;
  private table: FlowTable;
  private views = new Map<string, ViewMeta>();
  private owners = new SocketOwners();
  private recentCgroupTuples = new Map<string, number>();
  private ident: (v: string) => string;
  private pending: PendingHandshake[] = [];
  private pendingTimer: NodeJS.Timeout | undefined;
  private unwatch: () => void;

  constructor(private readonly opts: WireCaptureOptions) {
    this.ident = opts.ident ?? ((v) => v);
    // The watcher reads each new process's /proc entry at exec, while it surely exists (or keeps what the
    // exec event said): a short-lived client is often gone by the time its handshake records reach us.
    this.unwatch = watchProcesses(() => {});
    this.table = new FlowTable((h) => this.onHandshake(h), { idleTimeoutUs: 30_000_000 });
    const obj = openVerifiedObject("wire", { log: opts.sink, host: opts.host });
    this.obj = obj;
    try {
      if (opts.ports?.length) obj.setRodata("filter_ports", 1, 1);
      const cg = opts.cgroup === undefined ? cgroup2Root() : opts.cgroup;
      // cgroup_skb on the root sees every local socket: TC then keeps to traffic without one (forwarded,
      // pods behind a bridge), instead of copying each local handshake a second time
      if (cg && opts.ifaces?.length && resolve(cg) === resolve(cgroup2Root())) obj.setRodata("tc_skip_local", 1, 1);
      obj.load();
      for (const p of opts.ports ?? []) {
        const k = Buffer.alloc(4);
        k.writeUInt32LE(p);
        obj.mapUpdate("ports", k, Buffer.from([1]));
      }
      if (cg) {
        for (const prog of ["wire_cgroup_ingress", "wire_cgroup_egress", "wire_connect4", "wire_connect6"]) obj.attachCgroup(prog, cg);
      }
      for (const spec of opts.ifaces ?? []) {
        const [netns, ifname] = spec.includes(":") ? spec.split(":", 2) : [undefined, spec];
        obj.attachTc("wire_tc_ingress", { ifname, netns, direction: "ingress" });
        obj.attachTc("wire_tc_egress", { ifname, netns, direction: "egress" });
      }
      this.consumer = obj.consumeRingBuffers(["events"], (batch) => this.onBatch(batch), { batchBytes: 256 * 1024, timeoutMs: 50 });
    } catch (e) {
      obj.close();
      this.unwatch();
      throw e;
    }
  }

  private onBatch(batch: Buffer): void {
    forEachRecord(batch, (r) => {
      if (r.length < 4 || r.readUInt32LE(0) !== REC_SEGMENT) return;
      let rec: SegmentRecord;
      try {
        rec = decodeSegment(r);
      } catch (e) {
        if (e instanceof RecordError) { this.stats.badRecords++; return; }
        throw e;
      }
      this.stats.records++;
      this.stats.bytes += rec.payload.length;
      this.opts.onRecord?.(rec);
      this.onSegment(rec);
    });
  }

  private onSegment(rec: SegmentRecord): void {
    const view = rec.hook === HOOK_CGROUP ? `c${rec.sockCookie}` : `i${rec.ifindex}`;
    const viewKey = view + tupleKey(rec);
    let meta = this.views.get(viewKey);
    if (!meta) {
      meta = { hook: rec.hook, sockIno: 0, ownerTgid: 0, ownerComm: "", cgroupId: rec.cgroupId, netnsCookie: rec.netnsCookie, ifindex: rec.ifindex };
      this.views.set(viewKey, meta);
    }
    if (rec.sockIno) meta.sockIno = rec.sockIno;
    if (rec.hook === HOOK_CGROUP) meta.localPort = rec.dir === 1 ? rec.srcPort : rec.dstPort;
    if (rec.ownerTgid && !meta.ownerTgid) {
      // The kernel learnt the owner in its own context (connect(), or a first send from a process of the
      // socket's cgroup); /proc is scanned for the inode only for sockets without one, when the handshake
      // ends. Read the process now: short-lived clients are often gone by the time the flow finishes.
      meta.ownerTgid = rec.ownerTgid;
      meta.ownerComm = rec.ownerComm;
      meta.process = processInfo(rec.ownerTgid);
    }
    const tsUs = Number(monoNsToUtcMicros(rec.tsNs));
    const base: Segment = {
      tsUs, srcAddr: rec.srcAddr, dstAddr: rec.dstAddr, srcPort: rec.srcPort, dstPort: rec.dstPort,
      transport: rec.l4proto === 6 ? "tcp" : "udp", seq: rec.seq, flags: rec.tcpFlags, payload: rec.payload, view,
    };
    if (base.transport === "udp" && rec.gsoSize && rec.payload.length > rec.gsoSize) {
      for (let off = 0; off < rec.payload.length; off += rec.gsoSize) this.table.add({ ...base, payload: rec.payload.subarray(off, off + rec.gsoSize) });
    } else {
      this.table.add(base);
    }
  }

  private onHandshake(h: Handshake): void {
    const view = viewOf(h);
    const viewKey = view + handshakeTupleKey(h);
    const meta = this.views.get(viewKey);
    this.views.delete(viewKey);
    const tuple = `${h.transport}|${h.clientAddr}|${h.clientPort}|${h.serverAddr}|${h.serverPort}`;
    if (meta?.hook === HOOK_CGROUP) {
      this.recentCgroupTuples.set(tuple, Date.now());
      if (this.recentCgroupTuples.size > 10000) this.recentCgroupTuples.clear();
    } else if (this.recentCgroupTuples.has(tuple)) {
      // the same connection was already attributed through its local socket
      this.stats.dedupedTc++;
      return;
    }
    const flowId = createHash("sha256").update(`${view}|${tuple}|${h.firstTsUs}`).digest("hex").slice(0, 32);
    const p: PendingHandshake = { h, meta, flowId, deadline: Date.now() + 300 };
    // The exec event of a short-lived client may still be on its way (another ring buffer): wait a moment.
    if (!this.emitIfResolved(p, false)) {
      this.pending.push(p);
      this.pendingTimer ??= setInterval(() => this.retryPending(false), 100).unref();
    }
  }

  private emitIfResolved(p: PendingHandshake, force: boolean): boolean {
    const { h, meta } = p;
    const context: Row = {};
    if (meta) {
      const pid = meta.ownerTgid || (meta.sockIno ? this.owners.lookup(meta.sockIno) : undefined);
      if (meta.hook === HOOK_CGROUP) {
        context.netns = meta.netnsCookie;
        context.cgroup_id = meta.cgroupId;
        if (meta.localPort !== undefined) context.role = meta.localPort === h.serverPort ? "server" : "client";
      }
      if (pid) {
        context.pid = pid;
        // the cache is refreshed by exec events, so it beats what was read at the first segment;
        // that early read is the fallback for a process that is gone by now
        const info = processInfo(pid) ?? (meta.ownerTgid === pid ? meta.process : null);
        if (info) {
          Object.assign(context, { comm: info.comm, exe: info.exe, container_id: info.container_id, pod: info.pod });
          if (info.cgroup_id !== undefined && info.cgroup_id !== null && !context.cgroup_id) context.cgroup_id = info.cgroup_id;
        } else if (!force && Date.now() < p.deadline) {
          return false;
        } else if (meta.ownerComm && pid === meta.ownerTgid) {
          context.comm = meta.ownerComm;
        }
      }
    }
    if (!context.container_id && meta?.cgroupId) {
      // the socket's own cgroup names the container even when its process could not be read
      const ids = containerFromCgroup(cgroupPathById(meta.cgroupId) ?? "");
      if (ids.container_id) Object.assign(context, { container_id: ids.container_id, pod: ids.pod });
    }
    const rows = handshakeRows(h, { host: this.opts.host, source: "wire", ident: this.ident, flowId: p.flowId, context });
    this.opts.sink.append("handshakes", rows.handshake);
    for (const c of rows.certificates) this.opts.sink.append("certificates", c);
    this.stats.handshakes++;
    this.opts.onHandshake?.(rows.handshake);
    return true;
  }

  private retryPending(force: boolean): void {
    this.pending = this.pending.filter((p) => !this.emitIfResolved(p, force));
    if (this.pending.length === 0 && this.pendingTimer) {
      clearInterval(this.pendingTimer);
      this.pendingTimer = undefined;
    }
  }

  /** Counters, including drops in the kernel (ring buffer full) and towards JS (queue full). */
  refreshStats(): WireStats {
    this.stats.kernelDrops = Number(this.obj.kernelDrops());
    this.stats.userDrops = this.consumer.stats().droppedRecords;
    return this.stats;
  }

  /** Stops the consumer (delivering what is queued), finishes open flows, detaches everything. */
  async stop(): Promise<WireStats> {
    this.consumer.stop();
    await new Promise((r) => setTimeout(r, 20)); // let queued batches reach onBatch
    this.refreshStats();
    this.table.finishAll();
    this.obj.close();
    await new Promise((r) => setTimeout(r, 150)); // last exec events
    this.unwatch();
    this.retryPending(true);
    return this.stats;
  }
}

function tupleKey(r: { srcAddr: string; srcPort: number; dstAddr: string; dstPort: number; l4proto?: number }): string {
  const a = `${r.srcAddr}|${r.srcPort}`, b = `${r.dstAddr}|${r.dstPort}`;
  return a < b ? `|${a}|${b}` : `|${b}|${a}`;
}
function handshakeTupleKey(h: Handshake): string {
  return tupleKey({ srcAddr: h.clientAddr, srcPort: h.clientPort, dstAddr: h.serverAddr, dstPort: h.serverPort });
}
function viewOf(h: Handshake): string {
  return h.view ?? "";
}
