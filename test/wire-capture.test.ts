// Wire capture for real: wire.bpf.c on the cgroup v2 root sees real peers from Debian talking across a
// veth between two network namespaces made here. Each handshake row must equal what the peer itself says
// it negotiated, and name the right pid and executable, on both the client's and the server's socket.
import { execFileSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLake, type LakeWriter } from "../capture/lake/writer.ts";
import { WireCapture } from "../capture/wire/capture.ts";
import { createNetnsPair, type NetnsPair } from "./helpers/netns.ts";
import { GROUP_CODES, opensslSuiteTable, parseGnutlsCli, parseSClient, parseSshVerbose, runIn, startIn, type ClientRun } from "./helpers/peers.ts";
import { queryLake } from "./helpers/lake.ts";
import { makeCert, waitForPort } from "./helpers/tls.ts";

const CANARY = "cryptoscope-canary-7f3a9c1e-application-data";
const suites = opensslSuiteTable();

interface Scenario {
  name: string;
  port: number;
  server: string[];
  client: (host: string, port: number) => string[];
  input?: string;
  expect: (run: ClientRun) => Record<string, unknown>;
  clientExe: string;
  serverExe: string;
}

describe("wire capture (cgroup_skb on the cgroup v2 root, real peers in network namespaces)", () => {
  let ns: NetnsPair;
  let lake: LakeWriter;
  let lakeDir: string;
  let wire: WireCapture;
  const servers: ChildProcess[] = [];
  const runs = new Map<string, { run: ClientRun; serverPid: number }>();
  const copied: Buffer[] = [];
  let tmp: string;

  const rsa = makeCert("rsa", "rsa.test");
  const ec = makeCert("ecdsa", "ec.test");
  const S = (args: string[]) => ["openssl", "s_server", "-quiet", "-key", rsa.key, "-cert", rsa.cert, ...args];

  const scenarios: Scenario[] = [
    {
      name: "TLS 1.2 RSA key transport", port: 14431, server: S(["-accept", "14431", "-tls1_2"]),
      client: (h, p) => ["openssl", "s_client", "-connect", `${h}:${p}`, "-tls1_2", "-cipher", "AES128-GCM-SHA256", "-servername", "rsa.test"],
      expect: (r) => ({ version_chosen: parseSClient(r.out).version, suite_chosen: suites.get(parseSClient(r.out).suite!), sni: "rsa.test", cert_count: 1 }),
      clientExe: "/usr/bin/openssl", serverExe: "/usr/bin/openssl",
    },
    {
      name: "TLS 1.2 ECDHE-RSA", port: 14432, server: S(["-accept", "14432", "-tls1_2"]),
      client: (h, p) => ["openssl", "s_client", "-connect", `${h}:${p}`, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384", "-servername", "rsa.test"],
      expect: (r) => ({ version_chosen: parseSClient(r.out).version, suite_chosen: suites.get(parseSClient(r.out).suite!), group_chosen: GROUP_CODES[parseSClient(r.out).group!], sni: "rsa.test" }),
      clientExe: "/usr/bin/openssl", serverExe: "/usr/bin/openssl",
    },
    {
      name: "TLS 1.2 ECDHE-ECDSA", port: 14433, server: ["openssl", "s_server", "-quiet", "-key", ec.key, "-cert", ec.cert, "-accept", "14433", "-tls1_2"],
      client: (h, p) => ["openssl", "s_client", "-connect", `${h}:${p}`, "-tls1_2", "-servername", "ec.test"],
      expect: (r) => ({ version_chosen: parseSClient(r.out).version, suite_chosen: suites.get(parseSClient(r.out).suite!), group_chosen: GROUP_CODES[parseSClient(r.out).group!], sni: "ec.test" }),
      clientExe: "/usr/bin/openssl", serverExe: "/usr/bin/openssl",
    },
    {
      name: "TLS 1.3", port: 14434, server: S(["-accept", "14434"]),
      client: (h, p) => ["openssl", "s_client", "-connect", `${h}:${p}`, "-servername", "rsa.test"],
      input: `${CANARY}\n`,
      expect: (r) => ({ version_chosen: parseSClient(r.out).version, suite_chosen: suites.get(parseSClient(r.out).suite!), group_chosen: GROUP_CODES[parseSClient(r.out).group!], hello_retry: false }),
      clientExe: "/usr/bin/openssl", serverExe: "/usr/bin/openssl",
    },
    {
      name: "TLS 1.3 HelloRetryRequest", port: 14435, server: S(["-accept", "14435", "-groups", "P-256"]),
      client: (h, p) => ["openssl", "s_client", "-connect", `${h}:${p}`, "-groups", "X25519:P-256", "-servername", "rsa.test"],
      expect: (r) => ({ version_chosen: parseSClient(r.out).version, group_chosen: GROUP_CODES[parseSClient(r.out).group!], hello_retry: true }),
      clientExe: "/usr/bin/openssl", serverExe: "/usr/bin/openssl",
    },
    {
      name: "gnutls-cli to gnutls-serv", port: 14436,
      server: ["gnutls-serv", "--x509certfile", rsa.cert, "--x509keyfile", rsa.key, "-p", "14436", "--echo"],
      client: (h, p) => ["gnutls-cli", "--insecure", "-p", String(p), h, "--sni-hostname", "rsa.test"],
      expect: (r) => ({ version_chosen: parseGnutlsCli(r.out).version, group_chosen: GROUP_CODES[parseGnutlsCli(r.out).group!], sni: "rsa.test" }),
      clientExe: "/usr/bin/gnutls-cli", serverExe: "/usr/bin/gnutls-serv",
    },
    {
      name: "curl", port: 14437, server: S(["-accept", "14437", "-www"]),
      client: (h, p) => ["curl", "-sv", "-k", "--tlsv1.2", `https://${h}:${p}/`],
      expect: (r) => {
        const m = r.out.match(/SSL connection using (\S+) \/ (\S+)(?: \/ (\S+))?/)!;
        // curl 7.88 names version and suite (not the group) in its verbose output
        return { version_chosen: { "TLSv1.3": 0x0304, "TLSv1.2": 0x0303 }[m[1]!], suite_chosen: suites.get(m[2]!), alpn_offered: ["h2", "http/1.1"], sni: null };
      },
      clientExe: "/usr/bin/curl", serverExe: "/usr/bin/openssl",
    },
    {
      name: "python3 ssl", port: 14438, server: S(["-accept", "14438", "-tls1_2"]),
      client: (h, p) => ["/usr/bin/python3", "-c",
        `import socket,ssl\nc=ssl.create_default_context();c.check_hostname=False;c.verify_mode=ssl.CERT_NONE\ns=c.wrap_socket(socket.create_connection(("${h}",${p})),server_hostname="py.test")\nprint("VERSION",s.version());print("CIPHER",s.cipher()[0])`],
      expect: (r) => ({ version_chosen: { "TLSv1.3": 0x0304, "TLSv1.2": 0x0303 }[r.out.match(/VERSION (\S+)/)![1]!], suite_chosen: suites.get(r.out.match(/CIPHER (\S+)/)![1]!), sni: "py.test" }),
      clientExe: "/usr/bin/python3.11", serverExe: "/usr/bin/openssl",
    },
  ];

  beforeAll(async () => {
    ns = createNetnsPair("wire");
    tmp = mkdtempSync(join(tmpdir(), "cs-wire-"));
    lakeDir = join(tmp, "lake");
    lake = await openLake({ root: lakeDir, host: "wiretest" });
    wire = new WireCapture({ sink: lake, host: "wiretest", onRecord: (r) => copied.push(Buffer.from(r.payload)) });

    // OpenSSH server with a throwaway host key, in the server namespace
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(tmp, "hostkey")]);
    mkdirSync("/run/sshd", { recursive: true });
    const sshd = startIn(ns.server, ["/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-o", `HostKey=${join(tmp, "hostkey")}`, "-o", "Port=14422",
      "-o", "PidFile=none", "-o", "UsePAM=no", "-o", `ListenAddress=${ns.serverAddr}`]);
    servers.push(sshd);
    for (const sc of scenarios) {
      const srv = startIn(ns.server, sc.server);
      servers.push(srv);
      (sc as Scenario & { serverPid?: number }).serverPid = srv.pid;
    }
    await waitForPort(14422, ns.serverAddr, 10_000, ns.client);
    for (const sc of scenarios) await waitForPort(sc.port, ns.serverAddr, 10_000, ns.client);
    for (const sc of scenarios) {
      const run = await runIn(ns.client, sc.client(ns.serverAddr, sc.port), sc.input ?? "Q\n");
      runs.set(sc.name, { run, serverPid: (sc as Scenario & { serverPid?: number }).serverPid! });
    }
    const ssh = await runIn(ns.client, ["ssh", "-vv", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
      "-p", "14422", `nobody@${ns.serverAddr}`, "true"]);
    runs.set("ssh", { run: ssh, serverPid: sshd.pid! });
    await new Promise((r) => setTimeout(r, 300));
    await wire.stop();
    await lake.close();
  }, 120_000);

  afterAll(() => {
    for (const s of servers) s.kill("SIGKILL");
    ns?.destroy();
    if (tmp && !process.env.CS_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
    else if (tmp) console.log(`kept ${tmp}`);
  });

  // waitForPort's probe connections send nothing (TLS: no row) or only get sshd's banner (an incomplete
  // SSH row, rightly kept): the rows of the real handshake are the ones with both hellos/KEXINITs.
  const rowsFor = (port: number) =>
    queryLake(lakeDir, (t) => `SELECT * FROM ${t("handshakes")} WHERE server_port = ${port} AND (proto <> 'ssh' OR ssh_kex IS NOT NULL) ORDER BY role`);

  for (const name of ["TLS 1.2 RSA key transport", "TLS 1.2 ECDHE-RSA", "TLS 1.2 ECDHE-ECDSA", "TLS 1.3", "TLS 1.3 HelloRetryRequest", "gnutls-cli to gnutls-serv", "curl", "python3 ssl"]) {
    it(`${name}: captured values equal the peer's own report, on both sockets, with pid and exe`, async () => {
      const sc = scenarios.find((s) => s.name === name)!;
      const { run, serverPid } = runs.get(name)!;
      const want = sc.expect(run);
      for (const v of Object.values(want)) expect(v, `peer output:\n${run.out}`).not.toBeUndefined();
      const rows = await rowsFor(sc.port);
      expect(rows.map((r) => r.role)).toEqual(["client", "server"]);
      for (const row of rows) {
        for (const [k, v] of Object.entries(want)) expect(row[k], `${k} (${row.role})`).toEqual(v);
        expect(row.source).toBe("wire");
        expect(row.proto).toBe("tls");
        expect(row.client_addr).toBe(ns.clientAddr);
        expect(row.server_addr).toBe(ns.serverAddr);
      }
      const [client, server] = rows;
      expect(client!.pid).toBe(run.pid);
      expect(client!.exe).toBe(sc.clientExe);
      expect(server!.pid).toBe(serverPid);
      expect(server!.exe).toBe(sc.serverExe);
    });
  }

  it("TLS 1.2 certificates: the leaf on the wire is the served one, with its key type", async () => {
    const der = (pem: string) => Buffer.from(readFileSync(pem, "utf8").replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    const certs = await queryLake(lakeDir, (t) => `SELECT DISTINCT sha256, key_alg, key_bits, key_curve, server_port FROM ${t("certificates")} WHERE chain_position = 0 ORDER BY server_port`);
    const byPort = new Map(certs.map((c) => [Number(c.server_port), c]));
    expect(byPort.get(14431)).toMatchObject({ sha256: sha(der(rsa.cert)), key_alg: "rsa", key_bits: 2048 });
    expect(byPort.get(14433)).toMatchObject({ sha256: sha(der(ec.cert)), key_alg: "ec", key_curve: "P-256" });
  });

  it("OpenSSH: KEX, host key and ciphers equal what ssh -vv reports", async () => {
    const { run, serverPid } = runs.get("ssh")!;
    const want = parseSshVerbose(run.out);
    expect(want.kex, run.out).toBeDefined();
    const rows = await rowsFor(14422);
    expect(rows.map((r) => r.role)).toEqual(["client", "server"]);
    for (const row of rows) {
      expect(row.proto).toBe("ssh");
      expect(row.ssh_kex).toBe(want.kex);
      expect(row.ssh_hostkey).toBe(want.hostkey);
      expect(row.ssh_cipher_c2s).toBe(want.cipherC2s);
      expect(row.ssh_cipher_s2c).toBe(want.cipherS2c);
      expect(String(row.ssh_client_banner)).toMatch(/^SSH-2\.0-OpenSSH_9/);
    }
    expect(rows[0]!.pid).toBe(run.pid);
    expect(rows[0]!.exe).toBe("/usr/bin/ssh");
    expect(rows[1]!.exe).toBe("/usr/sbin/sshd");
    void serverPid; // sshd forks a per-connection child: the server row names that child, not the listener
  });

  it("application data never leaves the kernel: the canary is nowhere in the copied bytes or the lake", async () => {
    const { run } = runs.get("TLS 1.3")!;
    expect(run.out).toContain("Verify return code"); // the client did send the canary after the handshake
    expect(copied.length).toBeGreaterThan(0);
    for (const b of copied) expect(b.includes(CANARY)).toBe(false);
    // no TLS application_data record header at any record boundary of what was copied
    for (const table of ["handshakes", "certificates", "agent_log"]) {
      const hits = await queryLake(lakeDir, (t) => `SELECT count(*) AS n FROM ${t(table)} AS x WHERE position('${CANARY}' IN CAST(x AS VARCHAR)) > 0`);
      expect(Number(hits[0]!.n)).toBe(0);
    }
  });

  it("counts no drops", () => {
    expect(wire.stats.kernelDrops + wire.stats.userDrops).toBe(0);
    expect(wire.stats.badRecords).toBe(0);
  });
});
