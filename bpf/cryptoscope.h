/* Record layouts shared by every BPF program and the userspace decoders (capture/bpf/records.ts).
 * Each ring-buffer record starts with struct cs_hdr; `type` says which layout follows.
 * Keep these packed layouts and the TypeScript decoders in step: sizes are checked by tests. */
#ifndef CRYPTOSCOPE_H
#define CRYPTOSCOPE_H

enum cs_record_type {
	CS_REC_BENCH = 1,       /* ringbuf benchmark filler */
	CS_REC_SYSCALL = 2,     /* probe_check: a syscall of the watched process */
	CS_REC_UPROBE_HIT = 3,  /* probe_check: a uprobe fired */
	CS_REC_EXEC = 10,       /* proc: sched_process_exec */
	CS_REC_EXIT = 11,       /* proc: sched_process_exit */
	CS_REC_SEGMENT = 20,    /* wire: handshake bytes of one TCP segment / UDP datagram */
	CS_REC_SOCK_OWNER = 21, /* wire: socket cookie -> pid/comm/cgroup */
	CS_REC_LIB = 30,        /* libprobes: a crypto library call */
	CS_REC_CRAU = 40,       /* crypto-auditing USDT event */
};

struct cs_hdr {
	__u32 type;
	__u32 len;      /* bytes of the whole record including this header */
	__u64 ts_ns;    /* bpf_ktime_get_ns() (CLOCK_MONOTONIC); userspace converts to UTC */
} __attribute__((packed));

/* Fixed 64-byte record used by the ring-buffer benchmark. */
struct cs_bench_rec {
	struct cs_hdr hdr;
	__u64 seq;
	__u32 pid;
	__u32 cpu;
	__u8 pad[32];
} __attribute__((packed));

struct cs_syscall_rec {
	struct cs_hdr hdr;
	__u32 pid;
	__u32 tid;
	__s64 syscall_nr;
	char comm[16];
} __attribute__((packed));

struct cs_uprobe_hit_rec {
	struct cs_hdr hdr;
	__u32 pid;
	__u32 tid;
	__u64 cookie;
	__u64 ip;
	char comm[16];
} __attribute__((packed));

/* Per-CPU counter of records that could not be reserved in the ring buffer. Every program that
 * writes to a ring buffer defines it (CS_DEFINE_DROPS) so the agent can report drops. */
#define CS_DEFINE_DROPS                                                                            \
	struct {                                                                                       \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                                   \
		__uint(max_entries, 1);                                                                    \
		__type(key, __u32);                                                                        \
		__type(value, __u64);                                                                      \
	} drops SEC(".maps");                                                                          \
	static __always_inline void cs_count_drop(void)                                                \
	{                                                                                              \
		__u32 zero = 0;                                                                            \
		__u64 *d = bpf_map_lookup_elem(&drops, &zero);                                             \
		if (d)                                                                                     \
			(*d)++;                                                                                \
	}

/* Submit without waking the reader unless this much data is waiting: the reader polls on a timeout,
 * so a wake-up per record (2.4-2.9 us each, measured) is avoided. wakeup_bytes lives in .rodata. */
#define CS_SUBMIT(rb, rec, wakeup_bytes)                                                           \
	bpf_ringbuf_submit(rec, bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= (wakeup_bytes)             \
				       ? BPF_RB_FORCE_WAKEUP                                                   \
				       : BPF_RB_NO_WAKEUP)

#endif
