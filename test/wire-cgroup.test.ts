// cgroup_skb on a child cgroup (WireCapture `cgroup`, CLI --cgroup), real peers over loopback in a
// namespace made here: a connection between two sockets of the watched subtree is copied once per
// direction (at its sender's egress, as on the root), while a peer outside the subtree is still copied
// where it arrives (the receiver's ingress), also when it reuses the tuple of a connection from inside.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cgroup2Root } from "../capture/bpf/kernelfs.ts";
import type { Row, TableName } from "../capture/lake/schema.ts";
import { HOOK_CGROUP, type SegmentRecord } from "../capture/wire/records.ts";
import { WireCapture } from "../capture/wire/capture.ts";
import { collect, parseSClient, type ClientRun } from "./helpers/peers.ts";
import { makeCert, waitForPort } from "./helpers/tls.ts";

class Rows {
  handshakes: Row[] = [];
  append(table: TableName, row: Row): void { if (table === "handshakes") this.handshakes.push(row); }
}

const INSIDE_PORT = 14470, OUTSIDE_PORT = 14471;

describe("wire capture on a child cgroup: loopback peers inside and outside the subtree", () => {
  const ns = `cswcg${process.pid % 100000}`;
  const cg = `${cgroup2Root()}/cs-wcg-${process.pid}`;
  const cert = makeCert("ecdsa", "cg.test");
  const servers: ChildProcess[] = [];

  /** argv in the namespace; inside the child cgroup when `inside` (moved there before it execs, so
   * every socket it makes belongs to it: ip netns exec remounts /sys, the shell cannot move itself). */
  function spawnIn(inside: boolean, argv: string[], input: string): ChildProcess {
    const child = spawn("ip", ["netns", "exec", ns, "sh", "-c", 'read go; exec "$@"', "sh", ...argv], { stdio: ["pipe", "pipe", "pipe"] });
    if (inside) writeFileSync(`${cg}/cgroup.procs`, String(child.pid));
    child.stdin!.write(`go\n${input}`);
    return child;
  }
  function run(inside: boolean, argv: string[], input = ""): Promise<ClientRun> {
    const child = spawnIn(inside, argv, input);
    child.stdin!.end();
    return collect(child);
  }
  const sClient = (port: number, sni: string) => ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-servername", sni];

  async function capture(ports: number[], fn: () => Promise<void>): Promise<{ rows: Row[]; recs: SegmentRecord[] }> {
    const sink = new Rows();
    const recs: SegmentRecord[] = [];
    const wire = new WireCapture({ sink, host: "cg", cgroup: cg, ports, onRecord: (r) => recs.push({ ...r, payload: Buffer.from(r.payload) }) });
    try {
      await fn();
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await wire.stop();
    }
    return { rows: sink.handshakes, recs };
  }
  const isHello = (r: SegmentRecord, type: 1 | 2) => r.payload[0] === 0x16 && r.payload[5] === type;

  beforeAll(async () => {
    try { execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" }); } catch {}
    execFileSync("ip", ["netns", "add", ns]);
    execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
    mkdirSync(cg, { recursive: true });
    for (const [inside, port] of [[true, INSIDE_PORT], [false, OUTSIDE_PORT]] as const) {
      servers.push(spawnIn(inside, ["openssl", "s_server", "-quiet", "-key", cert.key, "-cert", cert.cert, "-accept", `127.0.0.1:${port}`, "-www"], ""));
    }
    for (const port of [INSIDE_PORT, OUTSIDE_PORT]) await waitForPort(port, "127.0.0.1", 10_000, ns);
  }, 30_000);

  afterAll(async () => {
    for (const s of servers) s.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    try { execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" }); } catch {}
    try { rmdirSync(cg); } catch {}
  });

  it("client and server both inside: each handshake segment is copied once, at its sender's egress, and both sockets get their row", async () => {
    let c!: ClientRun;
    const { rows, recs } = await capture([INSIDE_PORT], async () => { c = await run(true, sClient(INSIDE_PORT, "both.test"), "Q\n"); });
    expect(parseSClient(c.out).version, c.out).toBe(0x0304);
    expect(rows.map((r) => r.role).sort()).toEqual(["client", "server"]);
    for (const r of rows) expect(r).toMatchObject({ version_chosen: 0x0304, sni: "both.test", client_addr: "127.0.0.1", server_port: INSIDE_PORT });
    expect(rows.find((r) => r.role === "client")!.pid).toBe(c.pid);
    const mine = recs.filter((r) => r.srcPort === INSIDE_PORT || r.dstPort === INSIDE_PORT);
    expect(mine.some((r) => r.dstPort === INSIDE_PORT && isHello(r, 1))).toBe(true);
    expect(mine.some((r) => r.srcPort === INSIDE_PORT && isHello(r, 2))).toBe(true);
    // no receiver copies: every record is an egress one, and no segment came twice
    expect(mine.map((r) => `${r.hook}/${r.dir}`).filter((h) => h !== `${HOOK_CGROUP}/1`)).toEqual([]);
    const seen = mine.map((r) => `${r.srcPort}>${r.dstPort}@${r.seq}`);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("server inside, client outside: the client's segments are copied at the server's ingress", async () => {
    let c!: ClientRun;
    const { rows, recs } = await capture([INSIDE_PORT], async () => { c = await run(false, sClient(INSIDE_PORT, "in-server.test"), "Q\n"); });
    expect(parseSClient(c.out).version, c.out).toBe(0x0304);
    expect(rows.length).toBe(1); // only the server's socket is watched
    expect(rows[0]).toMatchObject({ role: "server", version_chosen: 0x0304, sni: "in-server.test", client_addr: "127.0.0.1", server_port: INSIDE_PORT, exe: "/usr/bin/openssl" });
    const mine = recs.filter((r) => r.srcPort === INSIDE_PORT || r.dstPort === INSIDE_PORT);
    expect(mine.some((r) => r.dir === 0 && r.dstPort === INSIDE_PORT && isHello(r, 1))).toBe(true);
    expect(mine.some((r) => r.dir === 1 && r.srcPort === INSIDE_PORT && isHello(r, 2))).toBe(true);
  });

  it("client inside, server outside: the server's segments are copied at the client's ingress", async () => {
    let c!: ClientRun;
    const { rows, recs } = await capture([OUTSIDE_PORT], async () => { c = await run(true, sClient(OUTSIDE_PORT, "in-client.test"), "Q\n"); });
    expect(parseSClient(c.out).version, c.out).toBe(0x0304);
    expect(rows.length).toBe(1);
    expect(rows[0]).toMatchObject({ role: "client", pid: c.pid, version_chosen: 0x0304, sni: "in-client.test", server_port: OUTSIDE_PORT });
    const mine = recs.filter((r) => r.srcPort === OUTSIDE_PORT || r.dstPort === OUTSIDE_PORT);
    expect(mine.some((r) => r.dir === 1 && r.dstPort === OUTSIDE_PORT && isHello(r, 1))).toBe(true);
    expect(mine.some((r) => r.dir === 0 && r.srcPort === OUTSIDE_PORT && isHello(r, 2))).toBe(true);
  });

  it("a client outside reusing the tuple of a connection from inside is still copied at the server's ingress", async () => {
    // same source port both times; SO_LINGER 0 closes with a RST, so no TIME_WAIT holds the tuple
    const client = (sni: string) => ["python3", "-c", [
      "import socket, ssl, struct",
      "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))",
      `s.bind(('127.0.0.1', 42999)); s.connect(('127.0.0.1', ${INSIDE_PORT}))`,
      "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE",
      `t = ctx.wrap_socket(s, server_hostname='${sni}'); print('TLS', t.version()); s.close()`,
    ].join("\n")];
    const outs: string[] = [];
    const { rows } = await capture([INSIDE_PORT], async () => {
      outs.push((await run(true, client("reuse-in.test"))).out);
      await new Promise((r) => setTimeout(r, 100));
      outs.push((await run(false, client("reuse-out.test"))).out);
    });
    for (const o of outs) expect(o).toContain("TLS TLSv1.3");
    const server = rows.filter((r) => r.role === "server" && r.client_port === 42999).map((r) => r.sni).sort();
    expect(server).toEqual(["reuse-in.test", "reuse-out.test"]);
    expect(rows.filter((r) => r.role === "client").map((r) => r.sni)).toEqual(["reuse-in.test"]);
  });
});
