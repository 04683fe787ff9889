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

/* ---- wire capture (wire.bpf.c) ------------------------------------------------------------------ */
#define CS_WIRE_MAX_CHUNK 8192 /* payload bytes per record; bigger (GSO) sends become several records */

enum cs_wire_hook { CS_HOOK_CGROUP = 1, CS_HOOK_TC = 2 };
enum cs_wire_proto { CS_PROTO_TLS = 1, CS_PROTO_SSH = 2, CS_PROTO_QUIC = 3 };

/* One TCP segment's (or UDP datagram's) handshake bytes, followed by payload_len bytes. */
struct cs_segment_rec {
	struct cs_hdr hdr;
	__u64 sock_cookie;  /* 0 when no local socket (forwarded traffic at TC) */
	__u64 netns_cookie;
	__u64 cgroup_id;    /* the socket's cgroup v2 id (0 unknown) */
	__u32 ifindex;
	__u32 owner_tgid;   /* process that owns the socket, when known in the kernel (0 unknown) */
	__u32 sock_ino;     /* inode of the socket file: userspace maps it to a pid via /proc/PID/fd */
	__u32 seq;          /* TCP sequence number of payload[0] */
	__u32 orig_len;     /* payload bytes in the packet */
	__u16 payload_len;  /* payload bytes copied into this record */
	__u16 gso_size;     /* UDP GSO: datagram size when several datagrams share one send */
	__u8 hook;          /* enum cs_wire_hook */
	__u8 dir;           /* 0 ingress, 1 egress */
	__u8 family;        /* 4 or 6 */
	__u8 l4proto;       /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 tcp_flags;
	__u8 proto;         /* enum cs_wire_proto */
	__u8 last;          /* the kernel stops copying this direction after this record */
	__u8 owner_how;     /* 2 = owner learnt at its first send (likely); 1 (connect()) is no longer made */
	__u8 saddr[16];     /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;        /* host byte order */
	__u16 dport;
	char owner_comm[16];
	/* followed by payload_len bytes of payload */
} __attribute__((packed));

/* ---- proc.bpf.c: process exec/exit (CS_REC_EXEC / CS_REC_EXIT) ---- */
#define CS_PROC_FILENAME_MAX 256
struct cs_proc_rec {
	struct cs_hdr hdr;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__s32 exit_code;        /* exit: task->exit_code (status << 8 | signal); exec: 0 */
	__u64 cgroup_id;
	char comm[16];
	char filename[CS_PROC_FILENAME_MAX]; /* exec: the path given to execve (NUL-terminated) */
} __attribute__((packed));

/* ---- libprobes.bpf.c: one crypto-library observation (CS_REC_LIB) ---- */
enum cs_lib_kind {
	CS_LIB_HANDSHAKE = 1, /* handshake entry: obj = SSL* / gnutls_session_t / *tls.Conn; value = role hint */
	CS_LIB_CERT = 2,      /* DER of a certificate the library parsed from the peer: data; value = full DER length */
	CS_LIB_GROUP_NAME = 3,/* OpenSSL EVP_PKEY_CTX_set_group_name: data = name */
	CS_LIB_CIPHER_NID = 4,/* OpenSSL EVP_CIPHER_get_key_length: value = cipher NID */
	CS_LIB_SIG_DIGEST = 5,/* OpenSSL EVP_Digest{Sign,Verify}Init_ex: data = digest name (empty for EdDSA); value = 1 sign, 2 verify */
	CS_LIB_RSA_PADDING = 6,/* OpenSSL EVP_PKEY_CTX_set_rsa_padding: value = padding (6 = PSS) */
	CS_LIB_VERSION = 7,   /* OpenSSL SSL_version return value */
	CS_LIB_GROUP_ID = 8,  /* IANA TLS group id (Go curve id; GnuTLS x25519/x448 derive) */
	CS_LIB_ECC_BITS = 9,  /* GnuTLS ECDH derive (nettle_ecc_point_mul): value = curve bit size */
	CS_LIB_GO_SIG = 10,   /* Go verifyHandshakeSignature: value = sigType << 8 | crypto.Hash */
	CS_LIB_GROUP_OID = 11,/* NSS ECDH derive (PK11_PubDeriveWithKDF): data = DER OID of the peer key's curve; value = KeyType */
	CS_LIB_NSS_SIG = 12,  /* NSS PK11_VerifyWithMechanism: value = mechanism << 24 | PSS hashAlg << 8 | hash length */
	CS_LIB_GNUTLS_SIG = 13,/* GnuTLS gnutls_pubkey_verify_{data,hash}2 from libgnutls: value = gnutls_sign_algorithm_t */
};

enum cs_lib_engine { CS_ENGINE_OPENSSL = 1, CS_ENGINE_GNUTLS = 2, CS_ENGINE_GO = 3, CS_ENGINE_NSS = 4 };

#define CS_LIB_DATA_MAX 8192  /* DER bytes copied per certificate */
struct cs_lib_rec {
	struct cs_hdr hdr;
	__u32 pid;
	__u32 tid;
	__u16 kind;      /* enum cs_lib_kind */
	__u16 lib_idx;   /* index of the attached library file (attach cookie) */
	__u32 data_len;  /* bytes of data[] that follow */
	__u64 obj;       /* connection object of the handshake in progress on this thread (0 = none) */
	__s64 value;
	__u64 cgroup_id;
	char comm[16];
	__u8 data[];
} __attribute__((packed));

/* Per attached library file (array map indexed by lib_idx): where the handshake-marker symbol sits and which
 * range of the file is "TLS code" (calls into libcrypto/nettle made from there are the handshake's). */
struct cs_lib_cfg {
	__u64 marker_vaddr;  /* unused: marker probes carry their symbol's vaddr in the attach cookie (bits 16..63) */
	__u64 code_lo;       /* TLS code range in the same file, as vaddrs */
	__u64 code_hi;
	__u32 engine;        /* enum cs_lib_engine */
	__u32 pad;
} __attribute__((packed));

/* ---- crau.bpf.c: crypto-auditing USDT (CS_REC_CRAU) ---- */
enum cs_crau_kind {
	CS_CRAU_NEW_CONTEXT = 1, /* context, parent */
	CS_CRAU_WORD = 2,        /* key, value_int */
	CS_CRAU_STRING = 3,      /* key, value (NUL-terminated) */
	CS_CRAU_BLOB = 4,        /* key, value (value_len bytes, value_int = full size) */
};
#define CS_CRAU_KEY_MAX 32
#define CS_CRAU_VALUE_MAX 64
struct cs_crau_rec {
	struct cs_hdr hdr;
	__u32 pid;
	__u32 tid;
	__u32 kind;       /* enum cs_crau_kind */
	__u32 value_len;  /* bytes used in value[] */
	__u64 context;
	__u64 parent;     /* NEW_CONTEXT only */
	__s64 value_int;
	__u64 cgroup_id;
	char comm[16];
	char key[CS_CRAU_KEY_MAX];
	__u8 value[CS_CRAU_VALUE_MAX];
} __attribute__((packed));

#endif
