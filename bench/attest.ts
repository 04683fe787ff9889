// What attestation costs: ML-DSA-65 keygen, and sign / verify per BPF object for real clang-built objects of
// 10 KB–1 MB (plus the project's own bpf/.output objects when built). Baselines measured in the same run:
// Ed25519 (node:crypto, OpenSSL) signing the same manifest, and libbpf open+load of the object into the kernel
// (the step attestation sits in front of), when the native addon and root are available.
// Run: node --import tsx bench/attest.ts
import { generateKeyPairSync, sign as edSign, verify as edVerify } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { authorizeBpfObject } from "../capture/attest/index.ts";
import { parseBpfObject } from "../capture/attest/bpf-object.ts";
import { generateKey } from "../capture/attest/keys.ts";
import { buildManifest, canonicalBytes, sha3Hex } from "../capture/attest/manifest.ts";
import { policyFromJson } from "../capture/attest/policy.ts";
import { signManifest, SIGNATURE_CONTEXT } from "../capture/attest/signature.ts";
import { compileBpf, paddedSource, REPO, tempDir } from "../test/attest-fixtures.ts";

function median(fn: () => void, runs: number): number {
  fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
}
const ms = (x: number) => (x < 0.1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1));

let loadInKernel: ((bytes: Buffer) => void) | null = null;
try {
  const { BpfObject } = await import("../capture/bpf/native.ts");
  const probe = compileBpf(tempDir(), "probe", paddedSource(16));
  new BpfObject(readFileSync(probe), "probe").load().close();
  loadInKernel = (bytes) => new BpfObject(bytes, "bench").load().close();
} catch (err) {
  console.log(`(no kernel-load baseline: ${(err as Error).message.split("\n")[0]})`);
}

const keygenMs = median(() => generateKey(), 20);
const ed = generateKeyPairSync("ed25519");
const edKeygenMs = median(() => generateKeyPairSync("ed25519"), 20);
console.log(`ML-DSA-65 keygen: ${ms(keygenMs)} ms (median of 20)   Ed25519 keygen (OpenSSL): ${ms(edKeygenMs)} ms   ratio ${(keygenMs / edKeygenMs).toFixed(0)}x\n`);

const key = generateKey();
const policy = policyFromJson({ version: 1, rules: [{ id: "bench", action: "allow", signers: [key.fingerprint] }] }, "bench");
const dir = tempDir("cs-attest-bench-");
const objects: { label: string; path: string }[] = [10_000, 100_000, 1_000_000].map((n) => ({
  label: `padded ${n / 1000} KB`,
  path: compileBpf(dir, `pad${n}`, paddedSource(n)),
}));
const built = join(REPO, "bpf/.output");
if (existsSync(built)) for (const f of readdirSync(built).filter((f) => f.endsWith(".bpf.o")).sort()) objects.push({ label: f, path: join(built, f) });

const header = ["object", "size", "sha3", "ELF", "sign", "verify", "ML-DSA verify", "Ed25519 sign", "Ed25519 verify", "kernel load", "verify/load"];
const rows: string[][] = [];
for (const { label, path } of objects) {
  const bytes = readFileSync(path);
  const runs = bytes.length > 500_000 ? 20 : 50;
  const builtAt = statSync(path).mtime;
  const name = label.replace(/\.bpf\.o$/, "");
  const envelope = signManifest(buildManifest(bytes, { name, author: "bench", builtAt }), key);
  const msg = canonicalBytes(envelope.manifest);
  const sig = Buffer.from(envelope.signature, "base64");
  const check = authorizeBpfObject({ bytes, name, policy, signature: envelope });
  if (!check.allow) throw new Error(`bench object ${label} refused: ${check.reason}`);

  const sha3 = median(() => sha3Hex(bytes), runs);
  const elf = median(() => parseBpfObject(bytes), runs);
  const signMs = median(() => signManifest(buildManifest(bytes, { name, author: "bench", builtAt }), key), runs);
  const verifyMs = median(() => authorizeBpfObject({ bytes, name, policy, signature: envelope }), runs);
  const dsaVerify = median(() => ml_dsa65.verify(sig, msg, key.publicKey, { context: SIGNATURE_CONTEXT }), runs);
  const edSig = edSign(null, msg, ed.privateKey);
  const edSignMs = median(() => edSign(null, msg, ed.privateKey), runs);
  const edVerifyMs = median(() => edVerify(null, msg, ed.publicKey, edSig), runs);
  let load = "n/a";
  let ratio = "n/a";
  if (loadInKernel) {
    try {
      const l = median(() => loadInKernel!(bytes), Math.min(runs, 10));
      load = ms(l);
      ratio = `${((verifyMs / l) * 100).toFixed(0)}%`;
    } catch (err) {
      load = "fails"; // e.g. an object that needs .rodata set first
      console.log(`(${label}: kernel load baseline failed: ${(err as Error).message.split("\n")[0]})`);
    }
  }
  rows.push([label, `${(bytes.length / 1024).toFixed(1)} KiB`, ms(sha3), ms(elf), ms(signMs), ms(verifyMs), ms(dsaVerify), ms(edSignMs), ms(edVerifyMs), load, ratio]);
}

const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} (medians on a busy 2-core machine drift up; compare columns of one run)`);
console.log("times in ms, median; sign = manifest (SHA3-256 + ELF) + ML-DSA-65 sign; verify = authorizeBpfObject (SHA3 + ELF + ML-DSA-65 verify + manifest check)");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
