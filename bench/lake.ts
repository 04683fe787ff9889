// Lake writer throughput, size and memory: 1M realistic handshake rows through each candidate writer,
// each candidate in its own child process (so peak RSS is its own), on one core's worth of DuckDB threads.
// Figures: rows/s (wall), rows per CPU-second (all threads of the process), bytes per row on disk, peak RSS.
// Rows are generated in small batches inside the run, timed around each batch, and that time subtracted.
// A garbage collection that a candidate's own garbage triggers during a refill counts as generation: for the
// DuckDB appender (one native call and wrapper per value) that flatters the baseline, never the lake.
//
// The workload: rows as capture builds them (parser fields, process context, capture/rows.ts), TLS 85%,
// QUIC 8%, SSH 5%, DTLS 2%, SNI Zipf-like over 3000 names, 300 processes, 24 client profiles; each value
// handed over as capture's producers hand it (LAKE_BENCH_STRINGS, below: shared objects where capture
// shares, new arrays and cons strings where capture makes them), rows fed 100 at a time.
//
//   node --import tsx bench/lake.ts            # all candidates, prints a table
//   LAKE_BENCH_ROWS=200000 node --import tsx bench/lake.ts
//   LAKE_BENCH_CANDIDATES=lake node --import tsx bench/lake.ts    # the lake only
//
// Lake only, 1M rows, 2026-12-02 20:05-20:06 (load 0.9-1.1): 234k, 231k, 227k, 211k rows/CPU-s (254k-258k
// rows/s wall), 19.3 B/row, 224-229 MB peak RSS; the code before shared lists (109508b) at the same time
// 219k and 196k. Alternated old/new (--candidate lake, 7 pairs, 20:03-20:05, load 0.6-1.1): 200k -> 215k
// mean (4 of 7 pairs ahead; medians 208k -> 214k); at 500k rows (19:54, load 1.1-1.7) 3 of 3 ahead, +5%;
// 20:16 (load 0.8): 236k, 231k. Pcap ingest (bench/ingest inproc, 20k handshakes, cachegrind) 18.95G ->
// 18.84G instructions.
// Earlier: 15:12 (load 1.3-1.4) 168k and 136k; this VM's speed moves every figure by +-15-25% between
// runs. Target 300k rows/CPU-s: not met. CPU profile, 500k rows, per row (20:06, load 1.0; under the
// profiler): appender pushes and partitioning 1.30 us, other encoding 0.73, dictionary lookups (codeOf)
// 0.55, ZSTD 0.41, list chunks 0.35, GC 0.32 (some of it generation's), clustering 0.17, list interning
// ~0 (0.21 before the lists were shared). Measured and dropped 20:00: nulls skipped in the generated
// appender (each column filling its nulls in ranges when it next gets a value): 7 alternated 500k pairs
// within noise (170k vs 168k means), cachegrind (100k rows, --single-threaded) -420 instructions a row of
// ~125k (startup and generation included): ~22 null pushes a TLS row cost ~20 instructions each.
//
// Candidates:
//   duckdb-appender   baseline from the notes: DuckDB row Appender (one call per value) into a table, COPY per 100k rows
//   hyparquet         hyparquet-writer 0.17 fed columnar arrays per 100k rows, ZSTD level 3 (wasm), as in the notes
//   lake-duckdb       the lake writer (columnar buffers, clustering) with DuckDB's COPY as encoder, fed DataChunks by bulk copies
//   lake              the lake writer with its JS Parquet encoder (dictionary + RLE levels + wasm ZSTD): the choice

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DuckDBAppender } from "@duckdb/node-api";
import { openLake } from "../capture/lake/writer.js";
import { zstd } from "../capture/lake/zstd.js";
import { TABLES, type Column, type Row } from "../capture/lake/schema.js";
import type { Handshake } from "../capture/flow/table.js";
import { handshakeRows, type RowContext } from "../capture/rows.js";
import { type ListCache, u16Lists, u8Lists } from "../capture/parse/reader.js";
import { alpnLists } from "../capture/parse/tls-hello.js";
import { nameListOf } from "../capture/parse/ssh.js";

const ROWS = Number(process.env.LAKE_BENCH_ROWS ?? 1_000_000);
const BATCH = 100_000;
const COLS: Column[] = TABLES.handshakes;
/** V8/Node flags for the candidates' processes, e.g. LAKE_BENCH_NODE_FLAGS=--single-threaded-gc (what an agent could be started with). */
const NODE_FLAGS = (process.env.LAKE_BENCH_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);

// ---------- realistic handshake rows ----------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GREASE = [0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa];
const SUITE_POOL = [
  4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171, 49172, 156, 157, 47, 53, 49187, 49191, 49162, 49161, 49188, 49192, 159, 158,
  107, 103, 57, 51, 255, 49327, 49325, 49326, 49324, 49315, 49311, 49245, 49249, 49239, 49235, 60, 61, 10, 22,
];
const GROUP_POOL = [4588, 29, 23, 24, 25, 30, 256, 257, 258, 259, 260, 4587, 4589, 512, 513, 514];
const SIG_POOL = [1027, 2052, 1025, 1283, 2053, 1281, 2054, 1537, 2055, 2056, 1026, 771, 515, 513, 1539, 1283, 2057, 2058, 2059, 2308, 2309];
const SSH_KEX = ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256", "ext-info-c", "kex-strict-c-v00@openssh.com"];
const SSH_HOSTKEY = ["ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "rsa-sha2-512", "rsa-sha2-256", "sk-ssh-ed25519@openssh.com"];
const SSH_CIPHERS = ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"];
const SSH_MACS = ["umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com", "umac-64@openssh.com", "hmac-sha2-256", "hmac-sha2-512"];

interface Profile {
  suites: number[];
  groups: number[];
  shares: number[];
  sigs: number[];
  versions: number[];
  alpn: string[];
  ja4: string;
  ja4Parts: string[];
  grease: boolean;
  comm: string;
  exe: string;
  library: string;
}

function hex(r: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(r() * 16)];
  return s;
}

/** A flat copy (a template literal or += makes a tree of pieces): decoded names and digests are flat. */
const flat = (s: string): string => Buffer.from(s, "latin1").toString("latin1");
/** A fingerprint's text and its parts (the parts joined per row where capture concatenates them). */
const parts = (...p: string[]) => ({ ja4: p.join("_"), ja4Parts: p });
const partsS = (...p: string[]) => ({ ja4s: p.join("_"), ja4sParts: p });

function makeWorld(seed = 1) {
  const r = rng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const sample = <T>(a: T[], n: number) => [...a].sort(() => r() - 0.5).slice(0, n);
  const apps = [
    ["curl", "/usr/bin/curl", "openssl"], ["chrome", "/opt/google/chrome/chrome", "boringssl"], ["firefox", "/usr/lib/firefox/firefox", "nss"],
    ["python3", "/usr/bin/python3.12", "openssl"], ["java", "/usr/lib/jvm/java-21/bin/java", "jsse"], ["node", "/usr/bin/node", "openssl"],
    ["envoy", "/usr/local/bin/envoy", "boringssl"], ["nginx", "/usr/sbin/nginx", "openssl"], ["kubelet", "/usr/bin/kubelet", "go"],
    ["apt", "/usr/lib/apt/methods/https", "gnutls"], ["wget", "/usr/bin/wget", "gnutls"], ["postgres", "/usr/lib/postgresql/16/bin/postgres", "openssl"],
  ];
  const profiles: Profile[] = Array.from({ length: 24 }, (_, i) => {
    const app = apps[i % apps.length];
    const suites = sample(SUITE_POOL, 15 + Math.floor(r() * 16));
    const groups = sample(GROUP_POOL, 3 + Math.floor(r() * 8));
    return {
      suites, groups, shares: groups.slice(0, 1 + Math.floor(r() * 2)), sigs: sample(SIG_POOL, 8 + Math.floor(r() * 9)),
      versions: r() < 0.8 ? [0x0304, 0x0303] : [0x0304, 0x0303, 0x0302, 0x0301], alpn: r() < 0.7 ? ["h2", "http/1.1"] : ["http/1.1"],
      ...parts(`t13d${suites.length}${groups.length}h2`, hex(r, 12), hex(r, 12)), grease: app[0] === "chrome" || app[0] === "envoy",
      comm: app[0], exe: app[1], library: app[2],
    };
  });
  const tlds = ["com", "net", "org", "io", "internal", "cluster.local"];
  const names = Array.from({ length: 3000 }, (_, i) => `${pick(["api", "www", "cdn", "auth", "s3", "grpc", "metrics", "login"])}-${i}.${pick(["svc", "prod", "eu-west-1", "edge", "corp"])}.example${i % 97}.${pick(tlds)}`).map(flat);
  const servers = names.map(() => ({ addr: `${pick([10, 172, 192])}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`, cert: flat(hex(r, 64)), ...partsS("t130200", pick(["1301", "1302", "1303", "c02f", "c030"]), hex(r, 12)) }));
  const clients = Array.from({ length: 2000 }, () => `10.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`);
  const procs = Array.from({ length: 300 }, (_, i) => ({
    pid: 1000 + i * 37, profile: profiles[i % profiles.length], cgroup: BigInt(5000 + (i % 40)),
    container: i % 3 === 0 ? hex(r, 64) : null, pod: i % 6 === 0 ? `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}` : null,
  }));
  const sshBanners = ["SSH-2.0-OpenSSH_9.9p1 Debian-3", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10", "SSH-2.0-Go", "SSH-2.0-libssh_0.10.6"];
  // SSH name-lists come from a handful of implementations and their configurations, not from each
  // connection: a client or server sends the same lists every time (LAKE_BENCH_SSH_LISTS=random: per row).
  const sshClient = () => ({ banner: pick(sshBanners), kex: sample(SSH_KEX, 10), hostkey: sample(SSH_HOSTKEY, 7) });
  const sshServer = () => ({ banner: pick(sshBanners), kex: sample(SSH_KEX, 8), hostkey: sample(SSH_HOSTKEY, 3) });
  const sshClients = Array.from({ length: 8 }, sshClient);
  const sshServers = Array.from({ length: 6 }, sshServer);
  return { r, pick, sample, profiles, names, servers, clients, procs, sshBanners, sshClient, sshServer, sshClients, sshServers };
}

// A row's values are drawn as one object (`v` below, the rng's order fixed by it); the row itself is then
// built the way capture builds it, so the writer sees rows of the shapes real ones have (tens of hidden
// classes, absent columns missing rather than null): the parser's fields (only those seen, in the
// parser's order, named stores as in parse/tls.ts and parse/ssh.ts), the process context as wire
// capture assembles it (capture/wire/capture.ts: nulls kept), then capture/rows.ts handshakeRows itself.
function parserFields(v: Row): Row {
  const f: Row = {};
  if (v.proto === "ssh") {
    f.ssh_client_banner = v.ssh_client_banner;
    f.ssh_server_banner = v.ssh_server_banner;
    f.ssh_kex_client = v.ssh_kex_client;
    f.ssh_hostkey_client = v.ssh_hostkey_client;
    f.ssh_ciphers_client = v.ssh_ciphers_client;
    f.ssh_macs_client = v.ssh_macs_client;
    f.ssh_kex_server = v.ssh_kex_server;
    f.ssh_hostkey_server = v.ssh_hostkey_server;
    f.ssh_ciphers_server = v.ssh_ciphers_server;
    f.ssh_macs_server = v.ssh_macs_server;
    f.ssh_kex = v.ssh_kex;
    f.ssh_hostkey = v.ssh_hostkey;
    f.ssh_cipher_c2s = v.ssh_cipher_c2s;
    f.ssh_cipher_s2c = v.ssh_cipher_s2c;
    if (v.ssh_mac_c2s !== null) f.ssh_mac_c2s = v.ssh_mac_c2s;
    if (v.ssh_mac_s2c !== null) f.ssh_mac_s2c = v.ssh_mac_s2c;
    return f;
  }
  f.sni = v.sni;
  f.alpn_offered = v.alpn_offered;
  f.legacy_version = v.legacy_version;
  f.versions_offered = v.versions_offered;
  f.suites_offered = v.suites_offered;
  f.groups_offered = v.groups_offered;
  f.key_share_groups = v.key_share_groups;
  f.sig_algs_offered = v.sig_algs_offered;
  f.psk_modes = v.psk_modes;
  f.ech = v.ech;
  f.ja4 = v.ja4;
  f.hello_retry = v.hello_retry;
  f.ja4s = v.ja4s;
  f.version_chosen = v.version_chosen;
  f.suite_chosen = v.suite_chosen;
  f.alpn_chosen = v.alpn_chosen;
  f.group_chosen = v.group_chosen;
  f.resumed = v.resumed;
  if (v.sig_alg_chosen !== null) f.sig_alg_chosen = v.sig_alg_chosen;
  if (v.cert_count !== null) {
    f.cert_count = v.cert_count;
    f.leaf_cert_sha256 = v.leaf_cert_sha256;
  }
  if (v.quic_version !== null) f.quic_version = v.quic_version;
  return f;
}

function wireContext(v: Row): Row {
  const c: Row = {};
  c.netns = v.netns;
  c.cgroup_id = v.cgroup_id;
  c.role = v.role;
  c.pid = v.pid;
  Object.assign(c, { comm: v.comm, exe: v.exe, container_id: v.container_id, pod: v.pod });
  if (v.library !== null) c.library = v.library; // uprobe rows: the library that made the handshake
  return c;
}

const identity = (s: string): string => s;

// How values are handed over (LAKE_BENCH_STRINGS, default "capture"): as capture's producers hand them
// to the lake, column by column (read from the code and checked with %DebugPrint on rows of pcap ingest
// of the corpus, 2026-12-02):
//   - host, source, proto, transport, role: literals or one string per agent (rows.ts own, ctx.host).
//   - client_addr, server_addr: one string object per IPv4 address (flow/address-text.ts formatIpv4's map):
//     shared. (IPv6 text is made per flow by formatIpv6; --hash-identifiers makes a new hex string per row.)
//   - comm, exe, container_id, pod, library: wire/capture.ts takes them from its per-process cache: shared.
//   - sni, alpn_chosen, the elements of alpn_offered, ssh_client_banner, ssh_server_banner: parse/reader.ts
//     asciiCached (tls-hello.ts, ssh.ts findBanner): one string per distinct byte string: shared.
//   - alpn_offered, versions/suites/groups/key_share/sig_algs/psk_modes: tls-hello.ts through
//     parse/reader.ts ListCache (u16Lists, u8Lists, alpnLists): one frozen array per distinct byte
//     string: shared (the bench feeds the same caches the lists' wire bytes). Before 2026-12-02 20:00
//     a new array per row (LAKE_BENCH_STRINGS=uncached still hands over copies).
//   - ja4, ja4s: ja4.ts's fingerprint caches: the same string object for the same hello: shared.
//   - leaf_cert_sha256: tls.ts sha256hexCached(leaf DER) (rows.ts the same when the parser gives none):
//     the same string for the same certificate bytes: shared.
//   - ssh_kex_client ... ssh_macs_server: ssh.ts nameListOf: one frozen split list per distinct
//     text: shared (before 20:00 a copy per row); ssh_kex ... ssh_mac_s2c: chosen from
//     those lists: shared.
//   - flow_id: ingest.ts flowId, hex32(a) + hex32(b): a new cons string per row (as below).
// LAKE_BENCH_STRINGS=uncached: as capture handed them before its caches (2026-12-02 14:30): sni,
// alpn_chosen, alpn_offered's elements, banners and leaf_cert_sha256 new flat strings per row (ascii(),
// sha256hex), ja4/ja4s new cons strings (`${a}_${b}_${c}`). =fresh: every parsed string (addresses, list
// elements, ja4 flat) a new flat string per row, list arrays shared (the default 06:40-14:30 on
// 2026-12-02); =shared: the pools' objects throughout (the default before). Same values and bytes in every mode.
const STRINGS = process.env.LAKE_BENCH_STRINGS ?? "capture";
if (!["capture", "uncached", "fresh", "shared"].includes(STRINGS)) throw new Error(`LAKE_BENCH_STRINGS=${STRINGS}: capture, uncached, fresh or shared`);
const RANDOM_SSH_LISTS = process.env.LAKE_BENCH_SSH_LISTS === "random";
// Capture appends each row right after building it; rows are handed over in small batches so that they
// are still in the CPU cache, as there (LAKE_BENCH_FEED=2000: the batch before 2026-12-02 06:40).
const FEED = Number(process.env.LAKE_BENCH_FEED ?? 100);
const newString = (s: string): string => Buffer.from(s, "latin1").toString("latin1");
const FRESH_STRINGS = ["sni", "ja4", "ja4s", "leaf_cert_sha256", "alpn_chosen", "client_addr", "server_addr", "ssh_client_banner", "ssh_server_banner", "ssh_kex", "ssh_hostkey", "ssh_cipher_c2s", "ssh_cipher_s2c"];
const FRESH_LISTS = ["alpn_offered", "ssh_kex_client", "ssh_hostkey_client", "ssh_ciphers_client", "ssh_macs_client", "ssh_kex_server", "ssh_hostkey_server", "ssh_ciphers_server", "ssh_macs_server"];
const UNCACHED_STRINGS = ["sni", "alpn_chosen", "leaf_cert_sha256", "ssh_client_banner", "ssh_server_banner"];
const CAPTURE_NEW_ARRAYS = ["versions_offered", "suites_offered", "groups_offered", "key_share_groups", "sig_algs_offered", "psk_modes", "ssh_kex_client", "ssh_hostkey_client", "ssh_ciphers_client", "ssh_macs_client", "ssh_kex_server", "ssh_hostkey_server", "ssh_ciphers_server", "ssh_macs_server"];
const U16_LISTS = ["versions_offered", "suites_offered", "groups_offered", "key_share_groups", "sig_algs_offered"];
const SSH_LISTS = CAPTURE_NEW_ARRAYS.filter((k) => k.startsWith("ssh_"));
let wire = new Uint8Array(4096);
/** The list through a parser's cache, from its wire bytes (big-endian, `width` bytes per value). */
function cachedList(cache: ListCache<number>, list: number[], width: number): readonly number[] {
  let p = 0;
  for (const x of list) {
    if (width === 2) wire[p++] = x >> 8;
    wire[p++] = x & 0xff;
  }
  return cache.of(wire, 0, p);
}
function cachedAlpn(list: string[]): readonly string[] {
  let p = 0;
  for (const name of list) {
    wire[p++] = name.length;
    for (let j = 0; j < name.length; j++) wire[p++] = name.charCodeAt(j);
  }
  return alpnLists.of(wire, 0, p);
}
function cachedNames(list: string[]): readonly string[] {
  return nameListOf(newString(list.join(","))); // ssh.ts: the name-list's text, then its cache
}
/** A cons string of the parts, as a template literal makes it (a flat copy under 13 characters, as V8 does). */
const joined = (parts: string[]): string => {
  let s = parts[0];
  for (let k = 1; k < parts.length; k++) s = s + "_" + parts[k];
  return s;
};
function handOver(v: Row, ja4Parts: string[] | null, ja4sParts: string[] | null): void {
  if (STRINGS === "shared") return;
  if (STRINGS === "fresh") {
    for (const k of FRESH_STRINGS) if (typeof v[k] === "string") v[k] = newString(v[k] as string);
    for (const k of FRESH_LISTS) if (Array.isArray(v[k])) v[k] = (v[k] as string[]).map(newString);
    return;
  }
  if (STRINGS === "capture") {
    // The parsers' own list caches, fed the bytes the lists come from on the wire.
    for (const k of U16_LISTS) if (Array.isArray(v[k])) v[k] = cachedList(u16Lists, v[k] as number[], 2);
    if (Array.isArray(v.psk_modes)) v.psk_modes = cachedList(u8Lists, v.psk_modes as number[], 1);
    if (Array.isArray(v.alpn_offered)) v.alpn_offered = cachedAlpn(v.alpn_offered as string[]);
    for (const k of SSH_LISTS) if (Array.isArray(v[k])) v[k] = cachedNames(v[k] as string[]);
    return;
  }
  for (const k of CAPTURE_NEW_ARRAYS) if (Array.isArray(v[k])) v[k] = (v[k] as unknown[]).slice();
  for (const k of UNCACHED_STRINGS) if (typeof v[k] === "string") v[k] = newString(v[k] as string);
  if (Array.isArray(v.alpn_offered)) v.alpn_offered = (v.alpn_offered as string[]).map(newString);
  if (ja4Parts) v.ja4 = joined(ja4Parts);
  if (ja4sParts) v.ja4s = joined(ja4sParts);
}

/** A generator of realistic handshake rows: TLS 85 %, QUIC 8 %, SSH 5 %, DTLS 2 %; SNI Zipf-like over 3000 names. */
function rowSource(seed = 1) {
  const w = makeWorld(seed);
  const { r, pick, sample } = w;
  const t0 = Date.UTC(2026, 10, 30, 23, 40, 0) * 1000; // µs; 1M rows at 5 ms span two hour boundaries
  let i = 0;
  return (): Row => {
    const n = i++;
    const ts = t0 + n * 5000 + Math.floor(r() * 5000);
    const p = w.procs[Math.floor(r() * r() * w.procs.length)];
    const s = Math.floor(w.names.length * r() * r() * r()); // skewed towards popular names
    const srv = w.servers[s];
    const x = r();
    const proto = x < 0.85 ? "tls" : x < 0.93 ? "quic" : x < 0.98 ? "ssh" : "dtls";
    const ssh = proto === "ssh";
    const pr = p.profile;
    const g = pr.grease ? GREASE[Math.floor(r() * 16)] : 0;
    const resumed = !ssh && r() < 0.2;
    const sc = !ssh ? null : RANDOM_SSH_LISTS ? w.sshClient() : pick(w.sshClients);
    const ss = !ssh ? null : RANDOM_SSH_LISTS ? w.sshServer() : pick(w.sshServers);
    const source = r() < 0.85 ? "wire" : "uprobe";
    const v: Row = {
      source, proto, pid: p.pid, comm: pr.comm, exe: pr.exe,
      cgroup_id: p.cgroup, container_id: p.container, pod: p.pod, netns: 4026531840n + BigInt(p.pid % 7),
      transport: proto === "quic" || proto === "dtls" ? "udp" : "tcp", client_addr: w.clients[Math.floor(r() * w.clients.length)],
      client_port: 32768 + Math.floor(r() * 28000), server_addr: srv.addr, server_port: ssh ? 22 : 443, role: r() < 0.85 ? "client" : "server",
      sni: ssh ? null : w.names[s], alpn_offered: ssh ? null : pr.alpn, alpn_chosen: ssh ? null : proto === "quic" ? "h3" : pr.alpn[0],
      legacy_version: ssh ? null : 0x0303, versions_offered: ssh ? null : g ? [g, ...pr.versions] : pr.versions, version_chosen: ssh ? null : 0x0304,
      suites_offered: ssh ? null : g ? [g, ...pr.suites] : pr.suites, suite_chosen: ssh ? null : pr.suites[0],
      groups_offered: ssh ? null : g ? [g, ...pr.groups] : pr.groups, key_share_groups: ssh ? null : pr.shares, group_chosen: ssh ? null : pr.shares[0],
      hello_retry: ssh ? null : r() < 0.03, sig_algs_offered: ssh ? null : pr.sigs, sig_alg_chosen: ssh || resumed ? null : pr.sigs[0],
      psk_modes: ssh ? null : [1], ech: ssh ? null : pr.grease && r() < 0.3, resumed: ssh ? null : resumed,
      quic_version: proto === "quic" ? 1 : null, ja4: ssh ? null : pr.ja4, ja4s: ssh ? null : srv.ja4s,
      cert_count: ssh || resumed ? null : 2 + (s % 3), leaf_cert_sha256: ssh || resumed ? null : srv.cert,
      ssh_client_banner: sc ? sc.banner : null, ssh_server_banner: ss ? ss.banner : null,
      ssh_kex_client: sc ? sc.kex : null, ssh_kex_server: ss ? ss.kex : null,
      ssh_hostkey_client: sc ? sc.hostkey : null, ssh_hostkey_server: ss ? ss.hostkey : null,
      ssh_ciphers_client: ssh ? SSH_CIPHERS : null, ssh_ciphers_server: ssh ? SSH_CIPHERS : null,
      ssh_macs_client: ssh ? SSH_MACS : null, ssh_macs_server: ssh ? SSH_MACS : null,
      ssh_kex: ssh ? pick(SSH_KEX.slice(0, 4)) : null, ssh_hostkey: ssh ? pick(SSH_HOSTKEY.slice(3, 6)) : null,
      ssh_cipher_c2s: ssh ? SSH_CIPHERS[0] : null, ssh_cipher_s2c: ssh ? SSH_CIPHERS[0] : null, ssh_mac_c2s: null, ssh_mac_s2c: null,
      library: source === "uprobe" ? pr.library : null,
    };
    handOver(v, ssh ? null : pr.ja4Parts, ssh ? null : srv.ja4sParts);
    const h = {
      proto: proto as Handshake["proto"], transport: v.transport as Handshake["transport"], clientAddr: v.client_addr as string, clientPort: v.client_port as number,
      serverAddr: v.server_addr as string, serverPort: v.server_port as number, firstTsUs: ts,
      result: { proto: proto as Handshake["proto"], fields: parserFields(v), certificates: [], complete: true }, reason: "complete", clientBy: "syn",
    } as Handshake;
    return handshakeRows(h, { host: "bench-host", source: source as RowContext["source"], ident: identity, flowId: `${(t0 / 1000).toString(36)}-${n.toString(36)}`, context: wireContext(v) }).handshake;
  };
}

// ---------- candidates ----------

interface Result {
  candidate: string;
  rows: number;
  wallMs: number;
  cpuMs: number;
  genWallMs: number;
  genCpuMs: number;
  bytes: number;
  files: number;
  peakRssMB: number;
  readBack: number;
}

function dirBytes(root: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith(".parquet")) {
      bytes += statSync(path.join(e.parentPath, e.name)).size;
      files++;
    }
  }
  return { bytes, files };
}

// DuckDB and hyparquet-writer are loaded only by the candidates that use them (and DuckDB for the
// read-back after peak RSS was taken), so each candidate's RSS is its own.
const duck = () => import("@duckdb/node-api");

async function readBackCount(root: string): Promise<number> {
  const { DuckDBInstance } = await duck();
  const db = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const c = await db.connect();
  const r = await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${root}/**/*.parquet', union_by_name=true)`);
  const n = r.getRowObjects()[0].n as number;
  c.closeSync();
  db.closeSync();
  return n;
}

function appendValue(a: DuckDBAppender, c: Column, v: unknown, listInt: never, listStr: never): void {
  if (v === null || v === undefined) return a.appendNull();
  switch (c.type) {
    case "TIMESTAMP":
      return a.appendBigInt(v as bigint); // appended into a BIGINT column, cast in COPY (the notes' approach)
    case "INTEGER":
      return a.appendInteger(v as number);
    case "BIGINT":
      return a.appendBigInt(BigInt(v as number));
    case "UBIGINT":
      return a.appendUBigInt(BigInt(v as number));
    case "BOOLEAN":
      return a.appendBoolean(v as boolean);
    case "VARCHAR":
      return a.appendVarchar(v as string);
    case "INTEGER[]":
      return a.appendList(v as number[], listInt);
    case "VARCHAR[]":
      return a.appendList(v as string[], listStr);
    default:
      throw new Error(`bench: ${c.type}`);
  }
}

async function runDuckdbAppender(root: string, next: () => Row): Promise<void> {
  const { DuckDBInstance, DuckDBListType, DuckDBIntegerType, DuckDBVarCharType } = await duck();
  const listInt = new DuckDBListType(DuckDBIntegerType.instance) as never;
  const listStr = new DuckDBListType(DuckDBVarCharType.instance) as never;
  const db = await DuckDBInstance.create(":memory:", { threads: "1", autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const conn = await db.connect();
  const ddl = COLS.map((c) => `"${c.name}" ${c.type === "TIMESTAMP" ? "BIGINT" : c.type}`).join(", ");
  const sel = COLS.map((c) => (c.type === "TIMESTAMP" ? `make_timestamp("${c.name}") AS "${c.name}"` : `"${c.name}"`)).join(", ");
  for (let done = 0, file = 0; done < ROWS; file++) {
    await conn.run(`CREATE OR REPLACE TABLE t (${ddl})`);
    const a = await conn.createAppender("t");
    const n = Math.min(BATCH, ROWS - done);
    for (let i = 0; i < n; i++) {
      const row = next();
      for (const c of COLS) appendValue(a, c, row[c.name], listInt, listStr);
      a.endRow();
    }
    a.closeSync();
    await conn.run(`COPY (SELECT ${sel} FROM t) TO '${root}/part-${file}.parquet' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`);
    done += n;
  }
  conn.closeSync();
  db.closeSync();
}

function hyparquetSchema(): unknown[] {
  const leaf = (t: string) =>
    t === "TIMESTAMP" ? { type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" } }
    : t === "INTEGER" ? { type: "INT32" }
    : t === "BIGINT" || t === "UBIGINT" ? { type: "INT64" }
    : t === "BOOLEAN" ? { type: "BOOLEAN" }
    : { type: "BYTE_ARRAY", converted_type: "UTF8" };
  const els: unknown[] = [{ name: "root", num_children: COLS.length }];
  for (const c of COLS) {
    if (c.type.endsWith("[]")) {
      els.push({ name: c.name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 });
      els.push({ name: "list", repetition_type: "REPEATED", num_children: 1 });
      els.push({ name: "element", repetition_type: "REQUIRED", ...leaf(c.type.slice(0, -2)) });
    } else els.push({ name: c.name, repetition_type: "OPTIONAL", ...leaf(c.type) });
  }
  return els;
}

async function runHyparquet(root: string, next: () => Row): Promise<void> {
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  const { compress } = await zstd(); // the same wasm ZSTD as the lake, level 3 as in the notes
  const schema = hyparquetSchema();
  for (let done = 0, file = 0; done < ROWS; file++) {
    const n = Math.min(BATCH, ROWS - done);
    const cols: unknown[][] = COLS.map(() => new Array(n));
    for (let i = 0; i < n; i++) {
      const row = next();
      for (let c = 0; c < COLS.length; c++) {
        const v = row[COLS[c].name];
        cols[c][i] = v === undefined ? null : typeof v === "bigint" || COLS[c].type === "BIGINT" || COLS[c].type === "UBIGINT" ? (v === null ? null : BigInt(v as number)) : v;
      }
    }
    const buf = parquetWriteBuffer({
      columnData: COLS.map((c, k) => ({ name: c.name, data: cols[k] as never })),
      schema: schema as never,
      codec: "ZSTD",
      compressors: { ZSTD: (input: Uint8Array) => compress(input, 3) } as never,
      rowGroupSize: BATCH,
    });
    writeFileSync(`${root}/part-${file}.parquet`, new Uint8Array(buf));
    done += n;
  }
}

async function runLake(root: string, next: () => Row, encoder: "js" | "duckdb" = "js"): Promise<void> {
  const lake = await openLake({ root, host: "bench-host", flushIntervalMs: 60_000, encoder, maxBufferedRows: Number(process.env.LAKE_BENCH_MAXBUF ?? 200_000) });
  for (let done = 0; done < ROWS; ) {
    const n = Math.min(10_000, ROWS - done);
    for (let i = 0; i < n; i++) lake.append("handshakes", next());
    done += n;
    await lake.drain(); // a producer that can wait (the ring buffer keeps the kernel side) never drops
    if (process.env.LAKE_BENCH_TRACE && done % 100_000 === 0) {
      const m = process.memoryUsage();
      console.error(`${done}: rss ${(m.rss / 2 ** 20).toFixed(0)} heapTotal ${(m.heapTotal / 2 ** 20).toFixed(0)} heapUsed ${(m.heapUsed / 2 ** 20).toFixed(0)} arrayBuffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} buffered ${lake.stats().buffered}`);
    }
  }
  await lake.close();
  const s = lake.stats();
  if (s.rows.handshakes !== ROWS || s.dropped.handshakes !== 0) throw new Error(`lake bench: wrote ${s.rows.handshakes}, dropped ${s.dropped.handshakes}`);
}

const CANDIDATES: Record<string, (root: string, next: () => Row) => Promise<void>> = {
  "duckdb-appender": runDuckdbAppender,
  hyparquet: runHyparquet,
  "lake-duckdb": (root, next) => runLake(root, next, "duckdb"),
  lake: (root, next) => runLake(root, next, "js"),
};

/** Hands out rows from a refilled batch and adds up the time spent filling it. */
function measuredFeed(source: () => Row, batch: number): { next: () => Row; genWallMs: number; genCpuMs: number } {
  const buf: Row[] = new Array(batch);
  let at = batch;
  const feed = {
    genWallMs: 0,
    genCpuMs: 0,
    next: (): Row => {
      if (at === batch) {
        const w0 = performance.now();
        const c0 = process.cpuUsage();
        for (let i = 0; i < batch; i++) buf[i] = source();
        const c = process.cpuUsage(c0);
        feed.genCpuMs += (c.user + c.system) / 1000;
        feed.genWallMs += performance.now() - w0;
        at = 0;
      }
      const r = buf[at];
      buf[at++] = undefined as never; // the candidate owns it now; nothing here keeps it alive
      return r;
    },
  };
  return feed;
}

async function child(name: string): Promise<Result> {
  const root = mkdtempSync(path.join(os.tmpdir(), `lake-bench-${name}-`));
  try {
    // Rows are generated FEED at a time into a small array, with the clocks read around each refill, so
    // what is subtracted is exactly the generation that ran inside this run (not a separate, warmer pass).
    const feed = measuredFeed(rowSource(7), FEED);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await CANDIDATES[name](root, feed.next);
    const cpu = process.cpuUsage(c0);
    const wallMs = performance.now() - t0;
    const { genWallMs, genCpuMs } = feed;
    const peakRssMB = process.resourceUsage().maxRSS / 1024;
    const { bytes, files } = dirBytes(root);
    return {
      candidate: name, rows: ROWS, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, genWallMs, genCpuMs,
      bytes, files, peakRssMB, readBack: files > 0 ? await readBackCount(root) : 0,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const only = process.argv.indexOf("--candidate");
  if (only >= 0) {
    const res = await child(process.argv[only + 1]);
    process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
    return;
  }
  const names = process.env.LAKE_BENCH_CANDIDATES?.split(",") ?? Object.keys(CANDIDATES);
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  for (const name of names) {
    const p = spawnSync(process.execPath, [...NODE_FLAGS, "--import", "tsx", self, "--candidate", name], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: process.env });
    const line = p.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    if (p.status !== 0 || !line) throw new Error(`bench lake: candidate ${name} failed (exit ${p.status})`);
    results.push(JSON.parse(line.slice(7)) as Result);
  }
  const base = results[0];
  const netWall = (r: Result) => r.wallMs - r.genWallMs;
  const netCpu = (r: Result) => r.cpuMs - r.genCpuMs;
  const rate = (r: Result) => r.rows / (netWall(r) / 1000);
  const perCore = (r: Result) => r.rows / (netCpu(r) / 1000);
  const bpr = (r: Result) => r.bytes / r.rows;
  console.log(`lake writer bench: ${ROWS.toLocaleString("en")} realistic handshake rows (${COLS.length} columns), ${os.cpus().length} cores; generation (${(base.genWallMs / 1000).toFixed(2)} s) subtracted${NODE_FLAGS.length ? `; node ${NODE_FLAGS.join(" ")}` : ""}; values handed over ${STRINGS === "capture" ? "as capture hands them" : STRINGS === "uncached" ? "as capture did before its caches" : STRINGS === "fresh" ? "as new strings per row" : "as shared objects"}, SSH lists ${RANDOM_SSH_LISTS ? "random per row" : "per implementation"}, rows handed over ${FEED} at a time`);
  console.log(`baseline = ${base.candidate}; ratios are candidate / baseline (rows/s: higher is better; bytes, RSS: lower is better)`);
  const fmt = (n: number, d = 0) => n.toLocaleString("en", { maximumFractionDigits: d, minimumFractionDigits: d });
  const rowsOut = results.map((r) => ({
    candidate: r.candidate,
    "rows/s (wall)": fmt(rate(r)),
    "rows/CPU-s": fmt(perCore(r)),
    "× base": fmt(perCore(r) / perCore(base), 2),
    "bytes/row": fmt(bpr(r), 1),
    "× base ": fmt(bpr(r) / bpr(base), 2),
    "peak RSS MB": fmt(r.peakRssMB),
    "× base  ": fmt(r.peakRssMB / base.peakRssMB, 2),
    files: r.files,
    "read back": r.readBack === r.rows ? "ok" : `MISMATCH ${r.readBack}`,
  }));
  console.table(rowsOut);
  const lake = results.find((r) => r.candidate === "lake");
  if (lake) {
    const ok = (b: boolean) => (b ? "met" : "NOT met");
    console.log(`targets (lake): >= 300k rows/CPU-s: ${ok(perCore(lake) >= 300_000)}; <= 20 bytes/row: ${ok(bpr(lake) <= 20)}; <= 300 MB RSS: ${ok(lake.peakRssMB <= 300)}`);
  }
}

await main();
