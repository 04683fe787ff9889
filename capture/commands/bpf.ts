// `cryptoscope bpf keygen|sign|verify|info`: ML-DSA-65 signing of BPF objects and checking them against a
// load policy, the same check the agent makes before it loads an object.
// The attest modules (ML-DSA, ajv) are imported when a subcommand runs, not when the CLI starts.
import type { Command } from "commander";
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LoadDecision, LoadPolicy } from "../attest/index.ts";
import { REPO_ROOT } from "../repo-root.ts";

class CliError extends Error {}

function readObject(path: string): Buffer {
  try {
    if (!statSync(path).isFile()) throw new CliError(`${path} is not a file`);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read BPF object ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A policy that trusts exactly one public key for every object (what `verify --pubkey` checks against). */
async function singleKeyPolicy(pubPath: string): Promise<LoadPolicy> {
  const { readPublicKey } = await import("../attest/keys.ts");
  const pub = readPublicKey(pubPath);
  return {
    source: `public key ${pubPath}`,
    rules: [{ id: "pubkey", names: null, programTypes: null, anyProgramType: null, action: "allow", requireSignature: true, signers: new Set([pub.fingerprint]), maxSize: null }],
  };
}

function formatDecision(path: string, d: LoadDecision, shortFingerprint: (fp: string) => string): string {
  const signer = d.signer ? shortFingerprint(d.signer) : "-";
  return `${d.allow ? "ok     " : "REFUSED"} ${path}  sha3 ${d.sha3.slice(0, 16)}  signer ${signer}  ${d.reason}`;
}

export function register(program: Command): void {
  const bpf = program.command("bpf").description("sign BPF objects with ML-DSA-65 and check them against the load policy");

  bpf
    .command("keygen")
    .description("generate an ML-DSA-65 (FIPS 204) signing key pair")
    .option("--out <dir>", "directory for bpf-signing.key (mode 0600) and bpf-signing.pub", join(REPO_ROOT, ".keys"))
    .option("--force", "replace an existing key pair")
    .action(async (opts: { out: string; force?: boolean }) => {
      const { generateKey, writeKeyPair } = await import("../attest/keys.ts");
      const key = generateKey();
      const { secretPath, publicPath } = writeKeyPair(resolve(opts.out), key, { force: opts.force });
      console.log(`secret key  ${secretPath} (mode 0600: keep it private)`);
      console.log(`public key  ${publicPath}`);
      console.log(`fingerprint ${key.fingerprint}`);
    });

  bpf
    .command("sign")
    .description("sign BPF objects: writes OBJ.sig.json beside each")
    .argument("<obj...>", ".bpf.o files")
    .requiredOption("--key <secret>", "secret key file (bpf-signing.key)")
    .option("--author <name>", "author recorded in the manifest (default: user@host, as set-up signs)")
    .action(async (objs: string[], opts: { key: string; author?: string }) => {
      const [{ readSigningKey, shortFingerprint }, { signObjectFile }, { defaultAuthor }] = await Promise.all([
        import("../attest/keys.ts"), import("../attest/signature.ts"), import("../attest/setup-keys.ts")]);
      const author = opts.author ?? defaultAuthor();
      const key = readSigningKey(opts.key);
      for (const obj of objs) {
        readObject(obj);
        const { path, envelope } = signObjectFile(obj, key, { author });
        const m = envelope.manifest;
        console.log(`signed ${obj} → ${path}  name ${m.name}  sha3 ${m.object.sha3_256.slice(0, 16)}  ${m.programTypes.join(",")}  signer ${shortFingerprint(key.fingerprint)}`);
      }
    });

  bpf
    .command("verify")
    .description("check BPF objects against the load policy (default bpf/policy.json) or one public key; exits 1 if any is refused")
    .argument("<obj...>", ".bpf.o files (each with its OBJ.sig.json)")
    .option("--pubkey <pub>", "accept only signatures by this public key")
    .option("--policy <file>", "load policy to check against (default: $CRYPTOSCOPE_BPF_POLICY or bpf/policy.json)")
    .option("--json", "print one agent_log row per object as JSON")
    .action(async (objs: string[], opts: { pubkey?: string; policy?: string; json?: boolean }) => {
      if (opts.pubkey && opts.policy) throw new CliError("use --pubkey or --policy, not both");
      const [{ agentLogRow, authorizeBpfObject, defaultPolicyPath, loadPolicy }, { shortFingerprint }, { objectNameFromPath }] = await Promise.all([
        import("../attest/index.ts"), import("../attest/keys.ts"), import("../attest/manifest.ts")]);
      const policy = opts.pubkey ? await singleKeyPolicy(opts.pubkey) : loadPolicy(opts.policy ?? defaultPolicyPath());
      let refused = 0;
      for (const obj of objs) {
        const bytes = readObject(obj);
        const d = authorizeBpfObject({ objectPath: obj, bytes, name: objectNameFromPath(obj), policy });
        if (!d.allow) refused++;
        console.log(opts.json ? JSON.stringify(agentLogRow(d)) : formatDecision(obj, d, shortFingerprint));
      }
      if (refused > 0) {
        if (!opts.json) console.error(`${refused} of ${objs.length} object(s) refused`);
        process.exitCode = 1;
      }
    });

  bpf
    .command("info")
    .description("print the manifest of a BPF object (the signed one if OBJ.sig.json exists)")
    .argument("<obj>", ".bpf.o file")
    .action(async (obj: string) => {
      const [{ buildManifest, objectNameFromPath }, { checkEnvelopeSignature, readSignatureFile }] = await Promise.all([
        import("../attest/manifest.ts"), import("../attest/signature.ts")]);
      const bytes = readObject(obj);
      const envelope = readSignatureFile(obj);
      if (envelope) {
        const check = checkEnvelopeSignature(envelope);
        const out = {
          file: obj,
          signed: true,
          algorithm: envelope.algorithm,
          signer: envelope.fingerprint,
          signatureValid: check.ok,
          ...(check.ok ? {} : { problem: check.problem }),
          manifest: envelope.manifest,
        };
        console.log(JSON.stringify(out, null, 2));
      } else {
        const manifest = buildManifest(bytes, { name: objectNameFromPath(obj), author: "(unsigned)", builtAt: statSync(obj).mtime });
        console.log(JSON.stringify({ file: obj, signed: false, manifest }, null, 2));
      }
    });
}
