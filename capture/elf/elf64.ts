// The ELF64 container, for the two places that read ELF files: BPF objects before they are loaded
// (capture/attest: untrusted input, in memory, either byte order) and the executables and libraries the
// probes attach to (capture/libprobes, capture/crau: read from disk with positioned reads, so a 100 MB binary
// is never read whole). Both need the same things: the header, section and program headers, section names,
// symbol tables and NUL-terminated strings, every offset bounds-checked. What each one makes of them lives
// with it. The npm ELF packages are unmaintained or read whole files, hence this small reader.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** A damaged or unsupported ELF file. The message starts with the reader's label (a path, or what the bytes should be). */
export class ElfError extends Error {
  override name = "ElfError";
}

export interface ElfSection {
  index: number;
  name: string;
  type: number; // SHT_*
  flags: number; // SHF_* (low 32 bits; the flags anyone reads all fit)
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface ElfSegment {
  type: number; // PT_*
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: number;
}

export interface ElfSymbolEntry {
  name: string;
  value: bigint;
  size: number;
  type: number; // STT_*
  bind: number; // STB_*
  shndx: number; // section index; 0 = undefined (imported)
}

export const SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_DYNAMIC = 6, SHT_NOTE = 7, SHT_NOBITS = 8, SHT_DYNSYM = 11;
export const STT_OBJECT = 1, STT_FUNC = 2;
export const SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_XINDEX = 0xffff;
export const PT_LOAD = 1;

const HEADER_SIZE = 64, SECTION_HEADER_SIZE = 64, SYMBOL_SIZE = 24;
const MAX_SECTIONS = 65_536, MAX_SEGMENTS = 65_535;

/** Where the bytes come from: all in memory, or an open file read at offsets. */
interface ByteSource {
  readonly size: number;
  /** [offset, offset+length), already checked to lie inside the file. */
  read(offset: number, length: number): Buffer;
  close(): void;
}

function memorySource(bytes: Uint8Array): ByteSource {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { size: b.length, read: (o, n) => b.subarray(o, o + n), close: () => {} };
}

function fileSource(path: string, label: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new ElfError(`cannot open ${path}: ${(e as Error).message}`);
  }
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const b = Buffer.alloc(length);
      for (let done = 0; done < length; ) {
        const n = readSync(fd, b, done, length - done, offset + done);
        if (n <= 0) throw new ElfError(`${label}: short read at ${offset + done}`);
        done += n;
      }
      return b;
    },
    close: () => closeSync(fd),
  };
}

export class Elf64 {
  readonly size: number;
  readonly little: boolean;
  readonly type: number; // ET_REL 1, ET_EXEC 2, ET_DYN 3
  readonly machine: number; // EM_X86_64 62, EM_BPF 247, ...
  readonly sections: ElfSection[] = [];
  readonly segments: ElfSegment[] = [];

  /** An ELF file in memory (nothing is copied). `label` starts every error message. */
  static fromBytes(bytes: Uint8Array, label: string): Elf64 {
    return new Elf64(bytes, label);
  }

  /** An ELF file on disk, read at offsets; close() it (or use withElfFile). */
  static open(path: string): Elf64 {
    return new Elf64(path);
  }

  private readonly src: ByteSource;
  readonly label: string;

  /** A path (read from disk at offsets, labelled by the path) or bytes in memory. */
  protected constructor(source: string | Uint8Array, label?: string) {
    this.label = label ?? (typeof source === "string" ? source : "ELF file");
    const src = (this.src = typeof source === "string" ? fileSource(source, this.label) : memorySource(source));
    this.size = src.size;
    try {
      if (this.size < HEADER_SIZE) throw this.error(`${this.size} bytes is too short for an ELF header`);
      const h = src.read(0, HEADER_SIZE);
      if (h.readUInt32BE(0) !== 0x7f454c46) throw this.error("no ELF magic at the start of the file");
      if (h[4] !== 2) throw this.error("not a 64-bit ELF file");
      if (h[5] !== 1 && h[5] !== 2) throw this.error(`unknown ELF byte order ${h[5]}`);
      this.little = h[5] === 1;
      const u16 = (o: number) => (this.little ? h.readUInt16LE(o) : h.readUInt16BE(o));
      this.type = u16(16);
      this.machine = u16(18);
      const phoff = this.u64(h, 32, "program header offset"), shoff = this.u64(h, 40, "section header offset");
      const phentsize = u16(54), phnum = u16(56), shentsize = u16(58);
      let shnum = u16(60), shstrndx = u16(62);

      if (phnum > 0 && phoff > 0) {
        if (phentsize < 56 || phnum > MAX_SEGMENTS) throw this.error(`program header entry size ${phentsize} or count ${phnum} is invalid`);
        const ph = this.read(phoff, phentsize * phnum, "program header table");
        for (let i = 0; i < phnum; i++) {
          const o = i * phentsize;
          this.segments.push({ type: this.u32(ph, o), flags: this.u32(ph, o + 4), offset: this.u64(ph, o + 8, `segment ${i} offset`),
            vaddr: this.big(ph, o + 16), filesz: this.u64(ph, o + 32, `segment ${i} size`), memsz: this.u64(ph, o + 40, `segment ${i} size`) });
        }
      }
      if (shoff === 0) return; // no section header table (allowed for executables; callers decide if they need one)
      if (shentsize !== SECTION_HEADER_SIZE) throw this.error(`section header size ${shentsize}, expected ${SECTION_HEADER_SIZE}`);
      const first = this.read(shoff, SECTION_HEADER_SIZE, "section header 0");
      // Extended numbering: past 0xff00 sections the real count and string-table index live in section 0.
      if (shnum === 0) shnum = this.u64(first, 32, "section count");
      if (shstrndx === SHN_XINDEX) shstrndx = this.u32(first, 40);
      if (shnum > MAX_SECTIONS) throw this.error(`${shnum} sections is implausibly many`);
      const sh = this.read(shoff, shnum * SECTION_HEADER_SIZE, "section header table");
      const raw: (ElfSection & { nameOff: number })[] = [];
      for (let i = 0; i < shnum; i++) {
        const o = i * SECTION_HEADER_SIZE;
        const s = { index: i, name: "", nameOff: this.u32(sh, o), type: this.u32(sh, o + 4), flags: Number(this.big(sh, o + 8) & 0xffffffffn),
          addr: this.big(sh, o + 16), offset: this.u64(sh, o + 24, `section ${i} offset`), size: this.u64(sh, o + 32, `section ${i} size`),
          link: this.u32(sh, o + 40), entsize: this.u64(sh, o + 56, `section ${i} entry size`) };
        if (s.type !== SHT_NOBITS && i !== 0) this.check(s.offset, s.size, `section ${i}`);
        raw.push(s);
      }
      if (shstrndx >= shnum) throw this.error("section-name table index out of range");
      const names = src.read(raw[shstrndx].offset, raw[shstrndx].size);
      for (const { nameOff, ...s } of raw) this.sections.push({ ...s, name: s.index === 0 ? "" : this.cstr(names, nameOff, `section ${s.index}`) });
    } catch (e) {
      src.close();
      if (e instanceof ElfError) throw e;
      throw this.error(`unreadable ELF (${(e as Error).message})`);
    }
  }

  close(): void {
    this.src.close();
  }

  error(what: string): ElfError {
    return new ElfError(`${this.label}: ${what}`);
  }

  check(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw this.error(`${what} lies outside the file (${this.size} bytes)`);
    }
  }

  /** Bytes [offset, offset+length), bounds-checked. */
  read(offset: number, length: number, what = `read of ${length} bytes at ${offset}`): Buffer {
    this.check(offset, length, what);
    return this.src.read(offset, length);
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** A section's contents (empty for SHT_NOBITS). */
  contents(s: ElfSection): Buffer {
    return s.type === SHT_NOBITS ? Buffer.alloc(0) : this.read(s.offset, s.size, `section ${s.index}`);
  }

  /** Every entry of a symbol table section (SHT_SYMTAB or SHT_DYNSYM), names resolved through its linked string table.
   * Entry 0 (the null symbol) is skipped. */
  *symbolTable(symtab: ElfSection): Generator<ElfSymbolEntry> {
    if (symtab.entsize !== SYMBOL_SIZE) throw this.error(`symbol size ${symtab.entsize}, expected ${SYMBOL_SIZE}`);
    if (symtab.link >= this.sections.length) throw this.error("symbol table's string table index out of range");
    const strs = this.contents(this.sections[symtab.link]);
    const tab = this.contents(symtab);
    for (let o = SYMBOL_SIZE; o + SYMBOL_SIZE <= tab.length; o += SYMBOL_SIZE) {
      const info = tab[o + 4];
      yield { name: this.cstr(strs, this.u32(tab, o), "symbol"), type: info & 0xf, bind: info >> 4, shndx: this.little ? tab.readUInt16LE(o + 6) : tab.readUInt16BE(o + 6),
        value: this.big(tab, o + 8), size: this.u64(tab, o + 16, "symbol size") };
    }
  }

  /** A NUL-terminated string at `offset` of a string table. */
  cstr(table: Buffer, offset: number, what: string): string {
    if (offset < 0 || offset >= table.length) {
      if (offset === 0) return ""; // an empty string table and name offset 0: no name
      throw this.error(`${what} name offset ${offset} is outside its string table`);
    }
    const end = table.indexOf(0, offset);
    if (end < 0) throw this.error(`${what} name is not NUL-terminated`);
    return table.toString("utf8", offset, end);
  }

  u32(b: Buffer, o: number): number {
    return this.little ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }

  big(b: Buffer, o: number): bigint {
    return this.little ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
  }

  /** A 64-bit offset or size, as a number (an out-of-range one is damage, not a huge file). */
  u64(b: Buffer, o: number, what: string): number {
    const v = this.big(b, o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(`${what} is out of range`);
    return Number(v);
  }
}

/** A NUL-terminated string inside some section's contents (notes, Go tables): "" past the end, the rest if unterminated. */
export function cString(b: Buffer, offset: number): string {
  if (offset < 0 || offset >= b.length) return "";
  const end = b.indexOf(0, offset);
  return b.toString("latin1", offset, end < 0 ? b.length : end);
}

/** Opens, runs fn, closes. */
export function withElfFile<T>(path: string, fn: (elf: Elf64) => T): T {
  const e = Elf64.open(path);
  try {
    return fn(e);
  } finally {
    e.close();
  }
}
