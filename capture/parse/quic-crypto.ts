// QUIC Initial packet protection (RFC 9001 §5, RFC 9369 §3.3): keys from the client's Destination
// Connection ID, header protection with an AES-ECB mask, payload in AES-128-GCM.
import { createDecipheriv } from "node:crypto";
import { ecb } from "@noble/ciphers/aes.js";
import { HmacSha256 } from "./sha256.ts";

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

// The key schedule (RFC 9001 §5.2): HKDF-Extract under the version's salt, then HKDF-Expand-Label,
// each an HMAC-SHA256 of a few dozen bytes (sha256.ts: a fraction of Node's per-call cost for these).
const saltKeys = new Map<Buffer, HmacSha256>();
function hkdfExtract(salt: Buffer, ikm: Uint8Array): Buffer {
  let k = saltKeys.get(salt);
  if (!k) saltKeys.set(salt, (k = new HmacSha256(salt)));
  return k.mac(ikm);
}

const labelInfo = new Map<string, Buffer>();

// HKDF-Expand (RFC 5869) for outputs of at most one SHA-256 block, which is all QUIC Initial keys need:
// T(1) = HMAC(secret, info || 0x01).
function hkdfExpandLabel(secret: HmacSha256, label: string, length: number): Buffer {
  const id = label + "/" + length;
  let info = labelInfo.get(id);
  if (!info) {
    const full = Buffer.from("tls13 " + label, "ascii");
    info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
    info.writeUInt16BE(length, 0);
    info[2] = full.length;
    full.copy(info, 3);
    info[3 + full.length] = 0; // empty context
    info[4 + full.length] = 1; // the counter of T(1)
    labelInfo.set(id, info);
  }
  return secret.mac(info).subarray(0, length);
}

export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
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
  const initial = new HmacSha256(hkdfExtract(vp.salt, dcid));
  const side = (label: string): InitialKeys => {
    const secret = new HmacSha256(hkdfExpandLabel(initial, label, 32));
    return {
      key: hkdfExpandLabel(secret, vp.labelPrefix + "key", 16),
      iv: hkdfExpandLabel(secret, vp.labelPrefix + "iv", 12),
      hp: hkdfExpandLabel(secret, vp.labelPrefix + "hp", 16),
    };
  };
  return { client: side("client in"), server: side("server in") };
}

/**
 * The 5-byte-plus mask for a packet (RFC 9001 §5.4.3): AES-ECB of the 16-byte sample under hp.
 * @noble/ciphers rather than Node's createCipheriv, which costs ~3.5 µs per cipher context (one
 * per connection side, used for a handful of blocks) against ~1.75 µs for noble's key and block.
 */
export function headerProtectionMask(keys: InitialKeys | Uint8Array, sample: Uint8Array): Buffer {
  const hp = keys instanceof Uint8Array ? keys : keys.hp;
  const mask = ecb(hp, { disablePadding: true }).encrypt(sample.length === 16 ? sample : sample.subarray(0, 16));
  return Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength);
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
