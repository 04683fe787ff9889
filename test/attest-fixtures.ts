// Real BPF objects for the attestation tests and bench, compiled with clang from tiny C sources.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(fileURLToPath(new URL("..", import.meta.url)));
// bpf_helpers.h: the libbpf 1.5 headers the set-up builds (build/libbpf), else a system libbpf-dev.
const LIBBPF_INCLUDE = [join(REPO, "build/libbpf/include"), "/usr/include"].find((d) => existsSync(join(d, "bpf/bpf_helpers.h")));

// <linux/bpf.h> needs <asm/types.h> from the multiarch include directory, which -target bpf does not search.
const multiarch = execFileSync("clang", ["-print-multiarch"], { encoding: "utf8" }).trim() || "x86_64-linux-gnu";

export const GETPID_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

// Several program kinds the agent uses, plus a map, to check section classification.
export const MULTI_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_execve") int on_execve(void *ctx) { return 0; }
SEC("uprobe") int on_ssl_connect(void *ctx) { return 0; }
SEC("uretprobe") int on_ssl_version_ret(void *ctx) { return 0; }
SEC("uprobe//usr/lib/x86_64-linux-gnu/libssl.so.3:SSL_do_handshake") int on_handshake(void *ctx) { return 0; }
SEC("usdt") int on_crau(void *ctx) { return 0; }
SEC("tc") int wire_tc(struct __sk_buff *skb) { return 0; }
SEC("tc") int wire_tc2(struct __sk_buff *skb) { return 0; }
SEC("cgroup_skb/egress") int wire_egress(struct __sk_buff *skb) { return 1; }
SEC("xdp") int wire_xdp(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "Dual BSD/GPL";
`;

/** A valid object of about `bytes` bytes: the getpid program plus a read-only blob of that size. */
export function paddedSource(bytes: number): string {
  return `${GETPID_SOURCE}
const volatile unsigned char padding[${bytes}] = { 1 };
SEC("tracepoint/syscalls/sys_enter_getppid") int use_padding(void *ctx) { return padding[0]; }
`;
}

export function tempDir(prefix = "cs-attest-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Compiles `source` into DIR/NAME.bpf.o with clang -O2 -g -target bpf and returns its path. */
export function compileBpf(dir: string, name: string, source: string, opts: { bigEndian?: boolean } = {}): string {
  const src = join(dir, `${name}.bpf.c`);
  const out = join(dir, `${name}.bpf.o`);
  writeFileSync(src, source);
  execFileSync("clang", ["-O2", "-g", "-target", opts.bigEndian ? "bpfeb" : "bpf", `-I/usr/include/${multiarch}`, ...(LIBBPF_INCLUDE ? [`-I${LIBBPF_INCLUDE}`] : []), "-c", src, "-o", out], { stdio: "pipe" });
  return out;
}
