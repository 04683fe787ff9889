// cgroup_skb on the root with excluded cgroups (WireCapture `excludeCgroups`, CLI --exclude-cgroup), real
// openssl peers over loopback in a namespace made here, in two sibling cgroups: one excluded, one not.
// On the root a loopback connection is copied at its two senders' egress; an excluded end copies nothing,
// so the direction it sends to a watched end must be copied at that end's ingress instead.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cgroup2Root } from "../capture/bpf/kernelfs.ts";
import type { Row, TableName } from "../capture/lake/schema.ts";
import { HOOK_CGROUP, type SegmentRecord } from "../capture/wire/records.ts";
import { WireCapture } from "../capture/wire/capture.ts";
import { ExcludedCgroupError, resolveExcludedCgroups } from "../capture/wire/excluded-cgroups.ts";
import { collect, parseSClient, type ClientRun } from "./helpers/peers.ts";
import { makeCert, waitForPort } from "./helpers/tls.ts";

class Rows {
  handshakes: Row[] = [];
  append(table: TableName, row: Row): void { if (table === "handshakes") this.handshakes.push(row); }
}

const BIN = join(import.meta.dirname, "../bin/cryptoscope");
const EXCLUDED_PORT = 14480, WATCHED_PORT = 14481, PRE_PORT = 14482;
// a TLS server that takes connections one after another (python3 ssl: the handshake starts when the client's comes)
const PY_SERVER = `import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[3]))); s.listen(8)
while True:
    c, _ = s.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True); t.sendall(b"hi"); t.close()
    except Exception:
        c.close()
`;
// a client that connects at once and starts TLS only when a line comes on stdin (a connection older than the capture)
const PY_CLIENT = `import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); print("connected", flush=True); sys.stdin.readline()
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname=sys.argv[2]); print(t.version(), flush=True); t.recv(2); t.close()
`;

describe("wire capture on the root with an excluded cgroup: loopback peers in an excluded and a watched sibling", () => {
  const ns = `cswex${process.pid % 100000}`;
  const parent = `${cgroup2Root()}/cs-wex-${process.pid}`;
  const cg = { excluded: `${parent}/excluded`, watched: `${parent}/watched` };
  const cert = makeCert("ecdsa", "ex.test");
  const servers: ChildProcess[] = [];

  /** argv in the namespace, moved into cgroup `where` before it execs (every socket it makes is there) */
  function spawnIn(where: keyof typeof cg, argv: string[], input: string): ChildProcess {
    const child = spawn("ip", ["netns", "exec", ns, "sh", "-c", 'read go; exec "$@"', "sh", ...argv], { stdio: ["pipe", "pipe", "pipe"] });
    writeFileSync(`${cg[where]}/cgroup.procs`, String(child.pid));
    child.stdin!.write(`go\n${input}`);
    return child;
  }
  function run(where: keyof typeof cg, argv: string[], input = ""): Promise<ClientRun> {
    const child = spawnIn(where, argv, input);
    child.stdin!.end();
    return collect(child);
  }
  const sClient = (port: number, sni: string) => ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-servername", sni];

  beforeAll(async () => {
    try { execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" }); } catch {}
    execFileSync("ip", ["netns", "add", ns]);
    execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
    mkdirSync(cg.excluded, { recursive: true });
    mkdirSync(cg.watched, { recursive: true });
    for (const [where, port] of [["excluded", EXCLUDED_PORT], ["watched", WATCHED_PORT]] as const) {
      servers.push(spawnIn(where, ["openssl", "s_server", "-quiet", "-key", cert.key, "-cert", cert.cert, "-accept", `127.0.0.1:${port}`, "-www"], ""));
    }
    servers.push(spawnIn("excluded", ["python3", "-c", PY_SERVER, cert.cert, cert.key, String(PRE_PORT)], ""));
    for (const port of [EXCLUDED_PORT, WATCHED_PORT, PRE_PORT]) await waitForPort(port, "127.0.0.1", 10_000, ns);
  }, 30_000);

  afterAll(async () => {
    for (const s of servers) s.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    try { execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" }); } catch {}
    for (const d of [cg.excluded, cg.watched, parent]) { try { rmdirSync(d); } catch {} }
  });

  it("no row or record from the excluded cgroup's sockets; the watched end of a mixed connection gets a whole row", async () => {
    const sink = new Rows();
    const recs: SegmentRecord[] = [];
    // relative to the root, as a user may give it; no start-up window: the excluded senders' marks alone
    // tell the watched receivers what to copy (no socket lookup)
    const wire = new WireCapture({ sink, host: "ex", excludeCgroups: [cg.excluded.slice(cgroup2Root().length + 1)], ports: [EXCLUDED_PORT, WATCHED_PORT],
      loopbackFallbackMs: 0, onRecord: (r) => recs.push({ ...r, payload: Buffer.from(r.payload) }) });
    const runs: Record<string, ClientRun> = {};
    try {
      runs["ex-ex"] = await run("excluded", sClient(EXCLUDED_PORT, "ex-ex.test"), "Q\n");
      runs["w-w"] = await run("watched", sClient(WATCHED_PORT, "w-w.test"), "Q\n");
      runs["ex-w"] = await run("excluded", sClient(WATCHED_PORT, "ex-w.test"), "Q\n");
      runs["w-ex"] = await run("watched", sClient(EXCLUDED_PORT, "w-ex.test"), "Q\n");
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await wire.stop();
    }
    for (const c of Object.values(runs)) expect(parseSClient(c.out).version, c.out).toBe(0x0304);
    const rolesOf = (sni: string) => sink.handshakes.filter((r) => r.sni === sni).map((r) => r.role).sort();
    // both ends excluded: nothing at all
    expect(rolesOf("ex-ex.test")).toEqual([]);
    // both ends watched (a sibling of the excluded cgroup): a row per socket
    expect(rolesOf("w-w.test")).toEqual(["client", "server"]);
    // one end excluded: only the watched end's row, with both directions (SNI from the excluded client's
    // ClientHello, the version from the excluded server's ServerHello)
    expect(rolesOf("ex-w.test")).toEqual(["server"]);
    expect(rolesOf("w-ex.test")).toEqual(["client"]);
    for (const sni of ["w-w.test", "ex-w.test", "w-ex.test"]) {
      for (const r of sink.handshakes.filter((x) => x.sni === sni)) expect(r).toMatchObject({ version_chosen: 0x0304, client_addr: "127.0.0.1" });
    }
    expect(sink.handshakes.find((r) => r.sni === "w-ex.test")!.pid).toBe(runs["w-ex"]!.pid);
    // no row without an SNI (a half connection) and no other rows on these ports
    expect(sink.handshakes.filter((r) => r.server_port === EXCLUDED_PORT || r.server_port === WATCHED_PORT).length).toBe(4);
    // the excluded server never sent a record: everything on its port was copied at the watched client's ingress
    const exPort = recs.filter((r) => r.hook === HOOK_CGROUP && (r.srcPort === EXCLUDED_PORT || r.dstPort === EXCLUDED_PORT));
    expect(exPort.some((r) => r.dir === 0 && r.srcPort === EXCLUDED_PORT && r.payload[0] === 0x16 && r.payload[5] === 2)).toBe(true);
    expect(exPort.filter((r) => r.dir === 1 && r.srcPort === EXCLUDED_PORT)).toEqual([]);
  }, 60_000);

  it("a connection opened before the capture started: its excluded server's flight is copied within the start-up window, not after it", async () => {
    /** A watched client connected to the excluded server before the capture starts; TLS once the capture runs. */
    const preOpened = async (sni: string, loopbackFallbackMs: number, waitMs: number) => {
      const client = spawnIn("watched", ["python3", "-c", PY_CLIENT, String(PRE_PORT), sni], "");
      const done = collect(client);
      await new Promise<void>((resolve, reject) => {
        let out = "";
        const t = setTimeout(() => reject(new Error(`client did not connect: ${out}`)), 10_000);
        client.stdout!.on("data", (d) => { out += d; if (out.includes("connected")) { clearTimeout(t); resolve(); } });
      });
      const sink = new Rows();
      const recs: SegmentRecord[] = [];
      const wire = new WireCapture({ sink, host: "ex", excludeCgroups: [cg.excluded], ports: [PRE_PORT], loopbackFallbackMs,
        onRecord: (r) => recs.push({ ...r, payload: Buffer.from(r.payload) }) });
      let run: ClientRun;
      try {
        await new Promise((r) => setTimeout(r, waitMs));
        client.stdin!.end("\n");
        run = await done;
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await wire.stop();
      }
      expect(run.out).toMatch(/TLSv1\.3/);
      const serverHello = recs.some((r) => r.dir === 0 && r.srcPort === PRE_PORT && r.payload[0] === 0x16 && r.payload[5] === 2);
      return { rows: sink.handshakes.filter((r) => r.sni === sni), recs, serverHello, run };
    };
    // the handshake within the window: the receiver asks for the sender socket, the row is whole
    const within = await preOpened("pre-within.test", 5_000, 0);
    expect(within.serverHello).toBe(true);
    expect(within.rows.map((r) => r.role)).toEqual(["client"]);
    expect(within.rows[0]).toMatchObject({ version_chosen: 0x0304, pid: within.run.pid });
    // after it (here: none): no mark was made at the SYN-ACK, so the excluded server's direction is not
    // copied (the blind spot); the watched client's own ClientHello still is, at its egress
    const after = await preOpened("pre-after.test", 0, 200);
    expect(after.serverHello).toBe(false);
    expect(after.recs.some((r) => r.dir === 1 && r.dstPort === PRE_PORT && r.payload[0] === 0x16 && r.payload[5] === 1)).toBe(true);
    expect(after.recs.filter((r) => r.srcPort === PRE_PORT)).toEqual([]);
  }, 60_000);

  it("a path that is no cgroup gives a one-line error, from WireCapture and from the CLI", () => {
    const tmp = mkdtempSync(join(tmpdir(), "cs-wex-"));
    try {
      const messages = [
        () => resolveExcludedCgroups([`${parent}/nope`]),
        () => resolveExcludedCgroups([tmp]),
        () => resolveExcludedCgroups([cgroup2Root()]),
        () => resolveExcludedCgroups([`${cgroup2Root()}/cgroup.procs`]),
        () => resolveExcludedCgroups(Array(5).fill(cg.excluded)),
        () => new WireCapture({ sink: new Rows(), host: "ex", excludeCgroups: [`${parent}/nope`] }),
      ].map((f) => { try { f(); return "no error"; } catch (e) { expect(e).toBeInstanceOf(ExcludedCgroupError); return (e as Error).message; } });
      expect(messages[0]).toMatch(/no such cgroup/);
      expect(messages[1]).toMatch(/not inside the cgroup v2 hierarchy/);
      expect(messages[2]).toMatch(/cgroup v2 root/);
      expect(messages[3]).toMatch(/not a cgroup directory/);
      expect(messages[4]).toMatch(/at most 4/);
      for (const m of messages) expect(m.split("\n")).toHaveLength(1);
      const lake = join(tmp, "lake");
      let err = "";
      try { execFileSync(BIN, ["capture", "--lake", lake, "--duration", "1", "--exclude-cgroup", `${parent}/nope`], { stdio: "pipe" }); } catch (e) { err = String((e as { stderr: Buffer }).stderr); }
      expect(err.trim()).toMatch(/^cryptoscope: --exclude-cgroup \S+\/nope: no such cgroup/);
      expect(err.trim().split("\n")).toHaveLength(1);
      // the CLI fails before the lake is made
      expect(() => execFileSync("ls", [lake], { stdio: "pipe" })).toThrow();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
