// QUIC Initial packet protection (RFC 9001 §5, RFC 9369 §3.3): keys from the client's Destination
// Connection ID, header protection with an AES-ECB mask, payload in AES-128-GCM.
import * as cryptoModule from "node:crypto";
import { createCipheriv, createDecipheriv, createHmac, type Cipher } from "node:crypto";

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

interface VersionParams {
  salt: Buffer;
  labelPrefix: string; // "quic " or "quicv2 "
  initialType: number; // long-header packet type bits of Initial
  retryType: number;
}

const V1: VersionParams = {
  salt: Buffer.from("38762cf7f55934b34d179ae6a4c80cadccbb7f0a", "hex"),
  labelPrefix: "quic ",
  initialType: 0,
  retryType: 3,
};
const V2: VersionParams = {
  salt: Buffer.from("0dede3def700a6db819381be6e269dcbf9bd2ed9", "hex"),
  labelPrefix: "quicv2 ",
  initialType: 1,
  retryType: 0,
};
// draft-29 to -32 (still seen from older stacks): v1 labels, their own salt.
const DRAFT29: VersionParams = { ...V1, salt: Buffer.from("afbfec289993d24c9e9786f19c6111e04390a899", "hex") };

export function versionParams(version: number): VersionParams | undefined {
  if (version === QUIC_V1) return V1;
  if (version === QUIC_V2) return V2;
  if (version >= 0xff00001d && version <= 0xff000020) return DRAFT29;
  return undefined;
}

// HMAC-SHA256 (RFC 2104) over one-shot hashes: a key schedule is a dozen small HMACs per connection,
// and a one-shot hash costs far less than an Hmac object each (createHmac where crypto.hash is missing).
const oneShot = (cryptoModule as { hash?: (alg: string, data: Uint8Array, enc: "buffer") => Buffer }).hash;
const IPAD = new Uint8Array(64 + 256);
const OPAD = new Uint8Array(64 + 32);

function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  if (!oneShot || key.length > 64) {
    const h = createHmac("sha256", key);
    for (const m of parts) h.update(m);
    return h.digest();
  }
  let n = 0;
  for (const m of parts) n += m.length;
  const inner = n <= 256 ? IPAD.subarray(0, 64 + n) : new Uint8Array(64 + n);
  for (let i = 0; i < 64; i++) inner[i] = (i < key.length ? key[i]! : 0) ^ 0x36;
  let o = 64;
  for (const m of parts) {
    inner.set(m, o);
    o += m.length;
  }
  const ih = oneShot("sha256", inner, "buffer");
  for (let i = 0; i < 64; i++) OPAD[i] = (i < key.length ? key[i]! : 0) ^ 0x5c;
  OPAD.set(ih, 64);
  return oneShot("sha256", OPAD, "buffer");
}

function hkdfExtract(salt: Buffer, ikm: Uint8Array): Buffer {
  return hmacSha256(salt, ikm);
}

const ONE = Uint8Array.of(1);
const labelInfo = new Map<string, Buffer>();

// HKDF-Expand (RFC 5869) for outputs of at most one SHA-256 block, which is all QUIC Initial keys need.
function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  const id = label + "/" + length;
  let info = labelInfo.get(id);
  if (!info) {
    const full = Buffer.from("tls13 " + label, "ascii");
    info = Buffer.alloc(2 + 1 + full.length + 1);
    info.writeUInt16BE(length, 0);
    info[2] = full.length;
    full.copy(info, 3);
    info[3 + full.length] = 0; // empty context
    labelInfo.set(id, info);
  }
  return hmacSha256(secret, info, ONE).subarray(0, length);
}

export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
  /** AES-ECB under hp, made once and reused for every packet's mask (ECB carries no state between blocks) */
  hpCipher?: Cipher;
}

export interface InitialSecrets {
  client: InitialKeys;
  server: InitialKeys;
}

// Callers re-parse a flow as datagrams arrive: keep the last few key schedules (DCID → keys).
const keyCache = new Map<string, InitialSecrets>();
const KEY_CACHE_MAX = 512;

export function initialKeys(version: number, dcid: Uint8Array): InitialSecrets | undefined {
  const id = version.toString(16) + ":" + Buffer.from(dcid.buffer, dcid.byteOffset, dcid.byteLength).toString("hex");
  const hit = keyCache.get(id);
  if (hit) return hit;
  const keys = deriveInitialKeys(version, dcid);
  if (!keys) return undefined;
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, keys);
  return keys;
}

function deriveInitialKeys(version: number, dcid: Uint8Array): InitialSecrets | undefined {
  const vp = versionParams(version);
  if (!vp) return undefined;
  const initial = hkdfExtract(vp.salt, dcid);
  const side = (label: string): InitialKeys => {
    const secret = hkdfExpandLabel(initial, label, 32);
    return {
      key: hkdfExpandLabel(secret, vp.labelPrefix + "key", 16),
      iv: hkdfExpandLabel(secret, vp.labelPrefix + "iv", 12),
      hp: hkdfExpandLabel(secret, vp.labelPrefix + "hp", 16),
    };
  };
  return { client: side("client in"), server: side("server in") };
}

/** The 5-byte-plus mask for a packet (RFC 9001 §5.4.3); given the key set, its ECB cipher is reused. */
export function headerProtectionMask(keys: InitialKeys | Buffer, sample: Uint8Array): Buffer {
  if (keys instanceof Uint8Array) {
    const one = createCipheriv("aes-128-ecb", keys, null);
    one.setAutoPadding(false);
    return one.update(sample);
  }
  let c = keys.hpCipher;
  if (!c) {
    c = createCipheriv("aes-128-ecb", keys.hp, null);
    c.setAutoPadding(false);
    keys.hpCipher = c;
  }
  return c.update(sample);
}

// AEAD-open one Initial packet payload; undefined when the tag does not verify (wrong keys or damage).
export function openPayload(keys: InitialKeys, pn: number, aad: Uint8Array, ciphertext: Uint8Array): Buffer | undefined {
  if (ciphertext.length < 16) return undefined;
  const nonce = Buffer.from(keys.iv);
  // The packet number is XORed into the low bytes of the IV (RFC 9001 §5.3); Initial packet numbers fit 32 bits.
  for (let i = 0; i < 4; i++) nonce[11 - i]! ^= (pn >>> (8 * i)) & 0xff;
  const d = createDecipheriv("aes-128-gcm", keys.key, nonce);
  d.setAAD(aad);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const body = d.update(ciphertext.subarray(0, ciphertext.length - 16));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return body;
}
