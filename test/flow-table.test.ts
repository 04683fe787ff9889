// The flow table on real connections from the corpus: whatever order, duplication or
// re-segmentation the segments come in, the handshake read is the same; memory stays bounded;
// nothing is kept once a handshake is done; each handshake is emitted once.
import fc from "fast-check";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { TCP_SYN, type Segment } from "../capture/flow/segment.ts";
import { FlowTable, type Handshake } from "../capture/flow/table.ts";
import { decodeFrame } from "../capture/pcap/decode.ts";
import { readCaptureFile } from "../capture/pcap/reader.ts";

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../shared/corpus/generated");

async function segmentsOf(name: string): Promise<Segment[]> {
  const out: Segment[] = [];
  await readCaptureFile(path.join(corpus, name), (f) => {
    const s = decodeFrame(f.linkType, f.data, f.tsUs);
    if (s) out.push({ ...s, payload: new Uint8Array(s.payload) });
  });
  return out;
}

function run(segs: Segment[], opts: ConstructorParameters<typeof FlowTable>[1] = {}): Handshake[] {
  const got: Handshake[] = [];
  const t = new FlowTable((h) => got.push(h), opts);
  for (const s of segs) t.add(s);
  t.finishAll();
  return got;
}

/** What a handshake says, without the fields that depend on when/how it ended. */
function essence(h: Handshake) {
  return {
    proto: h.proto,
    client: `${h.clientAddr}:${h.clientPort}`,
    server: `${h.serverAddr}:${h.serverPort}`,
    fields: h.result.fields,
    certs: h.result.certificates.map((c) => Buffer.from(c).toString("base64")),
    complete: h.result.complete,
  };
}

/** Split each data segment at random points into pieces, some overlapping their neighbours. */
function resegment(segs: Segment[], cuts: number[]): Segment[] {
  const out: Segment[] = [];
  let k = 0;
  for (const s of segs) {
    if (s.payload.length < 2) {
      out.push(s);
      continue;
    }
    const c = cuts[k++ % cuts.length]! % s.payload.length;
    if (c === 0) {
      out.push(s);
      continue;
    }
    const overlap = Math.min(c, cuts[k % cuts.length]! % 64);
    out.push({ ...s, payload: s.payload.subarray(0, c) });
    out.push({ ...s, seq: (s.seq + c - overlap) >>> 0, flags: s.flags & ~TCP_SYN, payload: s.payload.subarray(c - overlap) });
  }
  return out;
}

const FILES = ["tls13_x25519mlkem768_mtu576.pcap", "tls12_rsa_kx_mtu576.pcap", "ssh10_mlkem_mtu576.pcap", "tls13_mlkem_hrr.pcap"];
const segments: Record<string, Segment[]> = {};
const baseline: Record<string, ReturnType<typeof essence>> = {};

beforeAll(async () => {
  for (const f of FILES) {
    segments[f] = await segmentsOf(f);
    const hs = run(segments[f]!);
    expect(hs.length).toBe(1);
    baseline[f] = essence(hs[0]!);
  }
});

describe("FlowTable on real connections", () => {
  it("reads complete handshakes in capture order, client = SYN sender", () => {
    for (const f of FILES) {
      expect(baseline[f]!.complete).toBe(true);
      expect(baseline[f]!.client).toMatch(/^10\.200\.0\.2:/);
    }
    // A multi-segment post-quantum ClientHello and a TLS 1.2 chain over 5 segments.
    expect(baseline["tls13_x25519mlkem768_mtu576.pcap"]!.fields.key_share_groups).toEqual([4588, 29]);
    expect(baseline["tls12_rsa_kx_mtu576.pcap"]!.certs.length).toBe(2);
  });

  it("gives the same handshake for any order, duplication and re-segmentation", () => {
    for (const f of FILES) {
      fc.assert(
        fc.property(
          fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
          fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 30 }),
          fc.array(fc.nat(), { maxLength: 10 }),
          (order, cuts, dups) => {
            const segs = resegment(segments[f]!, cuts);
            // Retransmits: copies of random segments, inserted anywhere.
            for (const d of dups) segs.push(segs[d % segs.length]!);
            // Shuffle the data segments among themselves, keep the SYN handshake first.
            const head = segs.filter((s) => s.flags & TCP_SYN);
            const rest = segs.filter((s) => !(s.flags & TCP_SYN));
            const keyed = rest.map((s, i) => ({ s, k: order[i % order.length]! ^ (i * 2654435761) }));
            keyed.sort((a, b) => a.k - b.k);
            const got = run([...head, ...keyed.map((x) => x.s)]);
            expect(got.length).toBe(1);
            expect(essence(got[0]!)).toEqual(baseline[f]);
          },
        ),
        { numRuns: 100 },
      );
    }
  });

  it("starts without the SYN handshake (capture began mid-connection)", () => {
    for (const f of FILES) {
      const noSyn = segments[f]!.filter((s) => !(s.flags & TCP_SYN));
      const got = run(noSyn);
      expect(got.length).toBe(1);
      expect(essence(got[0]!)).toEqual(baseline[f]);
      expect(got[0]!.clientBy).toBe(f.startsWith("ssh") ? "port" : "hello");
    }
  });

  it("without a SYN, an out-of-order first segment still yields the whole ClientHello", () => {
    const f = "tls13_x25519mlkem768_mtu576.pcap";
    const noSyn = segments[f]!.filter((s) => !(s.flags & TCP_SYN));
    const firstData = noSyn.findIndex((s) => s.payload.length > 0);
    const swapped = [...noSyn];
    [swapped[firstData], swapped[firstData + 1]] = [swapped[firstData + 1]!, swapped[firstData]!];
    const got = run(swapped);
    expect(got.length).toBe(1);
    expect(essence(got[0]!)).toEqual(baseline[f]);
  });

  it("a truncated stream (capture cut after the first ClientHello segment) gives one partial result", () => {
    const f = "tls13_x25519mlkem768_mtu576.pcap";
    const segs = segments[f]!;
    const firstData = segs.findIndex((s) => s.payload.length > 0);
    const got = run(segs.slice(0, firstData + 1));
    expect(got.length).toBe(1);
    expect(got[0]!.result.complete).toBe(false);
    expect(got[0]!.reason).toBe("end");
  });

  it("emits once and keeps nothing after the handshake", () => {
    const f = "tls13_x25519mlkem768_mtu576.pcap";
    const got: Handshake[] = [];
    const t = new FlowTable((h) => got.push(h));
    let afterDone = 0;
    for (const s of segments[f]!) {
      t.add(s);
      if (got.length === 1) {
        afterDone++;
        expect(t.bufferedBytes).toBe(0);
      }
    }
    expect(afterDone).toBeGreaterThan(3); // the application data that followed was not kept
    // The same connection replayed (same ISN) is the same connection: nothing new.
    for (const s of segments[f]!) t.add(s);
    t.finishAll();
    expect(got.length).toBe(1);
    expect(got[0]!.reason).toBe("complete");
  });

  it("keeps its own copies: payload buffers reused by the caller after add change nothing", async () => {
    const quic = "quic_curl_h3.pcap";
    segments[quic] = await segmentsOf(quic);
    baseline[quic] = essence(run(segments[quic]!)[0]!);
    for (const f of [...FILES, quic]) {
      const got: Handshake[] = [];
      const t = new FlowTable((h) => got.push(h));
      const scratch = Buffer.alloc(70000);
      for (const s of segments[f]!) {
        scratch.set(s.payload);
        t.add({ ...s, payload: scratch.subarray(0, s.payload.length) });
        scratch.fill(0xee, 0, s.payload.length);
      }
      t.finishAll();
      expect(got.length).toBe(1);
      expect(essence(got[0]!)).toEqual(baseline[f]);
    }
  });

  it("a capture without PSH flags still gives the same handshake, at the connection's close", () => {
    for (const f of FILES) {
      const noPush = segments[f]!.map((s) => ({ ...s, flags: s.flags & ~0x08 }));
      const got = run(noPush);
      expect(got.length).toBe(1);
      expect(essence(got[0]!)).toEqual(baseline[f]);
      expect(got[0]!.reason).toBe("closed");
    }
  });

  it("a new SYN on the same ports after a finished handshake is a new connection", () => {
    const f = "tls12_rsa_kx_mtu576.pcap";
    const again = segments[f]!.map((s) => ({ ...s, tsUs: s.tsUs + 10e6, seq: (s.seq + 12345) >>> 0 }));
    const got = run([...segments[f]!, ...again]);
    expect(got.length).toBe(2);
  });

  it("bounds the number of flows and the buffered bytes; evicted flows still report", () => {
    const f = "tls13_x25519mlkem768_mtu576.pcap";
    const segs = segments[f]!;
    const firstData = segs.findIndex((s) => s.payload.length > 0);
    const partial = segs.slice(0, firstData + 1); // SYN, SYN-ACK, ACK, first ClientHello segment
    const got: Handshake[] = [];
    const maxMemory = 64 * 1024;
    const t = new FlowTable((h) => got.push(h), { maxFlows: 100, maxMemory });
    for (let i = 0; i < 1000; i++) {
      for (const s of partial) {
        const fromClient = s.srcAddr === "10.200.0.2";
        t.add({ ...s, srcPort: fromClient ? 20000 + i : s.srcPort, dstPort: fromClient ? s.dstPort : 20000 + i });
        expect(t.size).toBeLessThanOrEqual(100);
        expect(t.bufferedBytes).toBeLessThanOrEqual(maxMemory);
      }
    }
    expect(t.stats.evicted).toBeGreaterThan(800);
    t.finishAll();
    expect(got.length).toBe(1000);
    expect(got.every((h) => h.result.complete === false)).toBe(true);
  });

  it("finishes idle flows by capture time", () => {
    const f = "tls13_x25519mlkem768_mtu576.pcap";
    const segs = segments[f]!;
    const firstData = segs.findIndex((s) => s.payload.length > 0);
    const got: Handshake[] = [];
    const t = new FlowTable((h) => got.push(h), { idleTimeoutUs: 60e6 });
    for (const s of segs.slice(0, firstData + 1)) t.add(s);
    expect(got.length).toBe(0);
    // Another connection's packet two minutes later.
    const later = segs[0]!;
    t.add({ ...later, srcPort: 40000, tsUs: later.tsUs + 120e6 });
    expect(got.length).toBe(1);
    expect(got[0]!.reason).toBe("idle");
  });

  it("creates no flow for pure ACKs or non-Initial UDP of unknown connections", () => {
    const t = new FlowTable(() => {});
    const base: Segment = {
      tsUs: 1,
      srcAddr: "10.0.0.1",
      dstAddr: "10.0.0.2",
      srcPort: 1,
      dstPort: 2,
      transport: "tcp",
      seq: 1,
      flags: 0x10,
      payload: new Uint8Array(0),
    };
    for (let i = 0; i < 100; i++) t.add({ ...base, srcPort: 1000 + i });
    for (let i = 0; i < 100; i++) t.add({ ...base, transport: "udp", srcPort: 1000 + i, payload: new Uint8Array([0x40, 1, 2, 3]) });
    expect(t.size).toBe(0);
  });

  it("gives up on a TCP flow that is neither TLS nor SSH and frees it", () => {
    const t = new FlowTable(() => {});
    const mk = (from: 0 | 1, seq: number, text: string): Segment => ({
      tsUs: 1,
      srcAddr: from ? "10.0.0.2" : "10.0.0.1",
      dstAddr: from ? "10.0.0.1" : "10.0.0.2",
      srcPort: from ? 80 : 50000,
      dstPort: from ? 50000 : 80,
      transport: "tcp",
      seq,
      flags: 0x18,
      payload: new TextEncoder().encode(text),
    });
    t.add(mk(0, 1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    t.add(mk(1, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    expect(t.stats.notHandshake).toBe(1);
    expect(t.bufferedBytes).toBe(0);
  });
});
