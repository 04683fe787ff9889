// A live capture writes a handshake's rows while its connection is still open, not when the capture stops
// or the flow idles out: the kernel marks the last record it copies of a direction (application data or an
// alert comes next, or a cap), and that ends the direction for the flow table as a FIN would. A TLS 1.3
// client direction (ClientHello, ChangeCipherSpec, then only encrypted records) gave the parsers no other
// sign that it was done, so its rows waited for the 30 s idle timeout. A direction that ends where nothing
// is left to copy gets a header-only record marked last.
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Row, TableName } from "../capture/lake/schema.ts";
import { WireCapture } from "../capture/wire/capture.ts";
import { startIn } from "./helpers/peers.ts";
import { freePort, makeCert, waitForPort } from "./helpers/tls.ts";

class Rows {
  handshakes: Row[] = [];
  append(table: TableName, row: Row): void {
    if (table === "handshakes") this.handshakes.push(row);
  }
}

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("wire capture: rows of an open connection come at once", () => {
  const cert = makeCert("ecdsa", "live.test");
  const children: ChildProcess[] = [];
  const sink = new Rows();
  let wire: WireCapture;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    const server = startIn(null, ["openssl", "s_server", "-quiet", "-accept", `127.0.0.1:${port}`, "-key", cert.key, "-cert", cert.cert]);
    children.push(server);
    await waitForPort(port);
    wire = new WireCapture({ sink, host: "livetest", ports: [port] });
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    await wire?.stop();
  });

  // -no_middlebox: a TLS 1.3 client without the compatibility ChangeCipherSpec, whose direction ends at a
  // segment with nothing to copy (the kernel sends a header-only record marked last)
  for (const [version, ...extra] of [["-tls1_3"], ["-tls1_3", "-no_middlebox"], ["-tls1_2"]]) {
    it(`a ${[version, ...extra].join(" ")} handshake's two rows arrive within 3 s while the client stays connected`, async () => {
      const before = sink.handshakes.length;
      // stdin stays open: s_client keeps the connection after the handshake, so no FIN, no close
      const client = startIn(null, ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, version!, ...extra, "-servername", "live.test"]);
      children.push(client);
      try {
        await until(`the rows of ${version}`, 3_000, () => sink.handshakes.length >= before + 2);
        expect(client.exitCode).toBeNull(); // still connected: the rows did not wait for the end
        const rows = sink.handshakes.slice(before);
        expect(rows.map((r) => r.role).sort()).toEqual(["client", "server"]);
        for (const r of rows) {
          expect(r.sni).toBe("live.test");
          expect(r.version_chosen).toBe(version === "-tls1_3" ? 0x0304 : 0x0303);
          expect(r.suite_chosen).toBeTypeOf("number");
        }
        expect(rows.find((r) => r.role === "client")?.pid).toBe(client.pid);
      } finally {
        client.kill("SIGKILL"); // s_server serves one connection at a time
      }
    });
  }
});
