// Typed wrapper over the native addon (native/): open/load BPF objects, attach programs, read maps, and
// consume ring buffers in batches on a native thread. Every failure is an Error with libbpf's text and a hint.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../repo-root.ts";
import { ensureTracefs } from "./kernelfs.ts";

export { REPO_ROOT };
const ADDON_PATH = join(REPO_ROOT, "native/build/Release/cryptoscope_bpf.node");
export const BPF_OUTPUT_DIR = join(REPO_ROOT, "bpf/.output");

export interface ProgramInfo { name: string; section: string; type: string }
export interface MapInfo { name: string; type: string; keySize: number; valueSize: number; maxEntries: number; fd: number }
export interface UprobeTarget {
  binary: string;
  symbol?: string;     // function name (resolved by libbpf from .symtab/.dynsym)
  offset?: number;     // or a file offset (added to symbol if both)
  pid?: number;        // -1 / undefined = every process mapping the binary
  retprobe?: boolean;
  cookie?: bigint | number; // bpf_get_attach_cookie() in the program
}
export interface UsdtTarget { binary: string; provider: string; name: string; pid?: number; cookie?: bigint | number }
export interface TcTarget { ifname?: string; ifindex?: number; netns?: string; direction: "ingress" | "egress"; priority?: number; handle?: number }
export interface RingBufOptions {
  batchBytes?: number;       // hand a batch to JS once this much is buffered (default 256 KiB)
  timeoutMs?: number;        // poll timeout: a partial batch is handed over after this long (default 50 ms)
  maxQueuedBatches?: number; // bounded queue towards JS; further batches are counted as dropped (default 64)
}
export interface RingBufStats { records: number; bytes: number; batches: number; queuedBatches: number; droppedRecords: number; droppedBatches: number }

interface NativeObject {
  setRodata(name: string, value: Buffer): void;
  load(): void;
  programs(): ProgramInfo[];
  maps(): MapInfo[];
  attachUprobe(prog: string, t: UprobeTarget): number;
  attachUsdt(prog: string, t: UsdtTarget): number;
  attachTracepoint(prog: string, category: string, name: string): number;
  attachTc(prog: string, t: TcTarget): number;
  attachCgroup(prog: string, path: string): number;
  detach(id: number): boolean;
  mapLookup(map: string, key: Buffer): Buffer | null;
  mapUpdate(map: string, key: Buffer, value: Buffer, flags?: number): void;
  mapDelete(map: string, key: Buffer): boolean;
  mapKeys(map: string): Buffer[];
  close(): void;
}
interface NativeConsumer { stats(): RingBufStats; stop(): void }
interface Addon {
  BpfObject: new (src: string | Buffer, name: string) => NativeObject;
  RingBufConsumer: new (obj: NativeObject, maps: string[], opts: RingBufOptions, cb: (b: Buffer, n: number) => void) => NativeConsumer;
  libbpfVersion(): string;
  numPossibleCpus(): number;
}

let addon: Addon | undefined;
export function loadAddon(): Addon {
  if (addon) return addon;
  if (!existsSync(ADDON_PATH)) throw new Error(`native addon not built (${ADDON_PATH}): run \`npm run setup\``);
  addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  return addon;
}

export function libbpfVersion(): string {
  return loadAddon().libbpfVersion();
}

/** Path of a built object in bpf/.output, e.g. bpfObjectPath("probe_check"). */
export function bpfObjectPath(name: string): string {
  const p = join(BPF_OUTPUT_DIR, `${name}.bpf.o`);
  if (!existsSync(p)) throw new Error(`BPF object ${name} not built (${p}): run \`npm run setup\``);
  return p;
}

/** One BPF object: open → setRodata* → load → attach* → close. */
export class BpfObject {
  readonly name: string;
  private native: NativeObject;
  private consumers = new Set<RingBufConsumer>();
  private closed = false;

  constructor(source: string | Buffer, name?: string) {
    this.name = name ?? (typeof source === "string" ? source.replace(/^.*\//, "").replace(/\.bpf\.o$/, "") : "bpf");
    this.native = new (loadAddon().BpfObject)(source, this.name);
  }

  /** Sets a `const volatile` global; numbers are written as little-endian of the variable's size. */
  setRodata(name: string, value: Buffer | number | bigint, size: 1 | 2 | 4 | 8 = 4): this {
    let buf: Buffer;
    if (Buffer.isBuffer(value)) buf = value;
    else {
      buf = Buffer.alloc(size);
      if (size === 8) buf.writeBigUInt64LE(BigInt(value));
      else buf.writeUIntLE(Number(value), 0, size);
    }
    this.native.setRodata(name, buf);
    return this;
  }
  load(): this { this.native.load(); return this; }
  programs(): ProgramInfo[] { return this.native.programs(); }
  maps(): MapInfo[] { return this.native.maps(); }
  attachUprobe(prog: string, t: UprobeTarget): number {
    return this.native.attachUprobe(prog, { ...t, cookie: t.cookie === undefined ? undefined : BigInt(t.cookie) });
  }
  attachUsdt(prog: string, t: UsdtTarget): number {
    return this.native.attachUsdt(prog, { ...t, cookie: t.cookie === undefined ? undefined : BigInt(t.cookie) });
  }
  attachTracepoint(prog: string, category: string, name: string): number {
    ensureTracefs();
    return this.native.attachTracepoint(prog, category, name);
  }
  attachTc(prog: string, t: TcTarget): number { return this.native.attachTc(prog, t); }
  attachCgroup(prog: string, cgroupPath: string): number { return this.native.attachCgroup(prog, cgroupPath); }
  detach(linkId: number): boolean { return this.native.detach(linkId); }
  mapLookup(map: string, key: Buffer): Buffer | null { return this.native.mapLookup(map, key); }
  mapUpdate(map: string, key: Buffer, value: Buffer, flags = 0): void { this.native.mapUpdate(map, key, value, flags); }
  mapDelete(map: string, key: Buffer): boolean { return this.native.mapDelete(map, key); }
  mapKeys(map: string): Buffer[] { return this.native.mapKeys(map); }

  /** Sum of a per-CPU u64 counter at `index` (e.g. the `drops` map every ring-buffer program defines). */
  percpuSum(map: string, index = 0): bigint {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(index);
    const v = this.mapLookup(map, key);
    if (!v) return 0n;
    let sum = 0n;
    for (let off = 0; off + 8 <= v.length; off += 8) sum += v.readBigUInt64LE(off);
    return sum;
  }
  /** Records the BPF side could not reserve in its ring buffer. */
  kernelDrops(): bigint { return this.percpuSum("drops"); }

  /** A u64 in an array map. */
  arrayU64(map: string, index: number): bigint {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(index);
    return this.mapLookup(map, key)?.readBigUInt64LE(0) ?? 0n;
  }

  consumeRingBuffers(maps: string[], onBatch: (batch: Buffer, records: number) => void, opts: RingBufOptions = {}): RingBufConsumer {
    const c = new RingBufConsumer(this, new (loadAddon().RingBufConsumer)(this.native, maps, opts, onBatch));
    this.consumers.add(c);
    return c;
  }

  /** Stops consumers, detaches every link and TC filter, frees the object. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.consumers) c.stop();
    this.consumers.clear();
    this.native.close();
  }
}

export class RingBufConsumer {
  private stopped = false;
  constructor(private owner: BpfObject, private native: NativeConsumer) {}
  stats(): RingBufStats { return this.native.stats(); }
  /** Joins the poll thread after a final consume; batches already queued are still delivered. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.native.stop();
  }
  get object(): BpfObject { return this.owner; }
}

/** Walks a batch from the ring-buffer consumer: [u32 LE length][record], each padded to 4 bytes. */
export function forEachRecord(batch: Buffer, fn: (record: Buffer) => void): void {
  let off = 0;
  while (off + 4 <= batch.length) {
    const len = batch.readUInt32LE(off);
    fn(batch.subarray(off + 4, off + 4 + len));
    off += 4 + ((len + 3) & ~3);
  }
}
