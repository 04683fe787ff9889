// The registry seeds checked against the tools on this machine: OpenSSL's and GnuTLS's cipher-suite tables,
// Wireshark's copy of the IANA registries, OpenSSH's algorithm lists and OpenSSL's OID names.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MODELS_DIR } from "../models/runner.ts";

function seed(name: string): Record<string, string>[] {
  const lines = readFileSync(join(MODELS_DIR, "seeds", `${name}.csv`), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  const split = (l: string) => l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.slice(0, -1).map((c) => c.replace(/,$/, "").replace(/^"|"$/g, "").replace(/""/g, '"'));
  const header = split(lines[0]);
  return lines.slice(1).map((l) => Object.fromEntries(split(l).map((v, i) => [header[i], v])));
}
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 256 << 20, stdio: ["ignore", "pipe", "ignore"] });
const suites = new Map(seed("tls_cipher_suites").map((r) => [Number(r.code), r]));
const groups = new Map(seed("tls_groups").map((r) => [Number(r.code), r]));
const sigs = new Map(seed("tls_signature_schemes").map((r) => [Number(r.code), r]));
const ssh = seed("ssh_algorithms");
const x509 = seed("x509_algorithms");

let tsharkTable: string | undefined;
function tsharkValues(field: string): Map<number, string> {
  const m = new Map<number, string>();
  tsharkTable ??= run("tshark", ["-G", "values"]);
  for (const line of tsharkTable.split("\n")) {
    const f = line.split("\t");
    if (f[0] === "V" && f[1] === field) m.set(Number(f[2]), f[3]);
  }
  return m;
}

describe("seeds against the tools", () => {
  it("every classification value is from the documented vocabulary", () => {
    const all = [...suites.values(), ...groups.values(), ...sigs.values(), ...ssh, ...x509];
    for (const r of all) {
      expect(["shor-broken", "grover-weakened", "post-quantum", "hybrid", "none"], r.name).toContain(r.quantum_status);
      expect(["approved", "transitional", "not-approved"], r.name).toContain(r.cnsa2);
    }
    // the PQ and hybrid code points of the brief
    const g = (c: number) => groups.get(c)!;
    expect([g(0x11ec).name, g(0x11ec).quantum_status, g(0x11ec).nist_pq_level]).toEqual(["X25519MLKEM768", "hybrid", "3"]);
    expect([g(0x11eb).name, g(0x11ed).name, g(0x6399).name, g(0x639a).name]).toEqual(["SecP256r1MLKEM768", "SecP384r1MLKEM1024", "X25519Kyber768Draft00", "SecP256r1Kyber768Draft00"]);
    expect([0x0200, 0x0201, 0x0202].map((c) => [g(c).name, g(c).quantum_status])).toEqual([["MLKEM512", "post-quantum"], ["MLKEM768", "post-quantum"], ["MLKEM1024", "post-quantum"]]);
    expect([0x0904, 0x0905, 0x0906].map((c) => sigs.get(c)!.name)).toEqual(["mldsa44", "mldsa65", "mldsa87"]);
    // NIST IR 8547: 112-bit classical → deprecated after 2030, disallowed after 2035; ≥128 → disallowed after 2035
    expect([g(256).deprecated_after, g(256).disallowed_after]).toEqual(["2030", "2035"]); // ffdhe2048
    expect([g(23).deprecated_after, g(23).disallowed_after]).toEqual(["", "2035"]); // secp256r1
    expect(g(0x0202).cnsa2).toBe("approved");
  });

  it("OpenSSL's cipher suites are all in the seed, with the same key exchange, cipher and forward secrecy", () => {
    const out = run("openssl", ["ciphers", "-V", "ALL:COMPLEMENTOFALL"]);
    const kxMap: Record<string, string[]> = {
      any: ["any"], RSA: ["RSA"], ECDH: ["ECDHE"], DH: ["DHE"], PSK: ["PSK"], RSAPSK: ["RSA_PSK"], DHEPSK: ["DHE_PSK"],
      ECDHEPSK: ["ECDHE_PSK"], SRP: ["SRP"], GOST: ["GOSTR341001", "GOSTR341094"], GOST18: ["GOSTR341112"],
    };
    let n = 0;
    for (const line of out.split("\n").filter(Boolean)) {
      const m = /0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+\S+\s+Kx=(\S+)\s+Au=(\S+)\s+Enc=(\S+)\s+Mac=(\S+)/.exec(line);
      expect(m, line).not.toBeNull();
      const code = parseInt(m![1] + m![2], 16);
      const s = suites.get(code);
      expect(s, `${m![3]} 0x${code.toString(16)}`).toBeDefined();
      expect(kxMap[m![4]], `${m![3]}: Kx=${m![4]} vs seed ${s!.kex}`).toContain(s!.kex);
      const fs = ["ECDH", "DH", "ECDHEPSK", "DHEPSK", "any"].includes(m![4]);
      expect(s!.forward_secrecy, m![3]).toBe(String(fs));
      const enc = /^([A-Za-z0-9/]+)(?:\((\d+)\))?$/.exec(m![6])!;
      const bits = Number(enc[2] ?? 0);
      const family = enc[1].replace(/GCM|CCM8?|\/POLY1305/g, "");
      const seedCipher = s!.cipher;
      if (family === "3DES") expect(seedCipher).toBe("3DES");
      else if (family === "CHACHA20") expect(seedCipher).toBe("CHACHA20-POLY1305");
      else if (enc[1] === "None") expect(seedCipher).toBe("NULL");
      else {
        expect(seedCipher.startsWith(family.toUpperCase()), `${m![3]}: Enc=${m![6]} vs ${seedCipher}`).toBe(true);
        expect(seedCipher, m![3]).toContain(String(bits));
      }
      n++;
    }
    expect(n).toBeGreaterThan(100);
  });

  it("GnuTLS's cipher suites are in the seed, TLS 1.3 ones marked so; its groups are named alike", () => {
    const out = run("gnutls-cli", ["--list"]);
    let n = 0;
    for (const m of out.matchAll(/^(TLS_\S+)\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})\s+(\S+)/gm)) {
      const code = parseInt(m[2] + m[3], 16);
      const s = suites.get(code);
      expect(s, m[1]).toBeDefined();
      expect(s!.tls13, m[1]).toBe(String(m[4] === "TLS1.3"));
      n++;
    }
    expect(n).toBeGreaterThan(150);
    const names = new Set([...groups.values()].map((g) => g.name.toLowerCase()));
    const gl = /^Groups: (.*)$/m.exec(out)![1].split(", ").map((g) => g.replace(/^GROUP-/, "").toLowerCase());
    const known = gl.filter((g) => !/^gc\d/.test(g)); // GOST curves: GnuTLS names differ from IANA's GC256B etc.
    for (const g of known) expect(names, g).toContain(g);
  });

  it("names agree with Wireshark's copy of the IANA registries (where IANA and Wireshark 4.0 agree on the code point)", () => {
    const ts = tsharkValues("tls.handshake.ciphersuite");
    let n = 0;
    for (const [code, s] of suites) {
      if (s.name === "GREASE" || code === 0x1306 || code === 0x1307) continue;
      expect(ts.get(code), `0x${code.toString(16)}`).toBe(s.name);
      n++;
    }
    expect(n).toBeGreaterThan(300);
    const tg = tsharkValues("tls.handshake.extensions_supported_group");
    for (const code of [...groups.keys()].filter((c) => c < 0x0200 && c !== 31 && c !== 32 && c !== 33 && !(c >= 34 && c <= 40))) {
      expect(tg.get(code)?.toLowerCase(), `group ${code}`).toBe(groups.get(code)!.name.toLowerCase());
    }
    const tsig = tsharkValues("tls.handshake.sig_hash_alg");
    for (const code of [0x0201, 0x0203, 0x0401, 0x0403, 0x0501, 0x0503, 0x0601, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b]) {
      expect(sigs.get(code)!.name, `sig 0x${code.toString(16)}`).toBe(tsig.get(code));
    }
    const tv = tsharkValues("tls.handshake.extensions.supported_version");
    for (const r of seed("tls_versions")) if (r.name !== "GREASE" && tv.has(Number(r.code))) expect(r.name).toBe(tv.get(Number(r.code)));
  });

  it("every algorithm OpenSSH knows is in the seed under its kind", () => {
    const kinds: [string, string][] = [["kex", "kex"], ["key", "hostkey"], ["cipher", "cipher"], ["mac", "mac"]];
    for (const [q, kind] of kinds) {
      const have = new Set(ssh.filter((r) => r.kind === kind).map((r) => r.name));
      const names = run("ssh", ["-Q", q]).split("\n").filter(Boolean);
      expect(names.length).toBeGreaterThan(3);
      for (const n of names) expect(have, `${kind} ${n}`).toContain(n);
    }
    const sntrup = ssh.find((r) => r.name === "sntrup761x25519-sha512@openssh.com")!;
    expect([sntrup.kex_class, sntrup.quantum_status]).toEqual(["hybrid", "hybrid"]);
    expect(ssh.find((r) => r.name === "mlkem768x25519-sha256")!.kex_class).toBe("hybrid");
  });

  it("X.509 OIDs carry the names OpenSSL gives them (where OpenSSL 3.0 knows them)", () => {
    // RFC names where OpenSSL's long names differ
    const alias: Record<string, string> = { "id-dsa": "dsaEncryption", dhpublicnumber: "X9.42 DH" };
    let known = 0;
    for (const r of x509) {
      const out = run("openssl", ["asn1parse", "-genstr", `OID:${r.oid}`]);
      const name = /OBJECT\s+:(.*)$/m.exec(out)![1].trim();
      if (name === r.oid) continue; // unknown to this OpenSSL (ML-DSA, SLH-DSA, ML-KEM, XMSS in 3.0)
      known++;
      expect(name, r.oid).toBe(alias[r.name] ?? r.name);
    }
    expect(known).toBeGreaterThan(20);
  });

  it("KEMs OpenSSL lists (ML-KEM from OpenSSL 3.5 on) are known to the groups seed", () => {
    const out = run("openssl", ["list", "-kem-algorithms"]);
    const names = new Set([...groups.values()].map((g) => g.name.toLowerCase().replace(/[^a-z0-9]/g, "")));
    for (const m of out.matchAll(/\b(ML-KEM-\d+|X25519MLKEM768|SecP256r1MLKEM768|SecP384r1MLKEM1024)\b/gi)) {
      expect(names, m[1]).toContain(m[1].toLowerCase().replace(/[^a-z0-9]/g, ""));
    }
    expect(out).toMatch(/RSA/); // the list itself was read
  });
});
