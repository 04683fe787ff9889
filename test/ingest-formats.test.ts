// The same real connections in every capture format and link layer the reader takes: pcap
// (µs/ns × little/big endian), pcapng (both endians, per-interface link types and timestamp
// resolutions, simple packet blocks), gzip, Linux cooked v1/v2, raw IP, BSD loopback, VLAN/QinQ, PPP.
// tshark reads every variant too (so the files are real), and ingest must give the very same rows.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowId, ingestFile, type RowSink } from "../capture/ingest.ts";
import type { Row, TableName } from "../capture/lake/schema.ts";
import { decodeFrame, formatIpv6, LINKTYPE, newDecodeStats } from "../capture/pcap/decode.ts";
import { readCaptureFile } from "../capture/pcap/reader.ts";
import { toNull, toPpp, toRaw, toSll, toSll2, toVlan, writePcap, writePcapng, type Frame } from "./ingest-pcapwrite.ts";

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../shared/corpus/generated");
const SOURCES = ["tls12_rsa_kx_mtu576.pcap", "tls13_ipv6.pcap", "quic_curl_h3.pcap", "ssh10_mlkem.pcap"];
const tmp = mkdtempSync(path.join(tmpdir(), "cs-ingest-formats-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

class Collect implements RowSink {
  rows: { table: TableName; row: Row }[] = [];
  append(table: TableName, row: Row): void {
    this.rows.push({ table, row });
  }
}

async function rowsOf(file: string): Promise<unknown[]> {
  const sink = new Collect();
  const r = await ingestFile(file, sink, { host: "t" });
  expect(r.error).toBeUndefined();
  return JSON.parse(
    JSON.stringify(sink.rows, (_k, v) =>
      typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v,
    ),
  );
}

async function framesOf(file: string): Promise<Frame[]> {
  const out: Frame[] = [];
  await readCaptureFile(file, (f) => out.push({ tsUs: f.tsUs, data: new Uint8Array(f.data) }));
  return out;
}

/** One tshark run: every frame's time (µs precision) and how many frames carry a handshake message. */
function tsharkRead(file: string): { times: string[]; handshakeFrames: number } {
  const out = execFileSync(
    "tshark",
    ["-n", "-r", file, "-d", "tcp.port==2223,ssh", "-T", "fields", "-e", "frame.time_epoch", "-e", "tls.handshake.type", "-e", "ssh.protocol", "-e", "ssh.message_code"],
    { stdio: ["ignore", "pipe", "ignore"] },
  ).toString();
  const lines = out.split("\n").filter(Boolean).map((l) => l.split("\t"));
  return {
    // The ns variants carry extra nanoseconds that a µs column does not keep.
    times: lines.map((c) => c[0]!.slice(0, c[0]!.indexOf(".") + 7)),
    handshakeFrames: lines.filter((c) => c.slice(1).some((x) => x !== "")).length,
  };
}

// All sources in one capture (frames in time order): one tshark run per variant keeps this fast.
let frames: Frame[] = [];
let expectedRows: unknown[] = [];
let expectedTshark = 0;

const byFlowAndTable = (rows: unknown[]) =>
  [...(rows as { table: string; row: { flow_id: string; sha256?: string } }[])].sort((a, b) =>
    `${a.row.flow_id}${a.table}${a.row.sha256 ?? ""}`.localeCompare(`${b.row.flow_id}${b.table}${b.row.sha256 ?? ""}`),
  );

beforeAll(async () => {
  for (const s of SOURCES) {
    const file = path.join(corpus, s);
    const rows = await rowsOf(file);
    expect(rows.length).toBeGreaterThan(0);
    expectedRows.push(...rows);
    const n = tsharkRead(file).handshakeFrames;
    expect(n).toBeGreaterThan(0);
    expectedTshark += n;
    frames.push(...(await framesOf(file)));
  }
  frames = frames.sort((a, b) => a.tsUs - b.tsUs);
  expectedRows = byFlowAndTable(expectedRows);
});

function usText(tsUs: number): string {
  return `${Math.floor(tsUs / 1e6)}.${String(tsUs % 1e6).padStart(6, "0")}`;
}

type Variant = (frames: Frame[]) => Uint8Array;
// Simple packet blocks have no timestamp: use them for pure ACKs, whose time no row depends on.
const isPureAck = (d: Uint8Array) => {
  const s = decodeFrame(1, d, 0);
  return s !== null && s.transport === "tcp" && s.payload.length === 0 && (s.flags & 0x07) === 0;
};
const mapFrames = (frames: Frame[], fn: (d: Uint8Array) => Uint8Array) => frames.map((f) => ({ ...f, data: fn(f.data) }));

const VARIANTS: Record<string, Variant> = {
  "pcap little-endian µs": (f) => writePcap({ le: true, ns: false, linkType: 1, frames: f }),
  "pcap little-endian ns": (f) => writePcap({ le: true, ns: true, linkType: 1, frames: f }),
  "pcap big-endian µs": (f) => writePcap({ le: false, ns: false, linkType: 1, frames: f }),
  "pcap big-endian ns": (f) => writePcap({ le: false, ns: true, linkType: 1, frames: f }),
  "pcapng big-endian, Ethernet µs + raw IP ns interfaces, simple packet blocks": (f) =>
    writePcapng({
      le: false,
      interfaces: [{ linkType: 1 }, { linkType: LINKTYPE.RAW, tsresol: 9 }],
      packets: f.map((x, i) =>
        i % 2 === 1 ? { ...x, iface: 1, data: toRaw(x.data) } : { ...x, iface: 0, simple: i % 4 === 2 && isPureAck(x.data) },
      ),
    }),
  "pcapng little-endian ns": (f) => writePcapng({ le: true, interfaces: [{ linkType: 1, tsresol: 9 }], packets: f.map((x) => ({ ...x, iface: 0 })) }),
  "Linux cooked v1 (SLL)": (f) => writePcap({ le: true, ns: false, linkType: LINKTYPE.LINUX_SLL, frames: mapFrames(f, toSll) }),
  "Linux cooked v2 (SLL2)": (f) => writePcap({ le: true, ns: false, linkType: LINKTYPE.LINUX_SLL2, frames: mapFrames(f, toSll2) }),
  "raw IP (101)": (f) => writePcap({ le: true, ns: false, linkType: LINKTYPE.RAW, frames: mapFrames(f, toRaw) }),
  "raw IPv4/IPv6 (228/229), one pcapng interface each": (f) =>
    writePcapng({
      le: true,
      interfaces: [{ linkType: LINKTYPE.IPV4 }, { linkType: LINKTYPE.IPV6 }],
      packets: f.map((x) => {
        const v6 = ((x.data[12]! << 8) | x.data[13]!) === 0x86dd;
        return { ...x, iface: v6 ? 1 : 0, data: toRaw(x.data) };
      }),
    }),
  "BSD loopback (null)": (f) => writePcap({ le: true, ns: false, linkType: LINKTYPE.NULL, frames: mapFrames(f, toNull) }),
  "802.1Q VLAN": (f) => writePcap({ le: true, ns: false, linkType: 1, frames: mapFrames(f, (d) => toVlan(d, false)) }),
  "QinQ (802.1ad + 802.1Q)": (f) => writePcap({ le: true, ns: false, linkType: 1, frames: mapFrames(f, (d) => toVlan(d, true)) }),
  "PPP": (f) => writePcap({ le: true, ns: false, linkType: LINKTYPE.PPP, frames: mapFrames(f, toPpp) }),
};

describe("ingest reads every format and link layer alike", () => {
  for (const [name, make] of Object.entries(VARIANTS)) {
    it(name, async () => {
      const file = path.join(tmp, `${name.replace(/\W+/g, "_")}.cap`);
      writeFileSync(file, make(frames));
      const t = tsharkRead(file);
      expect(t.handshakeFrames, `tshark on ${name}`).toBe(expectedTshark);
      expect(byFlowAndTable(await rowsOf(file))).toEqual(expectedRows);
      if (!name.includes("simple packet")) expect(t.times).toEqual(frames.map((f) => usText(f.tsUs)));
    });
  }

  it("files written by editcap: nanosecond pcap and pcapng", async () => {
    for (const s of SOURCES) {
      const mine = byFlowAndTable(await rowsOf(path.join(corpus, s)));
      for (const fmt of ["nsecpcap", "pcapng"]) {
        const file = path.join(tmp, `editcap-${fmt}-${s}`);
        execFileSync("editcap", ["-F", fmt, path.join(corpus, s), file]);
        expect(byFlowAndTable(await rowsOf(file))).toEqual(mine);
      }
    }
  });

  it("gzip-compressed captures", async () => {
    const file = path.join(tmp, "all.pcap.gz");
    writeFileSync(file, gzipSync(writePcap({ le: true, ns: false, linkType: 1, frames })));
    expect(byFlowAndTable(await rowsOf(file))).toEqual(expectedRows);
  });
});

describe("IP decoding", () => {
  // Hand-made frames, each checked against tshark's reading of the same bytes.
  function ipv4Tcp(fragOffset: number, moreFragments: boolean): Uint8Array {
    const eth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
    const tcp = [0x30, 0x39, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0, 0x16, 0x03, 0x01];
    const flags = (moreFragments ? 0x20 : 0) | ((fragOffset >> 8) & 0x1f);
    const total = 20 + tcp.length;
    const ip = [0x45, 0, total >> 8, total & 0xff, 0, 7, flags, fragOffset & 0xff, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7];
    return new Uint8Array([...eth, ...ip, ...tcp, 0, 0, 0, 0]); // + Ethernet padding, cut by the IP length
  }

  function ipv6WithExtensions(fragment: "none" | "first" | "later"): Uint8Array {
    const eth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd];
    const udp = [0x1f, 0x90, 0x01, 0xbb, 0, 12, 0, 0, 0xc0, 0, 0, 1];
    const hopByHop = [60, 0, 1, 4, 0, 0, 0, 0]; // next: destination options
    const destOpts = [fragment === "none" ? 17 : 44, 0, 1, 4, 0, 0, 0, 0];
    const offset = fragment === "later" ? 8 << 3 : 0;
    const frag = fragment === "none" ? [] : [17, 0, offset >> 8, (offset & 0xff) | (fragment === "first" ? 1 : 0), 0, 0, 0, 9];
    const payload = [...hopByHop, ...destOpts, ...frag, ...udp];
    const src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const dst = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0xab, 0xcd];
    const ip = [0x60, 0, 0, 0, payload.length >> 8, payload.length & 0xff, 0, 64, ...src, ...dst];
    return new Uint8Array([...eth, ...ip, ...payload]);
  }

  function tsharkFields(frames: Uint8Array[], fields: string[]): string[][] {
    const file = path.join(tmp, `ip-${Math.random().toString(36).slice(2)}.pcap`);
    writeFileSync(file, writePcap({ le: true, ns: false, linkType: 1, frames: frames.map((data, i) => ({ tsUs: 1e15 + i, data })) }));
    const out = execFileSync("tshark", ["-r", file, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE", "-T", "fields", ...fields.flatMap((f) => ["-e", f])], {
      stdio: ["ignore", "pipe", "ignore"],
    }).toString();
    return out.split("\n").filter(Boolean).map((l) => l.split("\t"));
  }

  it("IPv4: first fragments decode, later fragments are skipped, Ethernet padding is cut", () => {
    const frames = [ipv4Tcp(0, false), ipv4Tcp(0, true), ipv4Tcp(100, false)];
    const ts = tsharkFields(frames, ["ip.src", "tcp.srcport", "tcp.len"]);
    const stats = newDecodeStats();
    const got = frames.map((f) => decodeFrame(1, f, 0, stats));
    for (const i of [0, 1]) {
      expect(got[i]!.srcAddr).toBe(ts[i]![0]);
      expect(String(got[i]!.srcPort)).toBe(ts[i]![1]);
    }
    expect(String(got[0]!.payload.length)).toBe(ts[0]![2]); // 3, not 7: the padding is not TCP payload
    expect(got[2]).toBeNull();
    expect(ts[2]![1]).toBe(""); // tshark does not read a TCP header in a later fragment either
    expect(stats.fragments).toBe(1);
  });

  it("IPv6: walks hop-by-hop, destination options and fragment headers", () => {
    const frames = [ipv6WithExtensions("none"), ipv6WithExtensions("first"), ipv6WithExtensions("later")];
    const ts = tsharkFields(frames, ["ipv6.src", "ipv6.dst", "udp.srcport", "udp.dstport"]);
    const got = frames.map((f) => decodeFrame(1, f, 0));
    for (const i of [0, 1]) {
      expect(got[i]!.srcAddr).toBe(ts[i]![0]);
      expect(got[i]!.dstAddr).toBe(ts[i]![1]);
      expect(String(got[i]!.srcPort)).toBe(ts[i]![2]);
      expect(String(got[i]!.dstPort)).toBe(ts[i]![3]);
      expect(got[i]!.payload.length).toBe(4);
    }
    expect(got[2]).toBeNull();
  });

  it("formats IPv6 addresses as RFC 5952 says", () => {
    const a = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));
    expect(formatIpv6(a("20010db8000000000001000000000001"), 0)).toBe("2001:db8::1:0:0:1");
    expect(formatIpv6(a("00000000000000000000000000000001"), 0)).toBe("::1");
    expect(formatIpv6(a("20010db8000000010001000100010001"), 0)).toBe("2001:db8:0:1:1:1:1:1");
    expect(formatIpv6(a("00000000000000000000ffffc0000201"), 0)).toBe("::ffff:192.0.2.1");
    expect(formatIpv6(a("fe800000000000000000000000000000"), 0)).toBe("fe80::");
  });
});

describe("flowId", () => {
  // The definition: 64-bit FNV-1a (two lanes) over this text. flowId feeds the pieces without
  // making the text; ids of files ingested before and after must stay the same.
  const byText = (t: string, ca: string, cp: number, sa: string, sp: number, ts: number): string => {
    const text = `${t}|${ca}|${cp}|${sa}|${sp}|${ts}`;
    let a = 0x811c9dc5;
    let b = 0x050c5d1f;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
    }
    return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
  };

  it("is the hash of the 5-tuple text and first packet time, for any time", () => {
    const times = [0, 7, 99_999_999, 100_000_000, 100_000_007, 1_790_000_000_123_456, 2 ** 53 - 1, 1.5, -3, 1e21];
    for (let i = 0; i < 2000; i++) times.push(Math.floor(Math.random() * 2 ** 53));
    for (const ts of times) {
      expect(flowId("tcp", "10.0.0.1", 443, "2001:db8::1", 50000, ts)).toBe(byText("tcp", "10.0.0.1", 443, "2001:db8::1", 50000, ts));
    }
    expect(flowId("udp", "a", 1, "b", 2, 3)).not.toBe(flowId("udp", "a", 1, "b", 2, 4));
  });
});
