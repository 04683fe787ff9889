// The paths wire.bpf.c takes to stay cheap, checked on real peers: a connection between two local sockets
// of one namespace is copied once per direction and still gives a row per socket; bulk data after a
// handshake (and a connection that is no handshake at all) is never copied; TLS after a plaintext
// STARTTLS exchange is still found; with cgroup_skb on the root, TC leaves local sockets to it and still
// captures traffic it forwards for others.
import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Row, TableName } from "../capture/lake/schema.ts";
import { HOOK_CGROUP, HOOK_TC, type SegmentRecord } from "../capture/wire/records.ts";
import { WireCapture, type WireCaptureOptions } from "../capture/wire/capture.ts";
import { createNetnsPair, type NetnsPair } from "./helpers/netns.ts";
import { parseSClient, runIn, startIn } from "./helpers/peers.ts";
import { makeCert, waitForPort } from "./helpers/tls.ts";

class Rows {
  handshakes: Row[] = [];
  append(table: TableName, row: Row): void { if (table === "handshakes") this.handshakes.push(row); }
}

/** Runs fn with a capture of its own; returns the rows and every record that left the kernel. */
async function capture(opts: Omit<WireCaptureOptions, "sink" | "host">, fn: () => Promise<void>): Promise<{ rows: Row[]; recs: SegmentRecord[]; wire: WireCapture }> {
  const sink = new Rows();
  const recs: SegmentRecord[] = [];
  const wire = new WireCapture({ ...opts, sink, host: "paths", onRecord: (r) => recs.push({ ...r, payload: Buffer.from(r.payload) }) });
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await wire.stop();
  }
  return { rows: sink.handshakes, recs, wire };
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

describe("wire capture: cheap paths (real peers)", () => {
  let ns: NetnsPair;
  let tmp: string;
  const servers: ChildProcess[] = [];
  const cert = makeCert("ecdsa", "paths.test");
  // a forwarding namespace between a third client namespace and the server namespace
  const fwd = { cli: `csfw${process.pid % 10000}c`, rtr: `csfw${process.pid % 10000}r` };

  beforeAll(async () => {
    ns = createNetnsPair("wpath");
    tmp = mkdtempSync(join(tmpdir(), "cs-wpath-"));
    for (const port of [14461, 14462, 14464]) {
      servers.push(startIn(ns.server, ["openssl", "s_server", "-quiet", "-key", cert.key, "-cert", cert.cert, "-accept", String(port), "-www"]));
    }
    // loopback inside the server's namespace: client and server sockets in one namespace
    servers.push(startIn(ns.server, ["openssl", "s_server", "-quiet", "-key", cert.key, "-cert", cert.cert, "-accept", "127.0.0.1:14460", "-www"]));
    // a plaintext bulk source, and a STARTTLS-style server (three plaintext lines, then TLS)
    writeFileSync(join(tmp, "servers.py"), [
      "import socket, ssl, sys, threading, time",
      "def bulk():",
      "    s = socket.create_server(('0.0.0.0', 14465))",
      "    while True:",
      "        c, _ = s.accept()",
      "        try: c.sendall(b'p' * (4 << 20))",
      "        except OSError: pass", // port probes hang up at once
      "        c.close()",
      "def starttls():",
      "    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])",
      "    s = socket.create_server(('0.0.0.0', 14463))",
      "    while True:",
      "        c, _ = s.accept(); f = c.makefile('rb')",
      "        try:",
      "            c.sendall(b'220 paths.test ESMTP\\r\\n'); f.readline(); c.sendall(b'250 STARTTLS\\r\\n'); f.readline(); c.sendall(b'220 go ahead\\r\\n')",
      "            t = ctx.wrap_socket(c, server_side=True); t.sendall(b'x' * (1 << 20)); t.close()",
      "        except (OSError, ssl.SSLError): c.close()",
      "def plain_or_tls():", // first byte 'P': 4 MiB of plaintext; else a TLS server
      "    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])",
      "    s = socket.create_server(('0.0.0.0', 14466))",
      "    while True:",
      "        c, _ = s.accept()",
      "        try:",
      "            if c.recv(1, socket.MSG_PEEK) == b'P': c.recv(1); c.sendall(b'p' * (4 << 20)); c.close()",
      "            else: t = ctx.wrap_socket(c, server_side=True); t.sendall(b'ok'); t.close()",
      "        except (OSError, ssl.SSLError): c.close()",
      "def preamble():", // 12 plaintext lines, one segment each, then a TLS server: a server direction left alone first
      "    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])",
      "    s = socket.create_server(('0.0.0.0', 14467))",
      "    while True:",
      "        c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)",
      "        try:",
      "            for i in range(12): c.sendall(b'%02d banner line\\r\\n' % i); time.sleep(0.01)",
      "            t = ctx.wrap_socket(c, server_side=True); t.sendall(b'ok'); t.close()",
      "        except (OSError, ssl.SSLError): c.close()",
      "threading.Thread(target=preamble, daemon=True).start()",
      "threading.Thread(target=plain_or_tls, daemon=True).start()",
      "threading.Thread(target=bulk, daemon=True).start()",
      "starttls()",
    ].join("\n"));
    servers.push(startIn(ns.server, ["python3", join(tmp, "servers.py"), cert.cert, cert.key]));
    for (const port of [14461, 14462, 14463, 14464, 14465, 14466, 14467]) await waitForPort(port, ns.serverAddr, 10_000, ns.client);
    await waitForPort(14460, "127.0.0.1", 10_000, ns.server);

    // cli ns --veth-- rtr ns --(the server ns' second veth)-- srv ns; rtr forwards
    for (const n of [fwd.cli, fwd.rtr]) { try { ip("netns", "del", n); } catch {} ip("netns", "add", n); ip("-n", n, "link", "set", "lo", "up"); }
    const a = `${fwd.cli}a`.slice(0, 15), b = `${fwd.rtr}a`.slice(0, 15), c = `${fwd.rtr}b`.slice(0, 15), d = `${fwd.rtr}s`.slice(0, 15);
    ip("link", "add", a, "netns", fwd.cli, "type", "veth", "peer", "name", b, "netns", fwd.rtr);
    ip("link", "add", c, "netns", fwd.rtr, "type", "veth", "peer", "name", d, "netns", ns.server);
    ip("-n", fwd.cli, "addr", "add", "10.77.1.2/24", "dev", a);
    ip("-n", fwd.rtr, "addr", "add", "10.77.1.1/24", "dev", b);
    ip("-n", fwd.rtr, "addr", "add", "10.77.2.1/24", "dev", c);
    ip("-n", ns.server, "addr", "add", "10.77.2.2/24", "dev", d);
    for (const [n, dev] of [[fwd.cli, a], [fwd.rtr, b], [fwd.rtr, c], [ns.server, d]] as const) ip("-n", n, "link", "set", dev, "up");
    ip("-n", fwd.cli, "route", "add", "default", "via", "10.77.1.1");
    ip("-n", ns.server, "route", "add", "10.77.1.0/24", "via", "10.77.2.1");
    execFileSync("ip", ["netns", "exec", fwd.rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    (fwd as Record<string, string>).rtrIf = b;
    await waitForPort(14464, "10.77.2.2", 10_000, fwd.cli);
    await waitForPort(14467, "10.77.2.2", 10_000, fwd.cli);
  }, 60_000);

  afterAll(() => {
    for (const s of servers) s.kill("SIGKILL");
    for (const n of [fwd.cli, fwd.rtr]) { try { ip("netns", "del", n); } catch {} }
    ns?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("two local sockets of one namespace: each direction is copied once (at its sender) and each socket gets its row", async () => {
    let run!: Awaited<ReturnType<typeof runIn>>;
    const { rows, recs } = await capture({ ports: [14460] }, async () => {
      run = await runIn(ns.server, ["openssl", "s_client", "-connect", "127.0.0.1:14460", "-servername", "paths.test"], "Q\n");
    });
    const peer = parseSClient(run.out);
    expect(peer.version, run.out).toBe(0x0304);
    expect(rows.map((r) => r.role).sort()).toEqual(["client", "server"]);
    for (const r of rows) expect(r).toMatchObject({ version_chosen: 0x0304, sni: "paths.test", client_addr: "127.0.0.1", server_port: 14460, exe: "/usr/bin/openssl" });
    expect(rows.find((r) => r.role === "client")!.pid).toBe(run.pid);
    expect(rows[0]!.flow_id).not.toBe(rows[1]!.flow_id);
    const mine = recs.filter((r) => r.srcPort === 14460 || r.dstPort === 14460);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.hook === HOOK_CGROUP && r.dir === 1)).toBe(true); // no receiver copies
  });

  it("bulk data is never copied: a 1 MiB TLS download after STARTTLS costs only the handshake bytes, a plaintext 4 MiB stream none", async () => {
    const client = [
      "import socket, ssl",
      `c = socket.create_connection(('${ns.serverAddr}', 14463)); f = c.makefile('rb')`,
      "f.readline(); c.sendall(b'EHLO me\\r\\n'); f.readline(); c.sendall(b'STARTTLS\\r\\n'); f.readline()",
      "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE",
      "t = ctx.wrap_socket(c, server_hostname='starttls.test'); v = t.version(); n = 0",
      "while True:",
      "    b = t.recv(65536)",
      "    if not b: break",
      "    n += len(b)",
      "print('TLS', v, n)",
      `p = socket.create_connection(('${ns.serverAddr}', 14465)); m = 0`,
      "while True:",
      "    b = p.recv(65536)",
      "    if not b: break",
      "    m += len(b)",
      "print('PLAIN', m)",
    ].join("\n");
    let out = "";
    const { rows, recs } = await capture({ ports: [14463, 14465] }, async () => {
      out = (await runIn(ns.client, ["python3", "-c", client])).out;
    });
    expect(out).toContain(`TLS TLSv1.3 ${1 << 20}`);
    expect(out).toContain(`PLAIN ${4 << 20}`);
    expect(rows.map((r) => r.role).sort()).toEqual(["client", "server"]);
    for (const r of rows) expect(r).toMatchObject({ server_port: 14463, version_chosen: 0x0304, sni: "starttls.test" });
    const tls = recs.filter((r) => r.srcPort === 14463 || r.dstPort === 14463);
    const copied = tls.reduce((a, r) => a + r.payload.length, 0);
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan(16 * 1024); // both sockets' copies of the hellos, nothing of the 1 MiB
    expect(recs.filter((r) => r.srcPort === 14465 || r.dstPort === 14465)).toEqual([]);
  });

  it("TC and cgroup_skb on the root together: local sockets are copied by cgroup_skb only, no second TC copy", async () => {
    let run!: Awaited<ReturnType<typeof runIn>>;
    const { rows, recs, wire } = await capture({ ports: [14461], ifaces: [`${ns.server}:${ns.serverIf}`] }, async () => {
      run = await runIn(ns.client, ["openssl", "s_client", "-connect", `${ns.serverAddr}:14461`, "-servername", "paths.test"], "Q\n");
    });
    expect(parseSClient(run.out).version, run.out).toBe(0x0304);
    expect(rows.map((r) => r.role).sort()).toEqual(["client", "server"]);
    expect(recs.some((r) => r.hook === HOOK_CGROUP)).toBe(true);
    expect(recs.filter((r) => r.hook === HOOK_TC)).toEqual([]);
    expect(wire.stats.dedupedTc).toBe(0);
  });

  it("TC with cgroup_skb on the root still captures traffic it forwards for others (no local socket)", async () => {
    const rtrIf = (fwd as Record<string, string>).rtrIf!;
    let run!: Awaited<ReturnType<typeof runIn>>;
    const { rows, recs, wire } = await capture({ ports: [14464], ifaces: [`${fwd.rtr}:${rtrIf}`] }, async () => {
      run = await runIn(fwd.cli, ["openssl", "s_client", "-connect", "10.77.2.2:14464", "-servername", "forwarded.test"], "Q\n");
    });
    expect(parseSClient(run.out).version, run.out).toBe(0x0304);
    // the router's interface copied the hellos (no socket there); the end sockets came through cgroup_skb
    const tc = recs.filter((r) => r.hook === HOOK_TC);
    expect(tc.some((r) => r.srcPort !== 14464 && r.payload[0] === 0x16 && r.payload[5] === 1)).toBe(true); // ClientHello
    expect(tc.some((r) => r.srcPort === 14464 && r.payload[0] === 0x16 && r.payload[5] === 2)).toBe(true); // ServerHello
    expect(rows.filter((r) => r.role).map((r) => r.role).sort()).toEqual(["client", "server"]);
    // the TC view of the same connection is written unless its socket rows came first (then deduplicated)
    expect(rows.filter((r) => !r.role).length + wire.stats.dedupedTc).toBe(1);
    for (const r of rows) expect(r).toMatchObject({ sni: "forwarded.test", client_addr: "10.77.1.2", server_addr: "10.77.2.2" });
  });

  it("TC: a forwarded bulk flow left alone as no handshake does not hide the next connection on the same tuple", async () => {
    const rtrIf = (fwd as Record<string, string>).rtrIf!;
    const client = [
      "import socket, ssl, time",
      "def conn():",
      "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      "    s.bind(('10.77.1.2', 41999)); s.connect(('10.77.2.2', 14466)); return s",
      "p = conn(); p.sendall(b'P'); n = 0",
      "while True:",
      "    b = p.recv(65536)",
      "    if not b: break",
      "    n += len(b)",
      "p.close(); print('PLAIN', n); time.sleep(0.2)",
      "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE",
      "t = ctx.wrap_socket(conn(), server_hostname='reuse.test'); print('TLS', t.version(), t.recv(2)); t.close()",
    ].join("\n");
    let out = "";
    const { rows, recs } = await capture({ ports: [14466], ifaces: [`${fwd.rtr}:${rtrIf}`] }, async () => {
      out = (await runIn(fwd.cli, ["python3", "-c", client])).out;
    });
    expect(out).toContain(`PLAIN ${4 << 20}`);
    expect(out).toContain("TLS TLSv1.3 b'ok'");
    // the plaintext megabytes were never copied; the TLS connection on the same 5-tuple was, both ways
    const tc = recs.filter((r) => r.hook === HOOK_TC && (r.srcPort === 41999 || r.dstPort === 41999));
    expect(tc.reduce((a, r) => a + r.payload.length, 0)).toBeLessThan(16 * 1024);
    expect(tc.some((r) => r.srcPort === 41999 && r.payload[0] === 0x16 && r.payload[5] === 1)).toBe(true); // ClientHello
    expect(tc.some((r) => r.srcPort === 14466 && r.payload[0] === 0x16 && r.payload[5] === 2)).toBe(true); // ServerHello
    expect(rows.some((r) => r.sni === "reuse.test" && r.client_port === 41999)).toBe(true);
  });

  it("TC: a direction left alone as no handshake does not hide its flow's other direction (the quiet check on headers in place)", async () => {
    // the server's 12 plaintext segments make its direction quiet at the router (max_unclassified 8): its
    // ServerHello is then not read, by design; the client's direction, silent until its ClientHello, is
    // still classified and copied. A quiet check that read the other direction's (or another flow's)
    // slot would leave the ClientHello out.
    const rtrIf = (fwd as Record<string, string>).rtrIf!;
    const client = [
      "import socket, ssl",
      "c = socket.create_connection(('10.77.2.2', 14467)); f = c.makefile('rb')",
      "lines = [f.readline() for i in range(12)]",
      "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE",
      "t = ctx.wrap_socket(c, server_hostname='quiet.test'); print('TLS', t.version(), len(lines), t.recv(2)); t.close()",
    ].join("\n");
    let out = "";
    const { recs } = await capture({ ports: [14467], ifaces: [`${fwd.rtr}:${rtrIf}`] }, async () => {
      out = (await runIn(fwd.cli, ["python3", "-c", client])).out;
    });
    expect(out).toContain("TLS TLSv1.3 12 b'ok'");
    const tc = recs.filter((r) => r.hook === HOOK_TC && (r.srcPort === 14467 || r.dstPort === 14467));
    expect(tc.some((r) => r.dstPort === 14467 && r.payload[0] === 0x16 && r.payload[5] === 1 && r.payload.includes(Buffer.from("quiet.test")))).toBe(true); // ClientHello
    expect(tc.filter((r) => r.srcPort === 14467)).toEqual([]); // the quiet server direction: nothing (not its banner, not its ServerHello)
  });
});
