// One direction of a TCP connection, put back in sequence order, for the first few KiB only
// (the handshake). Out-of-order segments wait in a short sorted list; retransmits and overlaps
// keep the bytes that arrived first (what the receiver's stack would have kept too, in the
// common case). Memory is bounded: at most `maxBytes` assembled and `maxSegments` waiting.

export interface ReassemblyLimits {
  /** assembled bytes kept per direction */
  maxBytes: number;
  /** out-of-order segments waiting per direction */
  maxSegments: number;
}

export const DEFAULT_LIMITS: ReassemblyLimits = { maxBytes: 64 * 1024, maxSegments: 64 };

/** Signed distance a - b in sequence space (RFC 1982 style, mod 2^32). */
export function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}

interface Pending {
  seq: number;
  data: Uint8Array;
}

export type StopReason = "overflow" | "gap" | "complete" | null;

const EMPTY = new Uint8Array(0);

// Small buffers are carved out of shared 128 KiB slabs (as Buffer.allocUnsafe does out of its 8 KiB
// pool, but as plain Uint8Arrays, whose views are the cheaper kind): one object per buffer instead
// of a Buffer and an ArrayBuffer of its own (a backing store each is what makes those costly).
// Every byte is written before it is read. A slab lives as long as any view of it: keep copies,
// not views, of anything held long (see FileIngest's lastChain).
const SLAB = 128 * 1024;
const SLAB_MAX_CARVE = 16 * 1024;
let slab = new ArrayBuffer(SLAB);
let slabUsed = 0;

function carve(n: number): Uint8Array {
  if (n > SLAB_MAX_CARVE) return new Uint8Array(n);
  if (slabUsed + n > SLAB) {
    slab = new ArrayBuffer(SLAB);
    slabUsed = 0;
  }
  const b = new Uint8Array(slab, slabUsed, n);
  slabUsed += (n + 7) & ~7;
  return b;
}
const NONE_PENDING: Pending[] = []; // shared, never written to

export class DirectionStream {
  private buf: Uint8Array = EMPTY;
  private len = 0;
  /** bytes() as last handed out, until the assembled bytes change */
  private view: Uint8Array | null = null;
  /** sequence number of the next byte expected (undefined until SYN or first data) */
  private next: number | undefined;
  /** a SYN fixed the start; without one the start may still move back (see add) */
  private anchored = false;
  /** the assembled prefix was handed to a consumer: the start may no longer move */
  committed = false;
  private pending: Pending[] = NONE_PENDING; // replaced by an array of its own at the first out-of-order segment
  private pendingBytes = 0;
  /** why this direction stopped taking bytes; null while it still does */
  stopped: StopReason = null;
  /** count of segments that carried only bytes we already had */
  retransmits = 0;

  constructor(private readonly limits: ReassemblyLimits = DEFAULT_LIMITS) {}

  /** the contiguous bytes from the start of the stream (a view; copy to keep) */
  get bytes(): Uint8Array {
    return (this.view ??= this.buf.subarray(0, this.len));
  }

  get length(): number {
    return this.len;
  }

  /** sequence number of the next byte expected, once known */
  get expected(): number | undefined {
    return this.next;
  }

  /** bytes held in memory by this direction (assembled capacity + waiting segments) */
  get memory(): number {
    return this.buf.length + this.pendingBytes;
  }

  get waiting(): number {
    return this.pending.length;
  }

  /** The SYN (or SYN-ACK) of this direction: data starts at isn + 1. */
  syn(isn: number): void {
    if (this.anchored) return;
    const start = (isn + 1) >>> 0;
    if (this.next !== undefined && this.len > 0 && !this.committed) {
      // Data arrived before its SYN (capture reordering): restart from the SYN.
      this.requeueAssembled();
    }
    this.next = start;
    this.anchored = true;
    this.drain();
  }

  /** Add one segment's payload. Returns true when new contiguous bytes became available. */
  add(seq: number, payload: Uint8Array): boolean {
    if (this.stopped || payload.length === 0) return false;
    if (this.next === undefined) {
      this.next = seq >>> 0;
    } else if (!this.anchored && !this.committed && seqDiff(seq, this.next - this.len) < 0) {
      // No SYN seen and this segment starts before what we took as the start: the capture began
      // mid-stream and segments came out of order. Move the start back, keep what we had waiting.
      if (-seqDiff(seq, this.next - this.len) <= this.limits.maxBytes) {
        this.requeueAssembled();
        this.next = seq >>> 0;
      }
    }
    const before = this.len;
    this.place(seq >>> 0, payload);
    this.drain();
    return this.len > before;
  }

  /** Stop taking bytes and release what is waiting (the assembled prefix stays readable). */
  stop(reason: Exclude<StopReason, null>): void {
    if (!this.stopped) this.stopped = reason;
    this.pending = NONE_PENDING;
    this.pendingBytes = 0;
  }

  /** Release everything. */
  release(): void {
    this.stop(this.stopped ?? "gap");
    this.buf = EMPTY;
    this.len = 0;
    this.view = null;
  }

  private own(): Pending[] {
    if (this.pending === NONE_PENDING) this.pending = [];
    return this.pending;
  }

  private requeueAssembled(): void {
    if (this.len > 0 && this.next !== undefined) {
      const start = (this.next - this.len) >>> 0;
      this.own().unshift({ seq: start, data: new Uint8Array(this.buf.subarray(0, this.len)) });
      this.pendingBytes += this.len;
      this.pending.sort((a, b) => seqDiff(a.seq, b.seq));
    }
    this.len = 0;
    this.view = null;
  }

  private place(seq: number, payload: Uint8Array): void {
    const next = this.next!;
    const d = seqDiff(seq, next);
    if (d <= 0) {
      const skip = -d;
      if (skip >= payload.length) {
        this.retransmits++;
        return;
      }
      this.append(skip === 0 ? payload : payload.subarray(skip));
      return;
    }
    // A hole before this segment: wait for it to be filled.
    if (d >= this.limits.maxBytes - this.len) {
      // Beyond what we would ever keep: the handshake cannot need it.
      return;
    }
    if (this.pending.length >= this.limits.maxSegments) {
      this.stop("gap");
      return;
    }
    const copy = new Uint8Array(payload); // a copy: payload may be a view the caller reuses (Buffer.slice would not copy)
    let i = this.pending.length;
    while (i > 0 && seqDiff(this.pending[i - 1]!.seq, seq) > 0) i--;
    this.own().splice(i, 0, { seq, data: copy });
    this.pendingBytes += copy.length;
  }

  private drain(): void {
    while (this.pending.length > 0 && !this.stopped) {
      const p = this.pending[0]!;
      const d = seqDiff(p.seq, this.next!);
      if (d > 0) break;
      this.pending.shift();
      this.pendingBytes -= p.data.length;
      const skip = -d;
      if (skip < p.data.length) this.append(skip === 0 ? p.data : p.data.subarray(skip));
      else this.retransmits++;
    }
  }

  private append(data: Uint8Array): void {
    let n = data.length;
    const room = this.limits.maxBytes - this.len;
    if (n > room) n = room;
    if (n > 0) {
      if (this.len + n > this.buf.length) {
        // The first segment gets a buffer of its own size (most hellos fit one segment); later
        // growth doubles.
        let cap = this.buf.length === 0 ? n : this.buf.length * 2;
        while (cap < this.len + n) cap *= 2;
        const grown = carve(Math.min(cap, this.limits.maxBytes));
        if (this.len > 0) grown.set(this.buf.subarray(0, this.len));
        this.buf = grown;
      }
      if (n === data.length) this.buf.set(data, this.len);
      else this.buf.set(data.subarray(0, n), this.len);
      this.len += n;
      this.view = null;
      this.next = (this.next! + n) >>> 0;
    }
    if (n < data.length) this.stop("overflow");
  }
}
