// The agent as a whole (runAgent): wire capture, library probes and process tracker together. A TLS 1.3
// handshake hides the certificate from the wire; the row the agent writes still carries the leaf
// certificate's hash and the library, joined from the uprobes on the same process.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runAgent } from "../capture/agent.ts";
import { queryLake } from "./helpers/lake.ts";
import { runIn } from "./helpers/peers.ts";
import { freePort, makeCert, waitForPort } from "./helpers/tls.ts";

describe("runAgent: wire rows joined with library observations", () => {
  const tmp = mkdtempSync(join(tmpdir(), "cs-agent-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("a TLS 1.3 curl handshake: the wire row has the leaf certificate and library from the probes", async () => {
    const cert = makeCert("rsa", "join.test");
    const port = await freePort();
    const server = spawn("openssl", ["s_server", "-quiet", "-www", "-accept", `127.0.0.1:${port}`, "-cert", cert.cert, "-key", cert.key], { stdio: "ignore" });
    try {
      await waitForPort(port);
      let ready!: () => void;
      const isReady = new Promise<void>((r) => (ready = r));
      const work = isReady.then(async () => {
        const r = await runIn(null, ["curl", "-sk", "--resolve", `join.test:${port}:127.0.0.1`, `https://join.test:${port}/`]);
        expect(r.code).toBe(0);
        await new Promise((res) => setTimeout(res, 1500));
      });
      const s = await runAgent({ lake: join(tmp, "lake"), host: "agent", ports: [port], progress: "none", until: work, onReady: ready });
      await work;
      expect(s.handshakes).toBeGreaterThanOrEqual(2);
      expect(s.libraryEvents).toBeGreaterThan(0);
    } finally {
      server.kill();
    }
    const der = Buffer.from(readFileSync(cert.cert, "utf8").replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
    const rows = await queryLake(join(tmp, "lake"), (t) => `SELECT source, role, exe, version_chosen, leaf_cert_sha256, library FROM ${t("handshakes")} WHERE role = 'client'`);
    expect(rows).toEqual([{ source: "wire", role: "client", exe: "/usr/bin/curl", version_chosen: 0x0304,
      leaf_cert_sha256: createHash("sha256").update(der).digest("hex"), library: "openssl" }]);
    const log = await queryLake(join(tmp, "lake"), (t) => `SELECT count(*) FILTER (WHERE event = 'bpf_load' AND decision = 'allow') AS loads, count(*) FILTER (WHERE decision = 'deny') AS denied FROM ${t("agent_log")}`);
    expect(Number(log[0]!.loads)).toBeGreaterThanOrEqual(2); // wire + library probes (+ proc)
    expect(Number(log[0]!.denied)).toBe(0);
  });
});
