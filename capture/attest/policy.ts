// The BPF load policy: a JSON file of ordered rules (schema: policy.schema.json), first match wins, default
// deny. Loading resolves each rule's trusted signers — literal fingerprints and trust files — into one set,
// so a decision never touches the file system again.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { SchemaObject } from "ajv";
import { compile } from "./validate.ts";

import { REPO_ROOT } from "../repo-root.ts";

export { REPO_ROOT };

export class PolicyError extends Error {
  override name = "PolicyError";
}

export interface LoadRule {
  id: string;
  description?: string;
  names: string[] | null; // globs on the object name; null = any name
  programTypes: string[] | null; // every program's kind must be one of these; null = any
  anyProgramType: string[] | null; // some program's kind must be one of these; null = no condition
  action: "allow" | "deny";
  requireSignature: boolean;
  signers: ReadonlySet<string>; // full hex fingerprints
  maxSize: number | null;
}

export interface LoadPolicy {
  source: string; // the file it came from (or a label for a policy built in memory)
  description?: string;
  rules: LoadRule[];
}

interface RuleJson {
  id: string;
  description?: string;
  match?: { name?: string | string[]; programTypes?: string[]; anyProgramType?: string[] };
  action: "allow" | "deny";
  requireSignature?: boolean;
  signers?: (string | { trustFile: string })[];
  maxSize?: number;
}
export interface PolicyJson {
  $schema?: string;
  version: 1;
  description?: string;
  rules: RuleJson[];
}

const policySchema = JSON.parse(readFileSync(resolve(REPO_ROOT, "capture/attest/policy.schema.json"), "utf8")) as SchemaObject;
const checkPolicy = compile<PolicyJson>(policySchema);

export interface TrustFile {
  version: 1;
  signers: { fingerprint: string; name?: string; publicKey?: string; added?: string }[];
}
const checkTrustFile = compile<TrustFile>({
  type: "object",
  additionalProperties: false,
  required: ["version", "signers"],
  properties: {
    version: { const: 1 },
    description: { type: "string" },
    signers: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["fingerprint"],
        properties: {
          fingerprint: { type: "string", pattern: "^[0-9a-f]{64}$" },
          name: { type: "string" },
          publicKey: { type: "string" },
          added: { type: "string" },
        },
      },
    },
  },
});

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PolicyError(code === "ENOENT" ? `${what} ${path} does not exist` : `cannot read ${what} ${path}: ${code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function resolveRepoPath(path: string): string {
  return isAbsolute(path) ? path : resolve(REPO_ROOT, path);
}

/** Reads a trust file ({version: 1, signers: [{fingerprint, name, publicKey, added}]}). */
export function readTrustFile(path: string): TrustFile {
  const checked = checkTrustFile(readJsonFile(path, "trust file"));
  if (!checked.ok) throw new PolicyError(`trust file ${path} is malformed: ${checked.problem}`);
  return checked.value;
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = glob.slice(i + 1, end);
        const negate = body.startsWith("!");
        if (negate) body = body.slice(1);
        re += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Turns a policy document into a LoadPolicy (validating it and reading the trust files it names). */
export function policyFromJson(value: unknown, source: string): LoadPolicy {
  const checked = checkPolicy(value);
  if (!checked.ok) throw new PolicyError(`policy ${source} is malformed: ${checked.problem}`);
  const doc = checked.value;
  const ids = new Set<string>();
  const rules = doc.rules.map((r, i): LoadRule => {
    if (ids.has(r.id)) throw new PolicyError(`policy ${source} is malformed: /rules/${i}: rule id "${r.id}" is used twice`);
    ids.add(r.id);
    const signers = new Set<string>();
    for (const s of r.signers ?? []) {
      if (typeof s === "string") signers.add(s);
      else {
        const path = resolveRepoPath(s.trustFile);
        let trust: TrustFile;
        try {
          trust = readTrustFile(path);
        } catch (err) {
          const hint = (err as Error).message.endsWith("does not exist") ? " (run `node --import tsx capture/attest/setup-keys.ts` to create the local key and trust file)" : "";
          throw new PolicyError(`policy ${source}, rule "${r.id}": ${(err as Error).message}${hint}`);
        }
        for (const t of trust.signers) signers.add(t.fingerprint);
      }
    }
    const name = r.match?.name;
    return {
      id: r.id,
      description: r.description,
      names: name === undefined ? null : typeof name === "string" ? [name] : name,
      programTypes: r.match?.programTypes ?? null,
      anyProgramType: r.match?.anyProgramType ?? null,
      action: r.action,
      requireSignature: r.requireSignature ?? true,
      signers,
      maxSize: r.maxSize ?? null,
    };
  });
  return { source, description: doc.description, rules };
}

export function loadPolicyFile(path: string): LoadPolicy {
  return policyFromJson(readJsonFile(path, "policy"), path);
}

export function defaultPolicyPath(): string {
  const fromEnv = process.env.CRYPTOSCOPE_BPF_POLICY;
  return fromEnv ? resolve(fromEnv) : resolve(REPO_ROOT, "bpf/policy.json");
}

const globCache = new Map<string, RegExp>();
function nameMatches(glob: string, name: string): boolean {
  let re = globCache.get(glob);
  if (!re) globCache.set(glob, (re = globToRegExp(glob)));
  return re.test(name);
}

/** The first rule that fits an object with this name and these program kinds, or null (default deny). */
export function matchRule(policy: LoadPolicy, name: string, kinds: readonly string[]): LoadRule | null {
  for (const rule of policy.rules) {
    if (rule.names && !rule.names.some((g) => nameMatches(g, name))) continue;
    if (rule.programTypes && (kinds.length === 0 || !kinds.every((k) => rule.programTypes!.includes(k)))) continue;
    if (rule.anyProgramType && !kinds.some((k) => rule.anyProgramType!.includes(k))) continue;
    return rule;
  }
  return null;
}
