// crypto-auditing USDT: a C program built here with <sys/sdt.h> emits the probes the way GnuTLS's
// crypto-auditing build does (contexts are object addresses, key strings in a shared library the program
// has not touched yet). The stored events equal what it emitted, and crauQuery rebuilds the context tree.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDBInstance } from "@duckdb/node-api";
import { startLibraryProbes, type LibraryProbes } from "../capture/libprobes/index.ts";
import { openLake, type LakeWriter } from "../capture/lake/writer.ts";
import { crauQuery, CrauQueryError } from "../capture/crau/index.ts";
import { withElf } from "../capture/libprobes/elf.ts";
import { REPO_ROOT } from "../capture/bpf/native.ts";

// the agent loads only signed objects (capture/bpf/loader.ts): sign what `make -C bpf` rebuilt, as setup.sh does
function signBuiltObjects(): void {
  execFileSync(process.execPath, ["--import", "tsx", "capture/attest/setup-keys.ts", "--quiet"], { cwd: REPO_ROOT, stdio: "pipe" });
}

// The library holds the probes and their key strings; the program only calls it, after a line on stdin.
const LIB_C = `
#include <sys/sdt.h>
#include <stdint.h>
struct crau_data { const char *key_ptr; const void *value_ptr; unsigned long value_size; };
#define WORD(k, v) { (k), (const void *)(intptr_t)(v), (unsigned long)-2 }
#define STRING(k, v) { (k), (v), (unsigned long)-1 }

static char handshake_obj, verify_obj, kx_obj;

/* emits: handshake_client { version, ciphersuite, client_random } with spans verify and key_exchange */
void emit(void) {
  long hs = (long)&handshake_obj, vf = (long)&verify_obj, kx = (long)&kx_obj;
  static const unsigned char rnd[8] = { 1, 2, 3, 4, 5, 6, 7, 0xff };
  DTRACE_PROBE2(crypto_auditing, new_context, hs, 0L);
  DTRACE_PROBE3(crypto_auditing, string_data, hs, "name", "tls::handshake_client");
  DTRACE_PROBE3(crypto_auditing, word_data, hs, "tls::protocol_version", 0x0304L);
  DTRACE_PROBE3(crypto_auditing, word_data, hs, "tls::ciphersuite", 0x1302L);
  DTRACE_PROBE4(crypto_auditing, blob_data, hs, "tls::client_random", rnd, 8L);
  DTRACE_PROBE2(crypto_auditing, new_context, vf, hs);
  DTRACE_PROBE3(crypto_auditing, string_data, vf, "name", "tls::verify");
  DTRACE_PROBE3(crypto_auditing, word_data, vf, "tls::signature_algorithm", 0x0804L);
  struct crau_data more[2] = { STRING("pk::algorithm", "rsa"), WORD("pk::bits", 2048) };
  DTRACE_PROBE3(crypto_auditing, data, vf, more, 2L);
  struct crau_data k[3] = { STRING("name", "tls::key_exchange"), WORD("tls::group", 29), WORD("pk::bits", 253) };
  DTRACE_PROBE4(crypto_auditing, new_context_with_data, kx, hs, k, 3L);
}
`;
const MAIN_C = `
#include <stdio.h>
void emit(void);
int main(void) { char b[8]; if (!fgets(b, sizeof b, stdin)) return 1; emit(); puts("emitted"); return 0; }
`;

describe("crypto-auditing USDT probes", () => {
  const work = mkdtempSync(join(tmpdir(), "cs-crau-"));
  let lake: LakeWriter;
  let probes: LibraryProbes;
  const exe = join(work, "crau-emitter"), lib = join(work, "libcrauemit.so");

  beforeAll(async () => {
    writeFileSync(join(work, "lib.c"), LIB_C);
    writeFileSync(join(work, "main.c"), MAIN_C);
    execFileSync("cc", ["-O2", "-shared", "-fPIC", "-o", lib, join(work, "lib.c")]);
    execFileSync("cc", ["-O2", "-o", exe, join(work, "main.c"), lib, `-Wl,-rpath,${work}`]);
    signBuiltObjects();
    lake = await openLake({ root: join(work, "lake"), host: "test-host", flushIntervalMs: 3_600_000 });
    probes = await startLibraryProbes({ lake, host: "test-host", pids: [], crau: true }); // required: fails loudly here
  });
  afterAll(async () => {
    await probes?.stop();
    await lake?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("the ELF reader lists the SDT notes readelf shows", () => {
    const notes = withElf(lib, (e) => e.sdtNotes());
    const readelf = execFileSync("readelf", ["-n", lib]).toString();
    const names = [...readelf.matchAll(/Provider: (\S+)\s+Name: (\S+)/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(notes.map((n) => `${n.provider}:${n.name}`)).toEqual(names);
    expect(new Set(names)).toEqual(new Set(["crypto_auditing:new_context", "crypto_auditing:string_data", "crypto_auditing:word_data",
      "crypto_auditing:blob_data", "crypto_auditing:data", "crypto_auditing:new_context_with_data"]));
  });

  it("stores exactly the emitted events and crauQuery rebuilds the tree", async () => {
    const child = spawn(exe, [], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    await new Promise((r) => setTimeout(r, 100)); // the loader has mapped the library
    probes.scanPid(child.pid!);
    expect(probes.stats().crau_links).toBe(6);
    child.stdin!.end("go\n");
    await new Promise((r) => child.on("exit", r));
    expect(out).toBe("emitted\n");
    await new Promise((r) => setTimeout(r, 300)); // the consumer's poll interval
    await lake.flush();

    const db = await DuckDBInstance.create(":memory:");
    const con = await db.connect();
    const rows = (await con.runAndReadAll(`SELECT event, key, value_int, value_str, hex(value_blob) AS blob, context, parent_context, pid, comm, library, library_path
      FROM read_parquet('${join(work, "lake")}/library_events/**/*.parquet')
      WHERE source = 'usdt'`)).getRowObjects();
    con.closeSync();
    db.closeSync();
    // contexts are the addresses of three adjacent static chars (hs, vf, kx in declaration order)
    const ctxOf = (name: string) => rows.find((r) => r.event === "string_data" && r.value_str === name)!.context as bigint;
    const hs = ctxOf("tls::handshake_client"), vf = ctxOf("tls::verify"), kx = ctxOf("tls::key_exchange");
    expect(new Set([hs, vf, kx]).size).toBe(3);
    const simple = rows.map((r) => [r.event, r.key, r.value_int, r.value_str, r.blob || null, r.context === hs ? "hs" : r.context === vf ? "vf" : "kx",
      r.parent_context === null ? null : r.parent_context === 0n ? 0 : r.parent_context === hs ? "hs" : "?"]);
    // the lake clusters rows (by event, key): compare as a multiset; the tree below checks the structure
    const canon = (a: unknown[][]) => a.map((x) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).sort();
    expect(canon(simple)).toEqual(canon([
      ["new_context", null, null, null, null, "hs", 0],
      ["string_data", "name", null, "tls::handshake_client", null, "hs", null],
      ["word_data", "tls::protocol_version", 0x0304n, null, null, "hs", null],
      ["word_data", "tls::ciphersuite", 0x1302n, null, null, "hs", null],
      ["blob_data", "tls::client_random", 8n, null, "01020304050607FF", "hs", null],
      ["new_context", null, null, null, null, "vf", "hs"],
      ["string_data", "name", null, "tls::verify", null, "vf", null],
      ["word_data", "tls::signature_algorithm", 0x0804n, null, null, "vf", null],
      ["string_data", "pk::algorithm", null, "rsa", null, "vf", null],
      ["word_data", "pk::bits", 2048n, null, null, "vf", null],
      ["new_context", null, null, null, null, "kx", "hs"],
      ["string_data", "name", null, "tls::key_exchange", null, "kx", null],
      ["word_data", "tls::group", 29n, null, null, "kx", null],
      ["word_data", "pk::bits", 253n, null, null, "kx", null],
    ]));
    expect(rows.every((r) => r.pid === child.pid && r.comm === "crau-emitter" && r.library === "crypto_auditing" && r.library_path === lib)).toBe(true);

    const trees = await crauQuery(join(work, "lake"), { pid: child.pid! });
    expect(trees).toHaveLength(1);
    const t = trees[0];
    expect(t.context).toBe(BigInt(child.pid!).toString(16).padStart(16, "0") + hs.toString(16).padStart(16, "0"));
    expect(t.origin).toBe(Buffer.from(exe).toString("hex"));
    expect(t.events).toEqual({ name: "tls::handshake_client", "tls::protocol_version": 0x0304, "tls::ciphersuite": 0x1302, "tls::client_random": "01020304050607ff" });
    expect(t.spans.map((s) => s.events)).toEqual([
      { name: "tls::verify", "tls::signature_algorithm": 0x0804, "pk::algorithm": "rsa", "pk::bits": 2048 },
      { name: "tls::key_exchange", "tls::group": 29, "pk::bits": 253 },
    ]);
    // `cryptoscope query --crau` prints the same trees as crau-query's JSON
    const cli = execFileSync(join(import.meta.dirname, "../bin/cryptoscope"), ["query", "--crau", "--lake", join(work, "lake"), "--pid", String(child.pid)]).toString();
    expect(JSON.parse(cli)).toEqual(JSON.parse(JSON.stringify(trees)));
    expect(t.spans.every((s) => s.spans.length === 0 && s.start >= t.start && s.end <= t.end)).toBe(true);
    // JSON round trip: what `query --crau` prints
    expect(JSON.parse(JSON.stringify(trees))).toEqual(trees);
    expect(await crauQuery(join(work, "lake"), { name: "tls::handshake_server" })).toEqual([]);
  });

  it("a lake without library_events gives a clear error", async () => {
    await expect(crauQuery(join(work, "no-such-lake"))).rejects.toThrow(CrauQueryError);
    await expect(crauQuery(join(work, "no-such-lake"))).rejects.toThrow(/no library_events table under/);
  });
});
