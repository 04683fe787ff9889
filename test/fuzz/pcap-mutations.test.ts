// Damaged captures: real corpus files cut short, with flipped bits and with broken length fields,
// pushed through the reader, the decoder and the flow table (and so the parsers). The only error
// allowed out is CaptureFormatError; nothing hangs. FUZZ_RUNS sets the number of runs per property.
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FlowTable } from "../../capture/flow/table.ts";
import { decodeFrame } from "../../capture/pcap/decode.ts";
import { CaptureFormatError } from "../../capture/pcap/errors.ts";
import { CaptureDecoder } from "../../capture/pcap/reader.ts";

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/corpus");
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

// A mix: pcap and pcapng, both link types we see most, TLS 1.2 chains, TLS 1.3, SSH and QUIC.
const FILES = [
  "generated/tls12_rsa_kx_mtu576.pcap",
  "generated/tls13_x25519mlkem768.pcap",
  "generated/ssh10_mlkem.pcap",
  "generated/quic_curl_h3.pcap",
  "public/FoxIO-LLC_ja4/latest.pcapng",
  "public/FoxIO-LLC_ja4/tls-alpn-h2.pcap",
  "public/zeek_zeek/openjdk-25.0.2-zeek.org.pcap",
  "public/zeek_zeek/retry.pcap",
].map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(path.join(corpus, f))) }));

/** Everything ingest does with bytes, minus the lake. Returns the error thrown, if any. */
function consume(name: string, bytes: Uint8Array, chunk: number): { error?: unknown; handshakes: number } {
  let handshakes = 0;
  const table = new FlowTable(() => handshakes++, { maxFlows: 64, maxMemory: 1 << 20 });
  const dec = new CaptureDecoder(name, (f) => {
    const s = decodeFrame(f.linkType, f.data, f.tsUs);
    if (s) table.add(s);
  });
  let error: unknown;
  try {
    for (let i = 0; i < bytes.length; i += chunk) dec.push(bytes.subarray(i, i + chunk));
    dec.end();
  } catch (e) {
    error = e;
  }
  // What was read before the damage still makes handshakes (ingest writes them too).
  table.finishAll();
  return error === undefined ? { handshakes } : { error, handshakes };
}

function onlyTypedError(r: { error?: unknown }): void {
  if (r.error === undefined) return;
  if (!(r.error instanceof CaptureFormatError)) throw r.error;
  expect(r.error.message).toMatch(/^.+: .+ at byte \d+$/);
}

const file = fc.constantFrom(...FILES);

describe("fuzz: damaged captures give CaptureFormatError or nothing", () => {
  it("unchanged files read cleanly in any chunking", () => {
    for (const f of FILES) {
      const whole = consume(f.name, f.bytes, f.bytes.length);
      expect(whole.error).toBeUndefined();
      expect(whole.handshakes).toBeGreaterThan(0);
      for (const chunk of [1, 7, 100, 4096]) expect(consume(f.name, f.bytes, chunk)).toEqual(whole);
    }
  });

  it("frames and errors carry their true byte offsets, in any chunking", () => {
    // Record offsets walked independently of the reader: classic pcap (24-byte header, 16-byte
    // record headers) and pcapng (blocks carry their length; packets are type 6 or 3).
    const offsets = (b: Uint8Array): number[] => {
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const out: number[] = [];
      if (v.getUint32(0, true) === 0x0a0d0d0a) {
        for (let o = 0; o < b.length; o += v.getUint32(o + 4, true)) if ([2, 3, 6].includes(v.getUint32(o, true))) out.push(o);
      } else {
        const le = v.getUint32(0, true) === 0xa1b2c3d4 || v.getUint32(0, true) === 0xa1b23c4d;
        for (let o = 24; o < b.length; o += 16 + v.getUint32(o + 8, le)) out.push(o);
      }
      return out;
    };
    for (const f of FILES.filter((x) => !x.name.endsWith(".gz"))) {
      const want = offsets(f.bytes);
      for (const chunk of [f.bytes.length, 1000, 333]) {
        const got: number[] = [];
        const dec = new CaptureDecoder(f.name, (fr) => got.push(fr.offset));
        for (let i = 0; i < f.bytes.length; i += chunk) dec.push(f.bytes.subarray(i, i + chunk));
        dec.end();
        expect(got).toEqual(want);
      }
      // A record length broken in the middle of the file is reported at that record.
      if (f.name.endsWith(".pcap")) {
        const at = want[Math.floor(want.length / 2)]!;
        const b = f.bytes.slice();
        new DataView(b.buffer).setUint32(at + 8, 0x7fffffff, true);
        const dec = new CaptureDecoder(f.name, () => {});
        expect(() => {
          for (let i = 0; i < b.length; i += 1000) dec.push(b.subarray(i, i + 1000));
        }).toThrow(new RegExp(`at byte ${at}$`));
      }
    }
  });

  it("truncation anywhere", () => {
    fc.assert(
      fc.property(file, fc.nat(), fc.integer({ min: 1, max: 5000 }), (f, at, chunk) => {
        const cut = f.bytes.subarray(0, at % f.bytes.length);
        const r = consume(f.name, cut, chunk);
        onlyTypedError(r);
        // A cut inside a record is always reported, with an offset within the file.
        if (r.error) expect((r.error as CaptureFormatError).offset).toBeLessThanOrEqual(cut.length);
      }),
      { numRuns: RUNS },
    );
  });

  it("bit flips", () => {
    fc.assert(
      fc.property(file, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 20 }), (f, flips) => {
        const b = f.bytes.slice();
        for (const [at, bit] of flips) b[at % b.length]! ^= 1 << bit;
        onlyTypedError(consume(f.name, b, 65536));
      }),
      { numRuns: RUNS },
    );
  });

  it("bad lengths: random 32-bit values written over length fields and anywhere", () => {
    fc.assert(
      fc.property(file, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 0xffffffff })), { minLength: 1, maxLength: 6 }), (f, writes) => {
        const b = f.bytes.slice();
        const v = new DataView(b.buffer);
        for (const [at, value] of writes) {
          // Half of the writes land on a 4-byte boundary (where pcap/pcapng keep their lengths).
          const pos = (at % 2 === 0 ? at - (at % 4) : at) % Math.max(1, b.length - 4);
          v.setUint32(pos, value, at % 3 === 0);
        }
        onlyTypedError(consume(f.name, b, 65536));
      }),
      { numRuns: RUNS },
    );
  });

  it("payload garbage inside intact records reaches the parsers and nothing escapes", () => {
    fc.assert(
      fc.property(file, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 }), (f, at, junk) => {
        // Overwrite bytes past the file header only: the record structure mostly survives, the
        // TLS/SSH/QUIC bytes inside do not.
        const b = f.bytes.slice();
        const start = 64 + (at % Math.max(1, b.length - 64 - junk.length));
        b.set(junk, start);
        onlyTypedError(consume(f.name, b, 65536));
      }),
      { numRuns: RUNS },
    );
  });
});
