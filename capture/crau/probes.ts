// crypto-auditing USDT probes: finds files declaring provider "crypto_auditing" in .note.stapsdt and attaches
// crau.bpf.o's sleepable programs to each probe they declare, once per file (all processes).
import { forEachRecord, type BpfObject, type RingBufConsumer } from "../bpf/native.ts";
import { openVerifiedObject, type AgentLog } from "../bpf/loader.ts";
import { withElf, ElfError } from "../libprobes/elf.ts";
import { openPathFor, type MappedFile } from "../libprobes/discovery.ts";
import { decodeCrauRecord, type CrauRecord } from "./records.ts";

const PROGRAM_OF: Record<string, string> = {
  new_context: "crau_new_context",
  word_data: "crau_word_data",
  string_data: "crau_string_data",
  blob_data: "crau_blob_data",
  data: "crau_data",
  new_context_with_data: "crau_new_context_with_data",
};

export class CrauProbes {
  private obj: BpfObject;
  private consumer: RingBufConsumer | undefined;
  private checked = new Map<string, string[] | null>(); // file key → probe names (null: none)
  private attached = new Map<string, { path: string; links: number[] }>();
  readonly pathByPid = new Map<number, string>();
  attachErrors = 0;

  constructor(load: { log?: AgentLog; host?: string }, onRecord: (r: CrauRecord) => void, private onError: (msg: string) => void) {
    this.obj = openVerifiedObject("crau", load);
    try {
      this.obj.setRodata("wakeup_bytes", 64 * 1024, 8).load();
    } catch (e) {
      this.obj.close();
      throw new Error(`crypto-auditing probes: loading crau.bpf.o failed (sleepable usdt.s programs need kernel 5.10+ and libbpf 1.5): ${(e as Error).message}`);
    }
    this.consumer = this.obj.consumeRingBuffers(["crau_events"], (batch) => forEachRecord(batch, (rec) => onRecord(decodeCrauRecord(rec))), { timeoutMs: 50 });
  }

  /** Attaches to a file of `pid` if it declares crypto_auditing probes. */
  consider(pid: number, f: MappedFile): boolean {
    let names = this.checked.get(f.key);
    const openPath = openPathFor(pid, f.path);
    if (names === undefined) {
      try {
        names = withElf(openPath, (e) => {
          const n = [...new Set(e.sdtNotes().filter((s) => s.provider === "crypto_auditing").map((s) => s.name))];
          return n.length ? n : null;
        });
      } catch (e) {
        if (!(e instanceof ElfError)) throw e;
        names = null;
      }
      this.checked.set(f.key, names);
    }
    if (!names) return false;
    if (!this.attached.has(f.key)) {
      const links: number[] = [];
      for (const n of names) {
        const prog = PROGRAM_OF[n];
        if (!prog) continue;
        try {
          links.push(this.obj.attachUsdt(prog, { binary: openPath, provider: "crypto_auditing", name: n, pid: -1 }));
        } catch (e) {
          this.attachErrors++;
          this.onError(`attach crypto_auditing:${n} in ${f.path}: ${(e as Error).message}`);
        }
      }
      this.attached.set(f.key, { path: f.path, links });
    }
    this.pathByPid.set(pid, f.path);
    return true;
  }

  stats(): Record<string, number> {
    let links = 0;
    for (const a of this.attached.values()) links += a.links.length;
    return { crau_files: this.attached.size, crau_links: links, crau_attach_errors: this.attachErrors, crau_kernel_drops: Number(this.obj.kernelDrops()) };
  }

  stop(): void {
    this.consumer?.stop();
    this.obj.close();
  }
}
