// With the lead's attested loader (capture/bpf/loader.ts: openVerifiedObject, libbpf in the native addon) and
// the real kernel: a refused object never becomes a kernel program (bpftool prog shows none) and is logged,
// while the same tampered bytes, loaded without the check, would be accepted by the kernel.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadPolicy } from "../capture/attest/index.ts";
import { parseBpfObject } from "../capture/attest/bpf-object.ts";
import { generateKey } from "../capture/attest/keys.ts";
import { policyFromJson } from "../capture/attest/policy.ts";
import { signaturePathFor, signObjectFile } from "../capture/attest/signature.ts";
import { BpfLoadRefused, openVerifiedObject } from "../capture/bpf/loader.ts";
import { BPF_OUTPUT_DIR, BpfObject } from "../capture/bpf/native.ts";
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

const logged: Record<string, unknown>[] = [];
const log = { append: (_table: "agent_log", row: Record<string, unknown>) => void logged.push(row) };
const load = (path: string) => openVerifiedObject("cs_att", { path, policy, log, host: "attest-kernel" });

/** A copy of the object (and optionally its signature) in a fresh directory. */
function copy(bytes: Buffer, withSignature: boolean): string {
  const p = join(tempDir(), "cs_att.bpf.o");
  writeFileSync(p, bytes);
  if (withSignature) writeFileSync(signaturePathFor(p), readFileSync(signaturePathFor(objPath)));
  return p;
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

describe("attestation in front of the kernel (openVerifiedObject)", () => {
  it("the signed object is loaded and becomes a kernel program", () => {
    const obj = load(objPath).load();
    opened.push(obj);
    expect(kernelProgramsNamed(PROG)).toHaveLength(1);
    expect(logged.at(-1)).toMatchObject({ event: "bpf_load", decision: "allow", object_name: "cs_att", host: "attest-kernel" });
    obj.close();
    opened.pop();
    expect(kernelProgramsNamed(PROG)).toEqual([]);
  });

  it("a tampered object is refused before libbpf sees it, though the kernel would have accepted it", () => {
    const bytes = readFileSync(objPath);
    const sec = parseBpfObject(bytes).sections.find((s) => s.name.startsWith("tracepoint/"))!;
    bytes[sec.offset + 4] = 0x2a; // r0 = 0 → r0 = 42: still a valid program
    const tampered = copy(bytes, true);
    expect(() => load(tampered)).toThrow(BpfLoadRefused);
    expect(() => load(tampered)).toThrow(/^refused to load BPF object cs_att: object SHA3-256 .* differs from the signed/);
    expect(kernelProgramsNamed(PROG)).toEqual([]);
    expect(logged.at(-1)).toMatchObject({ decision: "deny", level: "error", object_sha3: createHash("sha3-256").update(bytes).digest("hex") });

    // The control: without the check the kernel takes these bytes, so the refusal above is what kept them out.
    const unchecked = new BpfObject(bytes, "cs_att").load();
    opened.push(unchecked);
    expect(kernelProgramsNamed(PROG)).toHaveLength(1);
    unchecked.close();
    opened.pop();
    expect(kernelProgramsNamed(PROG)).toEqual([]);
  });

  it("an unsigned object is refused, logged and never loaded", () => {
    const unsigned = copy(readFileSync(objPath), false);
    expect(() => load(unsigned)).toThrow(/no signature \(no .*cs_att\.bpf\.o\.sig\.json\)/);
    expect(logged.at(-1)).toMatchObject({ decision: "deny", signer: null });
    expect(kernelProgramsNamed(PROG)).toEqual([]);
  });

  it("the default set-up's objects (bpf/.output, signed by setup-keys) pass the shipped default policy", () => {
    // The set-up step, as scripts/setup.sh runs it after `make -C bpf` (idempotent: re-signs only rebuilt objects).
    execFileSync(process.execPath, ["--import", "tsx", "capture/attest/setup-keys.ts", "--quiet"], { cwd: REPO, stdio: "pipe" });
    const built = readdirSync(BPF_OUTPUT_DIR).filter((f) => f.endsWith(".bpf.o"));
    expect(built.length).toBeGreaterThan(0);
    for (const f of built) {
      const name = f.replace(/\.bpf\.o$/, "");
      const obj = openVerifiedObject(name, { log, host: "attest-kernel" }); // no policy: bpf/policy.json + .keys/trusted.json
      obj.close();
      expect(logged.at(-1), f).toMatchObject({ decision: "allow", object_name: name });
    }
  });
});
