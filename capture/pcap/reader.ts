// Streaming readers for libpcap and pcapng capture files. Bytes are pushed in chunks as they come
// from disk (or from gunzip) and every complete record is handed to a callback at once, so a
// multi-GB file never sits in memory: only the current chunk and at most one partial record do.
import { once } from "node:events";
import { open as openCb } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { promisify } from "node:util";
import { Socket } from "node:net";
import { createGunzip } from "node:zlib";
import { CaptureFormatError } from "./errors.ts";

export interface CapturedFrame {
  /** capture time, µs since the Unix epoch */
  tsUs: number;
  /** LINKTYPE_* of the interface the frame was captured on */
  linkType: number;
  /** the captured bytes: a view into the reader's buffer, valid only during the callback (copy to keep) */
  readonly data: Uint8Array;
  /** the same bytes without a view made for them: buffer[start, end) (for per-packet hot paths) */
  buffer: Uint8Array;
  start: number;
  end: number;
  /** length of the frame on the wire (may exceed data.length when the snap length cut it) */
  origLen: number;
  /** byte offset of the record in the (decompressed) file */
  offset: number;
}

// One frame object, refilled for every record. `data` is made only when asked for: a consumer that
// reads buffer/start/end allocates nothing per frame.
class Frame implements CapturedFrame {
  tsUs = 0;
  linkType = 0;
  buffer: Uint8Array = new Uint8Array(0);
  start = 0;
  end = 0;
  origLen = 0;
  offset = 0;
  get data(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }
}
/** Gets each frame; the object and its data are reused for the next frame (copy what you keep). */
export type FrameSink = (frame: CapturedFrame) => void;

// No real record comes near this; a larger length means the file is damaged, not a jumbo frame.
const MAX_RECORD = 16 * 1024 * 1024;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

interface Interface {
  linkType: number;
  /** ticks per second is 10^k or 2^k; tsUs = ticks * mul / div (exact integer maths below) */
  tsDecimalExp: number | null; // k when the resolution is 10^-k
  tsBinaryExp: number | null; // k when the resolution is 2^-k
  tsOffsetS: number;
}

type Format = "unknown" | "pcap" | "pcapng";

/**
 * Push-based decoder of one capture file. `push` every chunk, then `end`; frames reach the sink
 * synchronously. Throws CaptureFormatError (file + byte offset) on damage; frames before the
 * damage have already been delivered.
 */
export class CaptureDecoder {
  private format: Format = "unknown";
  private le = true;
  private pcapNs = false;
  private pcapLinkType = 0;
  private interfaces: Interface[] = [];
  private pending: Uint8Array | null = null; // bytes of a record not complete yet
  private base = 0; // file offset of the next unread byte
  private bufBase = 0; // file offset of byte 0 of the buffer being decoded (positions in it are relative to it)
  private lastTsUs = 0;
  frames = 0;

  constructor(
    private readonly file: string,
    private readonly sink: FrameSink,
  ) {}

  /** bytes consumed so far (the offset of the next record) */
  get offset(): number {
    return this.base;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // A plain Uint8Array: views of it (one per frame) are cheaper to make than a Buffer's.
    chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    if (this.pending) {
      // A record cut by the previous chunk's end: join it with only as much of this chunk as it
      // needs (not the whole chunk, which would copy every byte of the file once more).
      let pending = this.pending;
      for (let take = Math.min(chunk.length, 4096); ; take = Math.min(chunk.length, take * 8)) {
        const joined = new Uint8Array(pending.length + take);
        joined.set(pending, 0);
        joined.set(chunk.subarray(0, take), pending.length);
        const used = this.consume(joined, 0);
        if (used >= pending.length) {
          this.pending = null;
          from = used - pending.length;
          break;
        }
        if (take === chunk.length) {
          this.pending = joined.slice(used);
          return;
        }
        pending = pending.subarray(used);
      }
    }
    const pos = this.consume(chunk, from);
    // A copy: the reader reuses its chunk buffer.
    if (pos < chunk.length) this.pending = chunk.slice(pos);
  }

  /** Decode every complete record of buf from pos on; returns where the first incomplete one starts. */
  private consume(buf: Uint8Array, pos: number): number {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.bufBase = this.base - pos;
    for (;;) {
      const used = this.next(buf, view, pos);
      if (used === 0) return pos;
      pos += used;
      this.base += used;
    }
  }

  end(): void {
    if (this.format === "unknown") {
      const n = this.pending?.length ?? 0;
      throw new CaptureFormatError(
        this.file,
        this.base + n,
        n === 0 ? "empty file, not a pcap or pcapng capture" : "file too short for a capture header",
      );
    }
    if (this.pending && this.pending.length > 0) {
      throw new CaptureFormatError(
        this.file,
        this.base,
        `truncated ${this.format} record (${this.pending.length} bytes of it present, file ends)`,
      );
    }
  }

  // One frame object, refilled for every record: like `data`, it is valid during the callback only.
  private readonly frame = new Frame();

  private emit(tsUs: number, linkType: number, buf: Uint8Array, start: number, end: number, origLen: number, offset: number): void {
    const f = this.frame;
    f.tsUs = tsUs;
    f.linkType = linkType;
    f.buffer = buf;
    f.start = start;
    f.end = end;
    f.origLen = origLen;
    f.offset = offset;
    this.sink(f);
  }

  private u32(v: DataView, at: number): number {
    return v.getUint32(at, this.le);
  }

  private fail(at: number, reason: string): never {
    throw new CaptureFormatError(this.file, this.bufBase + at, reason);
  }

  /** Consume one header or record starting at pos; return bytes used, 0 if more bytes are needed. */
  private next(buf: Uint8Array, v: DataView, pos: number): number {
    const avail = buf.length - pos;
    if (this.format === "unknown") {
      if (avail < 4) return 0;
      const magicLE = v.getUint32(pos, true);
      if (magicLE === PCAPNG_SHB) {
        this.format = "pcapng";
        return this.nextPcapng(buf, v, pos, avail);
      }
      const magicBE = v.getUint32(pos, false);
      if (magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS) this.le = true;
      else if (magicBE === PCAP_MAGIC_US || magicBE === PCAP_MAGIC_NS) this.le = false;
      else
        this.fail(0, `not a pcap or pcapng file (magic 0x${magicBE.toString(16).padStart(8, "0")})`);
      if (avail < 24) return 0;
      this.pcapNs = this.u32(v, pos) === PCAP_MAGIC_NS;
      // The FCS bits (28-31) of the link-type field are not part of the link type.
      this.pcapLinkType = this.u32(v, pos + 20) & 0x0fffffff;
      this.format = "pcap";
      return 24;
    }
    return this.format === "pcap" ? this.nextPcap(buf, v, pos, avail) : this.nextPcapng(buf, v, pos, avail);
  }

  private nextPcap(buf: Uint8Array, v: DataView, pos: number, avail: number): number {
    if (avail < 16) return 0;
    const incl = this.u32(v, pos + 8);
    if (incl > MAX_RECORD) this.fail(pos, `bad pcap record length ${incl}`);
    if (avail < 16 + incl) return 0;
    const sec = this.u32(v, pos);
    const frac = this.u32(v, pos + 4);
    const tsUs = sec * 1e6 + (this.pcapNs ? Math.floor(frac / 1000) : frac);
    this.frames++;
    this.emit(tsUs, this.pcapLinkType, buf, pos + 16, pos + 16 + incl, this.u32(v, pos + 12), this.bufBase + pos);
    return 16 + incl;
  }

  private nextPcapng(buf: Uint8Array, v: DataView, pos: number, avail: number): number {
    if (avail < 12) return 0;
    const type = v.getUint32(pos, this.le);
    if (type === PCAPNG_SHB) {
      // A new section may switch byte order: read it from the byte-order magic.
      const bom = v.getUint32(pos + 8, true);
      if (bom === PCAPNG_BOM) this.le = true;
      else if (v.getUint32(pos + 8, false) === PCAPNG_BOM) this.le = false;
      else this.fail(pos, "bad pcapng section header (byte-order magic)");
    }
    const len = this.u32(v, pos + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) this.fail(pos, `bad pcapng block length ${len}`);
    if (avail < len) return 0;
    if (this.u32(v, pos + len - 4) !== len) this.fail(pos, "pcapng block length mismatch (trailer)");
    const body = pos + 8;
    const bodyLen = len - 12;
    switch (type) {
      case PCAPNG_SHB:
        if (bodyLen < 16) this.fail(pos, "pcapng section header too short");
        this.interfaces = [];
        break;
      case 1: // Interface Description Block
        if (bodyLen < 8) this.fail(pos, "pcapng interface block too short");
        this.interfaces.push(this.readInterface(buf, v, body, bodyLen));
        break;
      case 6: // Enhanced Packet Block
      case 2: {
        // (2 = obsolete Packet Block: 16-bit interface id and drop count where EPB has a 32-bit id)
        if (bodyLen < 20) this.fail(pos, "pcapng packet block too short");
        const ifId = type === 6 ? this.u32(v, body) : v.getUint16(body, this.le);
        const iface = this.interfaces[ifId];
        if (!iface) this.fail(pos, `pcapng packet on undeclared interface ${ifId}`);
        const capLen = this.u32(v, body + 12);
        if (capLen > bodyLen - 20) this.fail(pos, `pcapng captured length ${capLen} exceeds its block`);
        const tsUs = this.ticksToUs(iface, this.u32(v, body + 4), this.u32(v, body + 8));
        this.lastTsUs = tsUs;
        this.frames++;
        this.emit(tsUs, iface.linkType, buf, body + 20, body + 20 + capLen, this.u32(v, body + 16), this.bufBase + pos);
        break;
      }
      case 3: {
        // Simple Packet Block: interface 0, no timestamp (we reuse the last one seen).
        if (bodyLen < 4) this.fail(pos, "pcapng simple packet block too short");
        const iface = this.interfaces[0];
        if (!iface) this.fail(pos, "pcapng simple packet before any interface");
        const origLen = this.u32(v, body);
        const capLen = Math.min(origLen, bodyLen - 4);
        this.frames++;
        this.emit(this.lastTsUs, iface.linkType, buf, body + 4, body + 4 + capLen, origLen, this.bufBase + pos);
        break;
      }
      default:
        // Name resolution, statistics, custom and decryption-secrets blocks carry no packets.
        break;
    }
    return len;
  }

  private readInterface(buf: Uint8Array, v: DataView, body: number, bodyLen: number): Interface {
    const iface: Interface = {
      linkType: v.getUint16(body, this.le),
      tsDecimalExp: 6,
      tsBinaryExp: null,
      tsOffsetS: 0,
    };
    let o = body + 8;
    const end = body + bodyLen;
    while (o + 4 <= end) {
      const code = v.getUint16(o, this.le);
      const olen = v.getUint16(o + 2, this.le);
      if (code === 0) break;
      if (o + 4 + olen > end) break; // damaged options: keep the defaults
      if (code === 9 && olen >= 1) {
        const r = buf[o + 4]!;
        if (r & 0x80) {
          iface.tsDecimalExp = null;
          iface.tsBinaryExp = r & 0x7f;
        } else {
          iface.tsDecimalExp = r;
        }
      } else if (code === 14 && olen >= 8) {
        iface.tsOffsetS = Number(v.getBigInt64(o + 4, this.le));
      }
      o += 4 + olen + ((4 - (olen % 4)) % 4);
    }
    return iface;
  }

  private ticksToUs(iface: Interface, hi: number, lo: number): number {
    const off = iface.tsOffsetS * 1e6;
    if (iface.tsDecimalExp === 6) return hi * 4294967296 + lo + off;
    const ticks = (BigInt(hi) << 32n) | BigInt(lo);
    if (iface.tsDecimalExp !== null) {
      const k = iface.tsDecimalExp;
      if (k > 6) return Number(ticks / 10n ** BigInt(k - 6)) + off;
      return Number(ticks * 10n ** BigInt(6 - k)) + off;
    }
    return Number((ticks * 1_000_000n) >> BigInt(iface.tsBinaryExp!)) + off;
  }
}

export interface ReadProgress {
  /** bytes read from disk so far (compressed bytes for .gz) */
  bytesRead: number;
  /** file size on disk */
  fileSize: number;
}

export interface ReadResult {
  frames: number;
  bytesRead: number;
}

/**
 * Read one capture file (pcap, pcapng, either gzip-compressed) in 1 MiB chunks and hand each frame
 * to `sink`. Rejects with CaptureFormatError on damage, after every frame before it was delivered.
 */
const openFd = promisify(openCb);

export async function readCaptureFile(
  file: string,
  sink: FrameSink,
  /** called after every chunk; a returned promise is awaited (back-pressure for the consumer) */
  onProgress?: (p: ReadProgress) => void | Promise<void>,
  /** stop reading (at once, without an error) once aborted, e.g. on SIGINT */
  signal?: AbortSignal,
): Promise<ReadResult & { aborted: boolean }> {
  let fileSize: number;
  let fh: FileHandle | undefined;
  let streamFd = -1;
  let stream = false;
  try {
    const st = await stat(file);
    fileSize = st.size;
    stream = st.isFIFO() || st.isSocket() || st.isCharacterDevice();
    // A pipe's descriptor is handed to a net.Socket, which closes it: it must be a plain fd, not a
    // FileHandle, or the FileHandle's GC would later close whatever file got that number next.
    if (stream) streamFd = await openFd(file, "r");
    else fh = await open(file, "r");
  } catch (err) {
    throw new Error(`${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const decoder = new CaptureDecoder(file, sink);
  let bytesRead = 0;
  let aborted = false;
  let sock: Socket | undefined;
  // Listeners are removed when this file is done: one signal serves every file of an ingest.
  let onAbort = () => {};
  const abortedP = new Promise<null>((resolve) => {
    if (signal?.aborted) resolve(null);
    onAbort = () => {
      resolve(null);
      sock?.destroy();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  // Plain sequential reads (no positions): works for pipes and FIFOs too. A read waiting for data
  // loses the race against an abort.
  // Two chunk buffers, alternating: the next read fills one (on a thread-pool thread, so on another
  // core) while the frames of the other are decoded. Frames are views into a chunk that live only
  // during the sink call (and a record cut by the chunk end is copied), so nothing points into a
  // chunk once the next one is asked for, which is when the read into its buffer starts.
  async function* chunks(): AsyncGenerator<Buffer> {
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    const readInto = (b: Buffer) => {
      const p = fh!.read(b, 0, CHUNK, null);
      p.catch(() => {}); // a read ahead that fails is reported where it is awaited, not as unhandled
      return p;
    };
    let k = 0;
    let pending = readInto(bufs[0]!);
    for (;;) {
      const r = signal ? await Promise.race([pending, abortedP]) : await pending;
      if (r === null) {
        aborted = true;
        return;
      }
      if (r.bytesRead === 0) return;
      bytesRead += r.bytesRead;
      const full = bufs[k]!;
      k ^= 1;
      pending = readInto(bufs[k]!);
      yield full.subarray(0, r.bytesRead);
    }
  }
  // A pipe (tcpdump -w - | ..., a FIFO) is read through the event loop instead: a read that waits
  // for a writer must not hold a thread-pool thread that exiting would wait for.
  if (stream) {
    sock = new Socket({ fd: streamFd, readable: true, writable: false });
  }
  async function* fromSocket(): AsyncGenerator<Buffer> {
    for await (const c of sock!) {
      bytesRead += (c as Buffer).length;
      yield c as Buffer;
    }
    if (signal?.aborted) aborted = true;
  }
  const raw = sock ? fromSocket() : chunks();
  let source: AsyncIterable<Buffer> = raw;
  let gz = false;
  try {
    const first = await raw.next();
    if (!first.done) {
      gz = first.value.length >= 2 && first.value[0] === 0x1f && first.value[1] === 0x8b;
      source = gz ? gunzipped(first.value, raw) : prepend(first.value, raw);
    }
    for await (const chunk of source) {
      decoder.push(chunk);
      if (onProgress) {
        const wait = onProgress({ bytesRead, fileSize });
        if (wait) await wait;
      }
      if (signal?.aborted) {
        aborted = true;
        break;
      }
    }
  } catch (err) {
    if (err instanceof CaptureFormatError) throw err;
    if (signal?.aborted) aborted = true;
    else if (!gz) throw new Error(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    // zlib reports a cut or corrupt .gz as a stream error: report it like any other damage.
    else throw new CaptureFormatError(file, decoder.offset, `gzip stream damaged (${(err as Error).message}); offset in the decompressed data`);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (sock) sock.destroy(); // closes the descriptor itself
    else if (aborted) void fh!.close().catch(() => {});
    else await fh!.close().catch(() => {});
  }
  if (aborted) return { frames: decoder.frames, bytesRead, aborted: true };
  decoder.end();
  return { frames: decoder.frames, bytesRead, aborted: false };
}

const CHUNK = 1 << 20;

async function* prepend(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (;;) {
    const n = await rest.next();
    if (n.done) return;
    yield n.value;
  }
}

/** Decompress a gzip stream chunk by chunk (a .pcap.gz never sits in memory whole either). */
function gunzipped(first: Buffer, rest: AsyncIterator<Buffer>): AsyncIterable<Buffer> {
  const gunzip = createGunzip();
  void (async () => {
    try {
      for (let c: Buffer | undefined = first; c; ) {
        if (!gunzip.write(c)) await once(gunzip, "drain");
        const n = await rest.next();
        c = n.done ? undefined : n.value;
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  return gunzip;
}
