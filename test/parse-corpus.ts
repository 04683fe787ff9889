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
}

function looksLikeClientHello(b: Uint8Array): boolean {
  return b.length > 5 && b[0] === 0x16 && b[1] === 3 && b[5] === 1;
}

// Every TCP stream of a capture, each direction's payload bytes in order (tshark's reassembly).
export function tcpStreams(rel: string, only?: number[]): TcpStream[] {
  const file = corpusFile(rel);
  const ids = only ?? [...new Set(tshark(["-r", file, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream"]).split("\n").filter(Boolean).map(Number))];
  const out: TcpStream[] = [];
  // One tshark run per batch of streams (each -z follow is one stream).
  for (let i = 0; i < ids.length; i += 40) {
    const batch = ids.slice(i, i + 40);
    const args = ["-r", file, "-q"];
    for (const id of batch) args.push("-z", `follow,tcp,raw,${id}`);
    const text = tshark(args);
    for (const block of text.split(/^=+$/m)) {
      const m = /Filter: tcp\.stream eq (\d+)\nNode 0: (.*)\nNode 1: (.*)\n([\s\S]*)/.exec(block.trim());
      if (!m) continue;
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
      out.push({ stream: Number(m[1]), client, server, clientEndpoint: ce, serverEndpoint: se });
    }
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
