// What this host can do for the agent: each kernel feature the capture relies on, tried for real with
// the probe_check object (a tiny program per hook type). One line per check, with what to do if it fails.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { cgroup2Root, ensureTracefs } from "./bpf/kernelfs.ts";
import { openVerifiedObject } from "./bpf/loader.ts";
import { libbpfVersion, type BpfObject } from "./bpf/native.ts";

export interface Check { name: string; ok: boolean; detail: string }

function attempt(name: string, fn: () => string): Check {
  try {
    return { name, ok: true, detail: fn() };
  } catch (e) {
    return { name, ok: false, detail: (e as Error).message.split("\n")[0]! };
  }
}

function libssl(): string {
  const m = execFileSync("ldconfig", ["-p"]).toString().match(/libssl\.so\.3 .*=> (\S+)/);
  if (!m) throw new Error("libssl.so.3 not found: uprobes on OpenSSL will have nothing to attach to");
  return m[1]!;
}

export function runDoctor(): Check[] {
  const checks: Check[] = [];
  checks.push(attempt("root or CAP_BPF", () => {
    if (process.getuid?.() === 0) return "running as root";
    const caps = execFileSync("sh", ["-c", "grep CapEff /proc/self/status"]).toString().trim();
    throw new Error(`not root (${caps}): run as root or grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN`);
  }));
  checks.push(attempt("kernel BTF", () => {
    if (!existsSync("/sys/kernel/btf/vmlinux")) throw new Error("no /sys/kernel/btf/vmlinux: the kernel needs CONFIG_DEBUG_INFO_BTF=y for CO-RE programs");
    return "/sys/kernel/btf/vmlinux";
  }));
  checks.push(attempt("libbpf", () => libbpfVersion()));
  checks.push(attempt("tracefs", () => { ensureTracefs(); return "mounted"; }));
  checks.push(attempt("cgroup v2", () => cgroup2Root()));
  let obj: BpfObject | undefined;
  checks.push(attempt("signed BPF object loads (attestation + verifier)", () => {
    obj = openVerifiedObject("probe_check");
    obj.load();
    return "probe_check.bpf.o";
  }));
  if (obj) {
    const o = obj;
    const hook = (name: string, fn: () => number) => checks.push(attempt(name, () => { o.detach(fn()); return "attached and detached"; }));
    hook("tracepoint (raw_syscalls/sys_enter)", () => o.attachTracepoint("on_sys_enter", "raw_syscalls", "sys_enter"));
    checks.push(attempt("uprobe (libssl SSL_do_handshake)", () => { const lib = libssl(); o.detach(o.attachUprobe("on_uprobe", { binary: lib, symbol: "SSL_do_handshake" })); return lib; }));
    hook("TC clsact (lo ingress)", () => o.attachTc("on_tc", { ifname: "lo", direction: "ingress", priority: 49151, handle: 49151 }));
    checks.push(attempt("cgroup_skb (cgroup v2)", () => {
      const cg = `${cgroup2Root()}/cryptoscope-doctor-${process.pid}`;
      mkdirSync(cg, { recursive: true });
      try { o.detach(o.attachCgroup("on_cgroup_egress", cg)); } finally { rmdirSync(cg); }
      return "attached and detached";
    }));
    o.close();
  }
  return checks;
}
