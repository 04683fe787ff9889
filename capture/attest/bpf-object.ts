// Reads what a BPF object (.bpf.o, an ELF64 relocatable file for EM_BPF) declares: its program sections
// (whose names tell libbpf the program type and attach point), the program symbols in them, its maps and
// its license, from the ELF container read by capture/elf/elf64.ts. The input is untrusted: every offset is
// bounds-checked there, and a bad file gives a BpfObjectError here.
import { Elf64, ElfError, SHN_LORESERVE, SHN_UNDEF, SHT_PROGBITS, SHT_SYMTAB, STT_FUNC, STT_OBJECT, type ElfSection } from "../elf/elf64.ts";

export type { ElfSection };

export class BpfObjectError extends Error {
  override name = "BpfObjectError";
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
const SHF_EXECINSTR = 0x4;

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

/** Parses the ELF headers of a BPF object. Throws BpfObjectError for anything that is not a BPF ELF64 object. */
export function parseBpfObject(bytes: Uint8Array): BpfObjectInfo {
  try {
    return readBpfObject(Elf64.fromBytes(bytes, "not a valid BPF object"));
  } catch (err) {
    if (err instanceof ElfError) throw new BpfObjectError(err.message);
    throw err;
  }
}

function readBpfObject(elf: Elf64): BpfObjectInfo {
  if (elf.machine !== EM_BPF) throw new BpfObjectError(`not a BPF object: ELF machine is ${elf.machine}, not EM_BPF (${EM_BPF})`);
  if (elf.type !== ET_REL) throw new BpfObjectError(`not a BPF object: ELF type is ${elf.type}, not a relocatable object (1)`);
  if (elf.sections.length === 0) throw new BpfObjectError("not a valid BPF object: it has no section header table");
  const { sections } = elf;

  const programSections = new Map<number, string[]>();
  for (const s of sections) {
    if (s.type === SHT_PROGBITS && s.flags & SHF_EXECINSTR && s.size > 0 && s.name !== ".text") programSections.set(s.index, []);
  }
  const mapSections = new Set(sections.filter((s) => s.name === ".maps" || s.name === "maps").map((s) => s.index));
  const maps: string[] = [];

  const symtabs = sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length > 1) throw new BpfObjectError("not a valid BPF object: more than one symbol table");
  for (const symtab of symtabs) {
    for (const sym of elf.symbolTable(symtab)) {
      if (sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE) continue;
      const inProgram = sym.type === STT_FUNC ? programSections.get(sym.shndx) : undefined;
      if (inProgram) inProgram.push(sym.name);
      else if (sym.type === STT_OBJECT && mapSections.has(sym.shndx)) maps.push(sym.name);
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
    const body = elf.contents(licenseSection);
    const nul = body.indexOf(0);
    license = new TextDecoder().decode(nul >= 0 ? body.subarray(0, nul) : body);
  }

  return { byteOrder: elf.little ? "little" : "big", sections, programs, maps: maps.sort(), license };
}

/** The distinct program kinds of an object, sorted: what load policies match on. */
export function programKinds(info: BpfObjectInfo): string[] {
  return [...new Set(info.programs.map((p) => p.kind))].sort();
}
