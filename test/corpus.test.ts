// Every capture of ../shared/corpus is ingested and compared, field by field, with tshark 4.0.17's
// dissection of the same file (NAME.tshark.tsv: one row per TLS handshake message / SSH banner /
// KEXINIT). Each disagreement is either fixed or listed in KNOWN below with its reason; a KNOWN
// entry that no longer matches anything fails the test too, so the list stays true.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ingestFile, type RowSink } from "../capture/ingest.ts";
import type { Row, TableName } from "../capture/lake/schema.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const corpus = path.resolve(repoRoot, "../shared/corpus");

interface Known {
  file: string;
  /** substring of the disagreement line */
  match: string;
  reason: string;
}

// Disagreements that are not ours to fix, each with why.
const SIG_EXTRA =
  "tshark's tls.handshake.sig_hash_alg also holds the schemes of signature_algorithms_cert (50) or delegated_credentials (34); " +
  "our sig_algs_offered is the signature_algorithms extension (13) alone, found inside tshark's list";
const KNOWN: Known[] = [
  { file: "public/FoxIO-LLC_ja4/tls12.pcap", match: "sig_algs_offered (tshark adds other scheme lists)", reason: SIG_EXTRA },
  { file: "public/zeek_zeek/openjdk-25.0.2-zeek.org.pcap", match: "sig_algs_offered (tshark adds other scheme lists)", reason: SIG_EXTRA },
  { file: "public/zeek_zeek/client-certificate.pcap", match: "sig_algs_offered (tshark adds other scheme lists)", reason: SIG_EXTRA },
  {
    file: "public/zeek_zeek/firefox-102.13.0esr-blog-cloudflare-com.pcap",
    match: "sig_algs_offered (tshark adds other scheme lists)",
    reason: SIG_EXTRA,
  },
  { file: "public/zeek_zeek/quic_win11_firefox_google.pcap", match: "sig_algs_offered (tshark adds other scheme lists)", reason: SIG_EXTRA },
  {
    file: "public/zeek_zeek/tls-fragmented-handshake.pcap.gz",
    match: "group_chosen: ours - tshark 23",
    reason:
      "the server's flight is 340 KB before its ServerKeyExchange (a Certificate in 16 KiB records); reassembly keeps 64 KiB per " +
      "direction by design, so the ServerKeyExchange is never reached (cert_count still agrees)",
  },
  {
    file: "public/zeek_zeek/ssl-v2.pcap",
    match: "connections: ours 0 tshark 1",
    reason: "an SSLv2-format ClientHello (RFC 6101 appendix E); detectTcpProto only knows TLS records and SSH banners",
  },
  {
    file: "public/zeek_zeek/server-pre-banner-data.pcap",
    match: "tshark -",
    reason:
      "the server sends text lines before its SSH banner (allowed by RFC 4253 4.2); tshark 4.0 then dissects none of the " +
      "server's side, we read its banner and KEXINIT",
  },
];

type TsharkRow = Record<string, string>;

function readTsv(file: string): TsharkRow[] {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0);
  const header = lines[0]!.split("\t");
  return lines.slice(1).map((l) => {
    const cells = l.split("\t");
    const row: TsharkRow = {};
    header.forEach((h, i) => (row[h] = cells[i] ?? ""));
    return row;
  });
}

const nums = (s: string): number[] | undefined => (s === "" ? undefined : s.split(",").map((x) => Number(x)));
const num = (s: string): number | undefined => (s === "" ? undefined : Number(s.split(",")[0]));
const strs = (s: string): string[] | undefined => (s === "" ? undefined : s.split(","));

function endpointsKey(transport: string, a: string, ap: number, b: string, bp: number): string {
  const x = `${a}|${ap}`;
  const y = `${b}|${bp}`;
  return `${transport}|${x < y ? `${x}|${y}` : `${y}|${x}`}`;
}

interface TsharkConn {
  key: string;
  rows: TsharkRow[];
}

/** Group tshark's rows into connections: by endpoints, a ClientHello after a ServerHello starts a new one. */
function tsharkConnections(rows: TsharkRow[]): TsharkConn[] {
  const open = new Map<string, TsharkConn>();
  const all: TsharkConn[] = [];
  for (const r of rows) {
    const key = endpointsKey(r.transport!, r["ip.src"]!, Number(r.srcport), r["ip.dst"]!, Number(r.dstport));
    let c = open.get(key);
    const isCh = r["tls.handshake.type"] === "1";
    const hadSh = c?.rows.some((x) => x["tls.handshake.type"] === "2" && x["tls.handshake.extensions_key_share_selected_group"] === "");
    const sshRestart =
      r["ssh.protocol"] !== "" && c?.rows.some((x) => x["ssh.protocol"] !== "" && x["ip.src"] === r["ip.src"] && x.srcport === r.srcport);
    if (!c || (isCh && hadSh) || sshRestart) {
      c = { key, rows: [] };
      open.set(key, c);
      all.push(c);
    }
    c.rows.push(r);
  }
  return all;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function show(v: unknown): string {
  if (v === undefined || v === null) return "-";
  return JSON.stringify(v);
}

/** Compare one of our handshakes rows with tshark's rows of the same connection. */
function compare(ours: Row, conn: TsharkConn, out: string[], label: string): void {
  const fromClient = (r: TsharkRow) => r["ip.src"] === ours.client_addr && Number(r.srcport) === ours.client_port;
  const check = (field: string, tshark: unknown) => {
    if (!same(ours[field], tshark)) out.push(`${label} ${field}: ours ${show(ours[field])} tshark ${show(tshark)}`);
  };
  const tls = conn.rows.filter((r) => r["tls.handshake.type"] !== "");
  if (ours.proto === "tls" || ours.proto === "quic") {
    const ch = tls.find((r) => r["tls.handshake.type"] === "1");
    const shs = tls.filter((r) => r["tls.handshake.type"] === "2" && !fromClient(r));
    const hrr = shs.find((r) => r["tls.handshake.extensions_key_share_selected_group"] !== "");
    const sh = shs.find((r) => r["tls.handshake.extensions_key_share_selected_group"] === "");
    if (ch) {
      if (!fromClient(ch)) out.push(`${label} client side: ours ${ours.client_addr}:${ours.client_port} sends no ClientHello`);
      check("legacy_version", num(ch["tls.handshake.version"]!));
      check("versions_offered", nums(ch["tls.handshake.extensions.supported_version"]!));
      check("suites_offered", nums(ch["tls.handshake.ciphersuite"]!));
      check("sni", ch["tls.handshake.extensions_server_name"] || undefined);
      check("groups_offered", nums(ch["tls.handshake.extensions_supported_group"]!));
      check("key_share_groups", nums(ch["tls.handshake.extensions_key_share_group"]!));
      // tshark's sig_hash_alg field also collects the scheme lists of signature_algorithms_cert (50)
      // and delegated_credentials (34); ours is signature_algorithms (13). When ours is a contiguous
      // part of tshark's list, say so in the line (KNOWN entries match on it).
      const tSig = nums(ch["tls.handshake.sig_hash_alg"]!);
      const oSig = ours.sig_algs_offered as number[] | undefined;
      if (!same(oSig, tSig)) {
        const inside = oSig && tSig && tSig.join(",").includes(oSig.join(",")) && tSig.length > oSig.length;
        out.push(`${label} sig_algs_offered${inside ? " (tshark adds other scheme lists)" : ""}: ours ${show(oSig)} tshark ${show(tSig)}`);
      }
      const alpn = ch["tls.handshake.extensions_alpn_str"]!;
      const oursAlpn = ours.alpn_offered as string[] | undefined;
      if ((oursAlpn?.join(",") ?? "") !== alpn && !(oursAlpn && alpn.includes("\uFFFD")))
        out.push(`${label} alpn_offered: ours ${show(oursAlpn)} tshark ${show(alpn)}`);
    } else if (ours.suites_offered !== undefined) {
      out.push(`${label} ClientHello: ours has one, tshark none`);
    }
    const final = sh ?? hrr;
    if (final) {
      const v = num(final["tls.handshake.extensions.supported_version"]!) ?? num(final["tls.handshake.version"]!);
      check("version_chosen", v);
      check("suite_chosen", num(final["tls.handshake.ciphersuite"]!));
    } else if (ours.version_chosen !== undefined) {
      out.push(`${label} ServerHello: ours has one, tshark none`);
    }
    if (shs.length > 0) check("hello_retry", hrr !== undefined);
    // The chosen group: ServerHello key_share (1.3), else the HRR's selected group, else the
    // ServerKeyExchange curve (1.2).
    const ske = tls.find((r) => r["tls.handshake.type"] === "12" && !fromClient(r));
    const group =
      num(sh?.["tls.handshake.extensions_key_share_group"] ?? "") ??
      num(hrr?.["tls.handshake.extensions_key_share_selected_group"] ?? "") ??
      num(ske?.["tls.handshake.server_named_curve"] ?? "");
    check("group_chosen", group);
    const cert = tls.find((r) => r["tls.handshake.type"] === "11" && !fromClient(r));
    check("cert_count", num(cert?.["tls.handshake.certificate_count"] ?? ""));
  } else if (ours.proto === "ssh") {
    const ssh = conn.rows.filter((r) => r.kind === "ssh");
    const banner = (c: boolean) => ssh.find((r) => r["ssh.protocol"] !== "" && fromClient(r) === c)?.["ssh.protocol"];
    check("ssh_client_banner", banner(true));
    check("ssh_server_banner", banner(false));
    const kex = (c: boolean) => ssh.find((r) => r["ssh.kex_algorithms"] !== "" && fromClient(r) === c);
    const ck = kex(true);
    const sk = kex(false);
    check("ssh_kex_client", strs(ck?.["ssh.kex_algorithms"] ?? ""));
    check("ssh_hostkey_client", strs(ck?.["ssh.server_host_key_algorithms"] ?? ""));
    check("ssh_ciphers_client", strs(ck?.["ssh.encryption_algorithms_client_to_server"] ?? ""));
    check("ssh_macs_client", strs(ck?.["ssh.mac_algorithms_client_to_server"] ?? ""));
    check("ssh_kex_server", strs(sk?.["ssh.kex_algorithms"] ?? ""));
    check("ssh_hostkey_server", strs(sk?.["ssh.server_host_key_algorithms"] ?? ""));
    // tshark's columns hold the client→server lists of both KEXINITs; ours keeps the server's
    // server→client lists. Real servers send the same list both ways; a difference would show here.
    check("ssh_ciphers_server", strs(sk?.["ssh.encryption_algorithms_client_to_server"] ?? ""));
    check("ssh_macs_server", strs(sk?.["ssh.mac_algorithms_client_to_server"] ?? ""));
  }
}

const manifest = readTsv(path.join(corpus, "MANIFEST.tsv"));
const used = new Set<Known>();

class Collect implements RowSink {
  rows: { table: TableName; row: Row }[] = [];
  append(table: TableName, row: Row): void {
    this.rows.push({ table, row });
  }
}

describe("corpus: ingest agrees with tshark 4.0.17", () => {
  it("has the 94 captures of the manifest", () => {
    expect(manifest.length).toBe(94);
  });

  for (const entry of manifest) {
    const file = entry.file!;
    it(file, async () => {
      const sink = new Collect();
      const res = await ingestFile(path.join(corpus, file), sink, { host: "corpus" });
      expect(res.error).toBeUndefined();
      const ours = sink.rows.filter((r) => r.table === "handshakes").map((r) => r.row);
      const tshark = readTsv(path.join(corpus, entry.ground_truth!));
      const conns = tsharkConnections(tshark);
      const disagreements: string[] = [];
      // Pair connections by endpoints, in time order.
      const oursByKey = new Map<string, Row[]>();
      for (const r of ours) {
        const k = endpointsKey(r.transport as string, r.client_addr as string, r.client_port as number, r.server_addr as string, r.server_port as number);
        oursByKey.set(k, [...(oursByKey.get(k) ?? []), r]);
      }
      const connsByKey = new Map<string, TsharkConn[]>();
      for (const c of conns) connsByKey.set(c.key, [...(connsByKey.get(c.key) ?? []), c]);
      for (const key of new Set([...oursByKey.keys(), ...connsByKey.keys()])) {
        const o = oursByKey.get(key) ?? [];
        const t = connsByKey.get(key) ?? [];
        if (o.length !== t.length) disagreements.push(`${key} connections: ours ${o.length} tshark ${t.length}`);
        for (let i = 0; i < Math.min(o.length, t.length); i++) compare(o[i]!, t[i]!, disagreements, `${key}#${i}`);
      }
      // Certificates: every chain position of every handshake that had a cleartext chain has its row
      // (rows are kept once per certificate, server endpoint and file), the leaf matching leaf_cert_sha256.
      const certs = sink.rows.filter((r) => r.table === "certificates").map((r) => r.row);
      for (const h of ours) {
        const n = h.cert_count as number | undefined;
        if (!n) continue;
        const mine = certs.filter((c) => c.server_addr === h.server_addr && c.server_port === h.server_port);
        for (let pos = 0; pos < n; pos++) {
          if (!mine.some((c) => c.chain_position === pos))
            disagreements.push(`${h.server_addr}:${h.server_port} certificates: no row for chain position ${pos}`);
        }
        if (!mine.some((c) => c.chain_position === 0 && c.sha256 === h.leaf_cert_sha256))
          disagreements.push(`${h.server_addr}:${h.server_port} certificates: leaf row does not match leaf_cert_sha256`);
      }
      const unexplained = disagreements.filter((d) => {
        const k = KNOWN.find((x) => x.file === file && d.includes(x.match));
        if (k) used.add(k);
        return !k;
      });
      expect(unexplained).toEqual([]);
    });
  }

  afterAll(() => {
    const stale = KNOWN.filter((k) => !used.has(k));
    if (stale.length > 0 && manifest.length === 94) {
      throw new Error(`KNOWN entries that match nothing any more: ${stale.map((k) => `${k.file}: ${k.match}`).join("; ")}`);
    }
  });
});
