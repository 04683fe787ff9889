// SPDX-License-Identifier: GPL-2.0
/* crypto-auditing USDT probes (provider crypto_auditing), one record per context or key/value event.
 * Sleepable (usdt.s) so key and value strings in pages the process has not touched yet can be faulted in
 * with bpf_copy_from_user_str; bpf_probe_read_user reads those back empty (measured). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "cryptoscope.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 wakeup_bytes = 0;

#define CRAU_MAX_DATA 16 /* elements per data / new_context_with_data array (as in crypto-auditing) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21);
} crau_events SEC(".maps");

CS_DEFINE_DROPS

struct crau_data { const char *key_ptr; const void *value_ptr; unsigned long value_size; };

static __always_inline struct cs_crau_rec *begin(__u32 kind, __u64 context)
{
	struct cs_crau_rec *r = bpf_ringbuf_reserve(&crau_events, sizeof(*r), 0);
	if (!r) {
		cs_count_drop();
		return 0;
	}
	__u64 id = bpf_get_current_pid_tgid();
	r->hdr.type = CS_REC_CRAU;
	r->hdr.len = sizeof(*r);
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->kind = kind;
	r->value_len = 0;
	r->context = context;
	r->parent = 0;
	r->value_int = 0;
	r->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	r->key[0] = 0;
	return r;
}

/* bpf_copy_from_user_str (kernel 6.12+) faults the page in; older kernels get the non-faulting read. */
static __always_inline long copy_str(void *dst, __u32 size, const void *src)
{
	if (bpf_ksym_exists(bpf_copy_from_user_str))
		return bpf_copy_from_user_str(dst, size, src, BPF_F_PAD_ZEROS);
	return bpf_probe_read_user_str(dst, size, src);
}

static __always_inline void emit_kv(__u64 context, const char *key, const void *value, long size)
{
	__u32 kind = size == -2 ? CS_CRAU_WORD : size == -1 ? CS_CRAU_STRING : CS_CRAU_BLOB;
	struct cs_crau_rec *r = begin(kind, context);
	if (!r)
		return;
	if (copy_str(r->key, sizeof(r->key), key) < 0)
		r->key[0] = 0;
	if (kind == CS_CRAU_WORD) {
		r->value_int = (__s64)value;
	} else if (kind == CS_CRAU_STRING) {
		int n = copy_str(r->value, sizeof(r->value), value);
		r->value_len = n > 0 ? n - 1 : 0;
	} else {
		r->value_int = size;
		/* two calls so the verifier sees a constant or a masked size */
		__u32 n;
		long err;
		if (size >= CS_CRAU_VALUE_MAX) {
			n = CS_CRAU_VALUE_MAX;
			err = bpf_copy_from_user(r->value, CS_CRAU_VALUE_MAX, value);
		} else {
			n = (__u32)size & (CS_CRAU_VALUE_MAX - 1);
			err = n ? bpf_copy_from_user(r->value, n, value) : 0;
		}
		r->value_len = err ? 0 : n;
	}
	CS_SUBMIT(&crau_events, r, wakeup_bytes);
}

static __always_inline void new_context(__u64 context, __u64 parent)
{
	struct cs_crau_rec *r = begin(CS_CRAU_NEW_CONTEXT, context);
	if (!r)
		return;
	r->parent = parent;
	CS_SUBMIT(&crau_events, r, wakeup_bytes);
}

static __always_inline void emit_array(__u64 context, const struct crau_data *arr, long n)
{
	for (int i = 0; i < CRAU_MAX_DATA; i++) {
		if (i >= n)
			break;
		struct crau_data d = {};
		if (bpf_copy_from_user(&d, sizeof(d), &arr[i]))
			break;
		emit_kv(context, d.key_ptr, d.value_ptr, (long)d.value_size);
	}
}

SEC("usdt.s")
int BPF_USDT(crau_new_context, __u64 context, __u64 parent)
{
	new_context(context, parent);
	return 0;
}

SEC("usdt.s")
int BPF_USDT(crau_word_data, __u64 context, const char *key, long value)
{
	emit_kv(context, key, (const void *)value, -2);
	return 0;
}

SEC("usdt.s")
int BPF_USDT(crau_string_data, __u64 context, const char *key, const char *value)
{
	emit_kv(context, key, value, -1);
	return 0;
}

SEC("usdt.s")
int BPF_USDT(crau_blob_data, __u64 context, const char *key, const void *value, long size)
{
	emit_kv(context, key, value, size < 0 ? 0 : size);
	return 0;
}

SEC("usdt.s")
int BPF_USDT(crau_data, __u64 context, const struct crau_data *arr, long n)
{
	emit_array(context, arr, n);
	return 0;
}

SEC("usdt.s")
int BPF_USDT(crau_new_context_with_data, __u64 context, __u64 parent, const struct crau_data *arr, long n)
{
	new_context(context, parent);
	emit_array(context, arr, n);
	return 0;
}
