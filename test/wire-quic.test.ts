// QUIC through the wire capture. Debian 12 ships no QUIC client or server (curl 7.88 has no HTTP/3,
// aioquic is trixie-only), so the test replays real QUIC Initial datagrams — curl 8.14 + OpenSSL 3.5
// against aioquic, from the corpus — over UDP sockets between two namespaces: the cgroup_skb program,
// the record decoder, the Initial decryption and the parsers all run on real bytes, on real sockets.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLake } from "../capture/lake/writer.ts";
import { decodeFrame } from "../capture/pcap/decode.ts";
import { readCaptureFile } from "../capture/pcap/reader.ts";
import { WireCapture } from "../capture/wire/capture.ts";
import { createNetnsPair, type NetnsPair } from "./helpers/netns.ts";
import { queryLake } from "./helpers/lake.ts";
import { runIn, startIn } from "./helpers/peers.ts";

const PCAP = resolve(import.meta.dirname, "../../shared/corpus/generated/quic_curl_h3.pcap");

describe("wire capture of QUIC Initials (replayed real datagrams over real UDP sockets)", () => {
  let ns: NetnsPair;
  let tmp: string;
  beforeAll(() => { ns = createNetnsPair("wq"); tmp = mkdtempSync(join(tmpdir(), "cs-wq-")); });
  afterAll(() => { ns?.destroy(); if (tmp) rmSync(tmp, { recursive: true, force: true }); });

  it("sees the ClientHello and ServerHello of curl's HTTP/3 handshake, with both processes", async () => {
    const c2s: string[] = [], s2c: string[] = [];
    await readCaptureFile(PCAP, (f) => {
      const s = decodeFrame(f.linkType, f.data, f.tsUs);
      if (s?.transport !== "udp") return;
      (s.dstPort === 4443 ? c2s : s2c).push(Buffer.from(s.payload).toString("hex"));
    });
    expect(c2s.length).toBeGreaterThan(1);
    writeFileSync(join(tmp, "c2s.json"), JSON.stringify(c2s));
    writeFileSync(join(tmp, "s2c.json"), JSON.stringify(s2c));
    const py = (role: string) => [
      "import json, socket, sys, time",
      `c2s = [bytes.fromhex(h) for h in json.load(open("${tmp}/c2s.json"))]`,
      `s2c = [bytes.fromhex(h) for h in json.load(open("${tmp}/s2c.json"))]`,
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      role === "server"
        ? `s.bind(("${ns.serverAddr}", 4443)); s.settimeout(20); d, peer = s.recvfrom(65535)\nfor p in s2c: s.sendto(p, peer); time.sleep(0.01)`
        : `s.bind(("${ns.clientAddr}", 41285))\nfor p in c2s: s.sendto(p, ("${ns.serverAddr}", 4443)); time.sleep(0.01)\ns.settimeout(5)\nfor _ in s2c: s.recvfrom(65535)\nprint("ok")`,
    ].join("\n");
    const lake = await openLake({ root: join(tmp, "lake"), host: "quic" });
    const wire = new WireCapture({ sink: lake, host: "quic", ports: [4443] });
    const server = startIn(ns.server, ["/usr/bin/python3", "-c", py("server")]);
    await new Promise((r) => setTimeout(r, 300));
    const client = await runIn(ns.client, ["/usr/bin/python3", "-c", py("client")]);
    expect(client.out).toContain("ok");
    await new Promise((r) => setTimeout(r, 300));
    await wire.stop();
    await lake.close();
    server.kill();
    const rows = await queryLake(join(tmp, "lake"), (t) => `SELECT * FROM ${t("handshakes")} ORDER BY role`);
    expect(rows.map((r) => r.role)).toEqual(["client", "server"]);
    for (const r of rows) {
      // tshark's dissection of the same datagrams (quic_curl_h3.tshark.tsv)
      expect(r).toMatchObject({ proto: "quic", transport: "udp", sni: "srv.e2.test", version_chosen: 0x0304, suite_chosen: 0x1302, group_chosen: 29, quic_version: 1n,
        alpn_offered: ["h3"], key_share_groups: [4588, 29], exe: "/usr/bin/python3.11" });
    }
  });
});
