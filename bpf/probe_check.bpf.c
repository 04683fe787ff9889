// SPDX-License-Identifier: GPL-2.0
/* Kernel feature check: one tiny program per hook type the agent relies on (tracepoint, uprobe, TC,
 * cgroup_skb). `cryptoscope doctor` and the tests load it to prove each hook really fires here. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "cryptoscope.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;     /* syscalls of this process only (0 = none) */
const volatile __u64 wakeup_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

CS_DEFINE_DROPS

/* packet counters: index 0 = TC, 1 = cgroup_skb egress, 2 = cgroup_skb ingress */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

static __always_inline void count_packet(__u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(&packets, &idx);
	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int on_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (target_tgid == 0 || (id >> 32) != target_tgid)
		return 0;
	struct cs_syscall_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		cs_count_drop();
		return 0;
	}
	r->hdr.type = CS_REC_SYSCALL;
	r->hdr.len = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->syscall_nr = ctx->id;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	CS_SUBMIT(&events, r, wakeup_bytes);
	return 0;
}

SEC("uprobe")
int on_uprobe(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct cs_uprobe_hit_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		cs_count_drop();
		return 0;
	}
	r->hdr.type = CS_REC_UPROBE_HIT;
	r->hdr.len = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->cookie = bpf_get_attach_cookie(ctx);
	r->ip = PT_REGS_IP(ctx);
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	CS_SUBMIT(&events, r, wakeup_bytes);
	return 0;
}

SEC("tc")
int on_tc(struct __sk_buff *skb)
{
	count_packet(0);
	return 0; /* TC_ACT_OK: observe only */
}

SEC("cgroup_skb/egress")
int on_cgroup_egress(struct __sk_buff *skb)
{
	count_packet(1);
	return 1; /* allow */
}

SEC("cgroup_skb/ingress")
int on_cgroup_ingress(struct __sk_buff *skb)
{
	count_packet(2);
	return 1;
}
