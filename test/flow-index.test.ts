// The flow index (open addressing keyed by the numbers of the 5-tuple) against a plain Map model:
// random inserts, lookups, deletions and touches, through growth and backward-shift deletion; views
// whose hashes collide stay apart; both directions of a connection share a key. Also the address
// text ↔ words mapping that lets add(Segment) and decoded packets land on the same flows.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressWords } from "../capture/flow/address-words.ts";
import { FlowIndex, stringHash, type Indexed } from "../capture/flow/flow-index.ts";
import { Packet } from "../capture/flow/segment.ts";
import { FlowTable, type Handshake } from "../capture/flow/table.ts";
import { decodePacket } from "../capture/pcap/decode.ts";
import { readCaptureFile } from "../capture/pcap/reader.ts";
import { decodeFrame } from "../capture/pcap/decode.ts";
import path from "node:path";
import { fileURLToPath } from "node:url";

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../shared/corpus/generated");

interface Entry extends Indexed {
  id: string;
}

/** A packet between two endpoints given as numbers (IPv4 unless v6 words are given). */
function packet(a: number[], aPort: number, b: number[], bPort: number, proto = 6, view = ""): Packet {
  const p = new Packet();
  p.ipProto = proto;
  p.v6 = a.length === 4;
  [p.s0 = 0, p.s1 = 0, p.s2 = 0, p.s3 = 0] = a;
  [p.d0 = 0, p.d1 = 0, p.d2 = 0, p.d3 = 0] = b;
  p.srcPort = aPort;
  p.dstPort = bPort;
  p.view = view;
  return p;
}

const idOf = (a: number[], ap: number, b: number[], bp: number, proto: number, view: string) => {
  const x = `${a.join(".")}:${ap}`;
  const y = `${b.join(".")}:${bp}`;
  return `${proto}|${view}|${x < y ? `${x}|${y}` : `${y}|${x}`}`;
};

describe("FlowIndex", () => {
  it("agrees with a Map through random inserts, lookups, touches and deletions", () => {
    const op = fc.record({
      kind: fc.constantFrom("insert", "insert", "insert", "delete", "get", "touch"),
      // Few distinct values: lots of repeats, reversed directions and probe-run collisions.
      a: fc.integer({ min: 0, max: 40 }),
      b: fc.integer({ min: 0, max: 40 }),
      ap: fc.integer({ min: 1, max: 6 }),
      bp: fc.integer({ min: 1, max: 6 }),
      proto: fc.constantFrom(6, 17),
      flip: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 3000 }), (ops) => {
        const index = new FlowIndex<Entry>();
        const model = new Map<string, Entry>();
        const order: Entry[] = [];
        for (const o of ops) {
          const a = [o.a * 0x01010101];
          const b = [(o.b * 0x9e3779b1) | 0];
          const p = o.flip ? packet(b, o.bp, a, o.ap, o.proto) : packet(a, o.ap, b, o.bp, o.proto);
          const id = idOf(a, o.ap, b, o.bp, o.proto, "");
          index.setKey(p, false);
          const got = index.get();
          expect(got).toBe(model.get(id));
          if (o.kind === "insert" && !got) {
            const e: Entry = { id, slot: -1, older: null, newer: null };
            index.insert(e);
            model.set(id, e);
            order.push(e);
          } else if (o.kind === "delete" && got) {
            index.delete(got);
            model.delete(id);
            order.splice(order.indexOf(got), 1);
          } else if (o.kind === "touch" && got) {
            index.touch(got);
            order.splice(order.indexOf(got), 1);
            order.push(got);
          }
          expect(index.size).toBe(model.size);
        }
        // Every entry still found, and the activity order is the model's.
        const walked: Entry[] = [];
        for (let e = index.oldest; e; e = e.newer as Entry | null) walked.push(e);
        expect(walked).toEqual(order);
        expect(index.newest).toBe(order[order.length - 1] ?? null);
      }),
      { numRuns: 40 },
    );
  });

  it("grows past its first capacity and finds everything after deleting half", () => {
    const index = new FlowIndex<Entry>();
    const all: Entry[] = [];
    for (let i = 0; i < 20000; i++) {
      index.setKey(packet([0x0a000001], 443, [0x0a010000 + i], 40000 + (i % 7)), false);
      const e: Entry = { id: String(i), slot: -1, older: null, newer: null };
      index.insert(e);
      all.push(e);
    }
    for (let i = 0; i < 20000; i += 2) index.delete(all[i]!);
    for (let i = 0; i < 20000; i++) {
      index.setKey(packet([0x0a010000 + i], 40000 + (i % 7), [0x0a000001], 443), false);
      expect(index.get()).toBe(i % 2 ? all[i] : undefined);
    }
    expect(index.size).toBe(10000);
  });

  it("keeps two views apart even when their hashes collide", () => {
    // A birthday search for two view names with the same 32-bit hash.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const v = `c${i}`;
      const h = stringHash(v);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, v];
      else seen.set(h, v);
    }
    const index = new FlowIndex<Entry>();
    const make = (view: string) => {
      index.setKey(packet([1], 1000, [2], 443, 6, view), false);
      const e: Entry = { id: view, slot: -1, older: null, newer: null, view };
      index.insert(e);
      return e;
    };
    const [x, y] = pair.map(make);
    index.setKey(packet([2], 443, [1], 1000, 6, pair[0]), false);
    expect(index.get()).toBe(x);
    index.setKey(packet([2], 443, [1], 1000, 6, pair[1]), false);
    expect(index.get()).toBe(y);
    index.setKey(packet([2], 443, [1], 1000, 6, ""), false);
    expect(index.get()).toBeUndefined();
  });
});

describe("address words", () => {
  it("reads IPv4 and IPv6 text (compressed, full, IPv4-mapped) into the words packets carry", () => {
    expect(addressWords("10.200.0.1")).toEqual({ v6: false, text: false, w: [0x0ac80001, 0, 0, 0] });
    expect(addressWords("255.255.255.255").w[0]).toBe(-1);
    expect(addressWords("2001:db8::1")).toEqual({ v6: true, text: false, w: [0x20010db8, 0, 0, 1] });
    expect(addressWords("2001:0db8:0000:0000:0000:0000:0000:0001").w).toEqual(addressWords("2001:db8::1").w);
    expect(addressWords("::").w).toEqual([0, 0, 0, 0]);
    expect(addressWords("::ffff:10.0.0.1")).toEqual({ v6: true, text: false, w: [0, 0, 0xffff, 0x0a000001] });
    expect(addressWords("fe80::1:2").w).toEqual([(0xfe800000 | 0), 0, 0, 0x00010002]);
  });

  it("anything else is keyed by a hash, marked apart from addresses", () => {
    for (const t of ["host-a", "1.2.3", "1.2.3.256", "::1::2", "12345::", ""]) expect(addressWords(t).text).toBe(true);
    expect(addressWords("host-a").w).not.toEqual(addressWords("host-b").w);
  });

  it("a connection fed as Segments and as decoded packets is one flow with one handshake", async () => {
    const frames: { tsUs: number; data: Uint8Array }[] = [];
    for (const f of ["tls13_ipv6.pcap", "tls12_ecdhe_rsa.pcap"]) {
      await readCaptureFile(path.join(corpus, f), (fr) => frames.push({ tsUs: fr.tsUs, data: new Uint8Array(fr.data) }));
    }
    const run = (mix: (i: number) => boolean) => {
      const got: Handshake[] = [];
      const t = new FlowTable((h) => got.push(h));
      const p = new Packet();
      frames.forEach((fr, i) => {
        if (mix(i)) {
          const s = decodeFrame(1, fr.data, fr.tsUs);
          if (s) t.add(s);
        } else if (decodePacket(1, fr.data, 0, fr.data.length, fr.tsUs, p)) t.addPacket(p);
      });
      t.finishAll();
      return got.map((h) => ({ client: `${h.clientAddr}:${h.clientPort}`, server: `${h.serverAddr}:${h.serverPort}`, fields: h.result.fields }));
    };
    const segments = run(() => true);
    expect(segments.length).toBe(2);
    expect(run(() => false)).toEqual(segments);
    expect(run((i) => i % 2 === 0)).toEqual(segments);
  });
});
