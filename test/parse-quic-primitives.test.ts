// The primitives behind QUIC Initials, against Node's OpenSSL-backed crypto: the plain-JS SHA-256/HMAC
// of the key schedule (every length around the block and padding boundaries, keys longer than a
// block), header protection (@noble/ciphers AES: RFC 9001's mask, random keys and samples), and the
// key schedule against RFC 9001 Appendix A.1 and an HKDF built from createHmac.
import { createCipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { initialKeys, QUIC_V1, QUIC_V2, versionParams } from "../capture/parse/quic-crypto.ts";
import { headerProtectionMask, initialKeys as keysFor } from "../capture/parse/quic-crypto.ts";
import { HmacSha256, sha256 } from "../capture/parse/sha256.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("sha256.ts", () => {
  it("SHA-256 equals Node's for every length 0-300", () => {
    for (let n = 0; n <= 300; n++) {
      const m = randomBytes(n);
      expect(hex(sha256(m)), `length ${n}`).toBe(createHash("sha256").update(m).digest("hex"));
    }
  });

  it("HMAC-SHA256 equals Node's for keys of 0-150 bytes and messages of 0-200, one key used many times", () => {
    for (let kl = 0; kl <= 150; kl += 7) {
      const key = randomBytes(kl);
      const h = new HmacSha256(key);
      for (let n = 0; n <= 200; n += 3) {
        const m = randomBytes(n);
        expect(hex(h.mac(m)), `key ${kl}, message ${n}`).toBe(createHmac("sha256", key).update(m).digest("hex"));
      }
    }
  });

  it("a digest is its own buffer: a later one does not overwrite it", () => {
    const h = new HmacSha256(Buffer.from("k"));
    const a = h.mac(Buffer.from("a"));
    const copy = hex(a);
    h.mac(Buffer.from("b"));
    sha256(Buffer.from("c"));
    expect(hex(a)).toBe(copy);
  });
});

describe("header protection", () => {
  it("RFC 9001 Appendix A.2's client mask, from keys and from a bare hp key alike", () => {
    const keys = keysFor(QUIC_V1, Buffer.from("8394c8f03e515708", "hex"))!;
    const sample = Buffer.from("d1b1c98dd7689fb8ec11d242b123dc9b", "hex");
    expect(hex(headerProtectionMask(keys.client, sample))).toMatch(/^437b9aec36/);
    expect(hex(headerProtectionMask(keys.client.hp, sample))).toBe(hex(headerProtectionMask(keys.client, sample)));
  });

  it("equals Node's aes-128-ecb for 1,000 random keys and samples", () => {
    for (let i = 0; i < 1000; i++) {
      const hp = randomBytes(16), sample = randomBytes(16);
      const c = createCipheriv("aes-128-ecb", hp, null);
      c.setAutoPadding(false);
      expect(hex(headerProtectionMask(hp, sample))).toBe(hex(c.update(sample)));
    }
  });
});

// HKDF-Expand-Label (RFC 8446 §7.1) for one output block, from Node's HMAC: the reference.
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from("tls13 " + label, "ascii");
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0, 1])]);
  return createHmac("sha256", secret).update(info).digest().subarray(0, length);
}
function referenceKeys(version: number, dcid: Buffer) {
  const vp = versionParams(version)!;
  const initial = createHmac("sha256", vp.salt).update(dcid).digest();
  const side = (label: string) => {
    const s = expandLabel(initial, label, 32);
    return { key: hex(expandLabel(s, vp.labelPrefix + "key", 16)), iv: hex(expandLabel(s, vp.labelPrefix + "iv", 12)), hp: hex(expandLabel(s, vp.labelPrefix + "hp", 16)) };
  };
  return { client: side("client in"), server: side("server in") };
}
const shown = (k: { key: Uint8Array; iv: Uint8Array; hp: Uint8Array }) => ({ key: hex(k.key), iv: hex(k.iv), hp: hex(k.hp) });

describe("QUIC Initial key schedule", () => {
  it("RFC 9001 Appendix A.1 (DCID 0x8394c8f03e515708)", () => {
    const k = initialKeys(QUIC_V1, Buffer.from("8394c8f03e515708", "hex"))!;
    expect(shown(k.client)).toEqual({ key: "1f369613dd76d5467730efcbe3b1a22d", iv: "fa044b2f42a3fd3b46fb255c", hp: "9f50449e04a0e810283a1e9933adedd2" });
    expect(shown(k.server)).toEqual({ key: "cf3a5331653c364c88f0f379b6067e37", iv: "0ac1493ca1905853b0bba03e", hp: "c206b8d9b9f0f37644430b490eeaa314" });
  });

  it("v1, v2 and draft-29 keys equal an HKDF made of Node's HMAC, for DCIDs of 0-20 bytes", () => {
    for (const version of [QUIC_V1, QUIC_V2, 0xff00001d]) {
      for (let n = 0; n <= 20; n++) {
        const dcid = randomBytes(n);
        const k = initialKeys(version, dcid)!;
        expect({ client: shown(k.client), server: shown(k.server) }, `version ${version.toString(16)}, DCID ${n} bytes`).toEqual(referenceKeys(version, dcid));
      }
    }
  });
});
