// The demo's built-in workload: real servers and clients from Debian in two network namespaces
// (csdemo-srv, csdemo-cli joined by a veth), with certificates made here (RSA and ECDSA, a legacy
// RSA-1024/SHA-1 one, one about to expire), TLS 1.2 and 1.3, OpenSSL, GnuTLS, python, curl, node,
// Go (1.23 from bookworm-backports: hybrid post-quantum X25519Kyber768 key exchange) and OpenSSH
// (sntrup761x25519, a post-quantum hybrid KEX). Everything it starts, it stops; the namespaces go too.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../bpf/native.ts";

const SRV = "csdemo-srv", CLI = "csdemo-cli";
const SRV_IP = "10.77.0.1", CLI_IP = "10.77.0.2";
const GO_BIN = join(REPO_ROOT, "build/demo-go");

interface Service { name: string; port: number; argv: string[]; env?: Record<string, string> }
export interface WorkloadStep { client: string; target: string; ok: boolean }

function sh(cmd: string, args: string[], opts: { input?: string; ns?: string } = {}): string {
  const [c, a] = opts.ns ? ["ip", ["netns", "exec", opts.ns, cmd, ...args]] : [cmd, args];
  return execFileSync(c, a, { input: opts.input, stdio: ["pipe", "pipe", "pipe"], timeout: 20_000 }).toString();
}

function cert(dir: string, name: string, keyArgs: string[], extra: string[] = []): { cert: string; key: string } {
  const c = join(dir, `${name}.crt`), k = join(dir, `${name}.key`);
  if (!existsSync(c)) {
    sh("openssl", ["req", "-x509", ...keyArgs, "-nodes", "-keyout", k, "-out", c, "-subj", `/O=cryptoscope demo/CN=${name}.demo`,
      "-addext", `subjectAltName=DNS:${name}.demo`, ...extra]);
  }
  return { cert: c, key: k };
}

/** An RSA-1024 leaf signed with SHA-1 by a demo CA: what old appliances still serve. */
function legacyLeaf(dir: string): { cert: string; key: string } {
  const ca = cert(dir, "demo-ca", ["-newkey", "rsa:2048", "-days", "365"]);
  const c = join(dir, "legacy.crt"), k = join(dir, "legacy.key"), csr = join(dir, "legacy.csr"), ext = join(dir, "legacy.ext");
  if (!existsSync(c)) {
    sh("openssl", ["req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", k, "-out", csr, "-subj", "/O=cryptoscope demo/CN=legacy.demo"]);
    writeFileSync(ext, "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:legacy.demo\n");
    sh("openssl", ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", c, "-days", "365", "-sha1", "-extfile", ext]);
  }
  return { cert: c, key: k };
}

export class DemoWorkload {
  private procs: ChildProcess[] = [];
  private services: Service[] = [];
  readonly steps: WorkloadStep[] = [];

  constructor(private readonly dir: string, private readonly log: (msg: string) => void = () => {}) {}

  /** Namespaces, certificates and servers; throws with a clear message when a piece is missing. */
  async start(): Promise<void> {
    this.stop();
    mkdirSync(this.dir, { recursive: true });
    for (const ns of [SRV, CLI]) sh("ip", ["netns", "add", ns]);
    sh("ip", ["link", "add", "csdemo0", "netns", SRV, "type", "veth", "peer", "name", "csdemo1", "netns", CLI]);
    for (const [ns, dev, ip] of [[SRV, "csdemo0", SRV_IP], [CLI, "csdemo1", CLI_IP]] as const) {
      sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
      sh("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", dev]);
      sh("ip", ["-n", ns, "link", "set", dev, "up"]);
    }
    const d = this.dir;
    const rsa = cert(d, "rsa", ["-newkey", "rsa:2048", "-days", "365"]);
    const ec = cert(d, "ecdsa", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-days", "365"]);
    const rsa3072 = cert(d, "rsa3072", ["-newkey", "rsa:3072", "-days", "365", "-sha384"]);
    const legacy = legacyLeaf(d);
    const expiring = cert(d, "expiring", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-days", "10"]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(d, "ssh_host_ed25519")], { input: "y\n", stdio: ["pipe", "ignore", "ignore"] });
    mkdirSync("/run/sshd", { recursive: true });
    const py = join(d, "https_server.py");
    writeFileSync(py, [
      "import http.server, ssl, sys",
      "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])",
      "h = http.server.HTTPServer(('0.0.0.0', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler)",
      "h.socket = ctx.wrap_socket(h.socket, server_side=True); h.serve_forever()",
    ].join("\n"));
    const S = (name: string, port: number, c: { cert: string; key: string }, args: string[] = []): Service =>
      ({ name, port, argv: ["openssl", "s_server", "-quiet", "-www", "-accept", String(port), "-cert", c.cert, "-key", c.key, ...args] });
    this.services = [
      S("openssl TLS 1.3 ECDSA", 8443, ec),
      S("openssl TLS 1.2 only, RSA", 8444, rsa, ["-tls1_2"]),
      S("openssl RSA-3072", 8445, rsa3072),
      S("openssl legacy RSA-1024/SHA-1, RSA key transport", 8446, legacy, ["-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"]),
      S("openssl certificate expiring in 10 days", 8447, expiring),
      { name: "gnutls-serv", port: 8453, argv: ["gnutls-serv", "--http", "-p", "8453", "--x509certfile", rsa.cert, "--x509keyfile", rsa.key] },
      { name: "python https", port: 8463, argv: ["/usr/bin/python3", py, "8463", ec.cert, ec.key] },
      { name: "sshd", port: 2222, argv: ["/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-o", `HostKey=${join(d, "ssh_host_ed25519")}`, "-o", "Port=2222", "-o", "PidFile=none", "-o", "UsePAM=no"] },
      { name: "sshd without a post-quantum KEX", port: 2223, argv: ["/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-o", `HostKey=${join(d, "ssh_host_ed25519")}`, "-o", "Port=2223", "-o", "PidFile=none", "-o", "UsePAM=no",
        "-o", "KexAlgorithms=curve25519-sha256,ecdh-sha2-nistp256"] },
    ];
    if (existsSync(join(GO_BIN, "server"))) this.services.push({ name: "go 1.23 https", port: 8473, argv: [join(GO_BIN, "server"), ":8473", ec.cert, ec.key] });
    for (const s of this.services) {
      const p = spawn("ip", ["netns", "exec", SRV, ...s.argv], { stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, ...s.env } });
      this.procs.push(p);
    }
    for (const s of this.services) await this.waitFor(s);
    this.log(`${this.services.length} servers up in ${SRV} (${SRV_IP})`);
  }

  private async waitFor(s: Service): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        sh("bash", ["-c", `exec 3<>/dev/tcp/${SRV_IP}/${s.port}`], { ns: CLI });
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`demo server "${s.name}" did not start on port ${s.port}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Runs a client to completion; `authFails`: ssh exits 255 once the (captured) key exchange is done. */
  private client(name: string, target: string, argv: string[], input = "", authFails = false): void {
    let ok = true;
    try { sh(argv[0]!, argv.slice(1), { ns: CLI, input }); } catch (e) { ok = authFails && (e as { status?: number }).status === 255; }
    this.steps.push({ client: name, target, ok });
  }

  /** One round of every client against the servers it fits. */
  round(): void {
    const url = (p: number, host = "demo") => `https://${host}:${p}/`;
    const resolve = (p: number, host: string) => ["--resolve", `${host}:${p}:${SRV_IP}`];
    for (const [p, host] of [[8443, "ecdsa.demo"], [8444, "rsa.demo"], [8445, "rsa3072.demo"], [8447, "expiring.demo"], [8453, "rsa.demo"], [8463, "ecdsa.demo"]] as const) {
      this.client("curl", host, ["curl", "-sk", "-o", "/dev/null", ...resolve(p, host), url(p, host)]);
    }
    this.client("curl", "legacy.demo", ["curl", "-sk", "-o", "/dev/null", "--ciphers", "AES128-SHA:@SECLEVEL=0", ...resolve(8446, "legacy.demo"), url(8446, "legacy.demo")]);
    this.client("openssl s_client", "rsa.demo", ["openssl", "s_client", "-connect", `${SRV_IP}:8444`, "-servername", "rsa.demo"], "Q\n");
    this.client("openssl s_client (HRR)", "ecdsa.demo", ["openssl", "s_client", "-connect", `${SRV_IP}:8443`, "-servername", "ecdsa.demo", "-groups", "X448:P-256"], "Q\n");
    this.client("gnutls-cli", "ecdsa.demo", ["gnutls-cli", "--insecure", "--logfile=/dev/null", "-p", "8443", SRV_IP, "--sni-hostname", "ecdsa.demo"], "");
    this.client("python3", "rsa.demo", ["/usr/bin/python3", "-c",
      `import ssl,urllib.request;c=ssl.create_default_context();c.check_hostname=False;c.verify_mode=ssl.CERT_NONE;urllib.request.urlopen("https://${SRV_IP}:8444/",context=c).read()`]);
    this.client("node", "ecdsa.demo", [process.execPath, "-e",
      `require("https").get({host:"${SRV_IP}",port:8463,servername:"ecdsa.demo",rejectUnauthorized:false},r=>{r.resume();r.on("end",()=>process.exit(0))}).on("error",()=>process.exit(1))`]);
    if (existsSync(join(GO_BIN, "client"))) {
      this.client("go 1.23", "ecdsa.demo", [join(GO_BIN, "client"), `https://${SRV_IP}:8473/`, `https://${SRV_IP}:8443/`]);
    }
    const ssh = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-p", "2222"];
    this.client("ssh", "sshd", [...ssh, `demo@${SRV_IP}`, "true"], "", true);
    this.client("ssh", "sshd without PQ KEX", [...ssh.slice(0, -1), "2223", `demo@${SRV_IP}`, "true"], "", true);
  }

  stop(): void {
    for (const p of this.procs) { try { p.kill("SIGKILL"); } catch {} }
    this.procs = [];
    for (const ns of [SRV, CLI]) {
      try { for (const pid of sh("ip", ["netns", "pids", ns]).split(/\s+/).filter(Boolean)) process.kill(Number(pid), "SIGKILL"); } catch {}
      try { sh("ip", ["netns", "del", ns]); } catch {}
    }
  }
}
