// The load check on real BPF objects built by clang, signed with real ML-DSA-65 keys, under the shipped default
// policy (bpf/policy.json, its trust file pointed at a temporary one): the valid object is allowed; every
// tampering is refused with a reason that names it; every decision becomes an agent_log row that the lake
// writer accepts and DuckDB reads back.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { DuckDBInstance } from "@duckdb/node-api";
import { beforeAll, describe, expect, it } from "vitest";
import { agentLogRow, authorizeBpfObject, type LoadDecision, type LoadPolicy, type SignatureEnvelope } from "../capture/attest/index.ts";
import { parseBpfObject } from "../capture/attest/bpf-object.ts";
import { generateKey, shortFingerprint, type SigningKey } from "../capture/attest/keys.ts";
import { canonicalBytes } from "../capture/attest/manifest.ts";
import { policyFromJson } from "../capture/attest/policy.ts";
import { signManifest, signObjectFile, signaturePathFor } from "../capture/attest/signature.ts";
import { openLake } from "../capture/lake/writer.ts";
import { TABLES } from "../capture/lake/schema.ts";
import { compileBpf, GETPID_SOURCE, MULTI_SOURCE, paddedSource, REPO, tempDir } from "./attest-fixtures.ts";

let dir: string;
let owner: SigningKey; // the key the default policy trusts (via the trust file)
let stranger: SigningKey; // a valid ML-DSA-65 key nobody trusts
let policy: LoadPolicy;
let objPath: string;
let objBytes: Buffer;
const decisions: { label: string; d: LoadDecision }[] = [];

const sha3 = (b: Uint8Array) => createHash("sha3-256").update(b).digest("hex"); // OpenSSL's, not the one under test
const readEnvelope = (p: string) => JSON.parse(readFileSync(signaturePathFor(p), "utf8")) as SignatureEnvelope;

function decide(label: string, path: string, opts: { bytes?: Uint8Array; name?: string; signature?: SignatureEnvelope | null } = {}): LoadDecision {
  const bytes = opts.bytes ?? readFileSync(path);
  const d = authorizeBpfObject({ objectPath: path, bytes, name: opts.name ?? "cs_probe", policy, signature: opts.signature });
  decisions.push({ label, d });
  return d;
}

/** A copy of an object (and a signature) as NAME.bpf.o in a fresh directory. */
function copyObject(name: string, bytes: Uint8Array, envelope?: SignatureEnvelope): string {
  const p = join(tempDir(), `${name}.bpf.o`);
  writeFileSync(p, bytes);
  if (envelope) writeFileSync(signaturePathFor(p), JSON.stringify(envelope));
  return p;
}

beforeAll(() => {
  dir = tempDir();
  owner = generateKey();
  stranger = generateKey();
  const trustFile = join(dir, "trusted.json");
  writeFileSync(trustFile, JSON.stringify({ version: 1, signers: [{ fingerprint: owner.fingerprint, name: "test owner" }] }));
  // The shipped default policy, with its trust file (normally .keys/trusted.json) pointed at ours.
  const shipped = JSON.parse(readFileSync(join(REPO, "bpf/policy.json"), "utf8"));
  shipped.rules.forEach((r: { signers?: unknown[] }) => (r.signers = r.signers?.map((s) => (typeof s === "object" ? { trustFile } : s))));
  policy = policyFromJson(shipped, "bpf/policy.json (test trust file)");

  objPath = compileBpf(dir, "cs_probe", GETPID_SOURCE);
  signObjectFile(objPath, owner, { author: "test" });
  objBytes = readFileSync(objPath);
});

describe("authorizeBpfObject under the default policy", () => {
  it("allows the object its owner signed", () => {
    const d = decide("valid", objPath);
    expect(d).toMatchObject({ allow: true, objectName: "cs_probe", signer: owner.fingerprint, programTypes: ["tracepoint"], size: objBytes.length });
    expect(d.sha3).toBe(sha3(objBytes));
    expect(d.reason).toMatch(new RegExp(`^signed by trusted ${shortFingerprint(owner.fingerprint)} \\(ML-DSA-65, rule "cryptoscope-probes"\\)`));
  });

  it("refuses the object with one byte flipped in its program", () => {
    const info = parseBpfObject(objBytes);
    const prog = info.sections.find((s) => s.name === "tracepoint/syscalls/sys_enter_getpid")!;
    const bytes = Buffer.from(objBytes);
    bytes[prog.offset + 4] ^= 0x01; // the immediate of the first instruction: still a well-formed ELF
    const d = decide("flipped byte", copyObject("cs_probe", bytes, readEnvelope(objPath)));
    expect(d.allow).toBe(false);
    expect(d.reason).toMatch(/^object SHA3-256 [0-9a-f]{16} differs from the signed [0-9a-f]{16} \(object changed after signing\)$/);
    expect(d.sha3).toBe(sha3(bytes));
    expect(d.signer).toBe(owner.fingerprint);
  });

  it("refuses an object signed by a key the policy does not trust", () => {
    const p = copyObject("cs_probe", objBytes);
    signObjectFile(p, stranger, { author: "mallory" });
    const d = decide("wrong signer", p);
    expect(d.allow).toBe(false);
    expect(d.reason).toBe(`signer ${shortFingerprint(stranger.fingerprint)} is not trusted by rule "cryptoscope-probes"`);
    expect(d.signer).toBe(stranger.fingerprint);
  });

  it("refuses an object without a signature", () => {
    const sub = tempDir();
    const p = join(sub, "cs_probe.bpf.o");
    writeFileSync(p, objBytes);
    const d = decide("missing signature", p);
    expect(d).toMatchObject({ allow: false, signer: null });
    expect(d.reason).toBe(`no signature (no ${p}.sig.json), and rule "cryptoscope-probes" requires one`);
    // signature: null means "unsigned" even when a valid .sig.json lies beside the object
    expect(authorizeBpfObject({ objectPath: objPath, bytes: objBytes, name: "cs_probe", policy, signature: null }).reason).toBe(
      'no signature, and rule "cryptoscope-probes" requires one',
    );
  });

  it("refuses a manifest whose program types were changed after signing", () => {
    const env = readEnvelope(objPath);
    env.manifest.programTypes = ["tracepoint", "xdp"];
    const d = decide("tampered manifest", objPath, { signature: env });
    expect(d.allow).toBe(false);
    expect(d.reason).toBe("the ML-DSA-65 signature does not verify over the manifest (manifest or signature altered)");
    // ...and any other field: the whole manifest is signed
    const env2 = readEnvelope(objPath);
    env2.manifest.author = "someone else";
    expect(authorizeBpfObject({ bytes: objBytes, name: "cs_probe", policy, signature: env2 }).reason).toMatch(/does not verify/);
  });

  it("refuses an object over the policy's size limit, before looking at its signature", () => {
    const big = compileBpf(dir, "cs_big", paddedSource(4 * 1024 * 1024 + 4096));
    signObjectFile(big, owner, { author: "test" });
    const d = decide("oversize", big, { name: "cs_big" });
    expect(d.size).toBeGreaterThan(4 * 1024 * 1024);
    expect(d.allow).toBe(false);
    expect(d.reason).toBe(`object is ${d.size} bytes, over the 4194304-byte limit of rule "cryptoscope-probes"`);
  });

  it("refuses the other ways a signature can lie", () => {
    // A stranger's envelope relabelled with the owner's fingerprint.
    const relabelled = { ...readEnvelope(objPath) };
    const strangerEnv = (() => {
      const p = copyObject("tmp_stranger", objBytes);
      signObjectFile(p, stranger, { author: "mallory", name: "cs_probe" });
      return readEnvelope(p);
    })();
    Object.assign(relabelled, strangerEnv, { fingerprint: owner.fingerprint });
    expect(decide("relabelled fingerprint", objPath, { signature: relabelled }).reason).toMatch(/^the envelope's fingerprint [0-9a-f]{16} is not that of its public key/);

    // A stranger's signature under the owner's public key: trusted key, signature does not verify.
    const swapped = { ...strangerEnv, publicKey: Buffer.from(owner.publicKey).toString("base64"), fingerprint: owner.fingerprint };
    expect(decide("swapped public key", objPath, { signature: swapped }).reason).toMatch(/signature does not verify/);

    // The owner's valid signature of another object.
    const otherPath = compileBpf(dir, "cs_other", GETPID_SOURCE.replace("return 0", "return 1"));
    signObjectFile(otherPath, owner, { author: "test", name: "cs_probe" });
    expect(decide("signature of another object", objPath, { signature: readEnvelope(otherPath) }).reason).toMatch(/differs from the signed/);

    // The right object loaded under another name than it was signed as.
    expect(decide("renamed", objPath, { name: "cs_renamed" }).reason).toBe('object is loaded as "cs_renamed" but was signed as "cs_probe"');

    // An owner's signature made without the BPF-manifest context string (e.g. for another purpose).
    const env = readEnvelope(objPath);
    const noContext = { ...env, signature: Buffer.from(ml_dsa65.sign(canonicalBytes(env.manifest), owner.secretKey)).toString("base64") };
    expect(decide("no signature context", objPath, { signature: noContext }).reason).toMatch(/signature does not verify/);

    // A validly signed manifest that misdescribes the object (e.g. made by a signer whose ELF reader differs).
    const lying = readEnvelope(objPath).manifest;
    lying.programs[0].attach = "syscalls/sys_enter_kill";
    expect(decide("manifest misdescribes object", objPath, { signature: signManifest(lying, owner) }).reason).toMatch(
      /^the object's programs \[.*sys_enter_getpid.*\] differ from the signed manifest's \[.*sys_enter_kill.*\]$/,
    );

    // A malformed .sig.json.
    const broken = copyObject("cs_probe_broken", objBytes);
    writeFileSync(signaturePathFor(broken), "{ not json");
    expect(decide("malformed signature file", broken, { name: "cs_probe_broken" }).reason).toMatch(/^signature .*cs_probe_broken\.bpf\.o\.sig\.json is not valid JSON/);
  });

  it("refuses what no rule allows: other program types, non-BPF files", () => {
    const xdp = compileBpf(dir, "cs_multi", MULTI_SOURCE);
    signObjectFile(xdp, owner, { author: "test" });
    const d = decide("program type not allowed", xdp, { name: "cs_multi" });
    expect(d.allow).toBe(false);
    expect(d.programTypes).toContain("xdp");
    expect(d.reason).toMatch(/^no rule of policy .* matches "cs_multi" with program types cgroup_skb, tc, tracepoint, uprobe, uretprobe, usdt, xdp \(default deny\)$/);

    const elf = readFileSync("/bin/true");
    expect(decide("not BPF", "/bin/true", { bytes: elf, name: "true", signature: null }).reason).toMatch(/^not a BPF object: ELF machine is 62/);
  });

  it("turns every decision into an agent_log row the lake writer stores and DuckDB reads back", async () => {
    expect(decisions.length).toBeGreaterThanOrEqual(15);
    const columns = new Set(TABLES.agent_log.map((c) => c.name));
    const ts = new Date("2026-12-01T12:00:00Z");
    const rows = decisions.map(({ d }) => agentLogRow(d, { ts, host: "attest-test" }));
    for (const [i, row] of rows.entries()) {
      for (const key of Object.keys(row)) expect(columns, `column ${key}`).toContain(key);
      const d = decisions[i].d;
      expect(row).toMatchObject({ event: "bpf_load", object_name: d.objectName, object_sha3: d.sha3, signer: d.signer, reason: d.reason });
      expect(row.decision).toBe(d.allow ? "allow" : "deny");
      expect(row.level).toBe(d.allow ? "info" : "error");
    }

    const root = join(tempDir(), "lake");
    const lake = await openLake({ root, host: "attest-test", flushIntervalMs: 3_600_000 });
    for (const row of rows) lake.append("agent_log", row);
    await lake.close();
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    const reader = await conn.runAndReadAll(
      `SELECT object_name, object_sha3, signer, decision, reason, level, event, count FROM read_parquet('${root}/agent_log/**/*.parquet') ORDER BY reason`,
    );
    const back = reader.getRowObjectsJS();
    conn.closeSync();
    expect(back.length).toBe(rows.length);
    const want = rows.map((r) => ({ ...r })).sort((a, b) => String(a.reason).localeCompare(String(b.reason)));
    const norm = (r: Record<string, unknown>) => [r.object_name, r.object_sha3, r.signer, r.decision, r.reason, r.level, r.event, Number(r.count)].join("|");
    expect(back.map(norm).sort()).toEqual(want.map(norm).sort());
    expect(back.filter((r) => r.decision === "allow").length).toBe(decisions.filter(({ d }) => d.allow).length);
    // What an analyst sees: one line per decision.
    console.log(decisions.map(({ label, d }) => `${label.padEnd(28)} ${d.allow ? "allow" : "deny "}  ${d.reason}`).join("\n"));
  });
});
