// Assembling library records into handshakes, the signature-scheme derivations and the join rules, on
// records shaped like the BPF side's (the live paths are covered by libprobes-clients.test.ts).
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { goSignatureScheme, groupFromName, HandshakeAssembler, nssSignatureScheme, signatureScheme, type LibraryHandshake } from "../capture/libprobes/assemble.ts";
import { HandshakeJoiner, joinLibraryToHandshake } from "../capture/libprobes/join.ts";
import { LIB_KIND, monoNsToUtcMicros, type LibRecord } from "../capture/libprobes/records.ts";
import { makeCert } from "./helpers/tls.ts";

const rsaLeaf = new X509Certificate(readFileSync(makeCert("rsa").cert)).raw;
const ecLeaf = new X509Certificate(readFileSync(makeCert("ecdsa").cert)).raw;

const rec = (kind: number, obj: bigint, opts: Partial<LibRecord> = {}): LibRecord => ({
  tsNs: 1_000_000n, pid: 100, tid: 100, kind, libIdx: 0, obj, value: 0n, cgroupId: 1n, comm: "c", data: Buffer.alloc(0), ...opts,
});

function assemble(records: LibRecord[], engine = 1): { done: LibraryHandshake[]; asm: HandshakeAssembler } {
  const done: LibraryHandshake[] = [];
  const asm = new HandshakeAssembler(() => ({ engine, path: "/lib/x" }), (h) => done.push(h));
  records.forEach((r) => asm.add(r));
  return { done, asm };
}

describe("HandshakeAssembler", () => {
  it("groups by connection object, finishes on a new connection of the thread and on quiet time", () => {
    const { done, asm } = assemble([
      rec(LIB_KIND.handshake, 1n, { value: 1n }),
      rec(LIB_KIND.groupName, 1n, { data: Buffer.from("x25519\0") }),
      rec(LIB_KIND.cert, 1n, { data: rsaLeaf, value: BigInt(rsaLeaf.length) }),
      rec(LIB_KIND.handshake, 2n, { value: 1n, tsNs: 2_000_000n }),
    ]);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ obj: 1n, role: "client", group: 29, groupName: "x25519" });
    expect(done[0].certificates).toEqual([rsaLeaf]);
    asm.add(rec(LIB_KIND.groupName, 2n, { data: Buffer.from("prime256v1\0"), tsNs: 2_100_000n }));
    // quiet, but not past the certificate yet: a stalled handshake is kept (up to 5 s)
    asm.tick(2_100_000n + 1_000_000_000n);
    expect(done).toHaveLength(1);
    asm.add(rec(LIB_KIND.cert, 2n, { data: ecLeaf, value: BigInt(ecLeaf.length), tsNs: 1_100_000_000n }));
    asm.tick(1_100_000_000n + 299_000_000n);
    expect(done).toHaveLength(1);
    asm.tick(1_100_000_000n + 300_000_000n);
    expect(done).toHaveLength(2);
    expect(done[1]).toMatchObject({ obj: 2n, group: 23 });
    expect(done[1].certificates).toEqual([ecLeaf]);
    // a handshake that never gets that far is finished after 5 s of quiet
    asm.add(rec(LIB_KIND.handshake, 3n, { value: 2n, tsNs: 2_000_000_000n }));
    asm.add(rec(LIB_KIND.groupName, 3n, { data: Buffer.from("x25519\0"), tsNs: 2_000_000_000n }));
    asm.tick(2_000_000_000n + 4_999_000_000n);
    expect(done).toHaveLength(2);
    asm.tick(2_000_000_000n + 5_000_000_000n);
    expect(done).toHaveLength(3);
  });

  it("a reused object address after progress is a new handshake; markers alone are not reported", () => {
    const { done, asm } = assemble([
      rec(LIB_KIND.handshake, 7n, { value: 2n }),
      rec(LIB_KIND.groupName, 7n, { data: Buffer.from("x25519\0") }),
      rec(LIB_KIND.handshake, 7n, { value: 2n }),
      rec(LIB_KIND.groupName, 7n, { data: Buffer.from("x448\0") }),
      rec(LIB_KIND.handshake, 8n, { value: 1n, tid: 101 }),
    ]);
    asm.flushAll();
    expect(done.map((h) => [h.obj, h.role, h.group])).toEqual([[7n, "server", 29], [7n, "server", 30]]);
    expect(asm.markerOnly).toBe(1);
  });

  it("GnuTLS: gnutls_handshake called again on the same session (non-blocking I/O) continues the handshake", () => {
    const { done, asm } = assemble([
      rec(LIB_KIND.handshake, 5n),
      rec(LIB_KIND.eccBits, 5n, { value: 256n }),
      rec(LIB_KIND.handshake, 5n),
      rec(LIB_KIND.cert, 5n, { data: rsaLeaf, value: BigInt(rsaLeaf.length) }),
      rec(LIB_KIND.handshake, 5n),
    ], 2);
    asm.flushAll();
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ library: "gnutls", group: 23, role: "client" });
    expect(done[0].certificates).toHaveLength(1);
  });

  it("after a HelloRetryRequest the last group wins; truncated certificates are counted, not kept", () => {
    const { done, asm } = assemble([
      rec(LIB_KIND.handshake, 1n, { value: 1n }),
      rec(LIB_KIND.groupName, 1n, { data: Buffer.from("x25519\0") }),
      rec(LIB_KIND.groupName, 1n, { data: Buffer.from("secp384r1\0") }),
      rec(LIB_KIND.cert, 1n, { data: rsaLeaf.subarray(0, 100), value: 9000n }),
    ]);
    asm.flushAll();
    expect(done[0].group).toBe(24);
    expect(done[0].certificates).toEqual([]);
    expect(done[0].truncatedCerts).toBe(1);
  });

  it("a record outside any known handshake is dropped", () => {
    const { done, asm } = assemble([rec(LIB_KIND.groupName, 0n, { data: Buffer.from("x25519\0") })]);
    asm.flushAll();
    expect(done).toEqual([]);
  });
});

describe("signature schemes", () => {
  it("OpenSSL: digest + PSS padding + the leaf's key", () => {
    expect(signatureScheme("SHA2-256", true, rsaLeaf)).toBe(0x0804);
    expect(signatureScheme("SHA2-384", true, rsaLeaf)).toBe(0x0805);
    expect(signatureScheme("SHA256", false, rsaLeaf)).toBe(0x0401);
    expect(signatureScheme("SHA1", false, rsaLeaf)).toBe(0x0201);
    expect(signatureScheme("SHA2-256", false, ecLeaf)).toBe(0x0403);
    expect(signatureScheme("SHA2-384", false, ecLeaf)).toBe(0x0503);
    expect(signatureScheme("", false, undefined)).toBeNull();
    expect(signatureScheme("MD5", false, rsaLeaf)).toBeNull();
  });
  it("Go: sigType and crypto.Hash", () => {
    expect(goSignatureScheme((226 << 8) | 5, rsaLeaf)).toBe(0x0804);
    expect(goSignatureScheme((227 << 8) | 6, ecLeaf)).toBe(0x0503);
    expect(goSignatureScheme((225 << 8) | 7, rsaLeaf)).toBe(0x0601);
    expect(goSignatureScheme(228 << 8, undefined)).toBe(0x0807);
  });
  it("NSS: PKCS#11 mechanism, PSS hash mechanism, hash length", () => {
    expect(nssSignatureScheme((0x0dn << 24n) | (0x250n << 8n) | 32n, rsaLeaf)).toBe(0x0804);
    expect(nssSignatureScheme((0x1041n << 24n) | 48n, ecLeaf)).toBe(0x0503);
    expect(nssSignatureScheme(0x1057n << 24n, undefined)).toBe(0x0807);
  });
  it("group names", () => {
    expect(["x25519", "X25519", "prime256v1", "secp256r1", "P-384", "ffdhe2048", "nonsense"].map(groupFromName)).toEqual([29, 29, 23, 23, 24, 256, null]);
  });
});

describe("joinLibraryToHandshake", () => {
  const h = (over: Partial<LibraryHandshake>): LibraryHandshake => {
    const { done, asm } = assemble([
      rec(LIB_KIND.handshake, 1n, { value: 1n, tsNs: 5_000_000_000n }),
      rec(LIB_KIND.groupName, 1n, { data: Buffer.from("x25519\0"), tsNs: 5_000_000_000n }),
      rec(LIB_KIND.cert, 1n, { data: rsaLeaf, value: BigInt(rsaLeaf.length), tsNs: 5_000_000_000n }),
      rec(LIB_KIND.sigDigest, 1n, { data: Buffer.from("SHA2-256\0"), value: 2n, tsNs: 5_000_000_000n }),
      rec(LIB_KIND.rsaPadding, 1n, { value: 6n, tsNs: 5_000_000_000n }),
    ]);
    asm.flushAll();
    return { ...done[0], ...over };
  };
  const at = monoNsToUtcMicros(5_000_000_000n);

  it("fills only what the wire row lacks, from the same process and role, nearest in time", () => {
    const lib = h({});
    const { row, matched } = joinLibraryToHandshake({ ts: at + 1000n, pid: 100, role: "client", group_chosen: 23, library: null }, [lib]);
    expect(matched).toBe(lib);
    expect(row.group_chosen).toBe(23); // the wire's value stays
    expect(row.sig_alg_chosen).toBe(0x0804);
    expect(row.cert_count).toBe(1);
    expect(row.library).toBe("openssl");
    expect(joinLibraryToHandshake({ ts: at, pid: 100, role: "server" }, [lib]).matched).toBeNull();
    expect(joinLibraryToHandshake({ ts: at + 4_000_000n, pid: 100 }, [lib]).matched).toBeNull();
    expect(joinLibraryToHandshake({ ts: at, pid: null }, [lib]).matched).toBeNull();
    const later = h({ firstTsNs: 5_500_000_000n });
    expect(joinLibraryToHandshake({ ts: at + 450_000n, pid: 100 }, [lib, later]).matched).toBe(later);
  });
});

describe("HandshakeJoiner", () => {
  it("holds a wire row, joins it once the library side is there, and flushes what is left", async () => {
    const recent: LibraryHandshake[] = [];
    const out: [Record<string, unknown>, boolean][] = [];
    const j = new HandshakeJoiner(() => recent, (row, m) => out.push([row, m !== null]), 50);
    const { done, asm } = assemble([
      rec(LIB_KIND.handshake, 1n, { value: 1n, tsNs: 9_000_000_000n }),
      rec(LIB_KIND.groupName, 1n, { data: Buffer.from("x25519\0"), tsNs: 9_000_000_000n }),
    ]);
    j.offer({ ts: monoNsToUtcMicros(9_000_000_000n), pid: 100, role: "client", group_chosen: null });
    asm.flushAll();
    recent.push(...done); // the library handshake finishes after the wire row arrived
    await new Promise((r) => setTimeout(r, 80));
    expect(out).toEqual([[expect.objectContaining({ group_chosen: 29, library: "openssl" }), true]]);
    j.offer({ ts: 0n, pid: 5, group_chosen: 23 });
    j.flush();
    expect(out[1]).toEqual([{ ts: 0n, pid: 5, group_chosen: 23 }, false]);
    expect([j.joined, j.passed]).toEqual([1, 1]);
  });
});
