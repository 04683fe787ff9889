// The load policy file: schema validation with one-line errors, trust files, first match wins, default deny,
// the shipped bpf/policy.json, and CRYPTOSCOPE_BPF_POLICY.
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { authorizeBpfObject, defaultPolicyPath, loadPolicy, PolicyError } from "../capture/attest/index.ts";
import { generateKey, type SigningKey } from "../capture/attest/keys.ts";
import { matchRule, policyFromJson } from "../capture/attest/policy.ts";
import { signObjectFile } from "../capture/attest/signature.ts";
import { compileBpf, GETPID_SOURCE, REPO, tempDir } from "./attest-fixtures.ts";

const dir = tempDir();
const trustFile = join(dir, "trusted.json");
let key: SigningKey;

function writePolicy(doc: unknown, name = "policy.json"): string {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === "string" ? doc : JSON.stringify(doc));
  return p;
}

const allowRule = (extra: Record<string, unknown> = {}) => ({ id: "r", action: "allow", signers: [{ trustFile }], ...extra });

beforeAll(() => {
  key = generateKey();
  writeFileSync(trustFile, JSON.stringify({ version: 1, signers: [{ fingerprint: key.fingerprint, name: "k" }] }));
});

describe("loadPolicy", () => {
  it("reads a valid policy and resolves its trust files", () => {
    const p = loadPolicy(writePolicy({ version: 1, rules: [allowRule({ maxSize: 1000, match: { name: ["tls_*", "exec"], programTypes: ["uprobe"] } })] }));
    expect(p.source).toBe(join(dir, "policy.json"));
    expect(p.rules[0]).toMatchObject({ id: "r", action: "allow", requireSignature: true, maxSize: 1000, names: ["tls_*", "exec"], programTypes: ["uprobe"] });
    expect([...p.rules[0].signers]).toEqual([key.fingerprint]);
  });

  it.each([
    ["not JSON", "{ rules: [", /^policy .*bad\.json is not valid JSON: /],
    ["missing file", null, /^policy .*nope\.json does not exist$/],
    ["no version", { rules: [] }, /is malformed: \(top level\) must have required property 'version'$/],
    ["wrong version", { version: 2, rules: [] }, /is malformed: \/version must be equal to constant$/],
    ["unknown top-level field", { version: 1, rules: [], rulez: [] }, /is malformed: \(top level\): unknown field "rulez"$/],
    ["unknown rule field", { version: 1, rules: [allowRule({ maxsize: 3 })] }, /is malformed: \/rules\/0: unknown field "maxsize"$/],
    ["bad action", { version: 1, rules: [allowRule({ action: "permit" })] }, /is malformed: \/rules\/0\/action must be one of "allow", "deny"$/],
    ["bad max size", { version: 1, rules: [allowRule({ maxSize: 0 })] }, /is malformed: \/rules\/0\/maxSize must be >= 1$/],
    ["short fingerprint", { version: 1, rules: [allowRule({ signers: ["abcd"] })] }, /is malformed: \/rules\/0\/signers\/0 must match pattern "\^\[0-9a-f\]\{64\}\$"$/],
    ["misspelt trust file", { version: 1, rules: [allowRule({ signers: [{ trustfile: "x.json" }] })] }, /is malformed: \/rules\/0\/signers\/0 must have required property 'trustFile'$/],
    ["allow needing signers without them", { version: 1, rules: [{ id: "r", action: "allow" }] }, /is malformed: \/rules\/0 must have required property 'signers'$/],
    ["empty program types", { version: 1, rules: [allowRule({ match: { programTypes: [] } })] }, /\/rules\/0\/match\/programTypes must NOT have fewer than 1 items$/],
    ["duplicate rule ids", { version: 1, rules: [allowRule(), allowRule()] }, /rule id "r" is used twice$/],
  ])("refuses a policy with %s, in one clear line", (_label, doc, message) => {
    const path = doc === null ? join(dir, "nope.json") : writePolicy(doc, "bad.json");
    let err: unknown;
    try {
      loadPolicy(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain("\n");
  });

  it("refuses a policy whose trust file is missing or malformed, saying how to create it", () => {
    const missing = writePolicy({ version: 1, rules: [{ id: "r", action: "allow", signers: [{ trustFile: join(dir, "none.json") }] }] }, "p2.json");
    expect(() => loadPolicy(missing)).toThrow(/rule "r": trust file .*none\.json does not exist \(run `node --import tsx capture\/attest\/setup-keys\.ts`/);
    const badTrust = join(dir, "bad-trust.json");
    writeFileSync(badTrust, JSON.stringify({ version: 1, signers: [{ fingerprint: "XYZ" }] }));
    const p3 = writePolicy({ version: 1, rules: [{ id: "r", action: "allow", signers: [{ trustFile: badTrust }] }] }, "p3.json");
    expect(() => loadPolicy(p3)).toThrow(/trust file .*bad-trust\.json is malformed: \/signers\/0\/fingerprint must match pattern/);
  });

  it("resolves relative trust-file paths against the repository root", () => {
    // Relative to wherever the clone is (CI checks out at another depth than /work/main).
    const rel = relative(REPO, join(dir, "trusted.json"));
    expect(rel.startsWith("/")).toBe(false);
    const p = policyFromJson({ version: 1, rules: [{ id: "r", action: "allow", signers: [{ trustFile: rel }] }] }, "mem");
    expect([...p.rules[0].signers]).toEqual([key.fingerprint]);
    expect(() => policyFromJson({ version: 1, rules: [{ id: "r", action: "allow", signers: [{ trustFile: ".keys/absent-trust.json" }] }] }, "mem")).toThrow(
      new RegExp(`trust file ${REPO}/\\.keys/absent-trust\\.json does not exist`),
    );
  });
});

describe("rule matching", () => {
  const rules = (list: unknown[]) => policyFromJson({ version: 1, rules: list }, "mem");
  const fp = "a".repeat(64);

  it("takes the first rule that matches, and no rule means deny", () => {
    const p = rules([
      { id: "no-xdp", action: "deny", match: { anyProgramType: ["xdp", "lsm"] } },
      { id: "wire", action: "allow", signers: [fp], match: { name: "tls_*", programTypes: ["tc", "cgroup_skb"] } },
      { id: "probes", action: "allow", signers: [fp], match: { programTypes: ["uprobe", "uretprobe", "usdt"] } },
      { id: "exec", action: "allow", signers: [fp], match: { name: ["exec", "proc?"], programTypes: ["tracepoint"] } },
    ]);
    expect(matchRule(p, "tls_wire", ["tc"])?.id).toBe("wire");
    expect(matchRule(p, "tls_wire", ["tc", "xdp"])?.id).toBe("no-xdp"); // first match wins
    expect(matchRule(p, "tls_wire", ["tc", "uprobe"])).toBeNull(); // not every kind is in "wire"'s list
    expect(matchRule(p, "libssl", ["uprobe", "uretprobe"])?.id).toBe("probes");
    expect(matchRule(p, "proc1", ["tracepoint"])?.id).toBe("exec");
    expect(matchRule(p, "proc12", ["tracepoint"])).toBeNull(); // ? is one character
    expect(matchRule(p, "exec", [])).toBeNull(); // programTypes needs at least one program
    expect(matchRule(p, "tls.wire", ["tc"])).toBeNull(); // "." is literal, "_" is not a wildcard
  });

  it("a deny rule and a rule waiving signatures decide real objects accordingly", () => {
    const obj = compileBpf(dir, "probe", GETPID_SOURCE);
    const bytes = readFileSync(obj);
    const deny = rules([{ id: "freeze", action: "deny", match: { name: "probe" } }, { id: "all", action: "allow", signers: [fp] }]);
    expect(authorizeBpfObject({ bytes, name: "probe", policy: deny })).toMatchObject({ allow: false, reason: 'rule "freeze" denies it' });
    const lax = rules([{ id: "dev", action: "allow", requireSignature: false }]);
    expect(authorizeBpfObject({ bytes, name: "probe", policy: lax, signature: null })).toMatchObject({
      allow: true,
      signer: null,
      reason: 'rule "dev" allows unsigned objects (signature not checked)',
    });
    const empty = rules([]);
    expect(authorizeBpfObject({ bytes, name: "probe", policy: empty }).reason).toMatch(/^no rule of policy mem matches "probe" with program types tracepoint \(default deny\)$/);
  });
});

describe("the shipped default policy", () => {
  const saved = process.env.CRYPTOSCOPE_BPF_POLICY;
  afterEach(() => {
    if (saved === undefined) delete process.env.CRYPTOSCOPE_BPF_POLICY;
    else process.env.CRYPTOSCOPE_BPF_POLICY = saved;
  });

  it("is bpf/policy.json unless CRYPTOSCOPE_BPF_POLICY says otherwise", () => {
    delete process.env.CRYPTOSCOPE_BPF_POLICY;
    expect(defaultPolicyPath()).toBe(join(REPO, "bpf/policy.json"));
    process.env.CRYPTOSCOPE_BPF_POLICY = join(dir, "policy.json");
    expect(defaultPolicyPath()).toBe(join(dir, "policy.json"));
  });

  it("validates, trusts .keys/trusted.json, and allows the agent's program kinds only when signed", () => {
    const doc = JSON.parse(readFileSync(join(REPO, "bpf/policy.json"), "utf8"));
    expect(doc.rules[0].signers).toEqual([{ trustFile: ".keys/trusted.json" }]);
    doc.rules[0].signers = [{ trustFile }];
    const p = policyFromJson(doc, "bpf/policy.json");
    expect(p.rules).toHaveLength(1);
    for (const kinds of [["tracepoint"], ["uprobe", "uretprobe"], ["usdt"], ["tc"], ["cgroup_skb"], ["socket"]]) expect(matchRule(p, "x", kinds)?.id).toBe("cryptoscope-probes");
    for (const kinds of [["xdp"], ["kprobe"], ["lsm"], ["struct_ops"], ["unknown"], ["tc", "fentry"]]) expect(matchRule(p, "x", kinds)).toBeNull();

    const obj = compileBpf(dir, "signed_probe", GETPID_SOURCE);
    signObjectFile(obj, key, { author: "test" });
    expect(authorizeBpfObject({ objectPath: obj, bytes: readFileSync(obj), name: "signed_probe", policy: p }).allow).toBe(true);
  });
});
