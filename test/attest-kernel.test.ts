// With the real loader (capture/bpf, libbpf in the native addon) and the real kernel: an object is read once,
// its bytes are authorized, and only an allowed buffer is handed to libbpf. A refused object never becomes a
// kernel program (bpftool prog shows none), while the same tampered bytes, loaded without the check, would.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertLoadAllowed, authorizeBpfObject, BpfLoadRefusedError, type LoadPolicy } from "../capture/attest/index.ts";
import { parseBpfObject } from "../capture/attest/elf.ts";
import { generateKey } from "../capture/attest/keys.ts";
import { policyFromJson } from "../capture/attest/policy.ts";
import { signObjectFile } from "../capture/attest/signature.ts";
import { BpfObject } from "../capture/bpf/native.ts";
import { compileBpf, REPO, tempDir } from "./attest-fixtures.ts";

const BPFTOOL = [join(REPO, "build/bpftool/usr/sbin/bpftool"), "/usr/sbin/bpftool"].find(existsSync) ?? "bpftool";
const PROG = "cs_att_probe"; // kernel program names keep 15 characters
const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_getpid")
int ${PROG}(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

function kernelProgramsNamed(name: string): number[] {
  const progs = JSON.parse(execFileSync(BPFTOOL, ["prog", "show", "--json"], { encoding: "utf8" })) as { id: number; name?: string }[];
  return progs.filter((p) => p.name === name).map((p) => p.id);
}

/** The loader's path as the lead wires it: authorize the buffer, log, refuse or load that same buffer. */
function attestedLoad(path: string, policy: LoadPolicy, bytes: Buffer = readFileSync(path)): BpfObject {
  const decision = authorizeBpfObject({ objectPath: path, bytes, name: "cs_att", policy });
  assertLoadAllowed(decision);
  return new BpfObject(bytes, "cs_att").load();
}

let dir: string;
let objPath: string;
let policy: LoadPolicy;
const opened: BpfObject[] = [];

beforeAll(() => {
  dir = tempDir();
  const key = generateKey();
  objPath = compileBpf(dir, "cs_att", SOURCE);
  signObjectFile(objPath, key, { author: "test" });
  policy = policyFromJson({ version: 1, rules: [{ id: "k", action: "allow", signers: [key.fingerprint], match: { programTypes: ["tracepoint"] } }] }, "test");
  expect(kernelProgramsNamed(PROG)).toEqual([]);
});
afterAll(() => opened.forEach((o) => o.close()));

describe("attestation in front of the kernel", () => {
  it("the signed object is loaded and becomes a kernel program", () => {
    const obj = attestedLoad(objPath, policy);
    opened.push(obj);
    expect(kernelProgramsNamed(PROG)).toHaveLength(1);
    obj.close();
    opened.pop();
    expect(kernelProgramsNamed(PROG)).toEqual([]);
  });

  it("a tampered object is refused before libbpf sees it, though the kernel would have accepted it", () => {
    const bytes = readFileSync(objPath);
    const sec = parseBpfObject(bytes).sections.find((s) => s.name.startsWith("tracepoint/"))!;
    bytes[sec.offset + 4] = 0x2a; // r0 = 0 → r0 = 42: still a valid program
    expect(() => attestedLoad(objPath, policy, bytes)).toThrow(BpfLoadRefusedError);
    expect(() => attestedLoad(objPath, policy, bytes)).toThrow(/^BPF object cs_att refused: object SHA3-256 .* differs from the signed/);
    expect(kernelProgramsNamed(PROG)).toEqual([]);

    // The control: without the check the kernel takes these bytes, so the refusal above is what kept them out.
    const unchecked = new BpfObject(bytes, "cs_att").load();
    opened.push(unchecked);
    expect(kernelProgramsNamed(PROG)).toHaveLength(1);
    unchecked.close();
    opened.pop();
    expect(kernelProgramsNamed(PROG)).toEqual([]);
  });

  it("an unsigned object is refused and never loaded", () => {
    expect(() => attestedLoad(objPath, policy).close()).not.toThrow(); // signed: fine
    const unsigned = join(tempDir(), "cs_att.bpf.o");
    execFileSync("cp", [objPath, unsigned]);
    expect(() => attestedLoad(unsigned, policy)).toThrow(/no signature \(no .*cs_att\.bpf\.o\.sig\.json\)/);
    expect(kernelProgramsNamed(PROG)).toEqual([]);
  });
});
