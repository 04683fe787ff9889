// The flow table: segments in, one handshake result out per connection. It keeps only what a
// handshake needs (the first bytes of each TCP direction, the QUIC Initial datagrams), drops the
// buffers as soon as the parsers say a direction is complete, and bounds memory per flow and in
// total (flow count cap and byte budget, least recently active flow evicted first).
//
// Who is the client:
//   1. the sender of a SYN without ACK (or the receiver of a SYN+ACK);
//   2. without a handshake seen (capture started mid-connection): for TLS the side whose first
//      record is a ClientHello (or the peer of the side that sends a ServerHello);
//   3. otherwise (SSH, where both sides send a banner) by ports: a well-known port (< 1024) is the
//      server's; else the higher port is the client's (ephemeral ports are high); a tie goes to
//      the side that sent the first packet.
// For QUIC the sender of the first Initial is the client, unless ports say otherwise as in 3.
//
// Also: the parsers are asked whether a direction is complete only after a segment with PSH (a
// flight ends with a push); without PSH flags a flow still ends at FIN/RST, idle or eviction and
// is parsed then. TLS behind an HTTP CONNECT or SOCKS 4/5 request is found after the proxy's
// exchange. Pure ACKs and segments of finished flows cost one Map lookup.
import {
  ParseError,
  detectTcpProto,
  isQuicLongHeaderInitial,
  isQuicLongHeaderRetry,
  parseQuicConversation,
  parseTcpConversation,
  quicHandshakeComplete,
  tcpStreamComplete,
  type HandshakeResult,
} from "../parse/index.ts";
import { addressWords } from "./address-words.ts";
import { FlowIndex, type Indexed } from "./flow-index.ts";
import { DEFAULT_LIMITS, DirectionStream, seqDiff, type ReassemblyLimits } from "./reassembly.ts";
import { Packet, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Segment, type Transport } from "./segment.ts";
import { packetAddress } from "./address-text.ts";

export type FinishReason = "complete" | "closed" | "idle" | "evicted" | "end" | "datagram-limit";
export type ClientBy = "syn" | "hello" | "port" | "quic-initial";

export interface Handshake {
  proto: "tls" | "ssh" | "quic";
  transport: Transport;
  clientAddr: string;
  clientPort: number;
  serverAddr: string;
  serverPort: number;
  /** time of the first packet of the connection that the table saw (µs) */
  firstTsUs: number;
  /** the parsers' result: columns of `handshakes`, certificates (DER, leaf first), complete */
  result: HandshakeResult;
  /** why the flow was finished (complete = the parsers had all they wanted) */
  reason: FinishReason;
  clientBy: ClientBy;
  /** the Segment.view the flow's segments carried (live capture) */
  view?: string;
}

export interface FlowTableOptions {
  limits?: ReassemblyLimits;
  /** flows tracked at once (open ones and the small records of finished ones) */
  maxFlows?: number;
  /** bytes buffered over all flows */
  maxMemory?: number;
  /** a flow with no packet for this long (capture time) is finished */
  idleTimeoutUs?: number;
  /** QUIC Initial datagrams kept per direction */
  maxQuicDatagrams?: number;
  /** data segments to look at before deciding a TCP flow is neither TLS nor SSH */
  detectSegments?: number;
}

export interface FlowTableStats {
  flows: number;
  handshakes: number;
  parseErrors: number;
  evicted: number;
  idleTimeouts: number;
  notHandshake: number;
  retransmits: number;
  gaps: number;
  overflows: number;
  peakFlows: number;
  peakMemory: number;
}

interface FlowBase extends Indexed {
  /** side a (the sender of the first packet seen) is the low endpoint of the index key */
  aLow: boolean;
  aAddr: string;
  aPort: number;
  bAddr: string;
  bPort: number;
  firstTsUs: number;
  lastTsUs: number;
  /** finished: the entry only remembers that the connection was dealt with */
  finished: boolean;
  view?: string;
  mem: number;
  /** the record that took this flow's place in the table when it was finished */
  retired?: Retired;
}

interface TcpFlow extends FlowBase {
  transport: "tcp";
  dirs: [DirectionStream, DirectionStream];
  /** 0 = side a (sender of the first packet seen) is the client, 1 = side b */
  client: 0 | 1 | undefined;
  clientBy: ClientBy | undefined;
  clientIsn: number | undefined;
  proto: "tls" | "ssh" | null | undefined;
  complete: [boolean, boolean];
  closed: [boolean, boolean];
  /** a PSH segment came that the completeness check has not seen yet */
  pushed: [boolean, boolean];
  /** sequence number just past a side's FIN; the side is closed once its bytes reach it */
  finAt: [number | undefined, number | undefined];
  dataSegments: number;
  /** bytes of a proxy preamble (HTTP CONNECT, SOCKS) before the handshake, per side */
  skip: [number, number];
  tunnel: boolean;
}

interface QuicFlow extends FlowBase {
  transport: "udp";
  client: 0 | 1;
  datagrams: [Uint8Array[], Uint8Array[]];
}

/**
 * What stays of a connection once its handshake is dealt with: enough to recognise (and ignore) its
 * later packets, to see a new connection on the same ports, and to time it out. The flow object
 * itself, with its buffers and streams, is let go at once (so it dies young instead of being kept
 * and promoted by the garbage collector until the idle timeout).
 */
interface Retired extends Indexed {
  transport: Transport;
  finished: true;
  lastTsUs: number;
  mem: number;
  /** TCP: the client's ISN (a SYN with another ISN on these ports is a new connection) */
  clientIsn: number | undefined;
  aLow: boolean;
}

type Flow = TcpFlow | QuicFlow;
type Entry = Flow | Retired;

/** Client side by ports (rule 3 above): returns 0 if side a is the client, 1 if b, undefined on a tie. */
function clientByPorts(aPort: number, bPort: number): 0 | 1 | undefined {
  const aLow = aPort < 1024;
  const bLow = bPort < 1024;
  if (aLow !== bLow) return aLow ? 1 : 0;
  if (aPort === bPort) return undefined;
  return aPort > bPort ? 0 : 1;
}

/** TLS record header + handshake type: 1 = ClientHello, 2 = ServerHello, else undefined. */
function helloType(b: Uint8Array): number | undefined {
  if (b.length < 6 || b[0] !== 0x16 || b[1] !== 0x03) return undefined;
  return b[5] === 1 || b[5] === 2 ? b[5] : undefined;
}

/** A TLS handshake record holding a ClientHello or ServerHello starts at b[i]. */
function isHelloAt(b: Uint8Array, i: number): boolean {
  return (
    i + 6 <= b.length &&
    b[i] === 0x16 &&
    b[i + 1] === 0x03 &&
    b[i + 2]! <= 0x04 &&
    (b[i + 5] === 1 || b[i + 5] === 2) &&
    ((b[i + 3]! << 8) | b[i + 4]!) >= 4
  );
}

const CONNECT = [0x43, 0x4f, 0x4e, 0x4e, 0x45, 0x43, 0x54, 0x20]; // "CONNECT "

/** The first bytes of an HTTP CONNECT request or a SOCKS 4/5 greeting. */
function isProxyRequest(b: Uint8Array): boolean {
  if (b.length >= 8 && CONNECT.every((c, i) => b[i] === c)) return true;
  if (b.length >= 3 && b[0] === 0x05 && b[1]! >= 1 && b[1]! <= 16) return true; // SOCKS5: version, n methods
  if (b.length >= 9 && b[0] === 0x04 && (b[1] === 0x01 || b[1] === 0x02)) return true; // SOCKS4 CONNECT/BIND
  return false;
}

const EMPTY = new Uint8Array(0);

export class FlowTable {
  private readonly flows = new FlowIndex<Entry>();
  /** the Packet that add(Segment) fills */
  private readonly scratch = new Packet();
  private adding = false;
  private readonly limits: ReassemblyLimits;
  private readonly maxFlows: number;
  private readonly maxMemory: number;
  private readonly idleUs: number;
  private readonly maxDatagrams: number;
  private readonly detectSegments: number;
  private memory = 0;
  private lastSweepUs = 0;
  readonly stats: FlowTableStats = {
    flows: 0,
    handshakes: 0,
    parseErrors: 0,
    evicted: 0,
    idleTimeouts: 0,
    notHandshake: 0,
    retransmits: 0,
    gaps: 0,
    overflows: 0,
    peakFlows: 0,
    peakMemory: 0,
  };

  constructor(
    private readonly onHandshake: (h: Handshake) => void,
    opts: FlowTableOptions = {},
  ) {
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.maxFlows = opts.maxFlows ?? 200_000;
    this.maxMemory = opts.maxMemory ?? 512 * 1024 * 1024;
    this.idleUs = opts.idleTimeoutUs ?? 300e6;
    this.maxDatagrams = opts.maxQuicDatagrams ?? 16;
    this.detectSegments = opts.detectSegments ?? 16;
  }

  /** flows in the table (open and finished records) */
  get size(): number {
    return this.flows.size;
  }

  /** bytes buffered by all flows */
  get bufferedBytes(): number {
    return this.memory;
  }

  /** Take one segment (addresses as text; live capture and tests). */
  add(s: Segment): void {
    // (An onHandshake callback that adds a segment gets a Packet of its own.)
    const reentrant = this.adding;
    const p = reentrant ? new Packet() : this.scratch;
    this.adding = true;
    const src = addressWords(s.srcAddr);
    const dst = addressWords(s.dstAddr);
    p.tsUs = s.tsUs;
    p.ipProto = s.transport === "tcp" ? 6 : 17;
    p.v6 = src.v6 || dst.v6;
    [p.s0, p.s1, p.s2, p.s3] = src.w;
    [p.d0, p.d1, p.d2, p.d3] = dst.w;
    p.srcPort = s.srcPort;
    p.dstPort = s.dstPort;
    p.seq = s.seq;
    p.flags = s.flags;
    p.bytes = s.payload;
    p.payloadStart = 0;
    p.payloadEnd = s.payload.length;
    p.addrAt = -1;
    p.srcText = s.srcAddr;
    p.dstText = s.dstAddr;
    p.view = s.view ?? "";
    try {
      this.addKeyed(p, src.text || dst.text);
    } finally {
      if (!reentrant) this.adding = false;
      p.bytes = EMPTY; // keep no reference to the caller's buffer
    }
  }

  /** Take one decoded packet (pcap ingest: numbers, no strings; see decodePacket). */
  addPacket(p: Packet): void {
    this.addKeyed(p, false);
  }

  private addKeyed(p: Packet, textWords: boolean): void {
    if (p.tsUs - this.lastSweepUs >= 1e6 || p.tsUs < this.lastSweepUs) this.sweep(p.tsUs);
    if (p.ipProto === 6) this.addTcp(p, textWords);
    else this.addUdp(p, textWords);
  }

  /** Finish every open flow (end of input) and empty the table. */
  finishAll(): void {
    for (let f = this.flows.oldest, next: Entry | null; f; f = next) {
      next = f.newer as Entry | null;
      if (!f.finished) this.finish(f, "end");
    }
    this.flows.clear();
    this.memory = 0;
  }

  // ---- TCP ----

  private addTcp(s: Packet, textWords: boolean): void {
    const payloadLength = s.payloadEnd - s.payloadStart;
    // Pure ACKs carry nothing a handshake needs (and are half of all segments): skip them early.
    if (payloadLength === 0 && (s.flags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0) return;
    const srcLow = this.flows.setKey(s, textWords);
    const isSyn = (s.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    const e = this.flows.get();
    let f: TcpFlow | undefined;
    if (e && e.finished) {
      // A new SYN on a finished flow's ports is a new connection (port reuse).
      if (!(isSyn && (e as Retired | TcpFlow).clientIsn !== s.seq)) {
        this.touch(e, s.tsUs);
        return;
      }
      this.drop(e);
    } else {
      f = e as TcpFlow | undefined;
    }
    if (!f) {
      // Pure ACKs and FINs of connections we never saw start nothing.
      if (!isSyn && payloadLength === 0) return;
      f = this.newTcpFlow(s, srcLow);
    }
    this.touch(f, s.tsUs);
    const side: 0 | 1 = srcLow === f.aLow ? 0 : 1;
    const dir = f.dirs[side];

    if (s.flags & TCP_SYN) {
      if (f.client === undefined || f.clientBy !== "syn") {
        const ack = (s.flags & TCP_ACK) !== 0;
        f.client = ack ? ((1 - side) as 0 | 1) : side;
        f.clientBy = "syn";
      }
      if (!(s.flags & TCP_ACK)) f.clientIsn = s.seq;
      dir.syn(s.seq);
    }
    if (payloadLength > 0 && !f.complete[side]) {
      f.dataSegments++;
      // A sender pushes at the end of each write: a flight can only be complete at a PSH.
      if (s.flags & TCP_PSH) f.pushed[side] = true;
      const grew = dir.add(s.seq, s.bytes.subarray(s.payloadStart, s.payloadEnd));
      if (grew) this.onBytes(f, side);
      if (f.finished) return;
    }
    if (s.flags & TCP_RST) {
      this.finish(f, "closed");
      return;
    }
    // A FIN closes its side once every byte before it is in (captures reorder: a FIN may be seen
    // before the last data segment).
    if (s.flags & TCP_FIN) f.finAt[side] = (s.seq + payloadLength) >>> 0;
    if (f.finAt[0] !== undefined || f.finAt[1] !== undefined) {
      this.closeSides(f, 0);
      this.closeSides(f, 1);
      if (f.closed[0] && f.closed[1]) {
        this.finish(f, "closed");
        return;
      }
    }
    if (payloadLength > 0) this.account(f);
    if (f.proto === undefined && f.dataSegments >= this.detectSegments && !f.tunnel) {
      // Many segments and still no handshake start: give up once no side is waiting for a hole
      // to fill (segments queued behind a hole may still hold the hello).
      const undecided = f.dirs.some((d) => d.length < 16 && d.waiting > 0 && !d.stopped);
      if (!undecided) this.giveUp(f);
    }
  }

  private closeSides(f: TcpFlow, i: 0 | 1): void {
    const at = f.finAt[i];
    if (at === undefined || f.closed[i]) return;
    const d = f.dirs[i];
    const next = d.expected;
    if (d.stopped || f.complete[i] || next === undefined || seqDiff(next, at) >= 0) f.closed[i] = true;
  }

  private newTcpFlow(s: Packet, srcLow: boolean): TcpFlow {
    const f: TcpFlow = {
      slot: -1,
      older: null,
      newer: null,
      aLow: srcLow,
      transport: "tcp",
      aAddr: packetAddress(s, 0),
      aPort: s.srcPort,
      bAddr: packetAddress(s, 1),
      bPort: s.dstPort,
      firstTsUs: s.tsUs,
      lastTsUs: s.tsUs,
      finished: false,
      view: s.view === "" ? undefined : s.view,
      mem: 0,
      retired: undefined,
      dirs: [new DirectionStream(this.limits), new DirectionStream(this.limits)],
      client: undefined,
      clientBy: undefined,
      clientIsn: undefined,
      proto: undefined,
      complete: [false, false],
      closed: [false, false],
      pushed: [false, false],
      finAt: [undefined, undefined],
      dataSegments: 0,
      skip: [0, 0],
      tunnel: false,
    };
    this.insert(f);
    return f;
  }

  /** the bytes of one side from the handshake on (after any proxy preamble) */
  private view(f: TcpFlow, side: 0 | 1): Uint8Array {
    const b = f.dirs[side].bytes;
    return f.skip[side] === 0 ? b : b.subarray(f.skip[side]);
  }

  private onBytes(f: TcpFlow, side: 0 | 1): void {
    const dir = f.dirs[side];
    const other = f.dirs[1 - side]!;
    if (f.proto === undefined) {
      let p = detectTcpProto(this.view(f, side));
      if (p === null && f.tunnel) p = this.findTunnelled(f, side);
      if (p === null && !f.tunnel && isProxyRequest(dir.bytes)) {
        // TLS inside an HTTP CONNECT or SOCKS tunnel: the handshake follows the proxy's exchange.
        f.tunnel = true;
        f.client = side;
        f.clientBy = "hello";
        p = this.findTunnelled(f, side);
      }
      if (p === null) {
        // Too few bytes to tell, or not a handshake start (yet: without a SYN the start may move).
        // Both sides talked and neither starts like TLS or SSH: not ours.
        if (!f.tunnel && dir.length >= 16 && other.length >= 16 && detectTcpProto(other.bytes) === null) this.giveUp(f);
        return;
      }
      f.proto = p;
      dir.committed = true;
      if (other.length > 0) other.committed = true;
      if (f.client === undefined) this.guessClient(f, side);
      // The other side may already hold bytes (it spoke first, e.g. an SSH server's banner).
      if (other.length > 0) {
        if (f.tunnel) this.findTunnelled(f, (1 - side) as 0 | 1);
        this.checkComplete(f, (1 - side) as 0 | 1);
      }
      if (f.finished) return;
    } else if (!dir.committed) {
      dir.committed = true;
    }
    if (f.proto === null) return;
    if (f.tunnel && f.skip[side] === 0 && !isHelloAt(dir.bytes, 0)) this.findTunnelled(f, side);
    // Only at a push (or when a pushed segment may have just become contiguous): asking the parser
    // after every segment of a long flight would re-read the flight each time.
    if (!f.pushed[side]) return;
    if (dir.waiting === 0) f.pushed[side] = false;
    this.checkComplete(f, side);
  }

  /** Look for the TLS hello after a proxy preamble on one side; sets skip and returns "tls" when found. */
  private findTunnelled(f: TcpFlow, side: 0 | 1): "tls" | null {
    const b = f.dirs[side].bytes;
    const limit = Math.min(b.length - 6, 4096);
    for (let i = 0; i <= limit; i++) {
      if (isHelloAt(b, i)) {
        f.skip[side] = i;
        return "tls";
      }
    }
    return null;
  }

  private checkComplete(f: TcpFlow, side: 0 | 1): void {
    if (f.complete[side] || !f.proto || f.client === undefined) return;
    // A tunnel side whose hello has not come yet (the proxy's reply is still being read).
    if (f.tunnel && f.skip[side] === 0 && !isHelloAt(f.dirs[side].bytes, 0)) return;
    const dir = f.dirs[side];
    const role = side === f.client ? "c2s" : "s2c";
    let done = false;
    try {
      done = tcpStreamComplete(f.proto, this.view(f, side), role);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      done = true; // malformed: nothing more to learn from this direction
    }
    if (done) {
      f.complete[side] = true;
      dir.stop("complete");
      if (f.complete[1 - side]!) this.finish(f, "complete");
    }
  }

  private guessClient(f: TcpFlow, detectedSide: 0 | 1): void {
    if (f.proto === "tls") {
      const t = helloType(this.view(f, detectedSide));
      if (t === 1 || t === 2) {
        f.client = t === 1 ? detectedSide : ((1 - detectedSide) as 0 | 1);
        f.clientBy = "hello";
        return;
      }
    }
    f.client = clientByPorts(f.aPort, f.bPort) ?? 0;
    f.clientBy = "port";
  }

  private giveUp(f: TcpFlow): void {
    f.proto = null;
    this.stats.notHandshake++;
    this.retire(f);
  }

  // ---- QUIC ----

  private addUdp(s: Packet, textWords: boolean): void {
    const srcLow = this.flows.setKey(s, textWords);
    const e = this.flows.get();
    if (e?.finished) {
      this.touch(e, s.tsUs);
      return;
    }
    let f = e as QuicFlow | undefined;
    const payload = s.bytes.subarray(s.payloadStart, s.payloadEnd);
    if (!isQuicLongHeaderInitial(payload)) {
      if (!f) return;
      this.touch(f, s.tsUs);
      // A server's Retry: its SCID keys the Initials that follow, so the parser needs it too.
      const fromServer = (srcLow === f.aLow ? 0 : 1) !== f.client;
      if (fromServer && isQuicLongHeaderRetry(payload) && f.datagrams[1 - f.client]!.length < this.maxDatagrams) {
        f.datagrams[1 - f.client]!.push(new Uint8Array(payload)); // a copy (a Buffer's slice would be a view)
        f.mem += payload.length;
        this.memory += payload.length;
      }
      return;
    }
    if (!f) {
      const byPort = clientByPorts(s.srcPort, s.dstPort);
      // The first Initial's sender is the client, unless it sends from a well-known port to a high one.
      const senderIsClient = !(byPort === 1 && s.srcPort < 1024);
      f = {
        slot: -1,
        older: null,
        newer: null,
        aLow: srcLow,
        transport: "udp",
        aAddr: packetAddress(s, 0),
        aPort: s.srcPort,
        bAddr: packetAddress(s, 1),
        bPort: s.dstPort,
        firstTsUs: s.tsUs,
        lastTsUs: s.tsUs,
        finished: false,
        view: s.view === "" ? undefined : s.view,
        mem: 0,
        retired: undefined,
        client: senderIsClient ? 0 : 1,
        datagrams: [[], []],
      };
      this.insert(f);
    }
    this.touch(f, s.tsUs);
    const side: 0 | 1 = srcLow === f.aLow ? 0 : 1;
    const list = f.datagrams[side];
    list.push(new Uint8Array(payload)); // a copy (a Buffer's slice would be a view): the caller reuses its bytes
    f.mem += payload.length;
    this.memory += payload.length;
    this.peak();
    if (list.length >= this.maxDatagrams) {
      this.finish(f, "datagram-limit");
      return;
    }
    // A server Initial may complete the picture: look (each datagram is decrypted once however
    // often this asks), and parse the conversation only once both hellos are there.
    if (side !== f.client && f.datagrams[f.client].length > 0 && quicHandshakeComplete(f.datagrams[f.client], f.datagrams[1 - f.client]!)) {
      const r = this.parseQuic(f);
      if (r && r.complete) this.emitAndRetire(f, r, "complete");
    }
    this.enforceBudget();
  }

  private parseQuic(f: QuicFlow): HandshakeResult | null {
    try {
      return parseQuicConversation(f.datagrams[f.client], f.datagrams[1 - f.client]!);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      return null;
    }
  }

  // ---- common ----

  private finish(f: Flow, reason: FinishReason): void {
    if (f.finished) return;
    let r: HandshakeResult | null = null;
    if (f.transport === "udp") {
      r = this.parseQuic(f);
      if (!r) this.stats.parseErrors++;
    } else if (f.proto && f.client !== undefined) {
      const c = f.dirs[f.client];
      const sv = f.dirs[1 - f.client]!;
      if (c.length > 0 || sv.length > 0) {
        try {
          r = parseTcpConversation(f.proto, this.view(f, f.client), this.view(f, (1 - f.client) as 0 | 1));
        } catch (err) {
          if (!(err instanceof ParseError)) throw err;
          this.stats.parseErrors++;
        }
      }
      for (const d of f.dirs) {
        this.stats.retransmits += d.retransmits;
        if (d.stopped === "overflow") this.stats.overflows++;
        else if (d.stopped === "gap" && d.waiting > 0) this.stats.gaps++;
      }
    }
    if (r) this.emitAndRetire(f, r, reason);
    else this.retire(f);
  }

  private emitAndRetire(f: Flow, r: HandshakeResult, reason: FinishReason): void {
    const clientIsA = f.client === 0;
    this.stats.handshakes++;
    const h: Handshake = {
      proto: r.proto,
      transport: f.transport,
      clientAddr: clientIsA ? f.aAddr : f.bAddr,
      clientPort: clientIsA ? f.aPort : f.bPort,
      serverAddr: clientIsA ? f.bAddr : f.aAddr,
      serverPort: clientIsA ? f.bPort : f.aPort,
      firstTsUs: f.firstTsUs,
      result: r,
      reason,
      clientBy: f.transport === "udp" ? "quic-initial" : (f.clientBy ?? "port"),
      view: f.view,
    };
    this.retire(f);
    this.onHandshake(h);
  }

  /** Keep only the record that this connection was dealt with (a Retired in its place); free its buffers. */
  private retire(f: Flow): void {
    f.finished = true;
    if (f.transport === "tcp") {
      f.dirs[0].release();
      f.dirs[1].release();
    } else {
      f.datagrams = [[], []];
    }
    this.memory -= f.mem;
    f.mem = 0;
    if (f.slot < 0) return; // not in the index (any more)
    const r: Retired = {
      slot: -1,
      older: null,
      newer: null,
      view: f.view,
      transport: f.transport,
      finished: true,
      lastTsUs: f.lastTsUs,
      mem: 0,
      clientIsn: f.transport === "tcp" ? f.clientIsn : undefined,
      aLow: f.aLow,
    };
    this.flows.replace(f, r);
    f.retired = r;
  }

  /** Finish a flow and take it (or the Retired record now in its place) out of the table. */
  private finishAndDrop(f: Entry, reason: FinishReason): void {
    if (!f.finished) this.finish(f as Flow, reason);
    this.drop((f as Flow).retired ?? f);
  }

  private drop(f: Entry): void {
    this.memory -= f.mem;
    this.flows.delete(f);
  }

  /** Add a new flow under the key of the packet being handled. */
  private insert(f: Flow): void {
    this.flows.insert(f);
    this.stats.flows++;
    if (this.flows.size > this.stats.peakFlows) this.stats.peakFlows = this.flows.size;
    this.enforceBudget();
  }

  /** Note activity: the flow moves to the recent end of the order that sweeps and eviction use. */
  private touch(f: Entry, tsUs: number): void {
    if (tsUs > f.lastTsUs) f.lastTsUs = tsUs;
    this.flows.touch(f);
  }

  private account(f: TcpFlow): void {
    if (f.finished) return;
    const m = f.dirs[0].memory + f.dirs[1].memory;
    this.memory += m - f.mem;
    f.mem = m;
    this.peak();
    this.enforceBudget();
  }

  private peak(): void {
    if (this.memory > this.stats.peakMemory) this.stats.peakMemory = this.memory;
  }

  private enforceBudget(): void {
    while (this.flows.size > this.maxFlows || this.memory > this.maxMemory) {
      const oldest = this.flows.oldest;
      if (!oldest) break;
      if (!oldest.finished) this.stats.evicted++;
      this.finishAndDrop(oldest, "evicted");
    }
  }

  /** Finish flows idle for longer than the timeout (oldest first: the index is in activity order). */
  private sweep(nowUs: number): void {
    this.lastSweepUs = nowUs;
    for (let f = this.flows.oldest, next: Entry | null; f; f = next) {
      next = f.newer as Entry | null;
      if (nowUs - f.lastTsUs < this.idleUs) break;
      if (!f.finished) this.stats.idleTimeouts++;
      this.finishAndDrop(f, "idle");
    }
  }
}
