// Set-up step (scripts/setup.sh runs `node --import tsx capture/attest/setup-keys.ts` after building the BPF
// objects). Idempotent: creates the local ML-DSA-65 signing key in .keys/ if missing, makes sure the trust file
// .keys/trusted.json lists it (the default policy bpf/policy.json trusts that file), and signs every
// bpf/.output/*.bpf.o whose signature is missing, invalid, by another key or stale (object rebuilt).
// Options: --keys DIR (default .keys), --objects DIR (default bpf/.output), --author NAME, --quiet.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { generateKey, PUBLIC_KEY_FILE, readPublicKey, readSigningKey, SECRET_KEY_FILE, shortFingerprint, writeKeyPair, writePublicKey, type SigningKey } from "./keys.ts";
import { manifestMismatch, objectFacts, objectNameFromPath } from "./manifest.ts";
import { readTrustFile, REPO_ROOT, type TrustFile } from "./policy.ts";
import { checkEnvelopeSignature, readSignatureFile, signObjectFile } from "./signature.ts";

export const TRUST_FILE = "trusted.json";

export interface SetupResult {
  fingerprint: string;
  keyCreated: boolean;
  trustFileUpdated: boolean;
  signed: string[]; // object paths (re)signed now
  upToDate: string[]; // object paths whose signature was already good
}

export function defaultAuthor(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return `${user}@${hostname()}`;
}

/** Why an object's current signature is not good enough for `key`, or null if it is. */
export function signatureStaleness(objectPath: string, key: SigningKey): string | null {
  let envelope;
  try {
    envelope = readSignatureFile(objectPath);
  } catch (err) {
    return (err as Error).message;
  }
  if (!envelope) return "unsigned";
  const check = checkEnvelopeSignature(envelope);
  if (!check.ok) return check.problem;
  if (check.fingerprint !== key.fingerprint) return `signed by another key (${shortFingerprint(check.fingerprint)})`;
  try {
    return manifestMismatch(envelope.manifest, objectFacts(readFileSync(objectPath), objectNameFromPath(objectPath)));
  } catch (err) {
    return (err as Error).message;
  }
}

export function ensureTrusted(trustPath: string, key: SigningKey, name: string): boolean {
  let trust: TrustFile = { version: 1, signers: [] };
  if (existsSync(trustPath)) {
    trust = readTrustFile(trustPath); // a malformed trust file is an error, never silently replaced
    if (trust.signers.some((s) => s.fingerprint === key.fingerprint)) return false;
  }
  trust.signers.push({ fingerprint: key.fingerprint, name, publicKey: Buffer.from(key.publicKey).toString("base64"), added: new Date().toISOString() });
  const tmp = `${trustPath}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(trust, null, 2) + "\n", { mode: 0o644 });
  renameSync(tmp, trustPath);
  return true;
}

export function setupKeys(opts: { keysDir: string; objectsDir: string; author: string; log?: (line: string) => void }): SetupResult {
  const log = opts.log ?? (() => {});
  const secretPath = join(opts.keysDir, SECRET_KEY_FILE);
  let key: SigningKey;
  let keyCreated = false;
  if (existsSync(secretPath)) {
    key = readSigningKey(secretPath);
  } else {
    key = generateKey();
    writeKeyPair(opts.keysDir, key);
    keyCreated = true;
  }
  const publicPath = join(opts.keysDir, PUBLIC_KEY_FILE);
  if (!existsSync(publicPath) || readPublicKey(publicPath).fingerprint !== key.fingerprint) writePublicKey(publicPath, key);
  log(`${keyCreated ? "created" : "using"} BPF signing key ${shortFingerprint(key.fingerprint)} (ML-DSA-65) in ${opts.keysDir}`);

  const trustFileUpdated = ensureTrusted(join(opts.keysDir, TRUST_FILE), key, `local build key (${opts.author})`);
  if (trustFileUpdated) log(`trusted ${shortFingerprint(key.fingerprint)} in ${join(opts.keysDir, TRUST_FILE)}`);

  const signed: string[] = [];
  const upToDate: string[] = [];
  const objects = existsSync(opts.objectsDir) ? readdirSync(opts.objectsDir).filter((f) => f.endsWith(".bpf.o")).sort() : [];
  for (const file of objects) {
    const path = join(opts.objectsDir, file);
    const why = signatureStaleness(path, key);
    if (why === null) {
      upToDate.push(path);
      continue;
    }
    signObjectFile(path, key, { author: opts.author });
    signed.push(path);
    log(`signed ${file} (${why})`);
  }
  log(`${signed.length} object(s) signed, ${upToDate.length} already signed${objects.length ? "" : ` (no *.bpf.o in ${opts.objectsDir} yet)`}`);
  return { fingerprint: key.fingerprint, keyCreated, trustFileUpdated, signed, upToDate };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const { values } = parseArgs({
      options: { keys: { type: "string" }, objects: { type: "string" }, author: { type: "string" }, quiet: { type: "boolean" } },
    });
    setupKeys({
      keysDir: resolve(values.keys ?? join(REPO_ROOT, ".keys")),
      objectsDir: resolve(values.objects ?? join(REPO_ROOT, "bpf/.output")),
      author: values.author ?? defaultAuthor(),
      log: values.quiet ? undefined : (line) => console.log(`setup-keys: ${line}`),
    });
  } catch (err) {
    console.error(`setup-keys: ${(err as Error).message}`);
    process.exit(1);
  }
}
