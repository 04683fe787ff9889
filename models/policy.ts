// Policy thresholds and rule severities: models/policy.json holds the defaults, `--policy FILE` overrides
// any subset of them (a partial file is merged over the defaults).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../capture/repo-root.ts";

export const SEVERITIES = ["info", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Rule {
  severity: Severity;
  enabled?: boolean;
}
export interface Policy {
  /** reference time for certificate expiry (ISO string); null = now */
  as_of: string | null;
  cert_expiry_days: number;
  min_rsa_bits: number;
  min_classical_bits: number;
  rules: Record<string, Rule>;
}

export class PolicyError extends Error {
  override name = "PolicyError";
}

export const DEFAULT_POLICY_FILE = join(REPO_ROOT, "models", "policy.json"); // from the root, not from this module's own URL: compiled, it runs from build/cli/

export function severityRank(s: string): number {
  const i = SEVERITIES.indexOf(s as Severity);
  if (i < 0) throw new PolicyError(`unknown severity "${s}" (use one of ${SEVERITIES.join(", ")})`);
  return i;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new PolicyError(`cannot read policy file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PolicyError(`policy file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

export function loadPolicy(file?: string): Policy {
  const base = readJson(DEFAULT_POLICY_FILE) as Policy;
  if (!file) return base;
  const o = readJson(file) as Partial<Policy>;
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new PolicyError(`policy file ${file} must hold a JSON object`);
  const merged: Policy = { ...base, ...o, rules: { ...base.rules } };
  for (const [k, v] of Object.entries(o.rules ?? {})) {
    if (!(k in base.rules)) throw new PolicyError(`policy file ${file}: unknown rule "${k}" (known: ${Object.keys(base.rules).join(", ")})`);
    merged.rules[k] = { ...base.rules[k], ...v };
  }
  for (const k of ["cert_expiry_days", "min_rsa_bits", "min_classical_bits"] as const) {
    if (typeof merged[k] !== "number" || !Number.isFinite(merged[k])) throw new PolicyError(`policy file ${file}: ${k} must be a number`);
  }
  for (const [k, r] of Object.entries(merged.rules)) {
    try {
      severityRank(r.severity);
    } catch (e) {
      throw new PolicyError(`policy file ${file}: rule ${k}: ${(e as Error).message}`);
    }
  }
  return merged;
}
