// SPDX-License-Identifier: GPL-2.0
/* Wire capture: copies only the handshake bytes of TLS, SSH and QUIC flows to userspace.
 *
 * Hooks: cgroup_skb ingress/egress on the cgroup v2 root sees every local socket in every network
 * namespace and knows the socket (cookie, cgroup, inode); TC clsact on an interface also sees forwarded
 * and pod traffic that has no local socket. Both share handle_packet().
 *
 * Per flow direction a state tracks where the next TLS record header starts, so copying stops at the
 * first application_data or alert record: application data never leaves the kernel. SSH stops after a few
 * segments (banner + KEXINIT), QUIC after a few Initial datagrams, and every direction is capped in bytes
 * and segments.
 *
 * The common packet is bulk data of a flow that is finished or was never a handshake, and it must cost
 * next to nothing. For TCP at cgroup_skb: a socket whose own segment counters are past any handshake
 * returns after a few plain loads from the kernel's socket (no helper call); before that, a socket
 * without a handshake under way is known from a small always-cached array (tcp_live), and one with a
 * handshake under way has its state in a preallocated LRU hash by cookie, made when the handshake goes on
 * past its first segment and deleted when no direction is under way (socket-local storage here was an
 * allocation per handshake). A segment without payload returns on its headers. Elsewhere (TC, UDP) the state is in an LRU hash keyed by the 5-tuple,
 * and a small array of counters indexed by a hash of that key says whether any tracked flow can be behind
 * a packet: a packet of an untracked flow costs the header reads and one array read, never the hash
 * lookup; at TC a TCP flow whose segments keep not starting a handshake is remembered in a second array,
 * so its payload is no longer read (a helper call on paged data): such a flow's segments return on their
 * headers as they lie in the packet, before any copy of them into a key. A TCP flow's entry is deleted as soon
 * as its direction is done.
 *
 * With cgroup_skb on the root, every byte between two local sockets would be copied twice (at the
 * sender's egress and the receiver's ingress). Two sockets of one namespace (loopback, a pod's sidecars)
 * talk over its loopback device, so a TCP segment arriving there is left alone at the first check:
 * userspace parses such a connection once, from the two egress streams, and writes a row per socket.
 * On a child cgroup the sender may be outside the watched subtree, so a receiver there leaves a loopback
 * segment alone only when a sender inside has marked its direction (lo_sent) where it started copying it.
 * TC likewise leaves packets of local sockets to cgroup_skb (egress: the skb has its socket, its first check; ingress: a lookup of the established
 * receiving socket when a new flow would start).
 *
 * Excluded cgroups (--exclude-cgroup): their sockets are left alone at the first instruction of the
 * cgroup_skb programs. On the root, a loopback segment from an excluded sender to a watched receiver is
 * then copied at the receiver's ingress (the sender copies nothing): an excluded sender marks its
 * direction at its SYN or SYN-ACK (lo_marks), and the receiver reads its mark's slot at each early
 * segment (a socket lookup only for connections older than the capture, in its first second); TC leaves
 * local sockets to cgroup_skb, so it copies excluded ones neither. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "cryptoscope.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

const volatile __u64 wakeup_bytes = 64 * 1024;
const volatile __u32 max_bytes_per_dir = 48 * 1024;
const volatile __u32 max_segments_per_dir = 48;
const volatile __u32 ssh_max_segments = 4;
const volatile __u32 quic_max_datagrams = 8;
const volatile __u8 filter_ports = 0; /* 1: only ports whose `ports` entry is non-zero */
const volatile __u8 cgroup_is_root = 0; /* 1: cgroup_skb is on the cgroup v2 root, it sees every local socket */
const volatile __u32 max_unclassified = 8; /* payload segments per direction before a flow is left alone */
/* A TCP socket that has moved more data segments than this in a direction (its own counters) is past any
 * handshake that is still copied (caps: 48 segments, 48 KiB), or it is no handshake flow at all. */
const volatile __u32 past_handshake_segs = 256;
/* cgroup_skb: sockets in these cgroup v2 subtrees are left alone (the agent's own traffic, backups...):
 * the cgroup's id and its level (depth below the root), set by the loader. With none the verifier drops
 * the check (excluded_n is a constant), so it costs nothing. */
#define MAX_EXCLUDED 4
const volatile __u32 excluded_n = 0;
const volatile __u64 excluded_ids[MAX_EXCLUDED] = {};
const volatile __u32 excluded_levels[MAX_EXCLUDED] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

CS_DEFINE_DROPS

/* indexed by port: an array lookup is inlined by the verifier, a hash lookup is a call */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} ports SEC(".maps");

struct flow_key {
	__u64 id;       /* socket cookie (cgroup_skb) or 0 (TC: the tuple identifies the flow) */
	__u32 ifindex;  /* 0 for cgroup_skb */
	__u8 hook;
	__u8 dir;
	__u8 l4proto;
	__u8 pad;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
};

struct flow_state {
	__u32 next_rec;  /* TLS: sequence number of the next record header */
	__u32 bytes;
	__u16 segments;
	__u8 proto;
	__u8 done;
	__u8 tracking;   /* TLS record boundaries known */
	__u8 misses;     /* payload segments that did not start a handshake (socket path) */
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_state);
} flows SEC(".maps");

/* Number of live `flows` entries per hash slot of their key; 0 = no tracked flow can match. LRU
 * evictions leave a slot counted (a lookup too many, never a flow missed). */
#define LIVE_SLOTS 65536
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIVE_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} live_slots SEC(".maps");

/* TC, TCP: per hash slot of a flow key, the last flow there whose payload did not start a handshake and
 * how many of its segments in a row did not. At max_unclassified the flow is left alone (no payload read,
 * which costs a helper call on paged data) until a SYN, FIN or RST of it clears the slot. A slot shared by
 * two such flows keeps being overwritten: both are then just read as before, never skipped by mistake. */
struct quiet_slot {
	__u32 tag; /* a second hash of the key: which flow */
	__u32 misses;
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIVE_SLOTS);
	__type(key, __u32);
	__type(value, struct quiet_slot);
} quiet_slots SEC(".maps");

/* The process owning a socket, learnt where the kernel runs in that process's context: its first egress
 * payload (the ClientHello, a server's first flight). No connect() hook: it would have to create the
 * storage (an allocation, ~2 us here) for every connecting socket, handshake or not. */
struct owner {
	__u32 tgid;
	__u32 how; /* 2 = first send (1 was connect(), no longer used) */
	char comm[16];
};

/* A socket's state: both directions' (0 ingress, 1 egress), its owner and ids, read once. For a TCP
 * socket it lives in tcp_socks, made when a handshake goes on past the segment it starts in; a UDP socket
 * has it in socket-local storage, made at its first copied send. */
struct sock_flows {
	struct flow_state d[2];
	struct owner owner;
	__u32 ino;
	__u32 ids_known; /* ino, cookie, netns and cgroup read (once: none of them changes) */
	__u64 cookie;
	__u64 netns;
	__u64 cgroup;
};
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_flows);
} sock_flows SEC(".maps");

/* TCP sockets whose handshake is under way, by cookie (unique for the host's uptime, never reused: a
 * stale entry cannot meet a new socket). A preallocated LRU hash rather than socket-local storage:
 * making the storage was an allocation (~2 us per handshake here, and an RCU free when the socket
 * closes), an update here takes a preallocated element. An entry lives only while a direction is under
 * way: it is deleted when no direction is (or at a FIN or RST), so the table stays small and warm. A
 * finished direction's later segments are then looked at on their own like those of any socket without
 * state (no more than max_unclassified data segments, classify() finds no handshake start in them). */
#define TCP_SOCKS 8192
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TCP_SOCKS);
	__type(key, __u64);
	__type(value, struct sock_flows);
} tcp_socks SEC(".maps");

/* tcp_socks entries per slot of a hash of the socket's addresses; 0 = the socket has no entry, found
 * without the hash lookup (which costs cache misses: most payload segments are of sockets without one).
 * Few slots on purpose: 256 bytes that every TCP payload segment reads stay in cache (a 16 KiB array
 * missed the cache on every run, as much as the lookup it saved), and only a handful of handshakes are
 * under way at once; a slot shared with one costs a lookup. An entry the LRU drops leaves its slot
 * counted: a lookup too many, never a state missed. */
#define TCP_LIVE_SLOTS 64
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCP_LIVE_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} tcp_live SEC(".maps");

/* cgroup_skb on a child cgroup (cgroup_is_root = 0): the loopback flow directions whose handshake bytes
 * a sender inside the watched subtree copies at its egress. The same packet then reaches the receiver's
 * ingress program (loopback xmit, then the backlog in softirq) with the same addresses and ports; when its
 * direction is here the receiver leaves it alone, so a connection between two sockets of the subtree is
 * copied once, as on the root, and one from a sender outside it is still copied at the receiver. Keyed
 * by the namespace too (each has its own 127.0.0.1). A new connection on the same tuple drops both of
 * its directions at the SYN and SYN-ACK that reach an end inside the subtree (loopback reuses tuples out
 * of TIME_WAIT at once), so a stale entry never hides a new sender outside; others age out of the LRU
 * (an eviction costs a second copy, never a miss). */
struct lo_key {
	__u64 netns;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 pad[3];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct lo_key);
	__type(value, __u8);
} lo_sent SEC(".maps");

/* cgroup_skb on the root with exclusions: loopback TCP connection directions whose sender is excluded,
 * so the watched receiver must copy them where they arrive. An excluded socket's egress marks its own
 * direction at its SYN or SYN-ACK: one 8-byte store into a direct-mapped array slot chosen by a hash of
 * the namespace and the tuple (the hash's other bits as a tag, and that segment's sequence number, the
 * direction's ISN); it does nothing else for it (no helper call, no lock, nothing at its FIN: a few
 * header loads per loopback segment). A watched receiver reads its slot at each loopback segment while
 * its direction may still start a handshake (no more than max_unclassified data segments): no mark of its
 * own there and it returns at once, as with nothing excluded. Before, every such segment was classified
 * and one that started a handshake asked for the sender socket (a lookup in the established hash, a
 * reference taken and dropped, the sender's cgroup ancestry read).
 * A mark counts only for a segment within LO_MARK_WINDOW of its ISN: a new connection on the tuple of
 * an older excluded one (loopback reuses tuples straight out of TIME_WAIT, with an ISN at least 64 KiB
 * past the old one's last byte) is not taken for one from an excluded sender, which would copy a
 * watched sender's bytes twice; so a handshake starting more than 64 KiB into an excluded sender's
 * direction is not seen at the watched end. Another excluded connection whose tuple hashes to the same
 * slot overwrites a mark (LO_MARK_SLOTS slots): if that comes before the first connection's handshake
 * reached the watched end (normally microseconds after the SYN), that direction is not copied.
 * A connection established before the capture started has no mark: asking for the sender socket (the
 * old way) stays its fallback until userspace declares the start-up window over (lo_settled = 1,
 * WireCapture loopbackFallbackMs after the programs are attached, default 1 s), so a connection set up
 * just before the start whose handshake comes just after is copied in full. One older than that window
 * that starts a handshake later (STARTTLS on a long-lived connection) is a blind spot for its excluded
 * sender's direction: the watched end's row has only its own half (its own direction is copied at its
 * egress). */
#define LO_MARK_SLOTS 16384
#define LO_MARK_WINDOW 65535
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LO_MARK_SLOTS);
	__type(key, __u32);
	__type(value, __u64); /* tag << 32 | ISN, 0 = none */
} lo_marks SEC(".maps");

/* [0]: 0 while the start-up window lasts (unmarked loopback senders are asked for by socket lookup), 1 after */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lo_settled SEC(".maps");

/* per-CPU scratch: one record header + the largest chunk */
struct scratch {
	/* bytes this CPU put in the ring since it last woke the reader: the wake-up rule reads this line,
	 * already in cache with the record's header, not the ring's positions (bpf_ringbuf_query reads the
	 * consumer's, a line the reader's CPU writes) */
	__u64 unwoken;
	struct cs_segment_rec rec;
	__u8 data[CS_WIRE_MAX_CHUNK];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

struct pkt {
	__u32 l4off;
	__u32 payload_off;
	__u32 payload_len;
	__u32 seq;
	__u8 family;
	__u8 l4proto;
	__u8 flags;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
};

/* skb->data and skb->data_end as loads at their fixed context offsets: clang 14 otherwise may keep the
 * offsets in registers (shared with other ctx reads), which the verifier rejects ("modified ctx ptr") */
#define SKB_CTX_PTR(skb, field) ({ void *_p; asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(_p) \
	: "r"(skb), "i"(__builtin_offsetof(struct __sk_buff, field))); _p; })

/* Header bytes straight from the packet's linear part when they are there (no helper call), else
 * through bpf_skb_load_bytes (paged data, e.g. the payload of a GSO send). */
static __always_inline int load_bytes(struct __sk_buff *skb, __u32 off, void *to, const __u32 len)
{
	void *data = SKB_CTX_PTR(skb, data), *end = SKB_CTX_PTR(skb, data_end);
	if (off < 256 && data + off + len <= end) {
		__builtin_memcpy(to, data + off, len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, to, len);
}

static __always_inline int parse_l3l4(struct __sk_buff *skb, __u32 l3off, __u16 l3proto, struct pkt *p)
{
	__u32 l4off;
	if (l3proto == ETH_P_IP) {
		struct iphdr ip;
		if (load_bytes(skb, l3off, &ip, sizeof(ip)))
			return -1;
		if (ip.frag_off & bpf_htons(0x1fff)) /* non-first fragment */
			return -1;
		p->family = 4;
		p->l4proto = ip.protocol;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		l4off = l3off + ip.ihl * 4;
	} else if (l3proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;
		if (load_bytes(skb, l3off, &ip6, sizeof(ip6)))
			return -1;
		p->family = 6;
		p->l4proto = ip6.nexthdr; /* extension headers are rare on handshakes: not walked */
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
		l4off = l3off + sizeof(ip6);
	} else {
		return -1;
	}
	p->l4off = l4off;
	if (p->l4proto == IPPROTO_TCP) {
		struct tcphdr th;
		if (load_bytes(skb, l4off, &th, sizeof(th)))
			return -1;
		p->sport = bpf_ntohs(th.source);
		p->dport = bpf_ntohs(th.dest);
		p->seq = bpf_ntohl(th.seq);
		p->flags = ((__u8 *)&th)[13];
		p->payload_off = l4off + th.doff * 4;
	} else if (p->l4proto == IPPROTO_UDP) {
		struct udphdr uh;
		if (load_bytes(skb, l4off, &uh, sizeof(uh)))
			return -1;
		p->sport = bpf_ntohs(uh.source);
		p->dport = bpf_ntohs(uh.dest);
		p->seq = 0;
		p->flags = 0;
		p->payload_off = l4off + sizeof(uh);
	} else {
		return -1;
	}
	p->payload_len = skb->len > p->payload_off ? skb->len - p->payload_off : 0;
	return 0;
}

#define LOOPBACK_IFINDEX 1 /* fixed in every network namespace */

/* The socket's cgroup lies in an excluded subtree: its ancestor at that level is the excluded one
 * (0 when the socket's cgroup is not that deep, or no full socket: a SYN-ACK's request socket). */
static __always_inline int excluded_socket(struct __sk_buff *skb)
{
#pragma unroll
	for (int i = 0; i < MAX_EXCLUDED; i++) {
		if (i >= excluded_n)
			return 0;
		if (bpf_skb_ancestor_cgroup_id(skb, excluded_levels[i]) == excluded_ids[i])
			return 1;
	}
	return 0;
}

/* The established or listening TCP socket of this namespace at the packet's own tuple (the receiver) or
 * at the reversed one (the sender of a loopback segment); the caller releases it. */
static __always_inline struct bpf_sock *tcp_socket_of(struct __sk_buff *skb, struct pkt *p, int reversed)
{
	struct bpf_sock_tuple t = {};
	__u8 *src = reversed ? p->daddr : p->saddr, *dst = reversed ? p->saddr : p->daddr;
	__u16 sport = reversed ? p->dport : p->sport, dport = reversed ? p->sport : p->dport;
	__u32 size;
	if (p->family == 4) {
		__builtin_memcpy(&t.ipv4.saddr, src, 4);
		__builtin_memcpy(&t.ipv4.daddr, dst, 4);
		t.ipv4.sport = bpf_htons(sport);
		t.ipv4.dport = bpf_htons(dport);
		size = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, src, 16);
		__builtin_memcpy(t.ipv6.daddr, dst, 16);
		t.ipv6.sport = bpf_htons(sport);
		t.ipv6.dport = bpf_htons(dport);
		size = sizeof(t.ipv6);
	}
	return bpf_sk_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
}

/* The sender of a loopback segment (the established socket of the reversed tuple in this namespace) is
 * in an excluded subtree: the fallback of loopback_sender_excluded() for a connection without a mark. */
static __always_inline int sender_socket_excluded(struct __sk_buff *skb, struct pkt *p)
{
	if (!excluded_n)
		return 0;
	struct bpf_sock *sender = tcp_socket_of(skb, p, 1);
	if (!sender)
		return 0;
	int out = 0;
#pragma unroll
	for (int i = 0; i < MAX_EXCLUDED; i++) {
		if (i >= excluded_n)
			break;
		if (bpf_sk_ancestor_cgroup_id(sender, excluded_levels[i]) == excluded_ids[i]) {
			out = 1;
			break;
		}
	}
	bpf_sk_release(sender);
	return out;
}

/* A TCP segment over loopback with cgroup_skb on a child cgroup: the case lo_sent is for. */
static __always_inline int child_loopback(struct __sk_buff *skb)
{
	return !cgroup_is_root && skb->ifindex == LOOPBACK_IFINDEX;
}

static __always_inline void lo_key_of(struct __sk_buff *skb, struct pkt *p, struct lo_key *k)
{
	k->netns = bpf_get_netns_cookie(skb);
	k->family = p->family;
	__builtin_memcpy(k->saddr, p->saddr, 16);
	__builtin_memcpy(k->daddr, p->daddr, 16);
	k->sport = p->sport;
	k->dport = p->dport;
}

/* The namespace of a packet's device (loopback: the sender's and the receiver's), by plain loads. */
static __always_inline __u64 dev_netns(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct net_device *dev = kskb->dev;
	if (!dev)
		return 0;
	return dev->nd_net.net->net_cookie;
}

/* A loopback TCP direction's lo_marks slot and tag, from the namespace and its headers as they are in the
 * packet (the last 32 bits of each address, the ports): the same at the sender's egress and the
 * receiver's ingress. */
static __always_inline __u32 lo_mark_hash(__u64 netns, __u32 a, __u32 b, __u32 ports)
{
	__u32 h = ((__u32)netns ^ (__u32)(netns >> 32) ^ a) * 0x9E3779B1;
	h = (h ^ b) * 0x85EBCA77;
	h = (h ^ ports) * 0xC2B2AE3D;
	return h ^ (h >> 15); /* slot: the top bits; tag: all of it */
}
#define LO_MARK_SLOT(h) ((h) >> (32 - 14)) /* LO_MARK_SLOTS = 1 << 14 */

/* An excluded socket's loopback TCP segment on the root (only while something is excluded): its SYN or
 * SYN-ACK marks its direction in lo_marks; any other segment costs the header loads. */
static __always_inline void mark_excluded_loopback(struct __sk_buff *skb)
{
	if (!excluded_n || !cgroup_is_root || skb->ifindex != LOOPBACK_IFINDEX)
		return;
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 a, b, l4off;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;
		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP)
			return;
		l4off = ((__u32)ip->ihl & 0xf) * 4;
		a = ip->saddr;
		b = ip->daddr;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return;
		l4off = sizeof(*ip6);
		a = ip6->saddr.in6_u.u6_addr32[3];
		b = ip6->daddr.in6_u.u6_addr32[3];
	} else {
		return;
	}
	if (l4off > 128)
		return;
	struct tcphdr *th = data + l4off;
	if ((void *)(th + 1) > end || !(((__u8 *)th)[13] & TCP_SYN))
		return;
	__u32 h = lo_mark_hash(dev_netns(skb), a, b, *(__u32 *)th), slot = LO_MARK_SLOT(h);
	__u64 *m = bpf_map_lookup_elem(&lo_marks, &slot);
	if (m)
		*m = (__u64)h << 32 | bpf_ntohl(th->seq);
}

/* At a watched receiver's loopback segment (root, something excluded): its sender marked the direction
 * (see lo_marks), and the segment lies within LO_MARK_WINDOW of the mark's ISN. */
static __always_inline int lo_marked(struct __sk_buff *skb, __u32 a, __u32 b, struct tcphdr *th)
{
	__u32 h = lo_mark_hash(dev_netns(skb), a, b, *(__u32 *)th), slot = LO_MARK_SLOT(h);
	__u64 *m = bpf_map_lookup_elem(&lo_marks, &slot);
	if (!m || (__u32)(*m >> 32) != h)
		return 0;
	return (__u32)(bpf_ntohl(th->seq) - (__u32)*m) <= LO_MARK_WINDOW;
}

/* With cgroup_skb on the root a loopback segment is copied at its sender's egress only, so one from an
 * excluded socket to a watched one must be copied where it arrives instead. Asked where a segment of a
 * receiving direction that can still be in its handshake starts one, and only when something is excluded
 * (else the verifier drops the code): lo_check 2, the sender's mark was found (skip_at_once); without
 * one (only while the start-up window lasts, else the segment was left alone already) the sender socket. */
static __always_inline int loopback_sender_excluded(struct __sk_buff *skb, struct pkt *p, int lo_check)
{
	if (!excluded_n)
		return 0;
	if (lo_check == 2)
		return 1;
	return sender_socket_excluded(skb, p);
}

/* What a new flow starts with: a TLS handshake record, an SSH banner, or a QUIC Initial. */
static __always_inline __u8 classify(struct __sk_buff *skb, struct pkt *p)
{
	__u8 b[6];
	if (p->payload_len < 6 || load_bytes(skb, p->payload_off, b, 6))
		return 0;
	if (p->l4proto == IPPROTO_TCP) {
		/* a ClientHello or ServerHello record: what starts either direction of a TLS flow */
		if (b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04 && (b[5] == 1 || b[5] == 2))
			return CS_PROTO_TLS;
		if (b[0] == 'S' && b[1] == 'S' && b[2] == 'H' && b[3] == '-')
			return CS_PROTO_SSH;
		return 0;
	}
	/* QUIC long header Initial: v1 type bits 00, v2 (0x6b3343cf) type bits 01 */
	if (!(b[0] & 0x80))
		return 0;
	__u32 version = ((__u32)b[1] << 24) | ((__u32)b[2] << 16) | ((__u32)b[3] << 8) | b[4];
	__u8 type = (b[0] >> 4) & 3;
	if ((version == 1 && type == 0) || (version == 0x6b3343cf && type == 1) || ((version & 0x0f0f0f0f) == 0x0a0a0a0a))
		return CS_PROTO_QUIC;
	return 0;
}

/* Walks TLS record headers inside this segment; returns how many payload bytes may be copied
 * (stopping before an application_data or alert record). */
static __always_inline __u32 tls_copy_len(struct __sk_buff *skb, struct pkt *p, struct flow_state *st)
{
	__u32 len = p->payload_len;
	if (!st->tracking)
		return len;
	for (int i = 0; i < 16; i++) {
		__s32 rel = (__s32)(st->next_rec - p->seq);
		if (rel < 0) {
			/* a retransmission, or the record start was not seen: stop tracking, rely on the caps */
			if ((__s32)(p->seq + len - st->next_rec) <= 0)
				return len;
			st->tracking = 0;
			return len;
		}
		if ((__u32)rel >= len)
			return len;
		if ((__u32)rel + 5 > len) {
			st->tracking = 0; /* header split across segments */
			return len;
		}
		__u8 h[5];
		if (bpf_skb_load_bytes(skb, p->payload_off + (__u32)rel, h, 5))
			return len;
		if (h[0] == 23 || h[0] == 21) {
			st->done = 1;
			return (__u32)rel;
		}
		if (h[0] < 20 || h[0] > 24 || h[1] != 3) {
			st->tracking = 0;
			return len;
		}
		st->next_rec += 5 + (((__u32)h[3] << 8) | h[4]);
	}
	return len;
}

static __always_inline void learn_owner(struct sock_flows *sf, __u32 how)
{
	if (!sf || sf->owner.tgid)
		return;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!tgid)
		return;
	sf->owner.how = how;
	bpf_get_current_comm(sf->owner.comm, sizeof(sf->owner.comm));
	sf->owner.tgid = tgid;
}

/* plain loads through the kernel's pointers (no helper call per hop) */
static __always_inline __u32 socket_inode(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct sock *sk = kskb->sk;
	if (!sk)
		return 0;
	struct socket *sock = sk->sk_socket;
	if (!sock || !sock->file)
		return 0;
	struct inode *inode = sock->file->f_inode;
	return inode ? (__u32)inode->i_ino : 0;
}

/* A 5-tuple flow's slot (16 bits, live_slots and quiet_slots) and tag (a second, independent hash: a flow
 * is known by slot and tag together, 48 bits), from its key's fields as 32-bit words: the addresses as
 * they lie in the packet (IPv4: the first word, the rest 0), the ports in host order. One function for
 * the flow_key (flow_slots) and for headers read in place (tc_flow_quiet), so both give the same values. */
struct flow_hash {
	__u32 slot;
	__u32 tag;
};
static __always_inline struct flow_hash flow_hash_of(__u64 id, __u32 ifindex, __u32 hook_dir,
	__u32 a0, __u32 a1, __u32 a2, __u32 a3, __u32 b0, __u32 b1, __u32 b2, __u32 b3, __u16 sport, __u16 dport)
{
	struct flow_hash out;
	__u32 h = (__u32)id ^ (__u32)(id >> 32) ^ ifindex ^ hook_dir;
	h = (h ^ a0) * 0x9E3779B1;
	h = (h ^ a1 ^ a2 ^ a3) * 0x9E3779B1;
	h = (h ^ b0) * 0x9E3779B1;
	h = (h ^ b1 ^ b2 ^ b3) * 0x9E3779B1;
	h = (h ^ ((__u32)sport << 16 | dport)) * 0x9E3779B1;
	out.slot = h >> 16;
	h = 0x7f4a7c15 ^ ifindex ^ hook_dir;
	h = (h + a0 + a3) * 0x85EBCA77;
	h = (h + b0 + b3) * 0xC2B2AE3D;
	h = (h + a1 + a2 + b1 + b2) * 0x27D4EB2F;
	h = (h + ((__u32)dport << 16 | sport)) * 0x165667B1;
	out.tag = (h ^ (h >> 15)) | 1; /* 0 = empty slot */
	return out;
}

static __always_inline struct flow_hash flow_slots(struct flow_key *k)
{
	__u32 *a = (__u32 *)k->saddr, *b = (__u32 *)k->daddr;
	return flow_hash_of(k->id, k->ifindex, (__u32)k->hook << 8 | k->dir,
			    a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], k->sport, k->dport);
}

static __always_inline int port_watched(struct pkt *p)
{
	__u32 sp = p->sport, dp = p->dport;
	__u8 *a = bpf_map_lookup_elem(&ports, &sp), *b = bpf_map_lookup_elem(&ports, &dp);
	return (a && *a) || (b && *b);
}

/* An established (not listening) TCP socket of the packet's namespace is its receiver. */
static __always_inline int local_tcp_receiver(struct __sk_buff *skb, struct pkt *p)
{
	struct bpf_sock *sk = tcp_socket_of(skb, p, 0);
	if (!sk)
		return 0;
	/* a listener bound to a wildcard address also matches forwarded packets: only a connection counts */
	int local = sk->state != BPF_TCP_LISTEN;
	bpf_sk_release(sk);
	return local;
}

/* TC, a TCP payload segment (not SYN, FIN or RST) of a flow its quiet_slots slot holds as left alone,
 * with no tracked flow in its live_slots slot: the decision handle_packet() takes after parse_l3l4() and
 * the flow key, taken here on the headers as they lie in the packet (bounds checked by the caller). */
static __always_inline int tc_flow_quiet(struct __sk_buff *skb, void *l3, void *end, __u16 l3proto, struct tcphdr *th, __u8 dir)
{
	struct flow_hash fh;
	__u32 ifindex = skb->ifindex, hd = (__u32)CS_HOOK_TC << 8 | dir;
	__u16 sport = bpf_ntohs(th->source), dport = bpf_ntohs(th->dest);
	if (l3proto == ETH_P_IP) {
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > end) /* checked already: for the verifier, which lost that on the way */
			return 0;
		fh = flow_hash_of(0, ifindex, hd, ip->saddr, 0, 0, 0, ip->daddr, 0, 0, 0, sport, dport);
	} else {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > end)
			return 0;
		__u32 *a = ip6->saddr.in6_u.u6_addr32, *b = ip6->daddr.in6_u.u6_addr32;
		fh = flow_hash_of(0, ifindex, hd, a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], sport, dport);
	}
	struct quiet_slot *q = bpf_map_lookup_elem(&quiet_slots, &fh.slot);
	if (!q || q->tag != fh.tag || q->misses < max_unclassified)
		return 0;
	__u32 *live = bpf_map_lookup_elem(&live_slots, &fh.slot);
	return live && !*live;
}

/* The first check on the packet itself, on headers read straight from it: returns 1 when
 * the packet can be left alone at once. A TCP segment without payload (pure ACK, SYN) never starts or
 * carries handshake bytes; a FIN or RST still goes on, to end a tracked 5-tuple flow (at TC a SYN too). With cgroup_skb
 * on the root, a TCP segment arriving over loopback was sent by a socket of this namespace and copied
 * at its egress already (traffic to any local address of a namespace goes over its loopback); on a
 * child cgroup a loopback SYN arriving returns 2 (its direction is forgotten in lo_sent). At TC a payload
 * segment of a flow left alone as no handshake (quiet_slots) returns here too. Headers outside the linear
 * part (rare: the stack pulls them in) fall through to the full parse. */
static __always_inline int skip_at_once(struct __sk_buff *skb, __u32 l3off, __u16 l3proto, __u8 hook, __u8 dir, int lo_check)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 l4off, a = 0, b = 0; /* the addresses' last 32 bits: only read while something is excluded */
	/* cgroup_skb ingress on the root: a constant (handle_packet is inlined per hook) */
	const int lo_in = hook == CS_HOOK_CGROUP && dir == 0 && cgroup_is_root;
	if (l3proto == ETH_P_IP) {
		struct iphdr *ip = data + l3off;
		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP)
			return 0;
		l4off = l3off + ((__u32)ip->ihl & 0xf) * 4;
		if (lo_in && excluded_n) {
			a = ip->saddr;
			b = ip->daddr;
		}
	} else if (l3proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = data + l3off;
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return 0;
		l4off = l3off + sizeof(*ip6);
		if (lo_in && excluded_n) {
			a = ip6->saddr.in6_u.u6_addr32[3];
			b = ip6->daddr.in6_u.u6_addr32[3];
		}
	} else {
		return 0;
	}
	int lo_root = lo_in && skb->ifindex == LOOPBACK_IFINDEX;
	if (lo_root && !lo_check)
		return 1;
	if (l4off > 128)
		return 0;
	struct tcphdr *th = data + l4off;
	if ((void *)(th + 1) > end)
		return 0;
	__u8 flags = ((__u8 *)th)[13];
	if (skb->len > l4off + th->doff * 4) {
		if (excluded_n && lo_root) {
			/* a payload segment whose sender may be excluded (lo_check): marked (3: copy it here,
			 * see lo_marks), or not and the start-up window over: left alone (one without payload
			 * goes on below: it is left alone there, or ends the socket's state) */
			__u32 zero = 0;
			__u32 *settled = bpf_map_lookup_elem(&lo_settled, &zero);
			if (lo_marked(skb, a, b, th))
				return 3;
			if (settled && *settled)
				return 1;
		}
		/* a SYN, FIN or RST goes on: it clears its flow's quiet slot */
		if (hook == CS_HOOK_TC && !(flags & (TCP_SYN | TCP_FIN | TCP_RST)))
			return tc_flow_quiet(skb, data + l3off, end, l3proto, th, dir);
		return 0;
	}
	/* cgroup_skb on a child cgroup: a SYN (or SYN-ACK) arriving over loopback starts a connection, so
	 * its direction is no longer one a sender in the subtree copies (2: forget it, then leave it) */
	if (hook == CS_HOOK_CGROUP && dir == 0 && (flags & TCP_SYN) && child_loopback(skb))
		return 2;
	/* TC: a SYN clears its flow's quiet slot */
	return !(flags & (TCP_FIN | TCP_RST | (hook == CS_HOOK_TC ? TCP_SYN : 0)));
}

/* The common cgroup_skb packet, decided without a helper call: plain loads from the kernel's socket
 * (the fields the stack itself reads next). A full TCP socket's segment that arrived over loopback was
 * sent by a socket of this namespace and copied at its egress; a direction whose segment counter is past
 * past_handshake_segs carries no handshake bytes any more. */
#define TCP_TIME_WAIT_STATE 6
#define TCP_NEW_SYN_RECV_STATE 12
/* The packet's full socket (not a request or timewait one), by plain loads: what bpf_sk_fullsock(skb->sk)
 * says, without the helper call; NULL when it has none. */
static __always_inline struct sock *kernel_full_sock(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct sock *ks = kskb->sk;
	if (!ks)
		return NULL;
	__u8 state = ks->__sk_common.skc_state;
	return state == TCP_TIME_WAIT_STATE || state == TCP_NEW_SYN_RECV_STATE ? NULL : ks;
}

static __always_inline int tcp_socket_done(struct __sk_buff *skb, __u8 dir, __u32 *segs, int *lo_check)
{
	struct sock *ks = kernel_full_sock(skb);
	if (!ks || ks->sk_protocol != IPPROTO_TCP)
		return 0;
	struct tcp_sock *tp = bpf_core_cast(ks, struct tcp_sock);
	*segs = dir ? tp->data_segs_out : tp->data_segs_in;
	if (*segs > past_handshake_segs)
		return 1;
	if (dir == 0 && cgroup_is_root && skb->ifindex == LOOPBACK_IFINDEX) {
		if (!excluded_n || *segs > max_unclassified)
			return 1;
		*lo_check = 1; /* its sender may be excluded: see lo_marks, skip_at_once() */
	}
	return 0;
}

/* from the socket's own addresses and ports (plain loads, no helper call): the same for its whole life;
 * sockets that share a slot only cost each other a lookup */
static __always_inline __u32 tcp_live_slot(struct bpf_sock *sk)
{
	__u32 h = (sk->src_port << 16) ^ sk->dst_port ^ sk->src_ip4 ^ sk->dst_ip4 ^ sk->dst_ip6[3];
	return (h * 0x9E3779B1) >> (32 - 6); /* TCP_LIVE_SLOTS = 1 << 6 */
}

/* no direction of the socket is under way */
static __always_inline int sock_idle(struct sock_flows *sf)
{
	return (!sf->d[0].proto || sf->d[0].done) && (!sf->d[1].proto || sf->d[1].done);
}

static __always_inline void drop_sock_state(__u64 *cookie, __u32 *live)
{
	if (!bpf_map_delete_elem(&tcp_socks, cookie) && live && *live)
		__sync_fetch_and_add(live, -1);
}

static __always_inline void handle_packet(struct __sk_buff *skb, __u32 l3off, __u16 l3proto, __u8 hook, __u8 dir)
{
	struct bpf_sock *sk = NULL, *fsk = NULL;
	struct sock_flows *sf = NULL;
	__u64 cookie = 0; /* the socket's, read only where it is needed (cgroup_skb: keys, records) */
	__u32 *sock_live = NULL; /* the socket's tcp_live slot */
	__u32 segs = 0; /* this direction's data segments so far (TCP socket at cgroup_skb) */
	int lo_check = 0; /* a loopback segment on the root that its sender copied unless that one is excluded */
	if (hook == CS_HOOK_CGROUP && tcp_socket_done(skb, dir, &segs, &lo_check))
		return;
	if (hook == CS_HOOK_TC && cgroup_is_root && dir == 1 && kernel_full_sock(skb))
		return; /* sent by a local socket: cgroup_skb on the root has seen it */
	int skip = skip_at_once(skb, l3off, l3proto, hook, dir, lo_check);
	if (skip == 3) {
		lo_check = 2; /* its sender is excluded and marked the direction: copied here */
		skip = 0;
	}
	if (skip) {
		struct pkt sp = {};
		if (skip == 2 && !parse_l3l4(skb, l3off, l3proto, &sp)) {
			struct lo_key lk = {};
			lo_key_of(skb, &sp, &lk);
			bpf_map_delete_elem(&lo_sent, &lk);
		}
		return;
	}
	if (hook == CS_HOOK_CGROUP) {
		fsk = skb->sk;
		if (fsk)
			fsk = bpf_sk_fullsock(fsk);
		sk = fsk;
		if (sk && sk->protocol == IPPROTO_TCP) {
			__u32 ls = tcp_live_slot(sk);
			sock_live = bpf_map_lookup_elem(&tcp_live, &ls);
			if (!sock_live)
				return;
			if (*sock_live) {
				cookie = bpf_get_socket_cookie(skb);
				sf = bpf_map_lookup_elem(&tcp_socks, &cookie);
				if (sf && sf->d[dir & 1].done)
					return; /* this direction is finished, the other one still under way */
			}
		} else {
			sk = NULL; /* UDP, or no full socket: the 5-tuple path */
		}
	}

	struct pkt p = {};
	if (parse_l3l4(skb, l3off, l3proto, &p))
		return;

	struct flow_key k = {};
	struct flow_state *st, fresh = {};
	__u32 slot = 0;
	__u32 *live = NULL;

	if (sk) {
		if (p.payload_len == 0) {
			if (sf && (p.flags & (TCP_FIN | TCP_RST)))
				drop_sock_state(&cookie, sock_live); /* the socket closes: its state goes */
			return;
		}
		/* A socket gets its state only when a handshake starts on it and goes on past this segment. Until then each payload segment is looked at on its own, as long
		 * as the direction has carried no more than max_unclassified data segments: a flow that is no
		 * handshake costs a header read for those, and one whose whole handshake bytes came in one
		 * segment (a TLS 1.3 server flight: ServerHello, ChangeCipherSpec, then encrypted records)
		 * never needs a state. */
		if (!sf && segs > max_unclassified)
			return;
		__u8 proto = 0;
		st = sf ? &sf->d[dir & 1] : NULL;
		if (!st || !st->proto) {
			if (filter_ports && !port_watched(&p)) {
				if (sf)
					drop_sock_state(&cookie, sock_live);
				return;
			}
			proto = classify(skb, &p);
			if (!proto) {
				/* not (yet) a handshake; once the other direction started one, a few segments
				 * more and the whole socket is left alone, so its ACK-only direction is cheap too */
				if (st && ++st->misses >= max_unclassified)
					drop_sock_state(&cookie, sock_live);
				return;
			}
			/* on the root, a loopback direction is copied here only when its sender is excluded
			 * (asked where it starts a handshake; later segments find its state under way) */
			if (lo_check && !loopback_sender_excluded(skb, &p, lo_check))
				return;
			if (child_loopback(skb)) {
				struct lo_key lk = {};
				lo_key_of(skb, &p, &lk);
				if (dir == 1) {
					/* a sender in the subtree: its receiver leaves this direction to it */
					__u8 one = 1;
					bpf_map_update_elem(&lo_sent, &lk, &one, BPF_ANY);
				} else if (bpf_map_lookup_elem(&lo_sent, &lk)) {
					/* the sender copied it at its egress: so it does the rest of the direction */
					if (st) {
						st->done = 1;
						if (sock_idle(sf))
							drop_sock_state(&cookie, sock_live);
					}
					return;
				}
			}
		}
		if (!st) {
			st = &fresh; /* into the storage below unless this segment finishes the direction */
		}
		if (!st->proto) {
			st->proto = proto;
			st->next_rec = p.seq;
			st->tracking = proto == CS_PROTO_TLS;
		}
	} else {
		k.hook = hook;
		k.dir = dir;
		k.l4proto = p.l4proto;
		__builtin_memcpy(k.saddr, p.saddr, 16);
		__builtin_memcpy(k.daddr, p.daddr, 16);
		k.sport = p.sport;
		k.dport = p.dport;
		if (hook == CS_HOOK_CGROUP)
			k.id = cookie = bpf_get_socket_cookie(skb);
		else
			k.ifindex = skb->ifindex;
		struct flow_hash fh = flow_slots(&k);
		slot = fh.slot;
		live = bpf_map_lookup_elem(&live_slots, &slot);
		if (!live)
			return;

		struct quiet_slot *q = NULL;
		__u32 tag = 0;
		if (hook == CS_HOOK_TC && p.l4proto == IPPROTO_TCP) {
			q = bpf_map_lookup_elem(&quiet_slots, &slot);
			tag = fh.tag;
			if (q && q->tag == tag && (p.flags & (TCP_SYN | TCP_FIN | TCP_RST)))
				q->tag = 0; /* the flow starts or ends: a new one may reuse its tuple */
			else if (q && q->tag == tag && q->misses >= max_unclassified && !*live)
				return;
		}
		if (p.l4proto == IPPROTO_TCP && (p.flags & (TCP_FIN | TCP_RST))) {
			if (*live && !bpf_map_delete_elem(&flows, &k))
				__sync_fetch_and_add(live, -1);
			return;
		}
		if (p.payload_len == 0)
			return;
		if (filter_ports && !port_watched(&p))
			return;
		__u8 proto = 0;
		if (p.l4proto == IPPROTO_UDP) {
			proto = classify(skb, &p);
			if (proto != CS_PROTO_QUIC)
				return; /* only Initial packets of a QUIC flow */
		}
		st = *live ? bpf_map_lookup_elem(&flows, &k) : NULL;
		if (!st) {
			if (!proto)
				proto = classify(skb, &p);
			if (!proto) {
				if (q && q->tag == tag) {
					q->misses++;
				} else if (q) {
					q->tag = tag;
					q->misses = 1;
				}
				return;
			}
			if (hook == CS_HOOK_TC && cgroup_is_root && dir == 0 && p.l4proto == IPPROTO_TCP && local_tcp_receiver(skb, &p))
				return; /* cgroup_skb on the root sees it at the receiving socket */
			struct flow_state born = {};
			born.proto = proto;
			born.next_rec = p.seq;
			born.tracking = proto == CS_PROTO_TLS;
			if (!bpf_map_update_elem(&flows, &k, &born, BPF_NOEXIST))
				__sync_fetch_and_add(live, 1);
			st = bpf_map_lookup_elem(&flows, &k);
			if (!st)
				return;
		}
		/* keep the null checks above before any use: st is a map value here, the stack (fresh) or
		 * socket storage on the other path, and clang would otherwise compute &st->done early */
		asm volatile("" : "+r"(st));
	}
	if (st->done) {
		if (sk && sf && (p.flags & (TCP_FIN | TCP_RST)))
			drop_sock_state(&cookie, sock_live);
		return;
	}
	if (sk && !cookie)
		cookie = bpf_get_socket_cookie(skb);

	__u32 copy = p.payload_len;
	if (st->proto == CS_PROTO_TLS)
		copy = tls_copy_len(skb, &p, st);
	st->segments++;
	__u32 seg_cap = st->proto == CS_PROTO_SSH ? ssh_max_segments
			: st->proto == CS_PROTO_QUIC ? quic_max_datagrams : max_segments_per_dir;
	if (st->bytes + copy >= max_bytes_per_dir) {
		copy = max_bytes_per_dir > st->bytes ? max_bytes_per_dir - st->bytes : 0;
		st->done = 1;
	}
	if (st->segments >= seg_cap)
		st->done = 1;
	st->bytes += copy;
	__u8 last = st->done;
	__u8 proto = st->proto;
	if (sk && !sf && !last) {
		/* the handshake goes on in a later segment: now the socket needs its state */
		struct sock_flows born = {};
		born.d[dir & 1] = *st;
		if (!bpf_map_update_elem(&tcp_socks, &cookie, &born, BPF_NOEXIST) && sock_live)
			__sync_fetch_and_add(sock_live, 1);
		sf = bpf_map_lookup_elem(&tcp_socks, &cookie);
		if (!sf)
			return;
	}
	/* the direction's last segment and the other one not under way, or the socket closes (a FIN may
	 * carry the last bytes): its entry goes, after this record, which still reads its ids and owner */
	int drop = sk && sf && ((last && sock_idle(sf)) || (p.flags & (TCP_FIN | TCP_RST)));
	if (last && live && p.l4proto == IPPROTO_TCP && !bpf_map_delete_elem(&flows, &k))
		__sync_fetch_and_add(live, -1); /* later packets of this flow stop at the live_slots check */
	/* A TCP direction that ends with nothing to copy (its next record, application data, starts this
	 * segment: a TLS 1.3 client without the compatibility ChangeCipherSpec) still sends a header-only
	 * record marked last, so userspace learns that the direction is over (else it waits for idle). */
	if (copy == 0 && !(last && p.l4proto == IPPROTO_TCP)) {
		if (drop)
			drop_sock_state(&cookie, sock_live);
		return;
	}
	/* the socket's own storage: TCP has it already, a UDP socket gets it at its first copied send */
	struct sock_flows *os = sf;
	if (!os && fsk && !sk)
		os = bpf_sk_storage_get(&sock_flows, fsk, 0, dir == 1 ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	__u64 netns = 0, cgroup = 0;
	__u32 ino = 0;
	if (os) {
		/* what a socket is does not change: read once, kept in its storage */
		if (!os->ids_known) {
			os->cookie = cookie ? cookie : bpf_get_socket_cookie(skb);
			os->netns = bpf_get_netns_cookie(skb);
			os->cgroup = bpf_skb_cgroup_id(skb);
			os->ino = socket_inode(skb);
			os->ids_known = 1;
		}
		cookie = os->cookie;
		netns = os->netns;
		cgroup = os->cgroup;
		ino = os->ino;
		/* A first send normally runs in the sending process's own write(); requiring that process to
		 * be in the socket's cgroup rules out softirq work done on behalf of another container. */
		if (dir == 1 && !os->owner.tgid && bpf_get_current_cgroup_id() == cgroup)
			learn_owner(os, 2);
	} else if (hook == CS_HOOK_CGROUP) {
		if (!cookie)
			cookie = bpf_get_socket_cookie(skb);
		netns = bpf_get_netns_cookie(skb);
		cgroup = bpf_skb_cgroup_id(skb);
		ino = socket_inode(skb);
	}

	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return;
	struct cs_segment_rec *r = &s->rec;
	r->hdr.type = CS_REC_SEGMENT;
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->sock_cookie = cookie;
	r->netns_cookie = netns;
	r->cgroup_id = cgroup;
	r->ifindex = skb->ifindex;
	r->sock_ino = ino;
	if (os) {
		r->owner_tgid = os->owner.tgid;
		r->owner_how = os->owner.how;
		__builtin_memcpy(r->owner_comm, os->owner.comm, sizeof(r->owner_comm));
	} else {
		r->owner_tgid = 0;
		r->owner_how = 0;
		__builtin_memset(r->owner_comm, 0, sizeof(r->owner_comm));
		/* a TCP socket without storage (its handshake bytes all in this segment): the owner goes
		 * straight into the record, under the same rule as learn_owner() */
		if (sk && dir == 1 && bpf_get_current_cgroup_id() == cgroup) {
			__u32 tgid = bpf_get_current_pid_tgid() >> 32;
			if (tgid) {
				r->owner_tgid = tgid;
				r->owner_how = 2;
				bpf_get_current_comm(r->owner_comm, sizeof(r->owner_comm));
			}
		}
	}
	r->orig_len = p.payload_len;
	r->gso_size = p.l4proto == IPPROTO_UDP ? skb->gso_size : 0;
	r->hook = hook;
	r->dir = dir;
	r->family = p.family;
	r->l4proto = p.l4proto;
	r->tcp_flags = p.flags;
	r->proto = proto;
	__builtin_memcpy(r->saddr, p.saddr, 16);
	__builtin_memcpy(r->daddr, p.daddr, 16);
	r->sport = p.sport;
	r->dport = p.dport;

	if (copy == 0) {
		r->seq = p.seq;
		r->payload_len = 0;
		r->last = 1;
		r->hdr.len = sizeof(*r);
		if (bpf_ringbuf_output(&events, r, sizeof(*r), BPF_RB_NO_WAKEUP))
			cs_count_drop();
	}
	/* Big egress sends (GSO, up to 64 KiB) go out as several chunks. */
	for (int c = 0; c < 6; c++) {
		__u32 off = c * CS_WIRE_MAX_CHUNK;
		if (off >= copy)
			break;
		__u32 n = copy - off;
		if (n > CS_WIRE_MAX_CHUNK)
			n = CS_WIRE_MAX_CHUNK;
		if (n == 0)
			break;
		/* n in [1, CS_WIRE_MAX_CHUNK], written so the verifier sees both bounds */
		n -= 1;
		asm volatile("%0 &= 0x1fff" : "+r"(n));
		n += 1;
		if (bpf_skb_load_bytes(skb, p.payload_off + off, s->data, n))
			break;
		r->seq = p.seq + off;
		r->payload_len = n;
		r->last = last && off + n >= copy;
		r->hdr.len = sizeof(*r) + n;
		/* the reader is woken once wakeup_bytes have gone in from this CPU (else its poll timeout
		 * collects them): a wake-up costs microseconds, a batch per wake-up keeps it rare */
		__u64 wake = BPF_RB_NO_WAKEUP;
		s->unwoken += sizeof(*r) + n;
		if (s->unwoken >= wakeup_bytes) {
			wake = BPF_RB_FORCE_WAKEUP;
			s->unwoken = 0;
		}
		if (bpf_ringbuf_output(&events, r, sizeof(*r) + n, wake))
			cs_count_drop();
	}
	if (drop)
		drop_sock_state(&cookie, sock_live);
}

SEC("cgroup_skb/ingress")
int wire_cgroup_ingress(struct __sk_buff *skb)
{
	if (excluded_socket(skb))
		return 1;
	handle_packet(skb, 0, bpf_ntohs(skb->protocol), CS_HOOK_CGROUP, 0);
	return 1;
}

SEC("cgroup_skb/egress")
int wire_cgroup_egress(struct __sk_buff *skb)
{
	if (excluded_socket(skb)) {
		mark_excluded_loopback(skb);
		return 1;
	}
	handle_packet(skb, 0, bpf_ntohs(skb->protocol), CS_HOOK_CGROUP, 1);
	return 1;
}

SEC("tc")
int wire_tc_ingress(struct __sk_buff *skb)
{
	handle_packet(skb, ETH_HLEN, bpf_ntohs(skb->protocol), CS_HOOK_TC, 0);
	return 0; /* TC_ACT_OK */
}

SEC("tc")
int wire_tc_egress(struct __sk_buff *skb)
{
	handle_packet(skb, ETH_HLEN, bpf_ntohs(skb->protocol), CS_HOOK_TC, 1);
	return 0;
}
