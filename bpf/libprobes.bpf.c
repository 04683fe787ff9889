// SPDX-License-Identifier: GPL-2.0
/* Crypto-library probes: a few entry uprobes per handshake in OpenSSL 3, GnuTLS 3.7 (+nettle) and Go crypto/tls.
 * Each attach carries the library file's index (lib_idx) as its cookie; userspace fills libcfg[lib_idx].
 *
 * Filtering happens here so nothing leaves the kernel that is not a handshake's:
 *  - a handshake-marker probe (SSL_do_handshake, gnutls_handshake, Go clientHandshake/serverHandshake)
 *    records which connection object the thread works on and, from its own address, where the TLS code of
 *    that library sits in this process (range per pid and engine);
 *  - calls into libcrypto / nettle (d2i_X509, EVP_PKEY_CTX_set_group_name, ...) count only when their return
 *    address lies in that range: CA-store loads and application use of libcrypto are dropped. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cryptoscope.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 wakeup_bytes = 0;

#define MAX_LIBS 256
#define STR_MAX 64

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} lib_events SEC(".maps");

CS_DEFINE_DROPS

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_LIBS);
	__type(key, __u32);
	__type(value, struct cs_lib_cfg);
} libcfg SEC(".maps");

struct range_key { __u32 pid; __u32 engine; };
struct code_range { __u64 lo; __u64 hi; };
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct range_key);
	__type(value, struct code_range);
} code_ranges SEC(".maps");

struct current { __u64 obj; __u32 engine; __u32 pad; };
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* tid */
	__type(value, struct current);
} current_conn SEC(".maps");

/* hit counters per kind (index = enum cs_lib_kind), incl. the ones filtered out: index kind + 16 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct scratch_buf { __u8 bytes[sizeof(struct cs_lib_rec) + CS_LIB_DATA_MAX]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch_buf);
} scratch SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &idx);
	if (n)
		(*n)++;
}

static __always_inline __u32 lib_idx(void *ctx)
{
	return (__u32)bpf_get_attach_cookie(ctx) & 0xffff;
}

/* Marker probes carry their symbol's vaddr in cookie bits 16..63: entry IP minus it = the file's load bias. */
static __always_inline __u64 marker_vaddr(void *ctx)
{
	return bpf_get_attach_cookie(ctx) >> 16;
}

/* The handshake marker: remember the connection object and this library's TLS-code range for the process. */
static __always_inline struct cs_lib_rec *begin(void *ctx, __u16 kind, __u64 obj);
static __always_inline void submit(struct cs_lib_rec *r, __u32 data_len);
static __always_inline int emit_value(void *ctx, __u16 kind, __u64 obj, __s64 value);

static __always_inline int marker(struct pt_regs *ctx, __u64 obj, __u32 engine, __s64 role)
{
	__u32 idx = lib_idx(ctx);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	count(CS_LIB_HANDSHAKE);
	struct cs_lib_cfg *cfg = bpf_map_lookup_elem(&libcfg, &idx);
	if (cfg && cfg->code_hi && marker_vaddr(ctx)) {
		__u64 bias = PT_REGS_IP(ctx) - marker_vaddr(ctx);
		struct range_key k = { .pid = bpf_get_current_pid_tgid() >> 32, .engine = engine };
		struct code_range v = { .lo = bias + cfg->code_lo, .hi = bias + cfg->code_hi };
		bpf_map_update_elem(&code_ranges, &k, &v, BPF_ANY);
	}
	struct current nc = { .obj = obj, .engine = engine };
	bpf_map_update_elem(&current_conn, &tid, &nc, BPF_ANY);
	return emit_value(ctx, CS_LIB_HANDSHAKE, obj, role);
}

/* True when the function was called from the TLS code of `engine` in this process; sp_off: where the return
 * address is relative to the stack pointer (0 at function entry). */
static __always_inline bool from_tls_code_at(struct pt_regs *ctx, __u32 engine, __u64 sp_off)
{
	__u64 ret = 0;
	if (bpf_probe_read_user(&ret, sizeof(ret), (void *)(PT_REGS_SP(ctx) + sp_off)))
		return false;
	struct range_key k = { .pid = bpf_get_current_pid_tgid() >> 32, .engine = engine };
	struct code_range *r = bpf_map_lookup_elem(&code_ranges, &k);
	return r && ret >= r->lo && ret < r->hi;
}

static __always_inline bool from_tls_code(struct pt_regs *ctx, __u32 engine)
{
	return from_tls_code_at(ctx, engine, 0);
}

static __always_inline __u64 current_obj(__u32 engine)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct current *c = bpf_map_lookup_elem(&current_conn, &tid);
	return c && c->engine == engine ? c->obj : 0;
}

static __always_inline struct cs_lib_rec *begin(void *ctx, __u16 kind, __u64 obj)
{
	__u32 zero = 0;
	struct scratch_buf *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	struct cs_lib_rec *r = (struct cs_lib_rec *)s->bytes;
	__u64 id = bpf_get_current_pid_tgid();
	r->hdr.type = CS_REC_LIB;
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->kind = kind;
	r->lib_idx = lib_idx(ctx);
	r->obj = obj;
	r->value = 0;
	r->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	return r;
}

static __always_inline void submit(struct cs_lib_rec *r, __u32 data_len)
{
	if (data_len > CS_LIB_DATA_MAX)
		data_len = CS_LIB_DATA_MAX;
	r->data_len = data_len;
	__u32 len = sizeof(*r) + data_len;
	r->hdr.len = len;
	if (len > sizeof(struct scratch_buf))
		return;
	if (bpf_ringbuf_output(&lib_events, r, len,
			       bpf_ringbuf_query(&lib_events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP))
		cs_count_drop();
}

/* A NUL-terminated string argument. */
/* One record carrying just a value (a group, an algorithm id, a version): most probes are this. */
static __always_inline int emit_value(void *ctx, __u16 kind, __u64 obj, __s64 value)
{
	struct cs_lib_rec *r = begin(ctx, kind, obj);
	if (!r)
		return 0;
	r->value = value;
	submit(r, 0);
	return 0;
}

static __always_inline int emit_str(struct pt_regs *ctx, __u16 kind, __u64 obj, const void *p, __s64 value)
{
	struct cs_lib_rec *r = begin(ctx, kind, obj);
	if (!r)
		return 0;
	r->value = value;
	long n = p ? bpf_probe_read_user_str(r->data, STR_MAX, p) : 0;
	if (n < 0)
		n = 0;
	submit(r, n & (STR_MAX * 2 - 1));
	return 0;
}

/* A byte range (certificate DER); len is the full length, at most CS_LIB_DATA_MAX bytes are copied. */
static __always_inline int emit_bytes(struct pt_regs *ctx, __u16 kind, __u64 obj, const void *p, __u64 len, __s64 value)
{
	struct cs_lib_rec *r = begin(ctx, kind, obj);
	if (!r)
		return 0;
	r->value = value;
	__u32 n = len > CS_LIB_DATA_MAX ? CS_LIB_DATA_MAX : (__u32)len;
	n &= (CS_LIB_DATA_MAX * 2 - 1);
	if (n > CS_LIB_DATA_MAX)
		n = CS_LIB_DATA_MAX;
	if (!p || bpf_probe_read_user(r->data, n, p))
		n = 0;
	submit(r, n);
	return 0;
}

/* ---------------- OpenSSL 3 ---------------- */

/* SSL_set_connect_state / SSL_set_accept_state: every handshake goes through one of them (SSL_connect and
 * SSL_accept call them; SSL_do_handshake fails without), once, before any message; they tell the role. */
SEC("uprobe")
int BPF_UPROBE(ossl_connect_state, void *ssl)
{
	return marker(ctx, (__u64)ssl, CS_ENGINE_OPENSSL, 1);
}

SEC("uprobe")
int BPF_UPROBE(ossl_accept_state, void *ssl)
{
	return marker(ctx, (__u64)ssl, CS_ENGINE_OPENSSL, 2);
}

SEC("uprobe")
int BPF_UPROBE(ossl_d2i_x509, void **a, const unsigned char **in, long len)
{
	count(CS_LIB_CERT);
	if (!from_tls_code(ctx, CS_ENGINE_OPENSSL)) {
		count(CS_LIB_CERT + 16);
		return 0;
	}
	const unsigned char *p = 0;
	bpf_probe_read_user(&p, sizeof(p), in);
	return emit_bytes(ctx, CS_LIB_CERT, current_obj(CS_ENGINE_OPENSSL), p, len > 0 ? len : 0, len);
}

SEC("uprobe")
int BPF_UPROBE(ossl_group_name, void *pctx, const char *name)
{
	count(CS_LIB_GROUP_NAME);
	if (!from_tls_code(ctx, CS_ENGINE_OPENSSL))
		return 0;
	return emit_str(ctx, CS_LIB_GROUP_NAME, current_obj(CS_ENGINE_OPENSSL), name, 0);
}

SEC("uprobe")
int BPF_UPROBE(ossl_cipher_key_length, const void *cipher)
{
	count(CS_LIB_CIPHER_NID);
	if (!from_tls_code(ctx, CS_ENGINE_OPENSSL))
		return 0;
	int nid = 0;
	bpf_probe_read_user(&nid, sizeof(nid), cipher); /* struct evp_cipher_st starts with int nid */
	return emit_value(ctx, CS_LIB_CIPHER_NID, current_obj(CS_ENGINE_OPENSSL), nid);
}

static __always_inline int sig_digest_at(struct pt_regs *ctx, const char *mdname, __s64 dir, __u64 sp_off)
{
	count(CS_LIB_SIG_DIGEST);
	if (!from_tls_code_at(ctx, CS_ENGINE_OPENSSL, sp_off))
		return 0;
	return emit_str(ctx, CS_LIB_SIG_DIGEST, current_obj(CS_ENGINE_OPENSSL), mdname, dir);
}

SEC("uprobe")
int BPF_UPROBE(ossl_sign_init, void *mctx, void *pctx, const char *mdname)
{
	return sig_digest_at(ctx, mdname, 1, 0);
}

SEC("uprobe")
int BPF_UPROBE(ossl_verify_init, void *mctx, void *pctx, const char *mdname)
{
	return sig_digest_at(ctx, mdname, 2, 0);
}

/* Debian's libcrypto builds EVP_Digest{Sign,Verify}Init_ex as "sub $8,%rsp; push ...; call do_sigver_init":
 * a uprobe on that first instruction is single-stepped (~13 us a hit here), one on the call is emulated
 * (~1 us). At the call, 40 bytes are pushed above the return address and mdname has moved to the 4th
 * argument register (userspace checks the exact instruction bytes before attaching these). */
SEC("uprobe")
int BPF_UPROBE(ossl_sign_init_cs, void *mctx, void *pctx, void *type, const char *mdname)
{
	return sig_digest_at(ctx, mdname, 1, 40);
}

SEC("uprobe")
int BPF_UPROBE(ossl_verify_init_cs, void *mctx, void *pctx, void *type, const char *mdname)
{
	return sig_digest_at(ctx, mdname, 2, 40);
}

SEC("uprobe")
int BPF_UPROBE(ossl_rsa_padding, void *pctx, int pad)
{
	count(CS_LIB_RSA_PADDING);
	if (!from_tls_code(ctx, CS_ENGINE_OPENSSL))
		return 0;
	return emit_value(ctx, CS_LIB_RSA_PADDING, current_obj(CS_ENGINE_OPENSSL), pad);
}

SEC("uretprobe")
int BPF_URETPROBE(ossl_version_ret, int version)
{
	count(CS_LIB_VERSION);
	/* in a uretprobe the IP is the return address: inside libssl for libssl's own calls */
	struct range_key k = { .pid = bpf_get_current_pid_tgid() >> 32, .engine = CS_ENGINE_OPENSSL };
	struct code_range *rg = bpf_map_lookup_elem(&code_ranges, &k);
	__u64 ip = PT_REGS_IP(ctx);
	if (!rg || ip < rg->lo || ip >= rg->hi)
		return 0;
	return emit_value(ctx, CS_LIB_VERSION, current_obj(CS_ENGINE_OPENSSL), version);
}

/* ---------------- GnuTLS 3.7 (+ nettle/hogweed) ---------------- */

SEC("uprobe")
int BPF_UPROBE(gnutls_handshake_entry, void *session)
{
	return marker(ctx, (__u64)session, CS_ENGINE_GNUTLS, 0);
}

/* gnutls_pcert_import_x509_raw(pcert, const gnutls_datum_t *cert, format, flags): the handshake parses each
 * peer certificate with it (lib/auth/cert.c); trust-store loads use other functions. */
struct gnutls_datum { const unsigned char *data; unsigned int size; };

SEC("uprobe")
int BPF_UPROBE(gnutls_pcert_import, void *pcert, const struct gnutls_datum *cert, int format)
{
	count(CS_LIB_CERT);
	if (format != 0 /* GNUTLS_X509_FMT_DER */ || !from_tls_code(ctx, CS_ENGINE_GNUTLS)) {
		count(CS_LIB_CERT + 16);
		return 0;
	}
	__u64 obj = current_obj(CS_ENGINE_GNUTLS);
	if (!obj)
		return 0; /* loading our own certificate before any handshake */
	struct gnutls_datum d = {};
	bpf_probe_read_user(&d, sizeof(d), cert);
	return emit_bytes(ctx, CS_LIB_CERT, obj, d.data, d.size, d.size);
}

/* gnutls_pubkey_verify_data2 / gnutls_pubkey_verify_hash2(pubkey, gnutls_sign_algorithm_t algo, flags, ...):
 * libgnutls checks the peer's CertificateVerify (tls13-sig.c) and ServerKeyExchange (tls-sig.c) with them;
 * certificate chains are verified through internal functions. */
SEC("uprobe")
int BPF_UPROBE(gnutls_verify_sig, void *pubkey, int algo)
{
	count(CS_LIB_GNUTLS_SIG);
	if (!from_tls_code(ctx, CS_ENGINE_GNUTLS))
		return 0;
	return emit_value(ctx, CS_LIB_GNUTLS_SIG, current_obj(CS_ENGINE_GNUTLS), algo);
}

/* ECDH(E) shared-secret derivation in nettle, called by libgnutls once per handshake for the chosen group. */
SEC("uprobe")
int BPF_UPROBE(nettle_x25519_mul)
{
	count(CS_LIB_GROUP_ID);
	if (!from_tls_code(ctx, CS_ENGINE_GNUTLS))
		return 0;
	return emit_value(ctx, CS_LIB_GROUP_ID, current_obj(CS_ENGINE_GNUTLS), 29); /* x25519 */
}

SEC("uprobe")
int BPF_UPROBE(nettle_x448_mul)
{
	count(CS_LIB_GROUP_ID);
	if (!from_tls_code(ctx, CS_ENGINE_GNUTLS))
		return 0;
	return emit_value(ctx, CS_LIB_GROUP_ID, current_obj(CS_ENGINE_GNUTLS), 30); /* x448 */
}

/* nettle_ecc_point_mul(struct ecc_point *r, ...): r->ecc is the curve; struct ecc_curve starts with
 * struct ecc_modulo { unsigned short bit_size; ... } */
SEC("uprobe")
int BPF_UPROBE(nettle_ecc_mul, void *point)
{
	count(CS_LIB_ECC_BITS);
	if (!from_tls_code(ctx, CS_ENGINE_GNUTLS))
		return 0;
	void *curve = 0;
	unsigned short bits = 0;
	bpf_probe_read_user(&curve, sizeof(curve), point);
	if (curve)
		bpf_probe_read_user(&bits, sizeof(bits), curve);
	return emit_value(ctx, CS_LIB_ECC_BITS, current_obj(CS_ENGINE_GNUTLS), bits);
}

/* ---------------- Go crypto/tls (register ABI: RAX, RBX, RCX, RDI, RSI, R8 ...) ---------------- */

SEC("uprobe")
int go_client_handshake(struct pt_regs *ctx)
{
	return marker(ctx, ctx->ax, CS_ENGINE_GO, 1);
}

SEC("uprobe")
int go_server_handshake(struct pt_regs *ctx)
{
	return marker(ctx, ctx->ax, CS_ENGINE_GO, 2);
}

/* (*Conn).verifyServerCertificate(c, certificates [][]byte): RAX = c, RBX = slice data, RCX = len */
SEC("uprobe")
int go_verify_server_cert(struct pt_regs *ctx)
{
	count(CS_LIB_CERT);
	__u64 conn = ctx->ax, arr = ctx->bx, n = ctx->cx;
	for (int i = 0; i < 8; i++) {
		if (i >= n)
			break;
		struct { __u64 ptr, len, cap; } s = {};
		if (bpf_probe_read_user(&s, sizeof(s), (void *)(arr + i * 24)))
			break;
		emit_bytes(ctx, CS_LIB_CERT, conn, (void *)s.ptr, s.len, s.len);
	}
	return 0;
}

/* generateECDHEParameters(rand io.Reader, curveID CurveID) (Go <= 1.19) and generateECDHEKey (1.20+):
 * the interface takes RAX+RBX, the curve id is in RCX. Called again after a HelloRetryRequest: last wins. */
SEC("uprobe")
int go_ecdhe(struct pt_regs *ctx)
{
	count(CS_LIB_GROUP_ID);
	return emit_value(ctx, CS_LIB_GROUP_ID, current_obj(CS_ENGINE_GO), (__u16)ctx->cx);
}

/* (*clientHandshakeStateTLS13).handshake / (*serverHandshakeStateTLS13).handshake: the TLS 1.3 path was taken.
 * RAX = hs, whose first field is c *Conn. */
SEC("uprobe")
int go_tls13_handshake(struct pt_regs *ctx)
{
	count(CS_LIB_VERSION);
	__u64 conn = 0;
	bpf_probe_read_user(&conn, sizeof(conn), (void *)ctx->ax);
	return emit_value(ctx, CS_LIB_VERSION, conn, 0x0304);
}

/* verifyHandshakeSignature(sigType uint8, pubkey crypto.PublicKey, hashFunc crypto.Hash, signed, sig []byte):
 * RAX = sigType, RBX/RCX = pubkey interface, RDI = hashFunc. The peer's CertificateVerify (1.3) or
 * ServerKeyExchange (1.2) signature; certificate chains are verified by crypto/x509, not here. */
SEC("uprobe")
int go_verify_sig(struct pt_regs *ctx)
{
	count(CS_LIB_GO_SIG);
	return emit_value(ctx, CS_LIB_GO_SIG, current_obj(CS_ENGINE_GO), ((ctx->ax & 0xff) << 8) | (ctx->di & 0xff));
}

/* ---------------- NSS 3.8x (libssl3 + libnss3) ---------------- */

/* SSL_ImportFD(model, fd): every NSS TLS socket is made with it, once per connection; it lives in libssl3,
 * so it also tells where libssl3 sits. */
SEC("uprobe")
int BPF_UPROBE(nss_import_fd, void *model, void *fd)
{
	return marker(ctx, (__u64)fd, CS_ENGINE_NSS, 0);
}

struct sec_item { __u32 type; __u32 pad; const unsigned char *data; __u32 len; };

/* CERT_NewTempCertificate(handle, SECItem *derCert, nickname, isperm, copyDER): libssl3 turns each peer
 * certificate into a CERTCertificate with it (ssl3_CompleteHandleCertificate). */
SEC("uprobe")
int BPF_UPROBE(nss_new_temp_cert, void *handle, const struct sec_item *der)
{
	count(CS_LIB_CERT);
	if (!from_tls_code(ctx, CS_ENGINE_NSS)) {
		count(CS_LIB_CERT + 16);
		return 0;
	}
	struct sec_item it = {};
	bpf_probe_read_user(&it, sizeof(it), der);
	return emit_bytes(ctx, CS_LIB_CERT, current_obj(CS_ENGINE_NSS), it.data, it.len, it.len);
}

/* PK11_PubDeriveWithKDF(privKey, SECKEYPublicKey *pubKey, ...): the (EC)DH shared secret, once per
 * handshake; pubKey->keyType at 8, pubKey->u.ec.DEREncodedParams (SECItem) data at 40, len at 48. */
SEC("uprobe")
int BPF_UPROBE(nss_derive, void *priv, const void *pub)
{
	count(CS_LIB_GROUP_OID);
	if (!from_tls_code(ctx, CS_ENGINE_NSS))
		return 0;
	__u32 key_type = 0, len = 0;
	const unsigned char *oid = 0;
	bpf_probe_read_user(&key_type, sizeof(key_type), pub + 8);
	bpf_probe_read_user(&oid, sizeof(oid), pub + 40);
	bpf_probe_read_user(&len, sizeof(len), pub + 48);
	if (key_type != 6 /* ecKey */)
		len = 0;
	return emit_bytes(ctx, CS_LIB_GROUP_OID, current_obj(CS_ENGINE_NSS), oid, len > 16 ? 16 : len, key_type);
}

/* PK11_VerifyWithMechanism(key, mechanism, const SECItem *param, const SECItem *sig, const SECItem *hash, wincx):
 * the CertificateVerify (1.3) / ServerKeyExchange (1.2) check made by libssl3. For RSA-PSS, param is a
 * CK_RSA_PKCS_PSS_PARAMS whose first field is the hash mechanism; for ECDSA the hash length tells the hash. */
SEC("uprobe")
int BPF_UPROBE(nss_verify, void *key, __u64 mechanism, const struct sec_item *param, const struct sec_item *sig, const struct sec_item *hash)
{
	count(CS_LIB_NSS_SIG);
	if (!from_tls_code(ctx, CS_ENGINE_NSS))
		return 0;
	__u64 hash_alg = 0;
	__u32 hash_len = 0;
	if (param) {
		struct sec_item p = {};
		bpf_probe_read_user(&p, sizeof(p), param);
		if (p.data && p.len >= 8)
			bpf_probe_read_user(&hash_alg, sizeof(hash_alg), p.data);
	}
	if (hash)
		bpf_probe_read_user(&hash_len, sizeof(hash_len), (const void *)hash + 16);
	return emit_value(ctx, CS_LIB_NSS_SIG, current_obj(CS_ENGINE_NSS), ((mechanism & 0xffffff) << 24) | ((hash_alg & 0xffff) << 8) | (hash_len & 0xff));
}
