// The detached signature envelope written beside each object as `<object>.sig.json`:
// {version, algorithm: "ML-DSA-65", manifest, signature, publicKey, fingerprint}. The signature is ML-DSA-65
// (FIPS 204, pure mode) over the manifest's canonical JSON, with a FIPS 204 context string that confines
// these keys to BPF manifests: a signature made for anything else never verifies here.
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { BpfObjectError } from "./bpf-object.ts";
import { ALGORITHM, fingerprintOf, PUBLIC_KEY_BYTES, type SigningKey } from "./keys.ts";
import { buildManifest, canonicalBytes, MANIFEST_FORMAT, objectNameFromPath, type BpfManifest } from "./manifest.ts";
import { compile } from "./validate.ts";

export const ENVELOPE_VERSION = 1;
export const SIGNATURE_BYTES = 3309;
export const SIGNATURE_CONTEXT = new TextEncoder().encode("cryptoscope/bpf-manifest/v1");

export interface SignatureEnvelope {
  version: number;
  algorithm: string;
  manifest: BpfManifest;
  signature: string; // base64
  publicKey: string; // base64
  fingerprint: string; // hex SHA3-256 of the public key
}

export class SignatureFileError extends Error {
  override name = "SignatureFileError";
}

const hex64 = { type: "string", pattern: "^[0-9a-f]{64}$" };
const envelopeSchema = {
  type: "object",
  additionalProperties: false,
  required: ["version", "algorithm", "manifest", "signature", "publicKey", "fingerprint"],
  properties: {
    version: { const: ENVELOPE_VERSION },
    algorithm: { const: ALGORITHM },
    signature: { type: "string", pattern: "^[A-Za-z0-9+/]+={0,2}$" },
    publicKey: { type: "string", pattern: "^[A-Za-z0-9+/]+={0,2}$" },
    fingerprint: hex64,
    manifest: {
      type: "object",
      additionalProperties: false,
      required: ["format", "name", "object", "programTypes", "programs", "maps", "license", "author", "builtAt"],
      properties: {
        format: { const: MANIFEST_FORMAT },
        name: { type: "string", minLength: 1 },
        object: {
          type: "object",
          additionalProperties: false,
          required: ["sha3_256", "size"],
          properties: { sha3_256: hex64, size: { type: "integer", minimum: 0 } },
        },
        programTypes: { type: "array", items: { type: "string" } },
        programs: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["section", "kind", "progType", "attach", "names"],
            properties: {
              section: { type: "string" },
              kind: { type: "string" },
              progType: { type: "string" },
              attach: { type: ["string", "null"] },
              names: { type: "array", items: { type: "string" } },
            },
          },
        },
        maps: { type: "array", items: { type: "string" } },
        license: { type: ["string", "null"] },
        author: { type: "string" },
        builtAt: { type: "string" },
      },
    },
  },
};
const checkEnvelope = compile<SignatureEnvelope>(envelopeSchema);

/** Validates an envelope's shape; returns the problem as a sentence, or null when well-formed. */
export function envelopeProblem(value: unknown): string | null {
  const r = checkEnvelope(value);
  return r.ok ? null : r.problem;
}

export function signManifest(manifest: BpfManifest, key: SigningKey): SignatureEnvelope {
  const signature = ml_dsa65.sign(canonicalBytes(manifest), key.secretKey, { context: SIGNATURE_CONTEXT });
  return {
    version: ENVELOPE_VERSION,
    algorithm: ALGORITHM,
    manifest,
    signature: Buffer.from(signature).toString("base64"),
    publicKey: Buffer.from(key.publicKey).toString("base64"),
    fingerprint: key.fingerprint,
  };
}

export type SignatureCheck = { ok: true; fingerprint: string } | { ok: false; problem: string; fingerprint: string | null };

/**
 * The envelope's key material, checked for consistency but not verified: sizes of key and signature, and that
 * the stated fingerprint is that of the enclosed public key. `fingerprint` is always computed, never taken on trust.
 */
export function inspectEnvelope(env: SignatureEnvelope): SignatureCheck & { publicKey?: Uint8Array; signature?: Uint8Array } {
  const publicKey = new Uint8Array(Buffer.from(env.publicKey, "base64"));
  const signature = new Uint8Array(Buffer.from(env.signature, "base64"));
  if (publicKey.length !== PUBLIC_KEY_BYTES) {
    return { ok: false, fingerprint: null, problem: `the envelope's public key is ${publicKey.length} bytes, not the ${PUBLIC_KEY_BYTES} of ${ALGORITHM}` };
  }
  const fingerprint = fingerprintOf(publicKey);
  if (fingerprint !== env.fingerprint) {
    return { ok: false, fingerprint, problem: `the envelope's fingerprint ${env.fingerprint.slice(0, 16)} is not that of its public key (${fingerprint.slice(0, 16)})` };
  }
  if (signature.length !== SIGNATURE_BYTES) {
    return { ok: false, fingerprint, problem: `the signature is ${signature.length} bytes, not the ${SIGNATURE_BYTES} of ${ALGORITHM}` };
  }
  return { ok: true, fingerprint, publicKey, signature };
}

/**
 * Checks a well-formed envelope cryptographically: consistent key material (inspectEnvelope) and an ML-DSA-65
 * signature that verifies over the canonical manifest. Says nothing about whether the signer is trusted.
 */
export function checkEnvelopeSignature(env: SignatureEnvelope): SignatureCheck {
  const inspected = inspectEnvelope(env);
  if (!inspected.ok) return inspected;
  const valid = ml_dsa65.verify(inspected.signature!, canonicalBytes(env.manifest), inspected.publicKey!, { context: SIGNATURE_CONTEXT });
  return valid
    ? { ok: true, fingerprint: inspected.fingerprint }
    : { ok: false, fingerprint: inspected.fingerprint, problem: `the ${ALGORITHM} signature does not verify over the manifest (manifest or signature altered)` };
}

export function signaturePathFor(objectPath: string): string {
  return `${objectPath}.sig.json`;
}

/** Reads `<object>.sig.json`: null if there is none; throws SignatureFileError if it is unreadable or malformed. */
export function readSignatureFile(objectPath: string): SignatureEnvelope | null {
  const path = signaturePathFor(objectPath);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new SignatureFileError(`cannot read signature ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SignatureFileError(`signature ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const problem = envelopeProblem(value);
  if (problem) throw new SignatureFileError(`signature ${path} is malformed: ${problem}`);
  return value as SignatureEnvelope;
}

/**
 * Signs one object file: builds its manifest (build time = the file's mtime, or SOURCE_DATE_EPOCH when set,
 * for reproducible builds) and writes the envelope atomically beside it.
 */
export function signObjectFile(objectPath: string, key: SigningKey, opts: { author: string; name?: string }): { path: string; envelope: SignatureEnvelope } {
  const bytes = readFileSync(objectPath);
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const builtAt = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : statSync(objectPath).mtime;
  let manifest: BpfManifest;
  try {
    manifest = buildManifest(bytes, { name: opts.name ?? objectNameFromPath(objectPath), author: opts.author, builtAt });
  } catch (err) {
    if (err instanceof BpfObjectError) throw new BpfObjectError(`${objectPath}: ${err.message}`);
    throw err;
  }
  const envelope = signManifest(manifest, key);
  const path = signaturePathFor(objectPath);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(envelope, null, 2) + "\n");
  renameSync(tmp, path);
  return { path, envelope };
}
