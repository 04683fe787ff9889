// Attestation of BPF objects before the kernel sees them: the loader hands the exact bytes it is about to
// load, and gets back a decision — allowed only if the policy's first matching rule allows it and (unless
// that rule waives signatures) a trusted signer's ML-DSA-65 signature covers a manifest that matches the bytes.
// Every decision, allowed or refused, becomes an agent_log row.
import { hostname } from "node:os";
import { BpfObjectError, parseBpfObject, programKinds, type BpfObjectInfo } from "./bpf-object.ts";
import { shortFingerprint } from "./keys.ts";
import { manifestMismatch, objectFacts, sha3Hex, short } from "./manifest.ts";
import { defaultPolicyPath as policyPathDefault, loadPolicyFile, matchRule, type LoadPolicy } from "./policy.ts";
import { checkEnvelopeSignature, envelopeProblem, inspectEnvelope, readSignatureFile, type SignatureEnvelope } from "./signature.ts";

export type { LoadPolicy, LoadRule } from "./policy.ts";
export type { SignatureEnvelope } from "./signature.ts";
export type { BpfManifest } from "./manifest.ts";
export { PolicyError } from "./policy.ts";

export interface LoadDecision {
  allow: boolean;
  reason: string;
  objectName: string;
  sha3: string;
  size: number;
  signer: string | null; // full fingerprint of the signer; for a refusal, of the key that claims to have signed
  programTypes: string[];
}

export interface AuthorizeOptions {
  objectPath?: string;
  bytes: Uint8Array;
  name: string;
  policy: LoadPolicy;
  signature?: SignatureEnvelope | null; // undefined: read `${objectPath}.sig.json` (if objectPath); null: unsigned
}

/**
 * Decides whether these bytes may be loaded. Pure apart from reading the `.sig.json` beside objectPath when no
 * signature is passed. The loader must then load exactly these bytes (open from this buffer, not the path again).
 */
export function authorizeBpfObject(opts: AuthorizeOptions): LoadDecision {
  const { bytes, name, policy } = opts;
  const sha3 = sha3Hex(bytes);
  const base = { objectName: name, sha3, size: bytes.length };
  const deny = (reason: string, programTypes: string[] = [], signer: string | null = null): LoadDecision => ({ allow: false, reason, ...base, signer, programTypes });

  let info: BpfObjectInfo;
  try {
    info = parseBpfObject(bytes);
  } catch (err) {
    if (err instanceof BpfObjectError) return deny(err.message);
    throw err;
  }
  const kinds = programKinds(info);
  if (info.programs.length === 0) return deny("the object has no BPF programs", kinds);

  const rule = matchRule(policy, name, kinds);
  const kindList = kinds.join(", ");
  if (!rule) return deny(`no rule of policy ${policy.source} matches "${name}" with program types ${kindList} (default deny)`, kinds);
  const by = `rule "${rule.id}"`;
  if (rule.action === "deny") return deny(`${by} denies it`, kinds);
  if (rule.maxSize !== null && bytes.length > rule.maxSize) return deny(`object is ${bytes.length} bytes, over the ${rule.maxSize}-byte limit of ${by}`, kinds);
  if (!rule.requireSignature) return { allow: true, reason: `${by} allows unsigned objects (signature not checked)`, ...base, signer: null, programTypes: kinds };

  let envelope: SignatureEnvelope | null = null;
  if (opts.signature !== undefined) {
    envelope = opts.signature;
    const problem = envelope === null ? null : envelopeProblem(envelope);
    if (problem) return deny(`signature envelope is malformed: ${problem}`, kinds);
  } else if (opts.objectPath) {
    try {
      envelope = readSignatureFile(opts.objectPath);
    } catch (err) {
      return deny((err as Error).message, kinds);
    }
  }
  if (!envelope) {
    const where = opts.objectPath && opts.signature === undefined ? ` (no ${opts.objectPath}.sig.json)` : "";
    return deny(`no signature${where}, and ${by} requires one`, kinds);
  }

  // Consistency, then trust, then cryptography: an untrusted key is refused whatever it signed (verifying costs ~ms).
  const inspected = inspectEnvelope(envelope);
  if (!inspected.ok) return deny(inspected.problem, kinds, inspected.fingerprint);
  const claimed = inspected.fingerprint;
  if (!rule.signers.has(claimed)) return deny(`signer ${shortFingerprint(claimed)} is not trusted by ${by}`, kinds, claimed);
  const crypto = checkEnvelopeSignature(envelope);
  if (!crypto.ok) return deny(crypto.problem, kinds, claimed);

  const mismatch = manifestMismatch(envelope.manifest, objectFacts(bytes, name, info, sha3));
  if (mismatch) return deny(mismatch, kinds, claimed);

  return {
    allow: true,
    reason: `signed by trusted ${shortFingerprint(claimed)} (ML-DSA-65, ${by}); object matches its manifest (sha3 ${short(sha3)})`,
    ...base,
    signer: claimed,
    programTypes: kinds,
  };
}

/** Reads and validates a policy file; throws a PolicyError with a one-line message if it is malformed. */
export function loadPolicy(path: string): LoadPolicy {
  return loadPolicyFile(path);
}

/** bpf/policy.json in the repository, or $CRYPTOSCOPE_BPF_POLICY. */
export function defaultPolicyPath(): string {
  return policyPathDefault();
}

/** The decision as an agent_log row (columns of TABLES.agent_log in capture/lake/schema.ts). */
export function agentLogRow(d: LoadDecision, at: { ts?: Date; host?: string } = {}): Record<string, unknown> {
  return {
    ts: at.ts ?? new Date(),
    host: at.host ?? hostname(),
    level: d.allow ? "info" : "error",
    event: "bpf_load",
    message: `${d.allow ? "allowed" : "refused"} BPF object ${d.objectName} (${d.size} bytes; ${d.programTypes.join(", ") || "no programs"})`,
    object_name: d.objectName,
    object_sha3: d.sha3,
    signer: d.signer,
    decision: d.allow ? "allow" : "deny",
    reason: d.reason,
    count: d.size, // bytes of the object
  };
}
