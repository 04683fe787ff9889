// `cryptoscope ingest` as a user runs it: real lake on disk (read back with DuckDB), the summary
// line, a damaged file's one-line error with what was read before the damage kept, keyed hashing
// of identifiers, and the progress bar only on a terminal.
import { DuckDBInstance } from "@duckdb/node-api";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { closeSync, constants, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ingestFile, type RowSink } from "../capture/ingest.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const corpus = path.resolve(repo, "../shared/corpus");
const bin = path.join(repo, "bin/cryptoscope");
const tmp = mkdtempSync(path.join(tmpdir(), "cs-ingest-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(bin, ["ingest", ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** pcap records (no file header) of one IPv4/Ethernet capture with the client port moved by `by`. */
function shiftPorts(records: Uint8Array, by: number): Uint8Array {
  const b = Buffer.from(records);
  for (let at = 0; at + 16 <= b.length; ) {
    const len = b.readUInt32LE(at + 8);
    const f = at + 16;
    const l4 = f + 14 + (b[f + 14]! & 0x0f) * 4;
    for (const o of [l4, l4 + 2]) {
      const port = b.readUInt16BE(o);
      if (port !== 4433) b.writeUInt16BE(port + by, o);
    }
    at = f + len;
  }
  return b;
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
  }
}

async function countIn(file: string): Promise<{ handshakes: number; certificates: number; error?: Error }> {
  const n = { handshakes: 0, certificates: 0 };
  const sink: RowSink = { append: (t) => void (t === "handshakes" ? n.handshakes++ : n.certificates++) };
  const r = await ingestFile(file, sink, { host: "x" });
  return { ...n, error: r.error };
}

describe("cryptoscope ingest", () => {
  it("writes one handshakes row per handshake and the certificates, and says so in one line", async () => {
    const lake = path.join(tmp, "lake1");
    const files = ["generated/tls12_rsa_kx.pcap", "generated/ssh10_mlkem.pcap", "generated/quic_curl_h3.pcap", "public/FoxIO-LLC_ja4/tls-handshake.pcapng"].map(
      (f) => path.join(corpus, f),
    );
    let want = { handshakes: 0, certificates: 0 };
    for (const f of files) {
      const c = await countIn(f);
      want = { handshakes: want.handshakes + c.handshakes, certificates: want.certificates + c.certificates };
    }
    const r = cli([...files, "--lake", lake, "--host", "lab1"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(new RegExp(`^ingested 4 files \\(\\d+ packets\\): ${want.handshakes} handshakes \\(.*\\), ${want.certificates} certificates in `));
    const hs = await query(`select proto, transport, host, source, count(*)::INT as n, count(distinct flow_id)::INT as ids
      from read_parquet('${lake}/handshakes/**/*.parquet', hive_partitioning = false) group by all order by proto`);
    expect(hs.reduce((a, r) => a + (r.n as number), 0)).toBe(want.handshakes);
    for (const row of hs) {
      expect(row.host).toBe("lab1");
      expect(row.source).toBe("pcap");
      expect(row.ids).toBe(row.n);
    }
    const rsa = await query(`select sni, client_addr, client_port, server_addr, server_port, version_chosen, suite_chosen, cert_count, leaf_cert_sha256,
        epoch_us(ts)::BIGINT as us from read_parquet('${lake}/handshakes/**/*.parquet', hive_partitioning = false) where server_port = 4433 and proto = 'tls'`);
    expect(rsa).toHaveLength(1);
    expect(rsa[0]).toMatchObject({
      sni: "srv.e2.test",
      client_addr: "10.200.0.2",
      server_addr: "10.200.0.1",
      server_port: 4433,
      version_chosen: 0x0303,
      suite_chosen: 0x009d,
      cert_count: 2,
    });
    // ts = the connection's first packet (the SYN), to the microsecond.
    const syn = spawnSync("tshark", ["-r", path.join(corpus, "generated/tls12_rsa_kx.pcap"), "-c", "1", "-T", "fields", "-e", "frame.time_epoch"], {
      encoding: "utf8",
    }).stdout.trim();
    expect(String(rsa[0]!.us)).toBe(syn.replace(".", "").slice(0, 16));
    const certs = await query(`select chain_position, sha256, server_port, source, octet_length(der)::INT as len
      from read_parquet('${lake}/certificates/**/*.parquet', hive_partitioning = false) where server_port = 4433 order by chain_position`);
    expect(certs.map((c) => c.chain_position)).toEqual([0, 1]);
    expect(certs[0]!.sha256).toBe(rsa[0]!.leaf_cert_sha256);
    const total = await query(`select count(*)::INT as n from read_parquet('${lake}/certificates/**/*.parquet', hive_partitioning = false)`);
    expect(total[0]!.n).toBe(want.certificates);
  });

  it("a truncated file: one line naming file and byte offset, exit 1, what came before is in the lake", async () => {
    const lake = path.join(tmp, "lake2");
    const src = path.join(corpus, "public/FoxIO-LLC_ja4/tls-handshake.pcapng");
    const cut = path.join(tmp, "cut.pcapng");
    const bytes = readFileSync(src);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const inProcess = await countIn(cut);
    expect(inProcess.error?.message).toMatch(/cut\.pcapng: truncated pcapng record .* at byte \d+$/);
    expect(inProcess.handshakes).toBeGreaterThan(10);
    const good = path.join(corpus, "generated/ssh92.pcap");
    const r = cli([cut, good, "--lake", lake, "--host", "lab2"]);
    expect(r.code).toBe(1);
    const errLines = r.stderr.trim().split("\n");
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toBe(`cryptoscope: ${inProcess.error!.message}`);
    const offset = Number(/at byte (\d+)$/.exec(errLines[0]!)![1]);
    expect(offset).toBeLessThan(Math.floor(bytes.length * 0.6));
    expect(offset).toBeGreaterThan(0);
    const n = await query(`select count(*)::INT as n from read_parquet('${lake}/handshakes/**/*.parquet', hive_partitioning = false)`);
    expect(n[0]!.n).toBe(inProcess.handshakes + 1); // + the SSH handshake of the good file after it
    expect(r.stdout).toMatch(/1 file with errors/);
  });

  it("a file that is no capture, or is missing: one clear line each", () => {
    const junk = path.join(tmp, "notes.txt");
    writeFileSync(junk, "these are not packets\n");
    const r = cli([junk, path.join(tmp, "missing.pcap"), "--lake", path.join(tmp, "lake3")]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toEqual([
      `cryptoscope: ${junk}: not a pcap or pcapng file (magic 0x74686573) at byte 0`,
      `cryptoscope: ${path.join(tmp, "missing.pcap")}: cannot open (ENOENT)`,
    ]);
  });

  it("--hash-identifiers stores HMAC-SHA256 of SNI and addresses with a key kept in the lake", async () => {
    const lake = path.join(tmp, "lake4");
    const file = path.join(corpus, "generated/tls12_rsa_kx.pcap");
    expect(cli([file, "--lake", lake, "--hash-identifiers"]).code).toBe(0);
    const keyFile = path.join(lake, ".hash-identifiers.key");
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = Buffer.from(readFileSync(keyFile, "utf8").trim(), "hex");
    expect(key.length).toBe(32);
    const h = (v: string) => createHmac("sha256", key).update(v).digest("hex").slice(0, 32);
    const rows = await query(`select sni, client_addr, server_addr from read_parquet('${lake}/handshakes/**/*.parquet', hive_partitioning = false)`);
    expect(rows).toEqual([{ sni: h("srv.e2.test"), client_addr: h("10.200.0.2"), server_addr: h("10.200.0.1") }]);
    const certs = await query(`select distinct sni, server_addr from read_parquet('${lake}/certificates/**/*.parquet', hive_partitioning = false)`);
    expect(certs).toEqual([{ sni: h("srv.e2.test"), server_addr: h("10.200.0.1") }]);
    // The same key next time: hashes stay joinable across runs.
    const again = path.join(tmp, "again.pcap");
    copyFileSync(file, again);
    expect(cli([again, "--lake", lake, "--hash-identifiers"]).code).toBe(0);
    const both = await query(`select distinct sni from read_parquet('${lake}/handshakes/**/*.parquet', hive_partitioning = false)`);
    expect(both).toEqual([{ sni: h("srv.e2.test") }]);
    // A key of the user's own.
    const own = path.join(tmp, "own.key");
    writeFileSync(own, "11".repeat(32));
    const lake5 = path.join(tmp, "lake5");
    expect(cli([file, "--lake", lake5, "--hash-identifiers", "--hash-key", own]).code).toBe(0);
    const k2 = Buffer.alloc(32, 0x11);
    const r5 = await query(`select sni from read_parquet('${lake5}/handshakes/**/*.parquet', hive_partitioning = false)`);
    expect(r5).toEqual([{ sni: createHmac("sha256", k2).update("srv.e2.test").digest("hex").slice(0, 32) }]);
    expect(existsSync(path.join(lake5, ".hash-identifiers.key"))).toBe(false);
  });

  it("SIGINT: stops reading, still writes the connections seen so far, exits 130", async () => {
    const lake = path.join(tmp, "lake7");
    const fifo = path.join(tmp, "live.pcap");
    execFileSync("mkfifo", [fifo]);
    const child = spawn(bin, ["ingest", fifo, "--lake", lake], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    // A writer that never finishes: three whole connections, then nothing more for now.
    const w = openSync(fifo, constants.O_RDWR);
    const src = readFileSync(path.join(corpus, "generated/tls12_rsa_kx.pcap"));
    writeSync(w, src);
    const body = src.subarray(24);
    for (let i = 1; i < 3; i++) writeSync(w, shiftPorts(body, i));
    // The lake root appears once the command has opened the lake (its signal handler is set then).
    for (let i = 0; i < 300 && !existsSync(lake); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    const exit = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
    child.kill("SIGINT");
    const code = await exit;
    closeSync(w);
    expect(code).toBe(130);
    expect(out).toMatch(/ingested 1 file \(\d+ packets\): 3 handshakes \(tls 3\).*interrupted/);
    const n = await query(`select count(distinct client_port)::INT as n from read_parquet('${lake}/handshakes/**/*.parquet', hive_partitioning = false)`);
    expect(n[0]!.n).toBe(3);
  });

  it("shows a progress bar on a terminal only", () => {
    const file = path.join(corpus, "public/FoxIO-LLC_ja4/ssh2.pcapng");
    const lake = path.join(tmp, "lake6");
    // util-linux script(1) gives the command a pseudo-terminal.
    const tty = spawnSync("script", ["-qec", `${bin} ingest ${file} --lake ${lake}`, "/dev/null"], { encoding: "utf8", timeout: 120_000 });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/ingest \[[=-]+\] \d+%/);
    expect(tty.stdout).toMatch(/ingested 1 file/);
    const plain = cli([file, "--lake", lake]);
    expect(plain.stderr).toBe("");
    expect(plain.stdout).not.toMatch(/\[[=-]+\]/);
  });
});
