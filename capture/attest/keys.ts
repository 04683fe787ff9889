// ML-DSA-65 (FIPS 204) signing keys for BPF objects, from @noble/post-quantum. A key pair is kept as two
// JSON files: the secret key file holds the 32-byte seed (FIPS 204 key generation is deterministic from it,
// so the 4032-byte expanded key need not be stored) and is created with mode 0600; the public key file holds
// the 1952-byte public key. A signer is named by its fingerprint: hex SHA3-256 of the raw public key.
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { randomBytes } from "@noble/post-quantum/utils.js";
import { sha3_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export const ALGORITHM = "ML-DSA-65";
export const PUBLIC_KEY_BYTES = 1952;
export const SECRET_KEY_FILE = "bpf-signing.key";
export const PUBLIC_KEY_FILE = "bpf-signing.pub";

export class KeyFileError extends Error {
  override name = "KeyFileError";
}

export interface SigningKey {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  fingerprint: string;
  created: string;
  seed: Uint8Array;
}

export interface PublicKey {
  publicKey: Uint8Array;
  fingerprint: string;
}

export function fingerprintOf(publicKey: Uint8Array): string {
  return bytesToHex(sha3_256(publicKey));
}

/** The fingerprint as shown to people: the first 16 hex digits (64 bits). Full fingerprints are what is stored. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 16);
}

export function keyFromSeed(seed: Uint8Array, created = new Date().toISOString()): SigningKey {
  if (seed.length !== 32) throw new KeyFileError(`an ML-DSA-65 seed is 32 bytes, got ${seed.length}`);
  const { publicKey, secretKey } = ml_dsa65.keygen(seed);
  return { publicKey, secretKey, fingerprint: fingerprintOf(publicKey), created, seed };
}

export function generateKey(): SigningKey {
  return keyFromSeed(randomBytes(32));
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

function publicKeyJson(key: PublicKey & { created?: string }) {
  return { type: "cryptoscope-bpf-public-key", algorithm: ALGORITHM, fingerprint: key.fingerprint, publicKey: b64(key.publicKey), created: key.created };
}

/**
 * Writes DIR/bpf-signing.key (0600, never overwritten unless force) and DIR/bpf-signing.pub.
 * The directory is created 0700 if missing.
 */
export function writeKeyPair(dir: string, key: SigningKey, opts: { force?: boolean } = {}): { secretPath: string; publicPath: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secretPath = join(dir, SECRET_KEY_FILE);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  if (!opts.force && existsSync(secretPath)) {
    throw new KeyFileError(`${secretPath} already exists; refusing to overwrite a signing key (use --force to replace it)`);
  }
  const secretJson = JSON.stringify(
    { type: "cryptoscope-bpf-secret-key", algorithm: ALGORITHM, fingerprint: key.fingerprint, seed: b64(key.seed), created: key.created },
    null,
    2,
  );
  // Created 0600 from the start (the mode given to open applies only on creation: a tmp name guarantees it).
  const tmp = `${secretPath}.tmp-${process.pid}`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, secretJson + "\n");
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, secretPath);
  writeFileSync(publicPath, JSON.stringify(publicKeyJson(key), null, 2) + "\n", { mode: 0o644 });
  return { secretPath, publicPath };
}

function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KeyFileError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (err) {
    throw new KeyFileError(`${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function readSigningKey(path: string): SigningKey {
  const fd = (() => {
    try {
      return openSync(path, "r");
    } catch (err) {
      throw new KeyFileError(`cannot read secret key ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  })();
  try {
    // Like ssh: a secret key that others can read is refused rather than used.
    const mode = fstatSync(fd).mode & 0o777;
    if (mode & 0o077) throw new KeyFileError(`secret key ${path} is accessible by others (mode 0${mode.toString(8)}); run chmod 600 ${path}`);
  } finally {
    closeSync(fd);
  }
  const j = readJson(path, "secret key");
  if (j.type !== "cryptoscope-bpf-secret-key" || j.algorithm !== ALGORITHM || typeof j.seed !== "string") {
    throw new KeyFileError(`${path} is not a cryptoscope ${ALGORITHM} secret key file`);
  }
  const key = keyFromSeed(unb64(j.seed), typeof j.created === "string" ? j.created : undefined);
  if (typeof j.fingerprint === "string" && j.fingerprint !== key.fingerprint) {
    throw new KeyFileError(`secret key ${path} is corrupt: its seed gives fingerprint ${shortFingerprint(key.fingerprint)}, the file says ${shortFingerprint(j.fingerprint)}`);
  }
  return key;
}

export function readPublicKey(path: string): PublicKey & { created?: string } {
  const j = readJson(path, "public key");
  if (j.type !== "cryptoscope-bpf-public-key" || j.algorithm !== ALGORITHM || typeof j.publicKey !== "string") {
    throw new KeyFileError(`${path} is not a cryptoscope ${ALGORITHM} public key file`);
  }
  const publicKey = unb64(j.publicKey);
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new KeyFileError(`${path}: an ${ALGORITHM} public key is ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`);
  const fingerprint = fingerprintOf(publicKey);
  if (typeof j.fingerprint === "string" && j.fingerprint !== fingerprint) {
    throw new KeyFileError(`public key ${path} is corrupt: the key's fingerprint is ${shortFingerprint(fingerprint)}, the file says ${shortFingerprint(j.fingerprint)}`);
  }
  return { publicKey, fingerprint, created: typeof j.created === "string" ? j.created : undefined };
}

export function writePublicKey(path: string, key: PublicKey & { created?: string }): void {
  writeFileSync(path, JSON.stringify(publicKeyJson(key), null, 2) + "\n", { mode: 0o644 });
}

export function isKeyFilePresent(dir: string): boolean {
  return existsSync(join(dir, SECRET_KEY_FILE)) && statSync(join(dir, SECRET_KEY_FILE)).isFile();
}
