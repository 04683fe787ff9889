// SPDX-License-Identifier: GPL-2.0
/* Process lifecycle for the processes table: one record per exec (the new image's path) and per exit of a
 * thread-group leader (with its exit code). Enrichment (exe, cmdline, cgroup path) happens in userspace. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cryptoscope.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 wakeup_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21);
} proc_events SEC(".maps");

CS_DEFINE_DROPS

static __always_inline struct cs_proc_rec *fill(__u32 type)
{
	struct cs_proc_rec *r = bpf_ringbuf_reserve(&proc_events, sizeof(*r), 0);
	if (!r) {
		cs_count_drop();
		return 0;
	}
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	r->hdr.type = type;
	r->hdr.len = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->pid = bpf_get_current_pid_tgid() >> 32;
	r->ppid = BPF_CORE_READ(t, real_parent, tgid);
	r->uid = (__u32)bpf_get_current_uid_gid();
	r->exit_code = 0;
	r->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	r->filename[0] = 0;
	return r;
}

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct cs_proc_rec *r = fill(CS_REC_EXEC);
	if (!r)
		return 0;
	unsigned int off = ctx->__data_loc_filename & 0xffff;
	bpf_probe_read_kernel_str(r->filename, sizeof(r->filename), (void *)ctx + off);
	CS_SUBMIT(&proc_events, r, wakeup_bytes);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int on_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((id >> 32) != (__u32)id) /* threads: only the leader's exit ends the process */
		return 0;
	struct cs_proc_rec *r = fill(CS_REC_EXIT);
	if (!r)
		return 0;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	r->exit_code = BPF_CORE_READ(t, exit_code);
	CS_SUBMIT(&proc_events, r, wakeup_bytes);
	return 0;
}
