// The lake's tables: the contract between capture and everything downstream (models, site, notebooks).
// Types are DuckDB/Parquet logical types. Code points stay integers (IANA numbers); names are joined
// in by the models. Adding a column is fine; renaming or retyping one bumps SCHEMA_VERSION.

export const SCHEMA_VERSION = 1;

export type ColumnType =
  | "TIMESTAMP" // UTC, microseconds; JS value: Date or bigint µs since epoch
  | "VARCHAR"
  | "BOOLEAN"
  | "INTEGER"
  | "BIGINT"
  | "UBIGINT"
  | "BLOB"
  | "VARCHAR[]"
  | "INTEGER[]"
  | "STRUCT(path VARCHAR, soname VARCHAR, version VARCHAR)[]";

export interface Column {
  name: string;
  type: ColumnType;
  doc: string;
}

const common: Column[] = [
  { name: "ts", type: "TIMESTAMP", doc: "when it was seen (UTC, µs)" },
  { name: "host", type: "VARCHAR", doc: "host name of the agent (or of the pcap ingest)" },
];

const processContext: Column[] = [
  { name: "pid", type: "INTEGER", doc: "process id (null when not attributable)" },
  { name: "comm", type: "VARCHAR", doc: "task comm" },
  { name: "exe", type: "VARCHAR", doc: "executable path" },
  { name: "cgroup_id", type: "UBIGINT", doc: "cgroup v2 id" },
  { name: "container_id", type: "VARCHAR", doc: "container id from the cgroup path (docker, containerd, cri-o, podman)" },
  { name: "pod", type: "VARCHAR", doc: "Kubernetes pod uid where visible" },
];

export const TABLES = {
  handshakes: [
    ...common,
    { name: "source", type: "VARCHAR", doc: "wire | uprobe | usdt | pcap" },
    { name: "proto", type: "VARCHAR", doc: "tls | dtls | quic | ssh" },
    ...processContext,
    { name: "netns", type: "UBIGINT", doc: "network namespace cookie" },
    { name: "transport", type: "VARCHAR", doc: "tcp | udp" },
    { name: "client_addr", type: "VARCHAR", doc: "client IP (or keyed hash with --hash-identifiers)" },
    { name: "client_port", type: "INTEGER", doc: "" },
    { name: "server_addr", type: "VARCHAR", doc: "server IP (or keyed hash)" },
    { name: "server_port", type: "INTEGER", doc: "" },
    { name: "role", type: "VARCHAR", doc: "client | server: the role of the attributed process" },
    { name: "sni", type: "VARCHAR", doc: "server_name (or keyed hash)" },
    { name: "alpn_offered", type: "VARCHAR[]", doc: "" },
    { name: "alpn_chosen", type: "VARCHAR", doc: "" },
    { name: "legacy_version", type: "INTEGER", doc: "ClientHello legacy_version" },
    { name: "versions_offered", type: "INTEGER[]", doc: "supported_versions of the ClientHello (GREASE kept)" },
    { name: "version_chosen", type: "INTEGER", doc: "negotiated version code point (0x0304 = TLS 1.3)" },
    { name: "suites_offered", type: "INTEGER[]", doc: "cipher suites of the ClientHello, in order" },
    { name: "suite_chosen", type: "INTEGER", doc: "" },
    { name: "groups_offered", type: "INTEGER[]", doc: "supported_groups" },
    { name: "key_share_groups", type: "INTEGER[]", doc: "groups of the client's key_share entries" },
    { name: "group_chosen", type: "INTEGER", doc: "ServerHello key_share group (1.3) or ServerKeyExchange curve (1.2)" },
    { name: "hello_retry", type: "BOOLEAN", doc: "a HelloRetryRequest happened" },
    { name: "sig_algs_offered", type: "INTEGER[]", doc: "signature_algorithms" },
    { name: "sig_alg_chosen", type: "INTEGER", doc: "ServerKeyExchange (1.2) or CertificateVerify (1.3, from library probes)" },
    { name: "psk_modes", type: "INTEGER[]", doc: "psk_key_exchange_modes" },
    { name: "ech", type: "BOOLEAN", doc: "encrypted_client_hello extension present" },
    { name: "resumed", type: "BOOLEAN", doc: "session resumed (pre_shared_key accepted)" },
    { name: "quic_version", type: "BIGINT", doc: "QUIC version (1, 0x6b3343cf for v2)" },
    { name: "ja4", type: "VARCHAR", doc: "" },
    { name: "ja4s", type: "VARCHAR", doc: "" },
    { name: "cert_count", type: "INTEGER", doc: "certificates in the server's chain (when visible)" },
    { name: "leaf_cert_sha256", type: "VARCHAR", doc: "hex SHA-256 of the leaf certificate's DER" },
    { name: "ssh_client_banner", type: "VARCHAR", doc: "" },
    { name: "ssh_server_banner", type: "VARCHAR", doc: "" },
    { name: "ssh_kex_client", type: "VARCHAR[]", doc: "client KEXINIT kex_algorithms" },
    { name: "ssh_kex_server", type: "VARCHAR[]", doc: "server KEXINIT kex_algorithms" },
    { name: "ssh_hostkey_client", type: "VARCHAR[]", doc: "client server_host_key_algorithms" },
    { name: "ssh_hostkey_server", type: "VARCHAR[]", doc: "server server_host_key_algorithms" },
    { name: "ssh_ciphers_client", type: "VARCHAR[]", doc: "client encryption_algorithms_client_to_server" },
    { name: "ssh_ciphers_server", type: "VARCHAR[]", doc: "server encryption_algorithms_server_to_client" },
    { name: "ssh_macs_client", type: "VARCHAR[]", doc: "client mac_algorithms_client_to_server" },
    { name: "ssh_macs_server", type: "VARCHAR[]", doc: "server mac_algorithms_server_to_client" },
    { name: "ssh_kex", type: "VARCHAR", doc: "chosen by the RFC 4253 rule" },
    { name: "ssh_hostkey", type: "VARCHAR", doc: "" },
    { name: "ssh_cipher_c2s", type: "VARCHAR", doc: "" },
    { name: "ssh_cipher_s2c", type: "VARCHAR", doc: "" },
    { name: "ssh_mac_c2s", type: "VARCHAR", doc: "null for AEAD ciphers" },
    { name: "ssh_mac_s2c", type: "VARCHAR", doc: "" },
    { name: "library", type: "VARCHAR", doc: "crypto library that made the handshake, when known (openssl, gnutls, go, ...)" },
    { name: "flow_id", type: "VARCHAR", doc: "stable id of the connection within this agent run/ingest, joins library_events" },
  ],
  certificates: [
    ...common,
    { name: "sha256", type: "VARCHAR", doc: "hex SHA-256 of the DER" },
    { name: "subject", type: "VARCHAR", doc: "RFC 4514 string" },
    { name: "issuer", type: "VARCHAR", doc: "RFC 4514 string" },
    { name: "serial", type: "VARCHAR", doc: "hex" },
    { name: "not_before", type: "TIMESTAMP", doc: "" },
    { name: "not_after", type: "TIMESTAMP", doc: "" },
    { name: "key_alg", type: "VARCHAR", doc: "rsa | ec | ed25519 | ed448 | dsa | ml-dsa-44/65/87 | slh-dsa-* | other" },
    { name: "key_oid", type: "VARCHAR", doc: "SubjectPublicKeyInfo algorithm OID" },
    { name: "key_bits", type: "INTEGER", doc: "RSA modulus bits / curve field size" },
    { name: "key_curve", type: "VARCHAR", doc: "named curve (P-256, ...)" },
    { name: "sig_alg_oid", type: "VARCHAR", doc: "" },
    { name: "sig_alg", type: "VARCHAR", doc: "e.g. sha256WithRSAEncryption, ecdsa-with-SHA384" },
    { name: "sans", type: "VARCHAR[]", doc: "subjectAltName values, prefixed dns:/ip:/email:/uri:" },
    { name: "is_ca", type: "BOOLEAN", doc: "basicConstraints cA" },
    { name: "chain_position", type: "INTEGER", doc: "0 = leaf" },
    { name: "source", type: "VARCHAR", doc: "wire | uprobe | pcap" },
    ...processContext,
    { name: "server_addr", type: "VARCHAR", doc: "" },
    { name: "server_port", type: "INTEGER", doc: "" },
    { name: "sni", type: "VARCHAR", doc: "" },
    { name: "flow_id", type: "VARCHAR", doc: "the handshake it came with" },
    { name: "der", type: "BLOB", doc: "the certificate itself" },
  ],
  library_events: [
    ...common,
    { name: "source", type: "VARCHAR", doc: "uprobe | usdt" },
    { name: "library", type: "VARCHAR", doc: "openssl | gnutls | go | nss | crypto_auditing" },
    { name: "library_path", type: "VARCHAR", doc: "" },
    ...processContext,
    { name: "tid", type: "INTEGER", doc: "" },
    { name: "event", type: "VARCHAR", doc: "certificate | group | cipher | signature | version | handshake | crau ..." },
    { name: "key", type: "VARCHAR", doc: "crypto-auditing key (e.g. tls::group) or probe-specific key" },
    { name: "value_int", type: "BIGINT", doc: "" },
    { name: "value_str", type: "VARCHAR", doc: "" },
    { name: "value_blob", type: "BLOB", doc: "" },
    { name: "context", type: "UBIGINT", doc: "crypto-auditing context id" },
    { name: "parent_context", type: "UBIGINT", doc: "" },
    { name: "flow_id", type: "VARCHAR", doc: "wire handshake this was joined to, when known" },
  ],
  processes: [
    ...common,
    { name: "event", type: "VARCHAR", doc: "exec | exit | scan" },
    { name: "pid", type: "INTEGER", doc: "" },
    { name: "ppid", type: "INTEGER", doc: "" },
    { name: "uid", type: "INTEGER", doc: "" },
    { name: "comm", type: "VARCHAR", doc: "" },
    { name: "exe", type: "VARCHAR", doc: "" },
    { name: "cmdline", type: "VARCHAR[]", doc: "argv" },
    { name: "cgroup", type: "VARCHAR", doc: "cgroup v2 path" },
    { name: "cgroup_id", type: "UBIGINT", doc: "" },
    { name: "container_id", type: "VARCHAR", doc: "" },
    { name: "container_runtime", type: "VARCHAR", doc: "docker | containerd | cri-o | podman" },
    { name: "pod", type: "VARCHAR", doc: "" },
    { name: "exit_code", type: "INTEGER", doc: "" },
    { name: "libraries", type: "STRUCT(path VARCHAR, soname VARCHAR, version VARCHAR)[]", doc: "crypto libraries mapped" },
  ],
  agent_log: [
    ...common,
    { name: "level", type: "VARCHAR", doc: "info | warn | error" },
    { name: "event", type: "VARCHAR", doc: "start | stop | bpf_load | drops | file_written | error | ..." },
    { name: "message", type: "VARCHAR", doc: "" },
    { name: "object_name", type: "VARCHAR", doc: "BPF object or file concerned" },
    { name: "object_sha3", type: "VARCHAR", doc: "SHA3-256 of the BPF object" },
    { name: "signer", type: "VARCHAR", doc: "signer public-key fingerprint" },
    { name: "decision", type: "VARCHAR", doc: "allow | deny (BPF loads)" },
    { name: "reason", type: "VARCHAR", doc: "" },
    { name: "count", type: "BIGINT", doc: "drops, rows, bytes ..." },
  ],
} satisfies Record<string, Column[]>;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

// A row as the writers take it: column name → value (missing = null).
export type Row = Record<string, unknown>;
