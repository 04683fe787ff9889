// Reads what a BPF object (.bpf.o, an ELF64 relocatable file for EM_BPF) declares: its program sections
// (whose names tell libbpf the program type and attach point), the program symbols in them, its maps and
// its license. Only the section header table and the symbol table are read — both small — so we parse
// them here rather than pull in an ELF library (the npm ones are unmaintained or general-purpose).
// The input is untrusted: every offset is bounds-checked and a bad file gives a BpfObjectError.

export class BpfObjectError extends Error {
  override name = "BpfObjectError";
}

export interface ElfSection {
  index: number;
  name: string;
  type: number; // SHT_*
  flags: number; // SHF_* (low 32 bits; the flags we use all fit)
  offset: number;
  size: number;
}

export interface BpfProgram {
  section: string; // the ELF section name, e.g. "tracepoint/syscalls/sys_enter_execve"
  kind: string; // the libbpf section kind, e.g. "tracepoint", "uprobe", "usdt", "tc", "cgroup_skb" ("unknown" if libbpf would not know it)
  progType: string; // the kernel program type libbpf loads it as (bpf_prog_type without the prefix), e.g. "kprobe" for uprobes
  attach: string | null; // what follows the kind in the section name, e.g. "syscalls/sys_enter_execve", "egress"; null if none
  names: string[]; // function symbols in the section (the program names), sorted
}

export interface BpfObjectInfo {
  byteOrder: "little" | "big";
  sections: ElfSection[];
  programs: BpfProgram[]; // sorted by section name
  maps: string[]; // map names (BTF-defined ".maps" and legacy "maps" sections), sorted
  license: string | null;
}

const EM_BPF = 247;
const ET_REL = 1;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHF_EXECINSTR = 0x4;
const STT_FUNC = 2;
const STT_OBJECT = 1;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;
const SECTION_HEADER_SIZE = 64;
const SYMBOL_SIZE = 24;
const MAX_SECTIONS = 65_536;

// libbpf's section_defs (libbpf.c): section-name prefix → [kind, program type]. A section matches a prefix when
// it equals it or continues with "/" (the attach target). The longest matching prefix wins.
const SECTION_KINDS: Record<string, [kind: string, progType: string]> = {
  socket: ["socket", "socket_filter"],
  sk_reuseport: ["sk_reuseport", "sk_reuseport"],
  "sk_reuseport/migrate": ["sk_reuseport", "sk_reuseport"],
  kprobe: ["kprobe", "kprobe"],
  kretprobe: ["kretprobe", "kprobe"],
  "kprobe.multi": ["kprobe", "kprobe"],
  "kretprobe.multi": ["kretprobe", "kprobe"],
  "kprobe.session": ["kprobe", "kprobe"],
  ksyscall: ["ksyscall", "kprobe"],
  kretsyscall: ["kretsyscall", "kprobe"],
  uprobe: ["uprobe", "kprobe"],
  "uprobe.s": ["uprobe", "kprobe"],
  "uprobe.multi": ["uprobe", "kprobe"],
  "uprobe.multi.s": ["uprobe", "kprobe"],
  "uprobe.session": ["uprobe", "kprobe"],
  "uprobe.session.s": ["uprobe", "kprobe"],
  uretprobe: ["uretprobe", "kprobe"],
  "uretprobe.s": ["uretprobe", "kprobe"],
  "uretprobe.multi": ["uretprobe", "kprobe"],
  "uretprobe.multi.s": ["uretprobe", "kprobe"],
  usdt: ["usdt", "kprobe"],
  "usdt.s": ["usdt", "kprobe"],
  tc: ["tc", "sched_cls"],
  classifier: ["tc", "sched_cls"],
  action: ["tc_action", "sched_act"],
  "tc/ingress": ["tcx", "sched_cls"],
  "tc/egress": ["tcx", "sched_cls"],
  "tcx/ingress": ["tcx", "sched_cls"],
  "tcx/egress": ["tcx", "sched_cls"],
  "netkit/primary": ["netkit", "sched_cls"],
  "netkit/peer": ["netkit", "sched_cls"],
  tracepoint: ["tracepoint", "tracepoint"],
  tp: ["tracepoint", "tracepoint"],
  raw_tracepoint: ["raw_tracepoint", "raw_tracepoint"],
  raw_tp: ["raw_tracepoint", "raw_tracepoint"],
  "raw_tracepoint.w": ["raw_tracepoint_writable", "raw_tracepoint_writable"],
  "raw_tp.w": ["raw_tracepoint_writable", "raw_tracepoint_writable"],
  tp_btf: ["tp_btf", "tracing"],
  fentry: ["fentry", "tracing"],
  "fentry.s": ["fentry", "tracing"],
  fexit: ["fexit", "tracing"],
  "fexit.s": ["fexit", "tracing"],
  fmod_ret: ["fmod_ret", "tracing"],
  "fmod_ret.s": ["fmod_ret", "tracing"],
  iter: ["iter", "tracing"],
  "iter.s": ["iter", "tracing"],
  freplace: ["freplace", "ext"],
  lsm: ["lsm", "lsm"],
  "lsm.s": ["lsm", "lsm"],
  lsm_cgroup: ["lsm_cgroup", "lsm"],
  syscall: ["syscall", "syscall"],
  xdp: ["xdp", "xdp"],
  "xdp.frags": ["xdp", "xdp"],
  "xdp/devmap": ["xdp", "xdp"],
  "xdp.frags/devmap": ["xdp", "xdp"],
  "xdp/cpumap": ["xdp", "xdp"],
  "xdp.frags/cpumap": ["xdp", "xdp"],
  perf_event: ["perf_event", "perf_event"],
  lwt_in: ["lwt_in", "lwt_in"],
  lwt_out: ["lwt_out", "lwt_out"],
  lwt_xmit: ["lwt_xmit", "lwt_xmit"],
  lwt_seg6local: ["lwt_seg6local", "lwt_seg6local"],
  sockops: ["sockops", "sock_ops"],
  sk_skb: ["sk_skb", "sk_skb"],
  "sk_skb/stream_parser": ["sk_skb", "sk_skb"],
  "sk_skb/stream_verdict": ["sk_skb", "sk_skb"],
  "sk_skb/verdict": ["sk_skb", "sk_skb"],
  sk_msg: ["sk_msg", "sk_msg"],
  lirc_mode2: ["lirc_mode2", "lirc_mode2"],
  flow_dissector: ["flow_dissector", "flow_dissector"],
  "cgroup_skb/ingress": ["cgroup_skb", "cgroup_skb"],
  "cgroup_skb/egress": ["cgroup_skb", "cgroup_skb"],
  "cgroup/skb": ["cgroup_skb", "cgroup_skb"],
  "cgroup/sock_create": ["cgroup_sock", "cgroup_sock"],
  "cgroup/sock_release": ["cgroup_sock", "cgroup_sock"],
  "cgroup/sock": ["cgroup_sock", "cgroup_sock"],
  "cgroup/post_bind4": ["cgroup_sock", "cgroup_sock"],
  "cgroup/post_bind6": ["cgroup_sock", "cgroup_sock"],
  "cgroup/dev": ["cgroup_device", "cgroup_device"],
  "cgroup/sysctl": ["cgroup_sysctl", "cgroup_sysctl"],
  "cgroup/getsockopt": ["cgroup_sockopt", "cgroup_sockopt"],
  "cgroup/setsockopt": ["cgroup_sockopt", "cgroup_sockopt"],
  struct_ops: ["struct_ops", "struct_ops"],
  "struct_ops.s": ["struct_ops", "struct_ops"],
  sk_lookup: ["sk_lookup", "sk_lookup"],
  netfilter: ["netfilter", "netfilter"],
};
for (const verb of ["bind", "connect", "sendmsg", "recvmsg", "getpeername", "getsockname"]) {
  for (const family of ["4", "6", "_unix"]) {
    if (verb === "bind" && family === "_unix") continue;
    SECTION_KINDS[`cgroup/${verb}${family}`] = ["cgroup_sock_addr", "cgroup_sock_addr"];
  }
}
const PREFIXES_LONGEST_FIRST = Object.keys(SECTION_KINDS).sort((a, b) => b.length - a.length);

/** How libbpf reads a program section's name: its kind, program type and attach point. */
export function classifySection(section: string): Omit<BpfProgram, "names"> {
  for (const prefix of PREFIXES_LONGEST_FIRST) {
    if (section === prefix || section.startsWith(prefix + "/")) {
      const [kind, progType] = SECTION_KINDS[prefix];
      const slash = section.indexOf("/");
      const attach = slash >= 0 && slash + 1 < section.length ? section.slice(slash + 1) : null;
      return { section, kind, progType, attach };
    }
  }
  return { section, kind: "unknown", progType: "unknown", attach: null };
}

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly little: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  check(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new BpfObjectError(`not a valid BPF object: ${what} lies outside the file (${this.bytes.length} bytes)`);
    }
  }
  u8(o: number): number {
    return this.view.getUint8(o);
  }
  u16(o: number): number {
    return this.view.getUint16(o, this.little);
  }
  u32(o: number): number {
    return this.view.getUint32(o, this.little);
  }
  u64(o: number, what: string): number {
    const v = this.view.getBigUint64(o, this.little);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BpfObjectError(`not a valid BPF object: ${what} is out of range`);
    return Number(v);
  }
  // A NUL-terminated string inside [start, end) of a string table.
  cstr(start: number, end: number, offset: number, what: string): string {
    const from = start + offset;
    if (offset < 0 || from >= end) throw new BpfObjectError(`not a valid BPF object: ${what} name offset ${offset} is outside its string table`);
    let to = from;
    while (to < end && this.bytes[to] !== 0) to++;
    if (to === end) throw new BpfObjectError(`not a valid BPF object: ${what} name is not NUL-terminated`);
    return new TextDecoder("utf-8", { fatal: false }).decode(this.bytes.subarray(from, to));
  }
}

/** Parses the ELF headers of a BPF object. Throws BpfObjectError for anything that is not a BPF ELF64 object. */
export function parseBpfObject(bytes: Uint8Array): BpfObjectInfo {
  if (bytes.length < 64) throw new BpfObjectError(`not a BPF object: ${bytes.length} bytes is too short for an ELF header`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new BpfObjectError("not a BPF object: no ELF magic at the start of the file");
  }
  if (bytes[4] !== 2) throw new BpfObjectError("not a BPF object: not a 64-bit ELF file (BPF objects are ELF64)");
  if (bytes[5] !== 1 && bytes[5] !== 2) throw new BpfObjectError(`not a BPF object: unknown ELF byte order ${bytes[5]}`);
  const r = new Reader(bytes, bytes[5] === 1);
  const machine = r.u16(18);
  if (machine !== EM_BPF) throw new BpfObjectError(`not a BPF object: ELF machine is ${machine}, not EM_BPF (${EM_BPF})`);
  const type = r.u16(16);
  if (type !== ET_REL) throw new BpfObjectError(`not a BPF object: ELF type is ${type}, not a relocatable object (1)`);

  const shoff = r.u64(40, "section header offset");
  const shentsize = r.u16(58);
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);
  if (shoff === 0) throw new BpfObjectError("not a valid BPF object: it has no section header table");
  if (shentsize !== SECTION_HEADER_SIZE) {
    throw new BpfObjectError(`not a valid BPF object: section header size ${shentsize}, expected ${SECTION_HEADER_SIZE}`);
  }
  r.check(shoff, SECTION_HEADER_SIZE, "section header 0");
  // Extended numbering: past 0xff00 sections, the real count and string-table index live in section 0.
  if (shnum === 0) shnum = r.u64(shoff + 32, "section count");
  if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + 40);
  if (shnum > MAX_SECTIONS) throw new BpfObjectError(`not a valid BPF object: ${shnum} sections is implausibly many`);
  r.check(shoff, shnum * SECTION_HEADER_SIZE, "section header table");
  if (shstrndx >= shnum) throw new BpfObjectError("not a valid BPF object: section-name table index out of range");

  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * SECTION_HEADER_SIZE;
    const entry = {
      index: i,
      nameOff: r.u32(h),
      type: r.u32(h + 4),
      flags: Number(r.view.getBigUint64(h + 8, r.little) & 0xffffffffn),
      offset: r.u64(h + 24, `section ${i} offset`),
      size: r.u64(h + 32, `section ${i} size`),
      link: r.u32(h + 40),
      entsize: r.u64(h + 56, `section ${i} entry size`),
    };
    if (entry.type !== 8 /* SHT_NOBITS */ && i !== 0) r.check(entry.offset, entry.size, `section ${i}`);
    raw.push(entry);
  }
  const strtab = raw[shstrndx];
  const sections: ElfSection[] = raw.map((s) => ({
    index: s.index,
    name: s.index === 0 ? "" : r.cstr(strtab.offset, strtab.offset + strtab.size, s.nameOff, `section ${s.index}`),
    type: s.type,
    flags: s.flags,
    offset: s.offset,
    size: s.size,
  }));

  const programSections = new Map<number, string[]>();
  for (const s of sections) {
    if (s.type === SHT_PROGBITS && s.flags & SHF_EXECINSTR && s.size > 0 && s.name !== ".text") programSections.set(s.index, []);
  }
  const mapSections = new Set(sections.filter((s) => s.name === ".maps" || s.name === "maps").map((s) => s.index));
  const maps: string[] = [];

  const symtabs = raw.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length > 1) throw new BpfObjectError("not a valid BPF object: more than one symbol table");
  for (const symtab of symtabs) {
    if (symtab.entsize !== SYMBOL_SIZE) throw new BpfObjectError(`not a valid BPF object: symbol size ${symtab.entsize}, expected ${SYMBOL_SIZE}`);
    if (symtab.link >= shnum) throw new BpfObjectError("not a valid BPF object: symbol table's string table index out of range");
    const names = raw[symtab.link];
    for (let o = symtab.offset; o + SYMBOL_SIZE <= symtab.offset + symtab.size; o += SYMBOL_SIZE) {
      const info = r.u8(o + 4);
      const shndx = r.u16(o + 6);
      if (shndx === SHN_UNDEF || shndx >= SHN_LORESERVE) continue;
      const symType = info & 0xf;
      const inProgram = symType === STT_FUNC ? programSections.get(shndx) : undefined;
      const isMap = symType === STT_OBJECT && mapSections.has(shndx);
      if (!inProgram && !isMap) continue;
      const name = r.cstr(names.offset, names.offset + names.size, r.u32(o), "symbol");
      if (inProgram) inProgram.push(name);
      else maps.push(name);
    }
  }

  const programs: BpfProgram[] = [...programSections].map(([index, names]) => ({
    ...classifySection(sections[index].name),
    names: names.sort(),
  }));
  programs.sort((a, b) => (a.section < b.section ? -1 : a.section > b.section ? 1 : 0));

  const licenseSection = sections.find((s) => s.name === "license" && s.type === SHT_PROGBITS);
  let license: string | null = null;
  if (licenseSection) {
    const body = bytes.subarray(licenseSection.offset, licenseSection.offset + licenseSection.size);
    const nul = body.indexOf(0);
    license = new TextDecoder().decode(nul >= 0 ? body.subarray(0, nul) : body);
  }

  return { byteOrder: r.little ? "little" : "big", sections, programs, maps: maps.sort(), license };
}

/** The distinct program kinds of an object, sorted: what load policies match on. */
export function programKinds(info: BpfObjectInfo): string[] {
  return [...new Set(info.programs.map((p) => p.kind))].sort();
}
