// The TypeScript decoders agree with bpf/cryptoscope.h: a C program built here fills each record struct
// with known values and writes its bytes; the decoders must read the same values back. Also the ELF
// reader against readelf, and discovery's answers for the libraries installed here.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeLibRecord, decodeProcRecord, LIB_REC_HEADER, PROC_REC_SIZE } from "../capture/libprobes/records.ts";
import { decodeCrauRecord, CRAU_REC_SIZE } from "../capture/crau/records.ts";
import { classifyPath } from "../capture/libprobes/discovery.ts";
import { withElf } from "../capture/libprobes/elf.ts";
import { REPO_ROOT } from "../capture/bpf/native.ts";

const work = mkdtempSync(join(tmpdir(), "cs-records-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const C = `
#include <linux/types.h>
#include <stdio.h>
#include <string.h>
#include "cryptoscope.h"
static void out(const void *p, size_t n) { fwrite(&n, 4, 1, stdout); fwrite(p, n, 1, stdout); }
int main(void) {
  static unsigned char lib[sizeof(struct cs_lib_rec) + 5];
  struct cs_lib_rec *l = (struct cs_lib_rec *)lib;
  l->hdr.type = CS_REC_LIB; l->hdr.len = sizeof lib; l->hdr.ts_ns = 123456789012345ULL;
  l->pid = 4242; l->tid = 4243; l->kind = CS_LIB_CERT; l->lib_idx = 7; l->data_len = 5;
  l->obj = 0x7f0011223344ULL; l->value = -5; l->cgroup_id = 99887766; strcpy(l->comm, "client-x");
  memcpy(l->data, "\\x30\\x82\\x01\\x02\\x03", 5);
  out(lib, sizeof lib);
  struct cs_proc_rec p; memset(&p, 0, sizeof p);
  p.hdr.type = CS_REC_EXIT; p.hdr.len = sizeof p; p.hdr.ts_ns = 42; p.pid = 10; p.ppid = 1; p.uid = 1000; p.exit_code = 768;
  p.cgroup_id = 55; strcpy(p.comm, "sleep"); strcpy(p.filename, "/usr/bin/sleep");
  out(&p, sizeof p);
  struct cs_crau_rec c; memset(&c, 0, sizeof c);
  c.hdr.type = CS_REC_CRAU; c.hdr.len = sizeof c; c.hdr.ts_ns = 7; c.pid = 3; c.tid = 4; c.kind = CS_CRAU_BLOB; c.value_len = 3;
  c.context = 0xdeadbeefULL; c.parent = 0xfeedULL; c.value_int = 3; c.cgroup_id = 11; strcpy(c.comm, "emitter");
  strcpy(c.key, "tls::client_random"); memcpy(c.value, "\\x01\\x02\\x03", 3);
  out(&c, sizeof c);
  return 0;
}`;

function records(): Buffer[] {
  writeFileSync(join(work, "rec.c"), C);
  execFileSync("cc", ["-I", join(REPO_ROOT, "bpf"), "-o", join(work, "rec"), join(work, "rec.c")]);
  const b = execFileSync(join(work, "rec"));
  const out: Buffer[] = [];
  for (let o = 0; o < b.length; ) {
    const n = b.readUInt32LE(o);
    out.push(b.subarray(o + 4, o + 4 + n));
    o += 4 + n;
  }
  return out;
}

describe("record layouts", () => {
  const [lib, proc, crau] = records();

  it("cs_lib_rec", () => {
    expect(lib.length).toBe(LIB_REC_HEADER + 5);
    expect(decodeLibRecord(lib)).toEqual({
      tsNs: 123456789012345n, pid: 4242, tid: 4243, kind: 2, libIdx: 7, obj: 0x7f0011223344n, value: -5n, cgroupId: 99887766n,
      comm: "client-x", data: Buffer.from([0x30, 0x82, 0x01, 0x02, 0x03]),
    });
  });

  it("cs_proc_rec", () => {
    expect(proc.length).toBe(PROC_REC_SIZE);
    expect(decodeProcRecord(proc)).toEqual({ type: "exit", tsNs: 42n, pid: 10, ppid: 1, uid: 1000, exitCode: 768, cgroupId: 55n, comm: "sleep", filename: "/usr/bin/sleep" });
  });

  it("cs_crau_rec", () => {
    expect(crau.length).toBe(CRAU_REC_SIZE);
    expect(decodeCrauRecord(crau)).toEqual({ tsNs: 7n, pid: 3, tid: 4, kind: 4, context: 0xdeadbeefn, parent: 0xfeedn, valueInt: 3n, cgroupId: 11n,
      comm: "emitter", key: "tls::client_random", value: Buffer.from([1, 2, 3]) });
  });

  it("a short record is a clear error", () => {
    expect(() => decodeLibRecord(lib.subarray(0, 40))).toThrow(/shorter than its 72-byte header/);
    expect(() => decodeProcRecord(proc.subarray(0, 40))).toThrow(/expected 312/);
  });
});

describe("ELF reader and discovery on this host's libraries", () => {
  const libssl = execFileSync("ldconfig", ["-p"]).toString().match(/libssl\.so\.3 .*=> (\S+)/)![1];
  const libcrypto = libssl.replace("libssl", "libcrypto");
  const libgnutls = execFileSync("ldconfig", ["-p"]).toString().match(/libgnutls\.so\.30 .*=> (\S+)/)![1];

  it("symbols equal readelf's", () => {
    const names = ["SSL_set_connect_state", "SSL_set_accept_state", "SSL_version"];
    const ours = withElf(libssl, (e) => e.symbols((n) => names.includes(n)));
    const readelf = execFileSync("readelf", ["--dyn-syms", "-W", libssl]).toString();
    for (const n of names) {
      const m = readelf.match(new RegExp(`:\\s+([0-9a-f]+)\\s+(\\d+)\\s+FUNC\\s+\\S+\\s+\\S+\\s+\\d+\\s+${n}@`));
      expect(m, n).not.toBeNull();
      expect(ours.get(n)!.value).toBe(BigInt(`0x${m![1]}`));
      expect(ours.get(n)!.size).toBe(Number(m![2]));
    }
    expect(withElf(libssl, (e) => e.dynamic()).soname).toBe("libssl.so.3");
  });

  it("classifies libssl, libcrypto, libgnutls and the static OpenSSL in node, with versions", () => {
    const openssl = execFileSync("openssl", ["version"]).toString().match(/OpenSSL (\S+)/)![1];
    expect(classifyPath(libcrypto)).toMatchObject({ kind: "libcrypto", library: "openssl", soname: "libcrypto.so.3", version: openssl });
    expect(classifyPath(libssl)).toMatchObject({ kind: "libssl", library: "openssl", soname: "libssl.so.3" });
    const gnutls = execFileSync("gnutls-cli", ["--version"]).toString().match(/gnutls-cli (\S+)/)![1];
    expect(classifyPath(libgnutls)).toMatchObject({ kind: "gnutls", library: "gnutls", version: gnutls });
    const node = classifyPath(process.execPath)!;
    expect(node).toMatchObject({ kind: "openssl-static", library: "openssl", version: process.versions.openssl.replace(/\+.*$/, "") });
    // libssl's code inside node: contains the certificate-processing functions, not libcrypto's d2i_X509
    const syms = withElf(process.execPath, (e) => e.symbols((n) => ["tls_process_server_certificate", "d2i_X509", "PEM_ASN1_read_bio"].includes(n)));
    const inRange = (n: string) => syms.get(n)!.value >= node.codeRange!.lo && syms.get(n)!.value < node.codeRange!.hi;
    expect(inRange("tls_process_server_certificate")).toBe(true);
    expect(inRange("d2i_X509")).toBe(false);
    expect(inRange("PEM_ASN1_read_bio")).toBe(false);
    expect(classifyPath("/bin/true")).toBeNull();
  });
});
