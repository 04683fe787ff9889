// Library probes against real TLS clients (curl, openssl s_client, python3 ssl, node https, gnutls-cli, NSS
// tstclnt, a Go client built here) talking TLS 1.3 to openssl s_server: the certificate the probes copied is byte-identical
// to the served one, and group / cipher / signature match what the client itself reports. Rows land in a
// real lake. Needs root and this kernel: a missing feature fails here, it is never skipped.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { createHash, X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDBInstance } from "@duckdb/node-api";
import { startLibraryProbes, joinLibraryToHandshake, libraryHandshakeRow, type LibraryHandshake, type LibraryProbes } from "../capture/libprobes/index.ts";
import { openLake, type LakeWriter } from "../capture/lake/writer.ts";
import { monoNsToUtcMicros } from "../capture/libprobes/records.ts";
import { withElf } from "../capture/libprobes/elf.ts";
import { GO_SYMBOLS } from "../capture/libprobes/discovery.ts";
import { freePort, makeCert, waitForPort } from "./helpers/tls.ts";
import { REPO_ROOT } from "../capture/bpf/native.ts";

// the agent loads only signed objects (capture/bpf/loader.ts): sign what `make -C bpf` rebuilt, as setup.sh does
function signBuiltObjects(): void {
  execFileSync(process.execPath, ["--import", "tsx", "capture/attest/setup-keys.ts", "--quiet"], { cwd: REPO_ROOT, stdio: "pipe" });
}

interface Run { pid: number; out: string; code: number | null }

/** Spawns a client, optionally holding it on stdin until `release` (so a new binary is attached first). */
function run(cmd: string, args: string[], opts: { input?: string; hold?: boolean; env?: NodeJS.ProcessEnv } = {}): { pid: number; release: () => void; done: Promise<Run> } {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env });
  let out = "";
  child.stdin!.on("error", () => {}); // a client that exits without reading its input
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    // "close", not "exit": the output of a process that just exited may still be in the pipe (seen under load).
    child.on("close", (code) => resolve({ pid: child.pid!, out, code }));
  });
  const release = () => child.stdin!.end(opts.input ?? "");
  if (!opts.hold) release();
  return { pid: child.pid!, release, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("library probes with real TLS clients", () => {
  let server: ReturnType<typeof spawn>;
  let port: number;
  let servedSha: string;
  let servedDer: Buffer;
  let lake: LakeWriter;
  let lakeDir: string;
  let probes: LibraryProbes;
  const handshakes: LibraryHandshake[] = [];
  let goBinary: string;
  let goStripped: string;
  const work = mkdtempSync(join(tmpdir(), "cs-libprobes-"));

  const forPid = async (pid: number, ms = 3000): Promise<LibraryHandshake> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const h = handshakes.find((x) => x.pid === pid && x.certificates.length > 0);
      if (h) return h;
      if (Date.now() > deadline) throw new Error(`no library handshake with a certificate for pid ${pid}; seen: ${handshakes.map((x) => `${x.comm}/${x.pid}`).join(", ")}; stats ${JSON.stringify(probes.stats())}`);
      await sleep(50);
    }
  };

  beforeAll(async () => {
    const { cert, key } = makeCert("rsa", "localhost", work);
    servedDer = new X509Certificate(readFileSync(cert)).raw;
    servedSha = createHash("sha256").update(servedDer).digest("hex");
    port = await freePort();
    server = spawn("openssl", ["s_server", "-accept", `127.0.0.1:${port}`, "-cert", cert, "-key", key, "-www", "-quiet", "-tls1_3"], { stdio: "ignore" });
    await waitForPort(port);
    // the Go client: standard library only, built offline
    const src = join(work, "goclient");
    mkdirSync(src);
    writeFileSync(join(src, "go.mod"), "module goclient\n\ngo 1.19\n");
    writeFileSync(join(src, "main.go"), `package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"os"
)

func main() {
	bufio.NewReader(os.Stdin).ReadString('\\n') // held until the probes are attached to this new binary
	c, err := tls.Dial("tcp", os.Args[1], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	st := c.ConnectionState()
	fmt.Printf("version=%04x suite=%04x certs=%d\\n", st.Version, st.CipherSuite, len(st.PeerCertificates))
	c.Close()
}
`);
    goBinary = join(work, "goclient-bin");
    goStripped = join(work, "goclient-stripped");
    // GOCACHE is kept between runs: a cold standard-library build takes seconds
    const goEnv = { ...process.env, GOFLAGS: "-mod=mod", GOCACHE: join(tmpdir(), "cryptoscope-test-gocache"), GOPROXY: "off", CGO_ENABLED: "0" };
    execFileSync("go", ["build", "-o", goBinary, "."], { cwd: src, env: goEnv, stdio: "pipe" });
    execFileSync("go", ["build", "-ldflags=-s -w", "-o", goStripped, "."], { cwd: src, env: goEnv, stdio: "pipe" });
    signBuiltObjects();
    lakeDir = join(work, "lake");
    lake = await openLake({ root: lakeDir, host: "test-host", flushIntervalMs: 3_600_000 });
    // extended: cipher and version too, so they can be compared with what the clients report
    probes = await startLibraryProbes({ lake, host: "test-host", extended: true, onHandshake: (h) => handshakes.push(h) });
  });

  afterAll(async () => {
    await probes?.stop();
    await lake?.close();
    server?.kill();
    rmSync(work, { recursive: true, force: true });
  });

  const expectServedCert = (h: LibraryHandshake) => {
    expect(h.certificates.length).toBe(1);
    expect(createHash("sha256").update(h.certificates[0]).digest("hex")).toBe(servedSha);
    expect(h.certificates[0].equals(servedDer)).toBe(true);
  };

  it("openssl s_client: certificate, group, cipher and signature equal what s_client reports", async () => {
    const c = run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`], { input: "\n" });
    const r = await c.done;
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.library).toBe("openssl");
    expect(h.role).toBe("client");
    // "Server Temp Key: X25519, 253 bits", "Cipher is TLS_AES_256_GCM_SHA384", "Peer signature type: RSA-PSS", "Peer signing digest: SHA256"
    const tempKey = r.out.match(/Server Temp Key: (\w+)/)![1];
    expect(h.groupName!.toLowerCase()).toBe(tempKey.toLowerCase());
    expect(h.group).toBe({ X25519: 29, X448: 30 }[tempKey] ?? -1);
    const suite = r.out.match(/Cipher is (\S+)/)![1];
    expect(h.suite).toBe({ TLS_AES_128_GCM_SHA256: 0x1301, TLS_AES_256_GCM_SHA384: 0x1302, TLS_CHACHA20_POLY1305_SHA256: 0x1303 }[suite]);
    expect(r.out).toMatch(/Peer signature type: RSA-PSS/);
    expect(r.out).toMatch(/Peer signing digest: SHA256/);
    expect(h.rsaPss).toBe(true);
    expect(h.sigScheme).toBe(0x0804); // rsa_pss_rsae_sha256
    expect(h.version).toBe(0x0304);
  });

  it("after a HelloRetryRequest the group is the second key share's (s_client reports it)", async () => {
    const { cert, key } = makeCert("ecdsa", "localhost", work);
    const hrrPort = await freePort();
    const hrrServer = spawn("openssl", ["s_server", "-accept", `127.0.0.1:${hrrPort}`, "-cert", cert, "-key", key, "-www", "-quiet", "-tls1_3", "-groups", "P-256"], { stdio: "ignore" });
    try {
      await waitForPort(hrrPort);
      // the client's first key share is X25519; the server only takes P-256 and asks again
      const r = await run("openssl", ["s_client", "-connect", `127.0.0.1:${hrrPort}`, "-groups", "X25519:P-256"], { input: "\n" }).done;
      expect(r.out).toMatch(/Server Temp Key: ECDH, prime256v1, 256 bits/);
      const h = await forPid(r.pid);
      expect(h.groupName).toBe("prime256v1");
      expect(h.group).toBe(23);
      expect(h.records.filter((x) => x.kind === 3).length).toBe(2); // both key shares were generated
      expect(createHash("sha256").update(h.certificates[0]).digest("hex")).toBe(createHash("sha256").update(new X509Certificate(readFileSync(cert)).raw).digest("hex"));
      expect(r.out).toMatch(/Peer signature type: ECDSA/);
      expect(h.sigScheme).toBe(0x0403); // ecdsa_secp256r1_sha256
    } finally {
      hrrServer.kill();
    }
  });

  it("TLS 1.2 (ECDHE-RSA): group from the ServerKeyExchange, signature and certificate", async () => {
    const { cert, key } = makeCert("rsa", "localhost", work);
    const p12 = await freePort();
    const srv = spawn("openssl", ["s_server", "-accept", `127.0.0.1:${p12}`, "-cert", cert, "-key", key, "-www", "-quiet", "-tls1_2"], { stdio: "ignore" });
    try {
      await waitForPort(p12);
      const r = await run("openssl", ["s_client", "-connect", `127.0.0.1:${p12}`, "-tls1_2"], { input: "\n" }).done;
      expect(r.out).toMatch(/Protocol\s*: TLSv1\.2/);
      const h = await forPid(r.pid);
      expect(h.certificates[0].equals(new X509Certificate(readFileSync(cert)).raw)).toBe(true);
      const tempKey = r.out.match(/Server Temp Key: (\w+)/)![1];
      expect(h.group).toBe({ X25519: 29, X448: 30 }[tempKey]);
      expect(h.version).toBe(0x0303);
      expect(h.suite).toBeNull(); // a TLS 1.2 suite is not determined by the AEAD alone: the wire has it
      const sigType = r.out.match(/Peer signature type: (\S+)/)![1], digest = r.out.match(/Peer signing digest: (\S+)/)![1];
      const schemes: Record<string, number> = { "RSA-PSS/SHA256": 0x0804, "RSA/SHA256": 0x0401 };
      expect(h.sigScheme).toBe(schemes[`${sigType}/${digest}`]);
    } finally {
      srv.kill();
    }
  });

  it("the default probe set (no cipher, version or padding probes): TLS 1.3 inferred, RSA-PSS, group, certificate", async () => {
    const lake2 = await openLake({ root: join(work, "lake-default"), host: "test-host", flushIntervalMs: 3_600_000 });
    const got: LibraryHandshake[] = [];
    const p2 = await startLibraryProbes({ lake: lake2, host: "test-host", pids: [], crau: false, onHandshake: (h) => got.push(h) });
    try {
      const code = `import ssl,socket,sys
sys.stdin.readline()
c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE
s=c.wrap_socket(socket.create_connection(("127.0.0.1",${port}))); print(s.version())`;
      const c = run("python3", ["-c", code], { hold: true, input: "\n" });
      p2.scanPid(c.pid);
      await sleep(300); // the interpreter has started and mapped libssl
      c.release();
      const r = await c.done;
      expect(r.out.trim()).toBe("TLSv1.3");
      const deadline = Date.now() + 3000;
      while (!got.some((h) => h.pid === r.pid && h.certificates.length)) {
        if (Date.now() > deadline) throw new Error(`no handshake for ${r.pid}: ${JSON.stringify(p2.stats())}`);
        await sleep(50);
      }
      const h = got.find((x) => x.pid === r.pid && x.certificates.length)!;
      expectServedCert(h);
      expect(h).toMatchObject({ version: 0x0304, versionInferred: true, sigScheme: 0x0804, rsaPss: null, group: 29, cipherNid: null, role: "client" });
      const st = p2.stats();
      expect([st.hits_rsaPadding, st.hits_cipherNid, st.hits_version]).toEqual([0, 0, 0]);
    } finally {
      await p2.stop();
      await lake2.close();
    }
  });

  it("curl", async () => {
    const c = run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", `https://127.0.0.1:${port}/`]);
    const r = await c.done;
    expect(r.out).toBe("200");
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.group).toBe(29);
    expect(h.sigScheme).toBe(0x0804);
  });

  it("python3 ssl", async () => {
    const code = `import ssl,socket
c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE
s=c.wrap_socket(socket.create_connection(("127.0.0.1",${port})))
print(s.version(), s.cipher()[0], s.shared_ciphers() is None)`;
    const r = await run("python3", ["-c", code]).done;
    expect(r.out).toMatch(/^TLSv1\.3 (\S+)/);
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.suite).toBe({ TLS_AES_128_GCM_SHA256: 0x1301, TLS_AES_256_GCM_SHA384: 0x1302 }[r.out.split(" ")[1]]);
    expect(h.group).toBe(29);
  });

  it("node https.get (OpenSSL linked into the node binary)", async () => {
    const code = `require("https").get("https://127.0.0.1:${port}/",{rejectUnauthorized:false},r=>{const s=r.socket;console.log(s.getProtocol(),s.getCipher().standardName,s.getEphemeralKeyInfo().name);r.resume();r.on("end",()=>process.exit(0))})`;
    const r = await run(process.execPath, ["-e", code]).done;
    const [proto, cipher, group] = r.out.trim().split(" ");
    expect(proto).toBe("TLSv1.3");
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.libraryPath).toBe(process.execPath);
    expect(h.groupName!.toLowerCase()).toBe(group.toLowerCase());
    expect(h.suite).toBe({ TLS_AES_128_GCM_SHA256: 0x1301, TLS_AES_256_GCM_SHA384: 0x1302 }[cipher]);
  });

  it("gnutls-cli: certificate, group and signature equal its Description line", async () => {
    const r = await run("gnutls-cli", ["--insecure", "--port", String(port), "127.0.0.1"], { input: "" }).done;
    // - Description: (TLS1.3-X.509)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)
    const desc = r.out.match(/Description: \(TLS1\.3[^)]*\)-\((?:ECDHE|DHE)-([A-Z0-9]+)\)-\(([A-Z0-9-]+)\)/);
    expect(desc, r.out).not.toBeNull();
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.library).toBe("gnutls");
    expect(h.group).toBe({ SECP256R1: 23, SECP384R1: 24, SECP521R1: 25, X25519: 29, X448: 30 }[desc![1]]);
    expect(h.sigScheme).toBe({ "RSA-PSS-RSAE-SHA256": 0x0804, "RSA-PSS-RSAE-SHA384": 0x0805, "ECDSA-SECP256R1-SHA256": 0x0403 }[desc![2]]);
  });

  it("NSS tstclnt (libnss3-tools): certificate, group and signature scheme as it reports them", async () => {
    const db = join(work, "nssdb");
    mkdirSync(db);
    execFileSync("certutil", ["-N", "-d", `sql:${db}`, "--empty-password"]);
    // -o: accept the self-signed certificate; -Q: quit after the handshake
    const r = await run("tstclnt", ["-d", `sql:${db}`, "-h", "127.0.0.1", "-p", String(port), "-o", "-V", "tls1.3:tls1.3", "-Q", "-v"]).done;
    // "Server Auth: 2048-bit TLS 1.3, Key Exchange: 255-bit TLS 1.3", "Signature Scheme: rsa_pss_rsae_sha256"
    expect(r.out).toMatch(/SSL version 3\.4/);
    const kxBits = Number(r.out.match(/Key Exchange: (\d+)-bit/)![1]);
    const scheme = r.out.match(/Signature Scheme: (\S+)/)![1];
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.library).toBe("nss");
    expect(h.role).toBe("client");
    expect(h.group).toBe({ 255: 29, 256: 23, 384: 24, 521: 25 }[kxBits]);
    expect(h.sigScheme).toBe({ rsa_pss_rsae_sha256: 0x0804, rsa_pss_rsae_sha384: 0x0805, ecdsa_secp256r1_sha256: 0x0403 }[scheme]);
  });

  it("a Go client (crypto/tls, built here): certificate and curve", async () => {
    const c = run(goBinary, [`127.0.0.1:${port}`], { hold: true, input: "\n" });
    // a new binary: attached on its exec; the client waits on stdin until that happened
    const deadline = Date.now() + 5000;
    while (!probes.attachedFiles().some((f) => f.path === goBinary && f.links >= 5)) {
      if (Date.now() > deadline) throw new Error(`Go binary not attached: ${JSON.stringify(probes.attachedFiles())}`);
      await sleep(20);
    }
    const go = probes.attachedFiles().find((f) => f.path === goBinary)!;
    expect(go).toMatchObject({ kind: "go", library: "go", version: "go1.19.8" });
    c.release();
    const r = await c.done;
    expect(r.out).toMatch(/version=0304 suite=1301 certs=1/);
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.library).toBe("go");
    expect(h.group).toBe(29); // X25519: Go 1.19's first key share, accepted by s_server
    expect(h.version).toBe(0x0304);
    expect(h.sigScheme).toBe(0x0804); // RSA-PSS with SHA-256 over the CertificateVerify, as s_server signs
  });

  it("a stripped Go binary (-ldflags=-s -w, no .symtab) is probed through its .gopclntab", async () => {
    expect(execFileSync("readelf", ["-S", goStripped]).toString()).not.toMatch(/\.symtab/);
    // the pclntab names the same addresses the symbol table does
    const fromSymtab = withElf(goBinary, (e) => e.symbols((n) => GO_SYMBOLS.includes(n)));
    const fromPcln = withElf(goBinary, (e) => e.goFunctions((n) => GO_SYMBOLS.includes(n)));
    expect(fromSymtab.size).toBeGreaterThanOrEqual(5);
    for (const [n, sym] of fromSymtab) expect(fromPcln.get(n)?.value, n).toBe(sym.value);
    const c = run(goStripped, [`127.0.0.1:${port}`], { hold: true, input: "\n" });
    const deadline = Date.now() + 5000;
    while (!probes.attachedFiles().some((f) => f.path === goStripped && f.links >= 5)) {
      if (Date.now() > deadline) throw new Error(`stripped Go binary not attached: ${JSON.stringify(probes.attachedFiles())}`);
      await sleep(20);
    }
    c.release();
    const r = await c.done;
    expect(r.out).toMatch(/version=0304/);
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.group).toBe(29);
  });

  it("a binary visible only in another mount namespace (as in a container) is probed via /proc/PID/root and detached after exit", async () => {
    const dir = join(work, "ns-only");
    mkdirSync(dir);
    // a private tmpfs over `dir`: the agent's namespace sees an empty directory there
    const c = run("unshare", ["-m", "--propagation", "private", "sh", "-c", `mount -t tmpfs none ${dir} && cp ${goBinary} ${dir}/client-in-ns && exec ${dir}/client-in-ns 127.0.0.1:${port}`], { hold: true, input: "\n" });
    const path = `${dir}/client-in-ns`;
    const deadline = Date.now() + 5000;
    while (!probes.attachedFiles().some((f) => f.path === path)) {
      if (Date.now() > deadline) throw new Error(`not attached: ${JSON.stringify(probes.attachedFiles().map((f) => f.path))}`);
      await sleep(20);
    }
    expect(probes.attachedFiles().find((f) => f.path === path)).toMatchObject({ kind: "go", pids: [c.pid] });
    c.release();
    const r = await c.done;
    expect(r.out).toMatch(/version=0304/);
    const h = await forPid(r.pid);
    expectServedCert(h);
    expect(h.libraryPath).toBe(path);
    const gone = Date.now() + 3000;
    while (probes.attachedFiles().some((f) => f.path === path)) {
      if (Date.now() > gone) throw new Error("still attached after the process exited");
      await sleep(20);
    }
  });

  it("the join fills a wire row's certificate, signature and group; rows reach the lake", async () => {
    const r = await run("curl", ["-sk", "-o", "/dev/null", `https://127.0.0.1:${port}/`]).done;
    const h = await forPid(r.pid);
    const wireRow = { ts: monoNsToUtcMicros(h.firstTsNs) + 700n, pid: r.pid, role: "client", version_chosen: 0x0304, group_chosen: null, leaf_cert_sha256: null };
    const { row, matched } = joinLibraryToHandshake(wireRow, probes.recentHandshakes());
    // without a wire row: the handshakes row the library alone gives
    expect(libraryHandshakeRow(h, "test-host")).toMatchObject({ source: "uprobe", proto: "tls", pid: r.pid, comm: "curl", exe: "/usr/bin/curl",
      role: "client", group_chosen: 29, sig_alg_chosen: 0x0804, version_chosen: 0x0304, suite_chosen: 0x1302, cert_count: 1, leaf_cert_sha256: servedSha, library: "openssl" });
    expect(matched).toBe(h);
    expect(row.leaf_cert_sha256).toBe(servedSha);
    expect(row.cert_count).toBe(1);
    expect(row.sig_alg_chosen).toBe(0x0804);
    expect(row.group_chosen).toBe(29);
    expect(row.library).toBe("openssl");
    // another pid does not match
    expect(joinLibraryToHandshake({ ...wireRow, pid: 1 }, probes.recentHandshakes()).matched).toBeNull();

    await lake.flush();
    const db = await DuckDBInstance.create(":memory:");
    const con = await db.connect();
    const certs = (await con.runAndReadAll(`SELECT comm, sha256, source, subject, chain_position FROM read_parquet('${lakeDir}/certificates/**/*.parquet') WHERE pid = ${r.pid}`)).getRowObjects();
    expect(certs).toEqual([{ comm: "curl", sha256: servedSha, source: "uprobe", subject: "CN=localhost", chain_position: 0 }]);
    const ev = (await con.runAndReadAll(`SELECT event, key, value_int, value_str FROM read_parquet('${lakeDir}/library_events/**/*.parquet') WHERE pid = ${r.pid} AND source = 'uprobe' ORDER BY event, key`)).getRowObjects();
    const keys = new Set(ev.map((e) => `${e.event}/${e.key}`));
    for (const k of ["certificate/x509::sha256", "group/tls::group", "cipher/openssl::cipher_nid", "signature/verify::digest", "signature/rsa::padding", "signature/tls::signature_algorithm", "version/tls::protocol_version"]) expect(keys).toContain(k);
    expect(ev.find((e) => e.key === "tls::signature_algorithm")!.value_int).toBe(0x0804n);
    // every object was loaded through the attested loader, its decision in agent_log
    const loads = (await con.runAndReadAll(`SELECT DISTINCT object_name, decision FROM read_parquet('${lakeDir}/agent_log/**/*.parquet') ORDER BY object_name`)).getRowObjects();
    for (const name of ["crau", "libprobes", "proc"]) expect(loads).toContainEqual({ object_name: name, decision: "allow" });
    con.closeSync();
    db.closeSync();
  });

  it("CA-store loads are filtered in the kernel, and a handshake costs a handful of probe hits", () => {
    const s = probes.stats();
    expect(s.filtered_cert).toBeGreaterThan(0); // d2i_X509 from libcrypto's own CA loading never left the kernel
    expect(s.kernel_drops).toBe(0);
    expect(s.attach_errors).toBe(0);
  });
});
