// Test helper: the corpus' captures as the parsers see them. tshark does the TCP reassembly (follow,tcp,raw)
// and hands out UDP payloads, so these tests exercise the parsers alone, on real handshake bytes.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../shared/corpus");

export function corpusFile(rel: string): string {
  return path.join(CORPUS, rel);
}

function tshark(args: string[]): string {
  return execFileSync("tshark", args, { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] });
}

export interface TcpStream {
  stream: number;
  client: Uint8Array;
  server: Uint8Array;
  clientEndpoint: string;
  serverEndpoint: string;
  clientPort: number;
  serverPort: number;
}

function looksLikeClientHello(b: Uint8Array): boolean {
  return b.length > 5 && b[0] === 0x16 && b[1] === 3 && b[5] === 1;
}

// Every TCP stream of a capture, each direction's payload bytes in order (tshark's reassembly).
const tcpCache = new Map<string, TcpStream[]>();

export function tcpStreams(rel: string, only?: number[]): TcpStream[] {
  const key = rel + "#" + (only?.join(",") ?? "");
  const hit = tcpCache.get(key);
  if (hit) return hit;
  const res = tcpStreamsUncached(rel, only);
  tcpCache.set(key, res);
  return res;
}

function tcpStreamsUncached(rel: string, only?: number[]): TcpStream[] {
  const file = corpusFile(rel);
  const out: TcpStream[] = [];
  // One tshark run per batch of 40 stream ids (each -z follow is one stream); an id past the last
  // stream comes back empty, which ends the walk.
  for (let first = 0; ; first += 40) {
    const batch = only ? only : Array.from({ length: 40 }, (_, i) => first + i);
    const args = ["-r", file, "-q"];
    for (const id of batch) args.push("-z", `follow,tcp,raw,${id}`);
    const text = tshark(args);
    let sawLast = false;
    for (const block of text.split(/^=+$/m)) {
      const m = /Filter: tcp\.stream eq (\d+)\nNode 0: (.*)\nNode 1: (.*)\n([\s\S]*)/.exec(block.trim());
      if (!m) continue;
      if (Number(m[1]) === batch[batch.length - 1] && m[2] !== ":0") sawLast = true;
      const a: string[] = [], b: string[] = [];
      for (const line of m[4]!.split("\n")) {
        if (line.startsWith("\t")) b.push(line.trim());
        else if (line.trim()) a.push(line.trim());
      }
      let client = Uint8Array.from(Buffer.from(a.join(""), "hex"));
      let server = Uint8Array.from(Buffer.from(b.join(""), "hex"));
      let ce = m[2]!, se = m[3]!;
      if (looksLikeClientHello(server) && !looksLikeClientHello(client)) {
        [client, server] = [server, client];
        [ce, se] = [se, ce];
      }
      if (client.length + server.length === 0) continue;
      const port = (e: string) => Number(e.slice(e.lastIndexOf(":") + 1));
      out.push({ stream: Number(m[1]), client, server, clientEndpoint: ce, serverEndpoint: se, clientPort: port(ce), serverPort: port(se) });
    }
    if (only || !sawLast) break;
  }
  return out.sort((x, y) => x.stream - y.stream);
}

export interface UdpFlow {
  stream: number;
  client: Uint8Array[];
  server: Uint8Array[];
  clientPort: number;
}

// UDP datagrams grouped by flow; the client is whoever sent the flow's first datagram.
export function udpFlows(rel: string): UdpFlow[] {
  const text = tshark(["-r", corpusFile(rel), "-Y", "udp && !dns", "-T", "fields", "-e", "udp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "udp.srcport", "-e", "udp.payload"]);
  const flows = new Map<number, UdpFlow & { clientSrc: string }>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [s, ip4, ip6, port, payload] = line.split("\t");
    if (!payload) continue;
    const stream = Number(s);
    const src = `${ip4 || ip6}:${port}`;
    let f = flows.get(stream);
    if (!f) {
      f = { stream, client: [], server: [], clientPort: Number(port), clientSrc: src };
      flows.set(stream, f);
    }
    const bytes = Uint8Array.from(Buffer.from(payload.replaceAll(":", ""), "hex"));
    (src === f.clientSrc ? f.client : f.server).push(bytes);
  }
  return [...flows.values()].map(({ clientSrc: _c, ...f }) => f);
}

export type TsvRow = Record<string, string>;

export function tsvRows(rel: string): TsvRow[] {
  const lines = readFileSync(corpusFile(rel.replace(/\.pcap(ng)?(\.gz)?$/, ".tshark.tsv")), "utf8").split("\n").filter(Boolean);
  const header = lines[0]!.split("\t");
  return lines.slice(1).map((l) => {
    const cells = l.split("\t");
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""]));
  });
}

// tshark prints code points as hex ("0x001d,0x0017") or decimal ("4588,29"); both become numbers.
export function nums(cell: string | undefined): number[] | undefined {
  if (!cell) return undefined;
  return cell.split(",").map((v) => Number(v));
}

const T = {
  type: "tls.handshake.type",
  version: "tls.handshake.version",
  sv: "tls.handshake.extensions.supported_version",
  suites: "tls.handshake.ciphersuite",
  sni: "tls.handshake.extensions_server_name",
  groups: "tls.handshake.extensions_supported_group",
  ks: "tls.handshake.extensions_key_share_group",
  ksSel: "tls.handshake.extensions_key_share_selected_group",
  curve: "tls.handshake.server_named_curve",
  sig: "tls.handshake.sig_hash_alg",
  alpn: "tls.handshake.extensions_alpn_str",
  certs: "tls.handshake.certificate_count",
};

// The tshark rows of one conversation, split by sender.
export function conversationRows(rows: TsvRow[], clientPort: number, serverPort: number): { client: TsvRow[]; server: TsvRow[] } {
  return {
    client: rows.filter((r) => Number(r.srcport) === clientPort && Number(r.dstport) === serverPort),
    server: rows.filter((r) => Number(r.srcport) === serverPort && Number(r.dstport) === clientPort),
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// Field-by-field differences between our handshake fields and tshark's dissection of the same
// conversation (empty = agreement). What tshark leaves empty we must leave unset, and vice versa.
function containsRun(hay: number[], needle: number[]): boolean {
  for (let i = 0; i + needle.length <= hay.length; i++) if (needle.every((v, j) => hay[i + j] === v)) return true;
  return false;
}

// chExtensions: the ClientHello's extension types, to tell which of tshark's pooled fields apply.
export function tlsDifferences(fields: Record<string, unknown>, conv: { client: TsvRow[]; server: TsvRow[] }, chExtensions: number[] = []): string[] {
  const diffs: string[] = [];
  const check = (name: string, ours: unknown, theirs: unknown) => {
    if (!same(ours, theirs)) diffs.push(`${name}: ours ${JSON.stringify(ours)} tshark ${JSON.stringify(theirs)}`);
  };
  const ch = conv.client.find((r) => r[T.type] === "1");
  if (ch) {
    check("legacy_version", fields.legacy_version, Number(ch[T.version]));
    check("versions_offered", fields.versions_offered, nums(ch[T.sv]));
    check("suites_offered", fields.suites_offered, nums(ch[T.suites]) ?? []);
    check("sni", fields.sni, ch[T.sni] || undefined);
    check("groups_offered", fields.groups_offered, nums(ch[T.groups]));
    check("key_share_groups", fields.key_share_groups, nums(ch[T.ks]));
    // tshark pools signature_algorithms with signature_algorithms_cert (50) and delegated_credentials (34):
    // then ours (signature_algorithms alone) must be one run inside tshark's list.
    const sigs = nums(ch[T.sig]);
    const pooled = chExtensions.includes(50) || chExtensions.includes(34);
    if (pooled && sigs && Array.isArray(fields.sig_algs_offered) && !same(fields.sig_algs_offered, sigs)) {
      if (!containsRun(sigs, fields.sig_algs_offered as number[])) diffs.push(`sig_algs_offered: ours ${JSON.stringify(fields.sig_algs_offered)} not within tshark ${JSON.stringify(sigs)}`);
    } else check("sig_algs_offered", fields.sig_algs_offered, sigs);
    // tshark shows non-UTF-8 ALPN bytes as U+FFFD; we keep each byte (Latin-1), so compare the ASCII ones.
    const alpn = ch[T.alpn] ? ch[T.alpn]!.split(",") : undefined;
    if (alpn && alpn.some((a) => a.includes("\uFFFD")) && Array.isArray(fields.alpn_offered)) {
      const ours = fields.alpn_offered as string[];
      check("alpn_offered(ascii)", ours.map((a) => (/^[\x20-\x7e]*$/.test(a) ? a : "?")), alpn.map((a) => (a.includes("\uFFFD") ? "?" : a)));
    } else check("alpn_offered", fields.alpn_offered, alpn);
  } else if (fields.suites_offered !== undefined) diffs.push("ClientHello: ours parsed one, tshark none");
  const shs = conv.server.filter((r) => r[T.type] === "2");
  const hrr = shs.find((r) => r[T.ksSel]);
  const sh = shs.find((r) => !r[T.ksSel]);
  if (shs.length > 0) check("hello_retry", fields.hello_retry, hrr !== undefined);
  const final = sh ?? hrr;
  if (final) {
    check("version_chosen", fields.version_chosen, Number(final[T.sv] || final[T.version]));
    check("suite_chosen", fields.suite_chosen, Number(final[T.suites]));
  }
  const ske = conv.server.find((r) => r[T.type] === "12");
  let group: number | undefined = sh?.[T.ks] ? Number(sh[T.ks]) : hrr ? Number(hrr[T.ksSel]) : undefined;
  if (ske?.[T.curve]) group = Number(ske[T.curve]);
  const ours = fields.group_chosen as number | undefined;
  // tshark names no group for DHE; we name the RFC 7919 group when the server sent one of its primes.
  const ffdhe = ske && !ske[T.curve] && ours !== undefined && ours >= 0x100 && ours <= 0x104;
  if (!ffdhe) check("group_chosen", ours, group);
  if (ske) check("sig_alg_chosen", fields.sig_alg_chosen, ske[T.sig] ? Number(ske[T.sig]) : undefined);
  const cert = conv.server.find((r) => r[T.type] === "11");
  if (cert) check("cert_count", fields.cert_count, Number(cert[T.certs]));
  else check("cert_count", fields.cert_count, undefined);
  return diffs;
}
