// SPDX-License-Identifier: GPL-2.0
/* Ring-buffer benchmark producer: each getppid() of the benchmark process emits `burst` 64-byte
 * records, so the consumer (JS batches or plain C) is what is measured, not the syscall rate. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "cryptoscope.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;
const volatile __u32 burst = 64;
const volatile __u64 wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

CS_DEFINE_DROPS

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} produced SEC(".maps");

struct loop_ctx {
	__u32 pid;
	__u64 n;
};

static long emit_one(__u64 i, struct loop_ctx *lc)
{
	struct cs_bench_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		cs_count_drop();
		return 0;
	}
	r->hdr.type = CS_REC_BENCH;
	r->hdr.len = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->seq = i;
	r->pid = lc->pid;
	r->cpu = bpf_get_smp_processor_id();
	CS_SUBMIT(&events, r, wakeup_bytes);
	lc->n++;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target_tgid)
		return 0;
	struct loop_ctx lc = { .pid = pid, .n = 0 };
	bpf_loop(burst, emit_one, &lc, 0);
	__u32 zero = 0;
	__u64 *p = bpf_map_lookup_elem(&produced, &zero);
	if (p)
		__sync_fetch_and_add(p, lc.n);
	return 0;
}
