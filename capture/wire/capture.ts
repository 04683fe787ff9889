// Live wire capture: wire.bpf.c copies handshake bytes from cgroup_skb (every local socket, every
// network namespace) and optionally TC on interfaces (forwarded / pod traffic); here the records become
// flow-table segments, handshakes become lake rows attributed to their process and container.
//
// Views: the flow table keys flows by 5-tuple within a view. A TCP connection between two local sockets
// of one network namespace (loopback, a pod's sidecars) is one flow in the view of that namespace: the
// kernel copies each direction once, at its sender's egress, so it is parsed once and gives a row per
// socket. Other cgroup_skb flows are per socket (the two ends in two namespaces each copy both
// directions), TC flows per interface.
//
// Attribution, in order of trust: the process holding the socket's inode open (/proc/PID/fd), then the
// owner the kernel learnt in process context (the socket's first send).
// Blind spots: TC-only flows have no socket (no pid); a process that exits before we look and never ran
// connect()/send in its own context; sockets handed between processes (fd passing) keep the first owner.
import { hash } from "node:crypto";
import { resolve } from "node:path";
import { monoNsToUtcMicros } from "../bpf/clock.ts";
import { cgroup2Root } from "../bpf/kernelfs.ts";
import { openVerifiedObject, type AgentLog } from "../bpf/loader.ts";
import type { BpfObject, RingBufConsumer } from "../bpf/native.ts";
import { cgroupPathById, containerFromCgroup, processInfo, watchProcesses, type ProcessInfo } from "../enrich/index.ts";
import { FlowTable, type Handshake } from "../flow/table.ts";
import { formatIpv4, formatIpv6 } from "../flow/address-text.ts";
import { Packet, TCP_FIN } from "../flow/segment.ts";
import type { Row, TableName } from "../lake/schema.ts";
import { handshakeRows } from "../rows.ts";
import { cstr, decodeSegment, HOOK_CGROUP, R, REC_SEGMENT, SEGMENT_HEADER_SIZE, type SegmentRecord } from "./records.ts";
import { excludedRodata, resolveExcludedCgroups } from "./excluded-cgroups.ts";
import { SocketOwners } from "./socket-owners.ts";

export interface WireSink extends AgentLog {
  append(table: TableName, row: Row): void;
}

export interface WireCaptureOptions {
  sink: WireSink;
  host: string;
  /** cgroup v2 directory to watch (default: the root, i.e. every local socket); null = no cgroup hook */
  cgroup?: string | null;
  /** cgroup v2 directories (absolute, or relative to the root) whose sockets' traffic cgroup_skb leaves
   * alone, at most MAX_EXCLUDED_CGROUPS; TC is not affected */
  excludeCgroups?: string[];
  /** interfaces for TC clsact ingress+egress: "eth0" or "NETNS:ifname" */
  ifaces?: string[];
  /** only these TCP/UDP ports (either side); empty = all */
  ports?: number[];
  ident?: (v: string) => string;
  onHandshake?: (row: Row) => void;
  /** every decoded record (diagnostics and tests: what left the kernel) */
  onRecord?: (rec: SegmentRecord) => void;
  /** another build of wire.bpf.o (benches comparing builds); verified against the load policy like the default */
  objectPath?: string;
  /** Root with exclusions: for this long after the programs are attached, a loopback segment that starts a
   * handshake with no mark from an excluded sender (lo_marks: made at the sender's SYN) asks for the
   * sender socket instead, so a connection set up just before the start is still copied in full. After it
   * such a connection's excluded-sender direction is a blind spot. Default 1000 ms; 0 = none. */
  loopbackFallbackMs?: number;
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

/** One local socket (cgroup_skb) or one interface's view of a flow (TC): who a row is about. */
interface ViewMeta {
  /** what identifies it in flow ids: c<cookie> or i<ifindex> */
  key: string;
  hook: number;
  sockIno: number;
  ownerTgid: number;
  ownerComm: string;
  cgroupId: bigint;
  netnsCookie: bigint;
  localPort?: number;
  ifindex: number;
  process?: ProcessInfo | null;
  conn?: Connection;
  /** the local pair this socket opened (localPairs key) */
  pairKey?: string;
}

/** A connection as the flow table sees it (one flow view), and the sockets or interfaces that saw it. */
interface Connection {
  view: string;
  members: ViewMeta[];
}

interface PendingHandshake {
  h: Handshake;
  meta: ViewMeta | undefined;
  flowId: string;
  deadline: number;
}

/** Bound on sockets and connections remembered (oldest dropped first). A socket stays known after its
 * handshake so that a late segment of it goes to its finished flow (ignored there), not to a new one. */
const MAX_TRACKED = 65_536;


export class WireCapture {
  readonly stats: WireStats = { records: 0, bytes: 0, handshakes: 0, kernelDrops: 0, userDrops: 0, badRecords: 0, dedupedTc: 0 };
  private obj: BpfObject;
  private consumer: RingBufConsumer;
  private table: FlowTable;
  /** TCP socket (cgroup_skb) by cookie → its meta */
  private tcpSockets = new Map<number, ViewMeta>();
  /** UDP socket (c<cookie>) or interface (i<ifindex>), plus the tuple → its meta */
  private sockets = new Map<string, ViewMeta>();
  /** refilled for every record (the flow table copies what it keeps) */
  private packet = new Packet();
  /** UTC µs at CLOCK_MONOTONIC 0: record time = this + ns / 1000 */
  private tsBaseUs = Number(monoNsToUtcMicros(0n));
  /** flow view + tuple → connection */
  private connections = new Map<string, Connection>();
  /** namespace + tuple → the newest connection between two local TCP sockets there (see onSegment) */
  private localPairs = new Map<string, Connection>();
  private connSeq = 0;
  private containerByCgroup = new Map<bigint, { container_id?: string | null; pod?: string | null }>();
  private owners = new SocketOwners();
  private recentCgroupTuples = new Map<string, number>();
  private ident: (v: string) => string;
  private pending: PendingHandshake[] = [];
  private pendingTimer: NodeJS.Timeout | undefined;
  private unwatch: () => void;
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: WireCaptureOptions) {
    this.ident = opts.ident ?? ((v) => v);
    const excluded = excludedRodata(resolveExcludedCgroups(opts.excludeCgroups ?? [])); // bad paths: before anything starts
    // The watcher reads each new process's /proc entry at exec, while it surely exists (or keeps what the
    // exec event said): a short-lived client is often gone by the time its handshake records reach us.
    this.unwatch = watchProcesses(() => {});
    this.table = new FlowTable((h) => this.onHandshake(h), { idleTimeoutUs: 30_000_000 });
    const obj = openVerifiedObject("wire", { log: opts.sink, host: opts.host, path: opts.objectPath });
    this.obj = obj;
    try {
      if (opts.ports?.length) obj.setRodata("filter_ports", 1, 1);
      const cg = opts.cgroup === undefined ? cgroup2Root() : opts.cgroup;
      // cgroup_skb on the root sees every local socket: a connection between two of them is copied at the
      // senders only, and TC keeps to traffic without one (forwarded, pods behind a bridge)
      if (cg && resolve(cg) === resolve(cgroup2Root())) obj.setRodata("cgroup_is_root", 1, 1);
      if (excluded.n) {
        obj.setRodata("excluded_n", excluded.n, 4);
        obj.setRodata("excluded_ids", excluded.ids);
        obj.setRodata("excluded_levels", excluded.levels);
      }
      obj.load();
      for (const p of opts.ports ?? []) {
        const k = Buffer.alloc(4);
        k.writeUInt32LE(p);
        obj.mapUpdate("ports", k, Buffer.from([1]));
      }
      if (cg) {
        for (const prog of ["wire_cgroup_ingress", "wire_cgroup_egress"]) obj.attachCgroup(prog, cg);
      }
      for (const spec of opts.ifaces ?? []) {
        const [netns, ifname] = spec.includes(":") ? spec.split(":", 2) : [undefined, spec];
        obj.attachTc("wire_tc_ingress", { ifname, netns, direction: "ingress" });
        obj.attachTc("wire_tc_egress", { ifname, netns, direction: "egress" });
      }
      this.consumer = obj.consumeRingBuffers(["events"], (batch) => this.onBatch(batch), { batchBytes: 256 * 1024, timeoutMs: 50 });
      // the start-up window of the loopback sender check (see lo_marks in wire.bpf.c); an object built
      // before that map (objectPath) keeps its socket lookup
      if (excluded.n && obj.maps().some((m) => m.name === "lo_settled")) {
        const settle = () => { this.settleTimer = undefined; obj.mapUpdate("lo_settled", Buffer.alloc(4), Buffer.from([1, 0, 0, 0])); };
        const ms = opts.loopbackFallbackMs ?? 1000;
        if (ms <= 0) settle();
        else this.settleTimer = setTimeout(settle, ms).unref();
      }
    } catch (e) {
      obj.close();
      this.unwatch();
      throw e;
    }
  }

  private onBatch(batch: Buffer): void {
    // Records are read in place (offsets of struct cs_segment_rec, see records.ts): no object, string or
    // bigint per record unless a socket is new. Batch layout: [u32 length][record], padded to 4 bytes.
    let off = 0;
    while (off + 4 <= batch.length) {
      const len = batch.readUInt32LE(off);
      const at = off + 4;
      off = at + ((len + 3) & ~3);
      if (len < 4 || at + len > batch.length || batch.readUInt32LE(at) !== REC_SEGMENT) continue;
      const payloadLen = len >= SEGMENT_HEADER_SIZE ? batch.readUInt16LE(at + R.payloadLen) : -1;
      if (payloadLen < 0 || SEGMENT_HEADER_SIZE + payloadLen > len) { this.stats.badRecords++; continue; }
      this.stats.records++;
      this.stats.bytes += payloadLen;
      if (this.opts.onRecord) this.opts.onRecord(decodeSegment(batch.subarray(at, at + len)));
      this.onSegment(batch, at, payloadLen);
    }
    this.packet.bytes = EMPTY; // keep no reference to the batch
  }

  private onSegment(b: Buffer, at: number, payloadLen: number): void {
    const cgroup = b[at + R.hook] === HOOK_CGROUP;
    const tcp = b[at + R.l4proto] === 6;
    const v6 = b[at + R.family] === 6;
    const p = this.packet;
    if (v6) {
      p.addrAt = at + R.saddr; // saddr then daddr, 16 bytes each: the table reads the text from there
    } else {
      p.addrAt = -1;
      p.srcText = formatIpv4(b, at + R.saddr);
      p.dstText = formatIpv4(b, at + R.daddr);
    }
    p.srcPort = b.readUInt16LE(at + R.sport);
    p.dstPort = b.readUInt16LE(at + R.dport);
    // a TCP socket (cgroup_skb) has one connection, found by its cookie; a UDP socket or an interface
    // sees many, found by socket/interface and tuple
    let meta: ViewMeta | undefined;
    let socketKey = "";
    let cookie = 0;
    if (cgroup && tcp) {
      cookie = b.readUInt32LE(at + R.sockCookie) + b.readUInt32LE(at + R.sockCookie + 4) * 2 ** 32;
      meta = this.tcpSockets.get(cookie);
    } else {
      socketKey = (cgroup ? `c${b.readBigUInt64LE(at + R.sockCookie)}` : `i${b.readUInt32LE(at + R.ifindex)}`) + this.packetTupleKey(b, at, v6);
      meta = this.sockets.get(socketKey);
    }
    if (!meta) meta = this.newSocket(b, at, v6, cgroup, tcp, cookie, socketKey);
    const ino = b.readUInt32LE(at + R.sockIno);
    if (ino) meta.sockIno = ino;
    const tgid = b.readUInt32LE(at + R.ownerTgid);
    if (tgid && !meta.ownerTgid) {
      // The kernel learnt the owner in its own context (connect(), or a first send from a process of the
      // socket's cgroup); /proc is scanned for the inode only for sockets without one, when the handshake
      // ends. Read the process now: short-lived clients are often gone by the time the flow finishes.
      meta.ownerTgid = tgid;
      meta.ownerComm = cstr(b, at + R.ownerComm, 16);
      meta.process = processInfo(tgid);
    }
    const ns = b.readUInt32LE(at + R.tsNs) + b.readUInt32LE(at + R.tsNs + 4) * 2 ** 32;
    p.tsUs = this.tsBaseUs + Math.floor(ns / 1000);
    p.ipProto = tcp ? 6 : 17;
    p.v6 = v6;
    p.s0 = word(b, at + R.saddr);
    p.d0 = word(b, at + R.daddr);
    if (v6) {
      p.s1 = word(b, at + R.saddr + 4); p.s2 = word(b, at + R.saddr + 8); p.s3 = word(b, at + R.saddr + 12);
      p.d1 = word(b, at + R.daddr + 4); p.d2 = word(b, at + R.daddr + 8); p.d3 = word(b, at + R.daddr + 12);
    } else {
      p.s1 = p.s2 = p.s3 = p.d1 = p.d2 = p.d3 = 0;
    }
    p.seq = b.readUInt32LE(at + R.seq);
    p.flags = b[at + R.tcpFlags]!;
    // The kernel copies nothing more of this direction (its handshake bytes ended at an application-data
    // or alert record, or a cap): to the flow table that is the direction's end, as a FIN would be. Without
    // it a TLS 1.3 client direction (ClientHello, ChangeCipherSpec, then encrypted records the kernel keeps)
    // waited for the idle timeout, so rows came 30 s late and every flow was held that long.
    if (tcp && b[at + R.last]) p.flags |= TCP_FIN;
    p.bytes = b;
    p.view = meta.conn!.view;
    const start = at + SEGMENT_HEADER_SIZE;
    const gso = tcp ? 0 : b.readUInt16LE(at + R.gsoSize);
    if (gso && payloadLen > gso) {
      // one UDP GSO send of several datagrams
      for (let o = 0; o < payloadLen; o += gso) {
        p.payloadStart = start + o;
        p.payloadEnd = start + Math.min(o + gso, payloadLen);
        this.table.addPacket(p);
      }
    } else {
      p.payloadStart = start;
      p.payloadEnd = start + payloadLen;
      this.table.addPacket(p);
    }
  }

  /** What a socket (or interface) seen for the first time is, and which connection its segments join. */
  private newSocket(b: Buffer, at: number, v6: boolean, cgroup: boolean, tcp: boolean, cookie: number, socketKey: string): ViewMeta {
    const ifindex = b.readUInt32LE(at + R.ifindex);
    const sock = cgroup ? `c${tcp ? cookie : b.readBigUInt64LE(at + R.sockCookie)}` : `i${ifindex}`;
    const meta: ViewMeta = {
      key: sock, hook: b[at + R.hook]!, sockIno: 0, ownerTgid: 0, ownerComm: "",
      cgroupId: b.readBigUInt64LE(at + R.cgroupId), netnsCookie: b.readBigUInt64LE(at + R.netnsCookie), ifindex,
    };
    const tk = this.packetTupleKey(b, at, v6);
    if (cgroup) meta.localPort = b[at + R.dir] === 1 ? b.readUInt16LE(at + R.sport) : b.readUInt16LE(at + R.dport);
    if (cgroup && tcp) {
      this.tcpSockets.set(cookie, meta);
      if (this.tcpSockets.size > MAX_TRACKED) this.tcpSockets.delete(this.tcpSockets.keys().next().value!);
      const netns = b.readUInt32LE(at + R.netnsCookie) + b.readUInt32LE(at + R.netnsCookie + 4) * 2 ** 32;
      meta.conn = this.localPairOf(meta, `n${netns}`, tk);
    } else {
      this.sockets.set(socketKey, meta);
      if (this.sockets.size > MAX_TRACKED) this.sockets.delete(this.sockets.keys().next().value!);
      meta.conn = this.connectionOf(sock + tk, sock);
    }
    meta.conn.members.push(meta);
    return meta;
  }

  /** The tuple key of the packet being filled (both directions alike), from its address text. */
  private packetTupleKey(b: Buffer, at: number, v6: boolean): string {
    const p = this.packet;
    const src = v6 ? formatIpv6(b, at + R.saddr) : p.srcText, dst = v6 ? formatIpv6(b, at + R.daddr) : p.dstText;
    return tupleKey({ srcAddr: src, srcPort: p.srcPort, dstAddr: dst, dstPort: p.dstPort });
  }

  private connectionOf(key: string, view: string): Connection {
    let c = this.connections.get(key);
    if (!c) {
      c = { view, members: [] };
      this.connections.set(key, c);
      if (this.connections.size > MAX_TRACKED) this.connections.delete(this.connections.keys().next().value!);
    }
    return c;
  }

  /** The connection a local TCP socket's segments go to: shared with the other end when that is a local
   * socket of the same namespace (the kernel then copies each direction once, at its sender). Its view is
   * new for every connection, so a port reused by the next one never meets the finished flow. */
  private localPairOf(meta: ViewMeta, netns: string, tk: string): Connection {
    const pairKey = netns + tk;
    let c = this.localPairs.get(pairKey);
    if (!c || c.members[0]!.localPort === meta.localPort || c.members[1]) {
      const view = `${netns}#${++this.connSeq}`;
      meta.pairKey = pairKey;
      c = this.connectionOf(view, view); // unique: found by its view alone
      this.localPairs.set(pairKey, c);
      if (this.localPairs.size > MAX_TRACKED) this.localPairs.delete(this.localPairs.keys().next().value!);
    }
    return c;
  }

  private onHandshake(h: Handshake): void {
    const view = viewOf(h);
    // a local pair's view names one connection; other views need the tuple as well
    let c = this.connections.get(view);
    if (c) this.connections.delete(view);
    else {
      const conn = view + handshakeTupleKey(h);
      c = this.connections.get(conn);
      this.connections.delete(conn);
    }
    const members = c?.members ?? [];
    const opener = members[0]?.pairKey;
    if (opener && this.localPairs.get(opener) === c) this.localPairs.delete(opener);
    const tuple = `${h.transport}|${h.clientAddr}|${h.clientPort}|${h.serverAddr}|${h.serverPort}`;
    if (members.length === 0) members.push(undefined as unknown as ViewMeta); // a row without context
    for (const meta of members) {
      if (meta?.hook === HOOK_CGROUP) {
        if (this.opts.ifaces?.length) {
          this.recentCgroupTuples.set(tuple, Date.now());
          if (this.recentCgroupTuples.size > 10000) this.recentCgroupTuples.clear();
        }
      } else if (this.recentCgroupTuples.has(tuple)) {
        // the same connection was already attributed through its local socket
        this.stats.dedupedTc++;
        continue;
      }
      const flowId = hash("sha256", `${meta?.key ?? viewOf(h)}|${tuple}|${h.firstTsUs}`, "hex").slice(0, 32);
      const p: PendingHandshake = { h, meta, flowId, deadline: Date.now() + 300 };
      // The exec event of a short-lived client may still be on its way (another ring buffer): wait a moment.
      if (!this.emitIfResolved(p, false)) {
        this.pending.push(p);
        this.pendingTimer ??= setInterval(() => this.retryPending(false), 100).unref();
      }
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
      const ids = this.containerOf(meta.cgroupId);
      if (ids.container_id) Object.assign(context, { container_id: ids.container_id, pod: ids.pod });
    }
    const rows = handshakeRows(h, { host: this.opts.host, source: "wire", ident: this.ident, flowId: p.flowId, context });
    this.opts.sink.append("handshakes", rows.handshake);
    for (const c of rows.certificates) this.opts.sink.append("certificates", c);
    this.stats.handshakes++;
    this.opts.onHandshake?.(rows.handshake);
    return true;
  }

  /** container and pod named by a cgroup id's path (cached: every handshake of a socket's cgroup asks) */
  private containerOf(cgroupId: bigint): { container_id?: string | null; pod?: string | null } {
    let ids = this.containerByCgroup.get(cgroupId);
    if (!ids) {
      const path = cgroupPathById(cgroupId);
      ids = containerFromCgroup(path ?? "");
      if (path === null) return ids; // not found (yet): ask again next time
      if (this.containerByCgroup.size >= 10_000) this.containerByCgroup.clear();
      this.containerByCgroup.set(cgroupId, ids);
    }
    return ids;
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
    clearTimeout(this.settleTimer);
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

const EMPTY = new Uint8Array(0);

/** A big-endian 32-bit word as a signed number (how the flow table keys addresses). */
function word(b: Buffer, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
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
