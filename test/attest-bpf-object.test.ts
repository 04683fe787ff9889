// The ELF reader behind the manifest, checked against two real oracles on objects clang builds here:
// llvm-readelf (section and symbol tables) and libbpf itself (program names, sections and types, via the
// native addon's open-without-load). Damaged input must give a BpfObjectError, never another exception.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { BpfObjectError, classifySection, parseBpfObject, programKinds } from "../capture/attest/bpf-object.ts";
import { compileBpf, GETPID_SOURCE, MULTI_SOURCE, tempDir } from "./attest-fixtures.ts";

let dir: string;
let multi: Uint8Array;
let multiPath: string;

beforeAll(() => {
  dir = tempDir();
  multiPath = compileBpf(dir, "multi", MULTI_SOURCE);
  multi = readFileSync(multiPath);
});

describe("BPF object ELF reader", () => {
  it("reads the same section names as llvm-readelf", () => {
    const out = execFileSync("llvm-readelf", ["-S", "--wide", multiPath], { encoding: "utf8" });
    const names = [...out.matchAll(/^\s*\[\s*(\d+)\]\s(\S*)/gm)].map((m) => m[2]);
    const mine = parseBpfObject(multi).sections.map((s) => s.name);
    expect(mine.length).toBeGreaterThan(10);
    // llvm-readelf prints no name for the null section 0; and truncates nothing with --wide
    expect(names.length).toBe(mine.length);
    expect(mine.slice(1)).toEqual(names.slice(1));
  });

  it("finds the programs, maps and license that llvm-readelf's symbol table and libbpf see", async () => {
    const info = parseBpfObject(multi);
    const symbols = execFileSync("llvm-readelf", ["-s", "--wide", multiPath], { encoding: "utf8" });
    const funcs = [...symbols.matchAll(/\sFUNC\s+GLOBAL\s+\S+\s+\d+\s+(\S+)$/gm)].map((m) => m[1]).sort();
    expect(info.programs.flatMap((p) => p.names).sort()).toEqual(funcs);
    expect(info.maps).toEqual(["counts", "events"]);
    expect(info.license).toBe("Dual BSD/GPL");
    expect(info.byteOrder).toBe("little");

    // libbpf, opening (not loading) the same bytes, is the authority on program sections and types.
    const { BpfObject } = await import("../capture/bpf/native.ts");
    const obj = new BpfObject(Buffer.from(multi), "multi");
    try {
      const libbpf = obj.programs().map((p) => `${p.name} ${p.section} ${p.type}`).sort();
      const mine = info.programs.flatMap((p) => p.names.map((n) => `${n} ${p.section} ${p.progType}`)).sort();
      expect(mine).toEqual(libbpf);
      expect(obj.maps().map((m) => m.name).filter((n) => !n.includes(".")).sort()).toEqual(info.maps);
    } finally {
      obj.close();
    }
  });

  it("classifies program sections into kinds and attach points", () => {
    const info = parseBpfObject(multi);
    expect(programKinds(info)).toEqual(["cgroup_skb", "tc", "tracepoint", "uprobe", "uretprobe", "usdt", "xdp"]);
    const bySection = Object.fromEntries(info.programs.map((p) => [p.section, p]));
    expect(bySection["tracepoint/syscalls/sys_enter_execve"]).toMatchObject({ kind: "tracepoint", attach: "syscalls/sys_enter_execve", names: ["on_execve"] });
    expect(bySection["tc"]).toMatchObject({ kind: "tc", progType: "sched_cls", attach: null, names: ["wire_tc", "wire_tc2"] });
    expect(bySection["cgroup_skb/egress"]).toMatchObject({ kind: "cgroup_skb", attach: "egress" });
    expect(bySection["uprobe//usr/lib/x86_64-linux-gnu/libssl.so.3:SSL_do_handshake"]).toMatchObject({
      kind: "uprobe",
      attach: "/usr/lib/x86_64-linux-gnu/libssl.so.3:SSL_do_handshake",
    });
    expect(classifySection("tp/sched/sched_process_exec")).toMatchObject({ kind: "tracepoint", attach: "sched/sched_process_exec" });
    expect(classifySection("tc/ingress")).toMatchObject({ kind: "tcx", progType: "sched_cls", attach: "ingress" });
    expect(classifySection("cgroup/connect4")).toMatchObject({ kind: "cgroup_sock_addr", attach: "connect4" });
    expect(classifySection("usdt.s/libssl:crypto_auditing:new_context")).toMatchObject({ kind: "usdt", progType: "kprobe" });
    expect(classifySection("uprobes")).toMatchObject({ kind: "unknown" }); // a prefix must end at "/" or the name's end
    expect(classifySection("mystery/thing")).toMatchObject({ kind: "unknown", progType: "unknown" });
  });

  it("reads big-endian BPF objects (bpfeb) the same way", () => {
    const be = readFileSync(compileBpf(dir, "getpid_be", GETPID_SOURCE, { bigEndian: true }));
    const le = readFileSync(compileBpf(dir, "getpid_le", GETPID_SOURCE));
    const a = parseBpfObject(be);
    const b = parseBpfObject(le);
    expect(a.byteOrder).toBe("big");
    expect(a.programs).toEqual(b.programs);
    expect(a.license).toBe("GPL");
  });

  it("refuses files that are not BPF objects with a clear message", () => {
    const host = readFileSync("/bin/true");
    expect(() => parseBpfObject(host)).toThrow(/not a BPF object: ELF machine is 62, not EM_BPF/);
    expect(() => parseBpfObject(new TextEncoder().encode("#!/bin/sh\necho not elf\n".padEnd(80)))).toThrow(/no ELF magic/);
    expect(() => parseBpfObject(multi.subarray(0, 40))).toThrow(/too short/);
    expect(() => parseBpfObject(multi.subarray(0, 2000))).toThrow(BpfObjectError);
    const shifted = Buffer.from(multi);
    shifted.writeBigUInt64LE(BigInt(multi.length + 64), 40); // section headers past the end
    expect(() => parseBpfObject(shifted)).toThrow(/outside the file/);
  });

  it("damaged objects give a BpfObjectError or a result, never another exception (fuzz)", () => {
    const runs = Number(process.env.FUZZ_RUNS ?? 300);
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: multi.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat({ max: multi.length }), { nil: undefined }),
        (edits, cut) => {
          const bytes = Buffer.from(multi.subarray(0, cut ?? multi.length));
          for (const e of edits) if (e.at < bytes.length) bytes[e.at] = e.value;
          try {
            parseBpfObject(bytes);
          } catch (err) {
            if (!(err instanceof BpfObjectError)) throw err;
          }
        },
      ),
      { numRuns: runs },
    );
    // Header-focused corruption: the first 64 bytes and the section header table.
    const shoff = Number(Buffer.from(multi).readBigUInt64LE(40));
    fc.assert(
      fc.property(fc.nat({ max: 63 }), fc.nat({ max: 31 * 64 - 1 }), fc.integer({ min: 0, max: 255 }), (h, s, v) => {
        for (const at of [h, shoff + s]) {
          const bytes = Buffer.from(multi);
          bytes[at] = v;
          try {
            parseBpfObject(bytes);
          } catch (err) {
            if (!(err instanceof BpfObjectError)) throw err;
          }
        }
      }),
      { numRuns: runs },
    );
  });
});

