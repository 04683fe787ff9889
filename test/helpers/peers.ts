// Real peers for tests: run a client to completion inside a netns, start servers, and read what the
// peers themselves say they negotiated (openssl s_client, gnutls-cli, curl -v, ssh -vv).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";

export interface ClientRun { pid: number; out: string; code: number | null }

/** Runs argv inside netns `ns` (ip netns exec execs, so the pid is the client's own), feeding `input`. */
export function runIn(ns: string | null, argv: string[], input = "", timeoutMs = 15_000): Promise<ClientRun> {
  const [cmd, args] = ns ? ["ip", ["netns", "exec", ns, ...argv]] : [argv[0]!, argv.slice(1)];
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  const run = collect(child, timeoutMs);
  child.stdin.end(input);
  return run;
}

/** A started client's stdout and stderr until it exits (killed after timeoutMs). */
export function collect(child: ChildProcess, timeoutMs = 15_000): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => { clearTimeout(t); resolve({ pid: child.pid!, out, code }); });
  });
}

export function startIn(ns: string | null, argv: string[]): ChildProcess {
  const [cmd, args] = ns ? ["ip", ["netns", "exec", ns, ...argv]] : [argv[0]!, argv.slice(1)];
  return spawn(cmd, args, { stdio: ["pipe", "ignore", "ignore"] });
}

/** OpenSSL's cipher names and IANA names → code point, from `openssl ciphers -V` itself. */
export function opensslSuiteTable(): Map<string, number> {
  const m = new Map<string, number>();
  const out = execFileSync("openssl", ["ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL"]).toString();
  for (const line of out.split("\n")) {
    const r = line.match(/0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+-\s+(\S+)/i) ?? line.match(/0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+(\S+)/i);
    if (!r) continue;
    const cp = (parseInt(r[1]!, 16) << 8) | parseInt(r[2]!, 16);
    m.set(r[3]!, cp);
    m.set(r[4]!, cp);
  }
  return m;
}

/** Group names as the peers print them → IANA supported_groups code point. */
export const GROUP_CODES: Record<string, number> = {
  X25519: 29, X448: 30, "prime256v1": 23, "P-256": 23, secp256r1: 23, SECP256R1: 23, "P-384": 24, secp384r1: 24, SECP384R1: 24,
  "P-521": 25, secp521r1: 25, SECP521R1: 25, FFDHE2048: 256, FFDHE3072: 257, ffdhe2048: 256, ffdhe3072: 257,
};
export const VERSION_CODES: Record<string, number> = { "TLSv1.3": 0x0304, "TLSv1.2": 0x0303, "TLSv1.1": 0x0302, TLSv1: 0x0301, "TLS1.3": 0x0304, "TLS1.2": 0x0303 };

/** What openssl s_client printed: Protocol, Cipher, Server Temp Key group. */
export function parseSClient(out: string): { version?: number; suite?: string; group?: string } {
  const version = out.match(/^\s*Protocol\s*: (\S+)/m)?.[1] ?? out.match(/^New, (TLSv[\d.]+), Cipher is/m)?.[1];
  const suite = out.match(/^\s*Cipher\s*: (\S+)/m)?.[1] ?? out.match(/Cipher is (\S+)/)?.[1];
  const tk = out.match(/^Server Temp Key: ([^,\n]+)/m)?.[1];
  const group = tk?.startsWith("ECDH") ? out.match(/^Server Temp Key: ECDH, ([^,\n]+)/m)?.[1] : tk?.startsWith("DH") ? undefined : tk;
  return { version: version ? VERSION_CODES[version] : undefined, suite, group };
}

/** gnutls-cli's "- Description: (TLS1.3-X.509)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)". */
export function parseGnutlsCli(out: string): { version?: number; group?: string; description?: string } {
  const d = out.match(/- Description: (.*)/)?.[1];
  if (!d) return {};
  const parts = [...d.matchAll(/\(([^)]*)\)/g)].map((m) => m[1]!);
  const version = VERSION_CODES[parts[0]!.split("-")[0]!];
  const kx = parts[1] ?? "";
  const group = kx.startsWith("ECDHE-") ? kx.slice(6) : kx.startsWith("DHE-") ? kx.slice(4) : undefined;
  return { version, group, description: d };
}

/** ssh -vv's "debug1: kex: algorithm: …", host key algorithm and client->server cipher. */
export function parseSshVerbose(out: string): { kex?: string; hostkey?: string; cipherC2s?: string; cipherS2c?: string; macC2s?: string } {
  const c2s = out.match(/kex: client->server cipher: (\S+) MAC: (\S+)/);
  return {
    kex: out.match(/kex: algorithm: (\S+)/)?.[1],
    hostkey: out.match(/kex: host key algorithm: (\S+)/)?.[1],
    cipherC2s: c2s?.[1],
    macC2s: c2s?.[2],
    cipherS2c: out.match(/kex: server->client cipher: (\S+)/)?.[1],
  };
}
