// What the library probes read from executables and shared libraries, on top of the ELF container
// (capture/elf/elf64.ts): symbols (.symtab and .dynsym), DT_NEEDED/DT_SONAME, PT_LOAD spans, SystemTap SDT
// notes (.note.stapsdt), Go's .go.buildinfo and .gopclntab. libbpf resolves the symbols we attach to on its
// own: this only decides *what* to attach.
import { cString as cstr, Elf64, ElfError, PT_LOAD, SHT_DYNAMIC, SHT_DYNSYM, SHT_NOTE, SHT_SYMTAB, SHN_UNDEF, type ElfSection, type ElfSegment } from "../elf/elf64.ts";

export { ElfError, type ElfSection, type ElfSegment };
export interface ElfSymbol { name: string; value: bigint; size: number; type: number }
export interface SdtNote { provider: string; name: string; pc: bigint; semaphore: bigint; args: string }

const DT_NEEDED = 1, DT_SONAME = 14;

/** An executable or shared library on disk (little-endian ELF64), read at offsets. */
export class ElfFile extends Elf64 {
  readonly path: string;

  constructor(path: string) {
    super(path);
    this.path = path;
    if (!this.little) {
      this.close();
      throw new ElfError(`${path}: only little-endian ELF64 is supported`);
    }
  }

  /** Function/object symbols of .symtab and .dynsym (or .dynsym only) for which `want(name)` is true (first definition wins). */
  symbols(want: (name: string) => boolean, dynamicOnly = false): Map<string, ElfSymbol> {
    const out = new Map<string, ElfSymbol>();
    for (const s of this.sections) {
      if (s.type !== SHT_DYNSYM && (dynamicOnly || s.type !== SHT_SYMTAB)) continue;
      for (const sym of this.symbolTable(s)) {
        if (sym.shndx === SHN_UNDEF || !sym.name || out.has(sym.name) || !want(sym.name)) continue; // undefined = imported
        out.set(sym.name, { name: sym.name, value: sym.value, size: sym.size, type: sym.type });
      }
    }
    return out;
  }

  /** DT_NEEDED and DT_SONAME of the dynamic section. */
  dynamic(): { needed: string[]; soname: string | null } {
    const dyn = this.sections.find((s) => s.type === SHT_DYNAMIC);
    if (!dyn) return { needed: [], soname: null };
    const strSec = this.sections[dyn.link];
    if (!strSec) return { needed: [], soname: null };
    const strs = this.read(strSec.offset, strSec.size), d = this.read(dyn.offset, dyn.size);
    const needed: string[] = [];
    let soname: string | null = null;
    for (let o = 0; o + 16 <= d.length; o += 16) {
      const tag = Number(d.readBigInt64LE(o)), val = Number(d.readBigUInt64LE(o + 8));
      if (tag === 0) break;
      if (tag === DT_NEEDED) needed.push(cstr(strs, val));
      else if (tag === DT_SONAME) soname = cstr(strs, val);
    }
    return { needed, soname };
  }

  /** Highest end of a PT_LOAD segment: the span of the file's image in memory. */
  loadSpan(): { lo: bigint; hi: bigint } {
    let lo = -1n, hi = 0n;
    for (const s of this.segments) {
      if (s.type !== PT_LOAD) continue;
      if (lo < 0n || s.vaddr < lo) lo = s.vaddr;
      const end = s.vaddr + BigInt(s.memsz);
      if (end > hi) hi = end;
    }
    return { lo: lo < 0n ? 0n : lo, hi };
  }

  /** SystemTap SDT probes (USDT) declared in .note.stapsdt. */
  sdtNotes(): SdtNote[] {
    const out: SdtNote[] = [];
    for (const s of this.sections) {
      if (s.type !== SHT_NOTE || s.name !== ".note.stapsdt") continue;
      const b = this.read(s.offset, s.size);
      let o = 0;
      while (o + 12 <= b.length) {
        const namesz = b.readUInt32LE(o), descsz = b.readUInt32LE(o + 4), type = b.readUInt32LE(o + 8);
        const nameOff = o + 12, descOff = nameOff + align4(namesz);
        if (descOff + descsz > b.length) break;
        if (type === 3 && cstr(b, nameOff) === "stapsdt" && descsz >= 24) {
          const pc = b.readBigUInt64LE(descOff), semaphore = b.readBigUInt64LE(descOff + 16);
          let p = descOff + 24;
          const provider = cstr(b, p); p += provider.length + 1;
          const name = cstr(b, p); p += name.length + 1;
          const args = cstr(b, p);
          out.push({ provider, name, pc, semaphore, args });
        }
        o = descOff + align4(descsz);
      }
    }
    return out;
  }

  /** Go toolchain version from .go.buildinfo (Go 1.18+ inline format), e.g. "go1.19.8". */
  goVersion(): string | null {
    const s = this.section(".go.buildinfo");
    if (!s || s.size < 33) return null;
    const b = this.read(s.offset, Math.min(s.size, 512));
    if (b.subarray(0, 14).toString("latin1") !== "\xff Go buildinf:") return null;
    if ((b[15] & 2) === 0) return "go"; // pre-1.18 pointer format: version behind a pointer; just say Go
    let o = 32, len = 0, shift = 0;
    for (; o < b.length; o++) { len |= (b[o] & 0x7f) << shift; shift += 7; if ((b[o] & 0x80) === 0) { o++; break; } }
    return o + len <= b.length ? b.subarray(o, o + len).toString("utf8") : null;
  }

  /** Function entry addresses from Go's .gopclntab (Go 1.18+ layout), which stays in stripped binaries
   * (-ldflags=-s drops .symtab, not the pclntab the runtime needs for stack traces). */
  goFunctions(want: (name: string) => boolean): Map<string, ElfSymbol> {
    const out = new Map<string, ElfSymbol>();
    const sec = this.section(".gopclntab");
    if (!sec) return out;
    const b = this.read(sec.offset, sec.size);
    const magic = b.readUInt32LE(0);
    if (magic !== 0xfffffff0 && magic !== 0xfffffff1) return out; // Go 1.18-1.19 / 1.20+; older layouts are not read
    const ptr = b[7];
    if (ptr !== 8) return out;
    const word = (i: number) => Number(b.readBigUInt64LE(8 + i * 8));
    const nfunc = word(0);
    let textStart = b.readBigUInt64LE(8 + 2 * 8);
    const funcnameOff = word(3), pclnOff = word(7);
    if (textStart === 0n) textStart = this.section(".text")?.addr ?? 0n; // PIE: relocated at load, .text is where it starts
    if (pclnOff + (nfunc + 1) * 8 > b.length) throw new ElfError(`${this.path}: .gopclntab function table is outside the section`);
    for (let i = 0; i < nfunc; i++) {
      const entryoff = b.readUInt32LE(pclnOff + i * 8), funcoff = b.readUInt32LE(pclnOff + i * 8 + 4);
      const f = pclnOff + funcoff;
      if (f + 8 > b.length) continue;
      const nameoff = b.readInt32LE(f + 4);
      const name = cstr(b, funcnameOff + nameoff);
      if (!want(name) || out.has(name)) continue;
      const next = i + 1 <= nfunc ? b.readUInt32LE(pclnOff + (i + 1) * 8) : entryoff;
      out.set(name, { name, value: textStart + BigInt(entryoff), size: Math.max(0, next - entryoff), type: 2 });
    }
    return out;
  }

  isGo(): boolean { return !!(this.section(".go.buildinfo") || this.section(".gopclntab")); }

  /** First match of `re` in the read-only data (.rodata), e.g. OpenSSL's version text. */
  findInRodata(re: RegExp, limit = 16 << 20): string | null {
    const s = this.section(".rodata");
    if (!s) return null;
    const step = 1 << 20;
    for (let off = 0; off < Math.min(s.size, limit); off += step - 256) {
      const n = Math.min(step, s.size - off);
      const m = this.read(s.offset + off, n).toString("latin1").match(re);
      if (m) return m[1] ?? m[0];
    }
    return null;
  }

  /** Converts a symbol's vaddr to its file offset (what a uprobe needs when libbpf cannot resolve the name). */
  vaddrToOffset(vaddr: bigint): number | null {
    for (const s of this.segments) {
      if (s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + BigInt(s.filesz)) return Number(vaddr - s.vaddr) + s.offset;
    }
    return null;
  }
}

function align4(n: number): number { return (n + 3) & ~3; }

/** Opens, runs fn, closes. */
export function withElf<T>(path: string, fn: (elf: ElfFile) => T): T {
  const e = new ElfFile(path);
  try {
    return fn(e);
  } finally {
    e.close();
  }
}
