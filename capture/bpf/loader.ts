// Loads the agent's BPF objects only after the attestation policy allowed exactly those bytes
// (ML-DSA-signed manifest, see capture/attest/). Every decision is an agent_log row, allowed or not.
import { readFileSync } from "node:fs";
import { authorizeBpfObject, agentLogRow, defaultPolicyPath, loadPolicy, type LoadDecision, type LoadPolicy } from "../attest/index.ts";
import type { Row } from "../lake/schema.ts";
import { BpfObject, bpfObjectPath } from "./native.ts";

export interface AgentLog {
  append(table: "agent_log", row: Row): void;
}

export class BpfLoadRefused extends Error {
  constructor(readonly decision: LoadDecision) {
    super(`refused to load BPF object ${decision.objectName}: ${decision.reason}`);
  }
}

export interface LoadOptions {
  log?: AgentLog;
  host?: string;
  policy?: LoadPolicy;
  /** path of the .bpf.o instead of bpf/.output/<name>.bpf.o */
  path?: string;
}

let cachedPolicy: LoadPolicy | undefined;
function defaultPolicy(): LoadPolicy {
  cachedPolicy ??= loadPolicy(defaultPolicyPath());
  return cachedPolicy;
}

/** Opens bpf/.output/<name>.bpf.o if the load policy allows it; the kernel sees the very bytes that were checked. */
export function openVerifiedObject(name: string, opts: LoadOptions = {}): BpfObject {
  const path = opts.path ?? bpfObjectPath(name);
  const bytes = readFileSync(path);
  const decision = authorizeBpfObject({ objectPath: path, bytes, name, policy: opts.policy ?? defaultPolicy() });
  opts.log?.append("agent_log", agentLogRow(decision, { host: opts.host }) as Row);
  if (!decision.allow) throw new BpfLoadRefused(decision);
  return new BpfObject(bytes, name);
}
