// Throwaway certificates and free ports for tests that run real TLS peers.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CertFiles { dir: string; cert: string; key: string }

/** A self-signed certificate made by the openssl CLI: kind "rsa" (2048) or "ecdsa" (P-256). */
export function makeCert(kind: "rsa" | "ecdsa" = "rsa", cn = "localhost", dir = mkdtempSync(join(tmpdir(), "cs-cert-"))): CertFiles {
  const cert = join(dir, `${kind}.crt`), key = join(dir, `${kind}.key`);
  const keyArgs = kind === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
  execFileSync("openssl", ["req", "-x509", ...keyArgs, "-nodes", "-keyout", key, "-out", cert, "-days", "30",
    "-subj", `/CN=${cn}`, "-addext", `subjectAltName=DNS:${cn},IP:127.0.0.1`], { stdio: "ignore" });
  return { dir, cert, key };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = 10_000, netns?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (netns) execFileSync("ip", ["netns", "exec", netns, "bash", "-c", `exec 3<>/dev/tcp/${host}/${port}`], { stdio: "ignore" });
      else execFileSync("bash", ["-c", `exec 3<>/dev/tcp/${host}/${port}`], { stdio: "ignore" });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
