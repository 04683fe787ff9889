// The ELF container reader shared by the BPF-object check and the library probes, against binutils'
// readelf on real Debian files, and on damaged copies of them (only ElfError, never another exception).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Elf64, ElfError, SHT_DYNSYM, SHT_SYMTAB, withElfFile } from "../capture/elf/elf64.ts";

const FILES = ["/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/bin/openssl", "/usr/lib/x86_64-linux-gnu/libgnutls.so.30"];
const readelf = (...args: string[]) => execFileSync("readelf", ["-W", ...args], { encoding: "utf8", maxBuffer: 64 << 20 });

describe.each(FILES)("%s", (file) => {
  it("sections and segments equal readelf's", () => {
    const want = [...readelf("-S", file).matchAll(/^\s*\[\s*(\d+)\]\s+(\S*)\s+[A-Z_0-9]+\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s/gm)].map((m) => ({
      index: Number(m[1]), name: m[2], addr: BigInt("0x" + m[3]), offset: parseInt(m[4], 16), size: parseInt(m[5], 16),
    }));
    const wantSegs = [...readelf("-l", file).matchAll(/^\s+LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/gm)].map((m) => ({
      offset: parseInt(m[1], 16), vaddr: BigInt("0x" + m[2]), filesz: parseInt(m[3], 16), memsz: parseInt(m[4], 16),
    }));
    withElfFile(file, (elf) => {
      expect(elf.little).toBe(true);
      expect(elf.machine).toBe(62);
      // readelf shows the null section's name as empty and cuts nothing with -W
      expect(elf.sections.map(({ index, name, addr, offset, size }) => ({ index, name, addr, offset, size }))).toEqual(want);
      expect(elf.segments.filter((s) => s.type === 1).map(({ offset, vaddr, filesz, memsz }) => ({ offset, vaddr, filesz, memsz }))).toEqual(wantSegs);
    });
  });

  it("defined symbols of .dynsym (and .symtab) equal readelf's", () => {
    const defined = (table: string) => {
      const out = readelf(table === ".dynsym" ? "--dyn-syms" : "--syms", file);
      const part = out.split(/^Symbol table '/m).find((p) => p.startsWith(table + "'")) ?? "";
      return new Set([...part.matchAll(/^\s*\d+:\s+([0-9a-f]{16})\s+\d+\s+\S+\s+\S+\s+\S+\s+(\d+)\s+(\S+)/gm)].map((m) => `${m[3].replace(/@.*/, "")}@${BigInt("0x" + m[1])}`));
    };
    withElfFile(file, (elf) => {
      for (const s of elf.sections.filter((s) => s.type === SHT_DYNSYM || s.type === SHT_SYMTAB)) {
        const mine = new Set([...elf.symbolTable(s)].filter((y) => y.shndx !== 0 && y.shndx < 0xff00).map((y) => `${y.name}@${y.value}`));
        expect(mine.size).toBeGreaterThan(0);
        expect(mine).toEqual(defined(s.name));
      }
    });
  });
});

describe("damaged files", () => {
  const bytes = readFileSync("/usr/lib/x86_64-linux-gnu/libssl.so.3");

  it("a missing file, a text file and a cut header are one-line ElfErrors naming the label", () => {
    expect(() => Elf64.open("/nonexistent/libx.so")).toThrow(/cannot open \/nonexistent\/libx\.so/);
    expect(() => Elf64.fromBytes(new TextEncoder().encode("#!/bin/sh\n".padEnd(100)), "lib.so")).toThrow(/^lib\.so: no ELF magic/);
    expect(() => Elf64.fromBytes(bytes.subarray(0, 40), "lib.so")).toThrow(/lib\.so: 40 bytes is too short/);
    // The section header table is at the end: a file cut short loses it, and says so.
    expect(() => Elf64.fromBytes(bytes.subarray(0, bytes.length - 100), "lib.so")).toThrow(/section header table lies outside the file/);
  });

  it("flipped bytes anywhere in the headers give an ElfError or a reader that still only throws ElfError (fuzz)", () => {
    const shoff = Number(bytes.readBigUInt64LE(40));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.integer({ min: 0, max: 63 }), fc.integer({ min: shoff, max: bytes.length - 1 })), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (flips) => {
        const b = Buffer.from(bytes);
        for (const [at, v] of flips) b[at] = v;
        try {
          const elf = Elf64.fromBytes(b, "fuzz");
          for (const s of elf.sections) if (s.type === SHT_DYNSYM || s.type === SHT_SYMTAB) for (const _ of elf.symbolTable(s));
        } catch (err) {
          if (!(err instanceof ElfError)) throw err;
        }
      }),
      { numRuns: 300 },
    );
  });
});
