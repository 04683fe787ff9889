// Captures this test records itself: two network namespaces joined by a veth, tcpdump on the
// server side, real peers (openssl s_server/s_client TLS 1.2 and 1.3, gnutls-serv/gnutls-cli,
// curl, python3 ssl, OpenSSH sshd/ssh). After ingest, every handshake must say what the peer
// itself printed that it negotiated. A second pair with MTU 576 forces multi-segment hellos and
// certificate chains.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestFile, type RowSink } from "../capture/ingest.ts";
import type { Row, TableName } from "../capture/lake/schema.ts";
import { decodeFrame } from "../capture/pcap/decode.ts";
import { readCaptureFile } from "../capture/pcap/reader.ts";
import { createNetnsPair, type NetnsPair } from "./helpers/netns.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "cs-ingest-live-"));
const children: ChildProcess[] = [];
const pairs: NetnsPair[] = [];

function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const p of pairs) p.destroy();
  rmSync(tmp, { recursive: true, force: true });
}
afterAll(cleanup);

/** Start a long-running program in a namespace; resolves once its output matches `ready`. */
function startIn(ns: string, cmd: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn("ip", ["netns", "exec", ns, ...cmd], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`${cmd[0]} not ready: ${seen}`)), 15_000);
    const on = (b: Buffer) => {
      seen += b.toString();
      if (ready.test(seen)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on("data", on);
    child.stderr!.on("data", on);
    child.once("exit", (code) => reject(new Error(`${cmd[0]} exited (${code}): ${seen}`)));
  });
}

/** Run a client to its end in a namespace; stdout + stderr together (ssh ends in "Permission denied": fine). */
function runIn(ns: string, cmd: string[], input = ""): string {
  const r = spawnSync("ip", ["netns", "exec", ns, ...cmd], { input, timeout: 20_000, encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

// ---- what the peers' own names mean in code points ----

/** OpenSSL's cipher names → IANA code points, as `openssl ciphers -V` lists them. */
function opensslSuites(): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of execFileSync("openssl", ["ciphers", "-V", "ALL:COMPLEMENTOFALL"]).toString().split("\n")) {
    const x = /0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)/i.exec(line);
    if (x) m.set(x[3]!, parseInt(x[1]! + x[2]!, 16));
  }
  return m;
}

/** GnuTLS suite names → code points, as `gnutls-cli --list` lists them. */
function gnutlsSuites(): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of execFileSync("gnutls-cli", ["--list"]).toString().split("\n")) {
    const x = /^(TLS_\S+)\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})/i.exec(line);
    if (x) m.set(x[1]!, parseInt(x[2]! + x[3]!, 16));
  }
  return m;
}

const VERSIONS: Record<string, number> = { "TLSv1.3": 0x0304, "TLSv1.2": 0x0303, "TLS1.3": 0x0304, "TLS1.2": 0x0303 };
// Group names as OpenSSL's "Server Temp Key" and GnuTLS's description print them (RFC 8446/7919 numbers).
const GROUPS: Record<string, number> = {
  X25519: 29,
  X448: 30,
  prime256v1: 23,
  "P-256": 23,
  SECP256R1: 23,
  secp384r1: 24,
  SECP384R1: 24,
  "P-384": 24,
  FFDHE2048: 256,
  FFDHE3072: 257,
  FFDHE4096: 258,
};

function match(out: string, re: RegExp): RegExpExecArray {
  const m = re.exec(out);
  if (!m) throw new Error(`peer output lacks ${re}:\n${out}`);
  return m;
}

function field(out: string, re: RegExp): string {
  return match(out, re)[1]!.trim();
}

interface Expect {
  name: string;
  port: number;
  fields: Record<string, unknown>;
}

class Collect implements RowSink {
  rows: { table: TableName; row: Row }[] = [];
  append(table: TableName, row: Row): void {
    this.rows.push({ table, row });
  }
}

function makePki(dir: string): { chain: string; cert: string; key: string; leafDer: Buffer } {
  const o = (...a: string[]) => execFileSync("openssl", a, { cwd: dir, stdio: "ignore" });
  o("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=cryptoscope test CA");
  o("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=srv.test");
  writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=DNS:srv.test\n");
  o("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf");
  const leafDer = execFileSync("openssl", ["x509", "-in", path.join(dir, "srv.pem"), "-outform", "DER"]);
  return { chain: path.join(dir, "ca.pem"), cert: path.join(dir, "srv.pem"), key: path.join(dir, "srv.key"), leafDer };
}

/** Record one session of peers in a fresh namespace pair; returns the capture and what the peers said. */
async function record(tag: string, mtu: number | undefined, subnet: number, sessions: (p: NetnsPair, dir: string) => Promise<Expect[]>) {
  const pair = createNetnsPair(tag, { subnet, mtu, offload: false });
  pairs.push(pair);
  const dir = path.join(tmp, tag);
  mkdirSync(dir, { recursive: true });
  const pcap = path.join(dir, "capture.pcap");
  const dump = await startIn(pair.server, ["tcpdump", "-i", pair.serverIf, "--immediate-mode", "-U", "-s0", "-n", "-w", pcap, "tcp or udp"], /listening on/);
  const expects = await sessions(pair, dir);
  await new Promise((r) => setTimeout(r, 300)); // the last FINs
  await stop(dump);
  const sink = new Collect();
  const res = await ingestFile(pcap, sink, { host: "live" });
  expect(res.error).toBeUndefined();
  return { pcap, expects, rows: sink.rows };
}

const suitesOpenssl = opensslSuites();
const suitesGnutls = gnutlsSuites();
let pki: ReturnType<typeof makePki>;

/** The TLS/SSH peers of one run; every expectation is parsed from the peer's own output. */
async function peers(p: NetnsPair, dir: string, opts: { bigHello: boolean }): Promise<Expect[]> {
  const srv = p.serverAddr;
  const out: Expect[] = [];

  // openssl s_server + s_client, TLS 1.3 and 1.2 (ECDHE-RSA, chain of two).
  for (const [port, ver, extra] of [
    [4431, "-tls1_3", opts.bigHello ? ["-groups", "ffdhe3072:X25519"] : []],
    [4432, "-tls1_2", ["-cipher", "ECDHE-RSA-AES128-GCM-SHA256"]],
  ] as [number, string, string[]][]) {
    const server = await startIn(
      p.server,
      ["openssl", "s_server", "-accept", String(port), "-cert", pki.cert, "-key", pki.key, "-cert_chain", pki.chain, ver, ...(ver === "-tls1_3" ? extra : []), "-naccept", "1"],
      /ACCEPT/,
    );
    const o = runIn(p.client, ["openssl", "s_client", "-connect", `${srv}:${port}`, "-servername", "srv.test", ver, ...extra, "-showcerts"], "");
    await stop(server);
    const temp = field(o, /Server Temp Key: ([^,\n]+(?:, (?:prime256v1|secp384r1))?)/);
    const group = temp.startsWith("ECDH, ") ? GROUPS[temp.slice(6)] : temp.startsWith("DH") ? GROUPS.FFDHE3072 : GROUPS[temp];
    const fields: Record<string, unknown> = {
      sni: "srv.test",
      // "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" (the SSL-Session block waits for a ticket
      // that a client leaving at once may not read).
      version_chosen: VERSIONS[field(o, /New, (TLSv1\.\d), Cipher is/)],
      suite_chosen: suitesOpenssl.get(field(o, /New, TLSv1\.\d, Cipher is (\S+)/)),
      group_chosen: group,
    };
    if (ver === "-tls1_2") {
      fields.cert_count = (o.match(/^\s*\d+ s:/gm) ?? []).length;
      fields.leaf_cert_sha256 = createHash("sha256").update(pki.leafDer).digest("hex");
    }
    out.push({ name: `openssl ${ver}`, port, fields });
  }

  // gnutls-serv + gnutls-cli, default priorities (TLS 1.3) and TLS 1.2 only.
  for (const [port, prio] of [
    [4433, "NORMAL"],
    [4434, "NORMAL:-VERS-ALL:+VERS-TLS1.2"],
  ] as [number, string][]) {
    const server = await startIn(
      p.server,
      ["gnutls-serv", "-p", String(port), "--x509certfile", pki.cert, "--x509keyfile", pki.key, "--priority", prio],
      /listening/i,
    );
    const o = runIn(p.client, ["gnutls-cli", "--insecure", "--sni-hostname", "srv.test", "-p", String(port), "--priority", prio, srv], "");
    await stop(server);
    // - Description: (TLS1.3-X.509)-(ECDHE-X25519)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)
    const d = field(o, /- Description: (.*)/);
    const m = match(d, /^\((TLS1\.[23])[^)]*\)-\((?:ECDHE|DHE)-([A-Z0-9-]+)\)-\([^)]*\)-\(([A-Z0-9-]+)\)/);
    const fields: Record<string, unknown> = { sni: "srv.test", version_chosen: VERSIONS[m[1]!], group_chosen: GROUPS[m[2]!] };
    if (m[1] === "TLS1.3") fields.suite_chosen = [...suitesGnutls].find(([n]) => n.startsWith(`TLS_${m[3]!.replace(/-/g, "_")}_`))?.[1];
    out.push({ name: `gnutls ${prio}`, port, fields });
  }

  // curl (OpenSSL) against s_server -www.
  {
    const server = await startIn(p.server, ["openssl", "s_server", "-accept", "4435", "-cert", pki.cert, "-key", pki.key, "-www", "-naccept", "1"], /ACCEPT/);
    const o = runIn(p.client, ["curl", "-sk", "-v", "--resolve", `srv.test:4435:${srv}`, "https://srv.test:4435/", "-o", "/dev/null"]);
    await stop(server);
    // * SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384
    const m = match(o, /SSL connection using (\S+) \/ (\S+)/);
    const alpn = /ALPN[^\n]*offers ([^\n]+)/.exec(o)?.[1]?.trim().split(",");
    out.push({
      name: "curl",
      port: 4435,
      fields: { sni: "srv.test", version_chosen: VERSIONS[m[1]!], suite_chosen: suitesOpenssl.get(m[2]!), alpn_offered: alpn },
    });
  }

  // python3 ssl client.
  {
    const server = await startIn(p.server, ["openssl", "s_server", "-accept", "4436", "-cert", pki.cert, "-key", pki.key, "-naccept", "1"], /ACCEPT/);
    const script = [
      "import socket, ssl",
      "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE",
      `s = ctx.wrap_socket(socket.create_connection(("${srv}", 4436)), server_hostname="srv.test")`,
      "print(s.version(), s.cipher()[0]); s.close()",
    ].join("\n");
    const o = runIn(p.client, ["python3", "-c", script]).trim().split(/\s+/);
    await stop(server);
    out.push({ name: "python3 ssl", port: 4436, fields: { sni: "srv.test", version_chosen: VERSIONS[o[0]!], suite_chosen: suitesOpenssl.get(o[1]!) } });
  }

  // OpenSSH: a throwaway sshd with its own host key and config on a high port.
  {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_ed25519")]);
    const cfg = path.join(dir, "sshd_config");
    writeFileSync(
      cfg,
      [
        "Port 2222",
        `HostKey ${path.join(dir, "host_ed25519")}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        "UsePAM no",
        "StrictModes no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "AuthorizedKeysFile none",
        "",
      ].join("\n"),
    );
    mkdirSync("/run/sshd", { recursive: true }); // sshd's privilege-separation directory
    const server = await startIn(p.server, ["/usr/sbin/sshd", "-D", "-e", "-f", cfg], /Server listening on/);
    const o = runIn(p.client, [
      "ssh", "-vv", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
      "-o", "ConnectTimeout=10", "-p", "2222", `nobody@${srv}`, "true",
    ]);
    await stop(server);
    const c2s = match(o, /kex: client->server cipher: (\S+) MAC: (\S+)/);
    const s2c = match(o, /kex: server->client cipher: (\S+) MAC: (\S+)/);
    const mac = (m: string) => (m === "<implicit>" ? null : m); // AEAD: no MAC, a null column
    out.push({
      name: "openssh",
      port: 2222,
      fields: {
        ssh_client_banner: field(o, /Local version string (\S+(?: \S+)?)/),
        ssh_server_banner: `SSH-${field(o, /Remote protocol version ([\d.]+)/)}-${field(o, /remote software version (.+)/)}`,
        ssh_kex: field(o, /kex: algorithm: (\S+)/),
        ssh_hostkey: field(o, /kex: host key algorithm: (\S+)/),
        ssh_cipher_c2s: c2s[1],
        ssh_cipher_s2c: s2c[1],
        ssh_mac_c2s: mac(c2s[2]!),
        ssh_mac_s2c: mac(s2c[2]!),
      },
    });
  }
  return out;
}

function check(rows: { table: TableName; row: Row }[], expects: Expect[], clientAddr: string, serverAddr: string) {
  const hs = rows.filter((r) => r.table === "handshakes").map((r) => r.row);
  for (const e of expects) {
    const mine = hs.filter((h) => h.server_port === e.port);
    expect(mine, `${e.name} among ${hs.map((h) => `${h.client_port}->${h.server_port}`).join(" ")}`).toHaveLength(1);
    const h = mine[0]!;
    expect({ client: h.client_addr, server: h.server_addr, proto: h.proto }, e.name).toEqual({
      client: clientAddr,
      server: serverAddr,
      proto: e.port === 2222 ? "ssh" : "tls",
    });
    for (const [k, v] of Object.entries(e.fields)) {
      expect(v, `${e.name}: the peer's own ${k}`).not.toBeUndefined();
      expect(h[k] ?? null, `${e.name} ${k}`).toEqual(v);
    }
  }
}

/** Data segments the client sent before the server's first data: > 1 means a multi-segment hello. */
async function clientHelloSegments(pcap: string, port: number): Promise<number> {
  let n = 0;
  let serverSpoke = false;
  await readCaptureFile(pcap, (f) => {
    const s = decodeFrame(f.linkType, f.data, f.tsUs);
    if (!s || s.transport !== "tcp" || s.payload.length === 0) return;
    if (s.srcPort === port) serverSpoke = true;
    else if (s.dstPort === port && !serverSpoke) n++;
  });
  return n;
}

let run1: Awaited<ReturnType<typeof record>>;
let run2: Awaited<ReturnType<typeof record>>;

describe("live captures of real peers", () => {
  beforeAll(async () => {
    pki = makePki(mkdtempSync(path.join(tmp, "pki-")));
    run1 = await record("ing1", undefined, 171, (p, d) => peers(p, d, { bigHello: false }));
    run2 = await record("ing2", 576, 172, (p, d) => peers(p, d, { bigHello: true }));
  }, 180_000);

  it("each handshake says what the peers said they negotiated (MTU 1500)", () => {
    expect(run1.expects.length).toBe(7);
    check(run1.rows, run1.expects, pairs[0]!.clientAddr, pairs[0]!.serverAddr);
  });

  it("the same with MTU 576: multi-segment ClientHello (ffdhe3072 key share) and certificate chain", async () => {
    check(run2.rows, run2.expects, pairs[1]!.clientAddr, pairs[1]!.serverAddr);
    expect(await clientHelloSegments(run2.pcap, 4431)).toBeGreaterThan(1);
    // The TLS 1.2 server flight (two RSA certificates) spans several segments at this MTU.
    const tls12 = run2.rows.find((r) => r.table === "handshakes" && r.row.server_port === 4432)!.row;
    expect(tls12.cert_count).toBe(2);
    const certs = run2.rows.filter((r) => r.table === "certificates" && r.row.server_port === 4432).map((r) => r.row);
    expect(certs.map((c) => c.chain_position).sort()).toEqual([0, 1]);
    expect(certs.find((c) => c.chain_position === 0)!.subject).toBe("CN=srv.test");
    expect(certs.find((c) => c.chain_position === 1)!.subject).toBe("CN=cryptoscope test CA");
  });

  it("ingest agrees with tshark on the recorded files too", () => {
    for (const r of [run1, run2]) {
      const out = execFileSync("tshark", ["-n", "-r", r.pcap, "-d", "tcp.port==2222,ssh", "-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "tcp.dstport"], {
        stdio: ["ignore", "pipe", "ignore"],
      }).toString();
      const tlsPorts = [...new Set(out.split("\n").filter(Boolean).map(Number))].sort();
      const ours = r.rows.filter((x) => x.table === "handshakes" && x.row.proto === "tls").map((x) => x.row.server_port as number).sort();
      expect(ours).toEqual(tlsPorts);
    }
  });
});

