// The real programs: `cryptoscope bpf keygen|sign|verify|info` through bin/cryptoscope, and the set-up step
// `node --import tsx capture/attest/setup-keys.ts`, on objects clang builds here.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { authorizeBpfObject } from "../capture/attest/index.ts";
import { policyFromJson } from "../capture/attest/policy.ts";
import { compileBpf, GETPID_SOURCE, MULTI_SOURCE, REPO, tempDir } from "./attest-fixtures.ts";

const BIN = join(REPO, "bin/cryptoscope");

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd: REPO, encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const cli = (args: string[], env?: Record<string, string>) => run(BIN, ["bpf", ...args], env);
const setupKeys = (args: string[]) => run(process.execPath, ["--import", "tsx", "capture/attest/setup-keys.ts", ...args]);

describe("cryptoscope bpf", () => {
  let dir: string;
  let a: string;
  let b: string;
  let keys: string;
  let fingerprint: string;

  beforeAll(() => {
    dir = tempDir();
    keys = join(dir, "keys");
    a = compileBpf(dir, "probe_a", GETPID_SOURCE);
    b = compileBpf(dir, "probe_b", MULTI_SOURCE);
  });

  it("keygen writes an ML-DSA-65 key pair, the secret key 0600, and refuses to overwrite it", () => {
    const r = cli(["keygen", "--out", keys]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const secret = join(keys, "bpf-signing.key");
    const pub = JSON.parse(readFileSync(join(keys, "bpf-signing.pub"), "utf8"));
    expect(statSync(secret).mode & 0o777).toBe(0o600);
    expect(statSync(keys).mode & 0o777).toBe(0o700);
    expect(pub.algorithm).toBe("ML-DSA-65");
    expect(Buffer.from(pub.publicKey, "base64").length).toBe(1952); // FIPS 204 ML-DSA-65 public key
    fingerprint = createHash("sha3-256").update(Buffer.from(pub.publicKey, "base64")).digest("hex");
    expect(pub.fingerprint).toBe(fingerprint);
    expect(r.out).toContain(`fingerprint ${fingerprint}`);

    const again = cli(["keygen", "--out", keys]);
    expect(again.code).not.toBe(0);
    expect(again.err.trim()).toBe(`cryptoscope: ${secret} already exists; refusing to overwrite a signing key (use --force to replace it)`);
    expect(JSON.parse(readFileSync(join(keys, "bpf-signing.pub"), "utf8")).fingerprint).toBe(fingerprint);
  });

  it("sign writes OBJ.sig.json; verify --pubkey passes, and fails with exit 1 once an object changes", () => {
    const s = cli(["sign", a, b, "--key", join(keys, "bpf-signing.key"), "--author", "ci"]);
    expect(s.err).toBe("");
    expect(s.code).toBe(0);
    expect(s.out.trim().split("\n")).toHaveLength(2);
    const env = JSON.parse(readFileSync(`${a}.sig.json`, "utf8"));
    expect(env).toMatchObject({ version: 1, algorithm: "ML-DSA-65", fingerprint, manifest: { name: "probe_a", author: "ci", programTypes: ["tracepoint"] } });
    expect(Buffer.from(env.signature, "base64").length).toBe(3309); // FIPS 204 ML-DSA-65 signature

    const ok = cli(["verify", a, b, "--pubkey", join(keys, "bpf-signing.pub")]);
    expect(ok.code).toBe(0);
    expect(ok.out.trim().split("\n").every((l) => l.startsWith("ok "))).toBe(true);

    const bytes = readFileSync(b);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(b, bytes);
    const bad = cli(["verify", a, b, "--pubkey", join(keys, "bpf-signing.pub")]);
    expect(bad.code).toBe(1);
    const lines = bad.out.trim().split("\n");
    expect(lines[0]).toMatch(/^ok /);
    expect(lines[1]).toMatch(/^REFUSED .*probe_b\.bpf\.o .*(differs from the signed|not a valid BPF object)/);
    expect(bad.err.trim()).toBe("1 of 2 object(s) refused");
  });

  it("verify --policy / CRYPTOSCOPE_BPF_POLICY check against a policy file; --json prints agent_log rows", () => {
    const trust = join(dir, "trusted.json");
    writeFileSync(trust, JSON.stringify({ version: 1, signers: [{ fingerprint }] }));
    const policy = join(dir, "policy.json");
    writeFileSync(policy, JSON.stringify({ version: 1, rules: [{ id: "mine", action: "allow", signers: [{ trustFile: trust }], match: { programTypes: ["tracepoint"] } }] }));
    const r = cli(["verify", a, "--json"], { CRYPTOSCOPE_BPF_POLICY: policy });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ event: "bpf_load", decision: "allow", object_name: "probe_a", signer: fingerprint, level: "info" });

    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ version: 1, rules: [{ id: "theirs", action: "allow", signers: ["0".repeat(64)] }] }));
    const refused = cli(["verify", a, "--policy", other]);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/^REFUSED .* signer [0-9a-f]{16} is not trusted by rule "theirs"$/m);

    const broken = join(dir, "broken.json");
    writeFileSync(broken, JSON.stringify({ version: 1, rules: [{ id: "x", action: "maybe" }] }));
    const malformed = cli(["verify", a, "--policy", broken]);
    expect(malformed.code).toBe(1);
    expect(malformed.err.trim()).toBe(`cryptoscope: policy ${broken} is malformed: /rules/0/action must be one of "allow", "deny"`);
  });

  it("info prints the signed manifest; a secret key readable by others is refused", () => {
    const r = cli(["info", a]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info).toMatchObject({ signed: true, signatureValid: true, signer: fingerprint, manifest: { name: "probe_a", license: "GPL" } });
    expect(info.manifest.object.sha3_256).toBe(createHash("sha3-256").update(readFileSync(a)).digest("hex"));
    expect(info.manifest.programs[0]).toMatchObject({ section: "tracepoint/syscalls/sys_enter_getpid", attach: "syscalls/sys_enter_getpid", names: ["on_getpid"] });

    chmodSync(join(keys, "bpf-signing.key"), 0o644);
    const s = cli(["sign", a, "--key", join(keys, "bpf-signing.key")]);
    expect(s.code).not.toBe(0);
    expect(s.err).toMatch(/is accessible by others \(mode 0644\); run chmod 600/);

    const missing = cli(["info", join(dir, "absent.bpf.o")]);
    expect(missing.code).not.toBe(0);
    expect(missing.err.trim()).toMatch(/^cryptoscope: cannot read BPF object .*absent\.bpf\.o: ENOENT$/);
  });
});

describe("setup-keys (the set-up step)", () => {
  it("creates the key and trust file once, signs what is unsigned or stale, and nothing else", () => {
    const dir = tempDir();
    const keys = join(dir, ".keys");
    const out = join(dir, "output");
    const x = compileBpf(dir, "x", GETPID_SOURCE);
    mkdirSync(out); // the objects' own directory, like bpf/.output
    const objX = join(out, "x.bpf.o");
    const objY = join(out, "y.bpf.o");
    writeFileSync(objX, readFileSync(x));
    writeFileSync(objY, readFileSync(compileBpf(dir, "y", MULTI_SOURCE)));

    const first = setupKeys(["--keys", keys, "--objects", out, "--author", "setup-test"]);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/created BPF signing key [0-9a-f]{16} \(ML-DSA-65\)/);
    expect(first.out).toContain("2 object(s) signed, 0 already signed");
    expect(statSync(join(keys, "bpf-signing.key")).mode & 0o777).toBe(0o600);
    const trust = JSON.parse(readFileSync(join(keys, "trusted.json"), "utf8"));
    expect(trust.signers).toHaveLength(1);
    const keyBefore = readFileSync(join(keys, "bpf-signing.key"), "utf8");
    const sigY = readFileSync(`${objY}.sig.json`, "utf8");

    const second = setupKeys(["--keys", keys, "--objects", out]);
    expect(second.code).toBe(0);
    expect(second.out).toContain("using BPF signing key");
    expect(second.out).toContain("0 object(s) signed, 2 already signed");
    expect(readFileSync(join(keys, "bpf-signing.key"), "utf8")).toBe(keyBefore);

    // A rebuild changes x: only x is signed again.
    writeFileSync(objX, readFileSync(compileBpf(dir, "x2", GETPID_SOURCE.replace("return 0", "return 7"))));
    const third = setupKeys(["--keys", keys, "--objects", out]);
    expect(third.out).toMatch(/signed x\.bpf\.o \(object SHA3-256 .* differs from the signed/);
    expect(third.out).toContain("1 object(s) signed, 1 already signed");
    expect(readFileSync(`${objY}.sig.json`, "utf8")).toBe(sigY);

    // The default policy, pointed at this trust file, now allows both.
    const doc = JSON.parse(readFileSync(join(REPO, "bpf/policy.json"), "utf8"));
    doc.rules[0].signers = [{ trustFile: join(keys, "trusted.json") }];
    doc.rules[0].match.programTypes.push("xdp"); // y has an XDP program; the shipped policy would refuse it
    const policy = policyFromJson(doc, "test");
    for (const [p, name] of [[objX, "x"], [objY, "y"]]) {
      const d = authorizeBpfObject({ objectPath: p, bytes: readFileSync(p), name, policy });
      expect(d.allow, d.reason).toBe(true);
      expect(d.signer).toBe(trust.signers[0].fingerprint);
    }

    // A malformed trust file is reported, never replaced.
    writeFileSync(join(keys, "trusted.json"), "[]");
    const broken = setupKeys(["--keys", keys, "--objects", out]);
    expect(broken.code).toBe(1);
    expect(broken.err.trim()).toMatch(/^setup-keys: trust file .*trusted\.json is malformed: \(top level\) must be object$/);
    expect(readFileSync(join(keys, "trusted.json"), "utf8")).toBe("[]");
    expect(existsSync(join(keys, "bpf-signing.pub"))).toBe(true);
  });
});
