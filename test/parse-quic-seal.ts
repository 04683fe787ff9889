// Test helper: seal a QUIC Initial packet (RFC 9001 §5 / RFC 9369) around given frames, with the key
// schedule of capture/parse/quic-crypto.ts and node's AES: lets tests build Initials the corpus lacks.
import { createCipheriv } from "node:crypto";
import { headerProtectionMask, initialKeys, QUIC_V1, QUIC_V2 } from "../capture/parse/quic-crypto.ts";

// keyDcid: the client's original DCID that keys both sides' Initials (default: this packet's dcid).
export function sealInitial(opts: { version?: number; side?: "client" | "server"; dcid: Uint8Array; keyDcid?: Uint8Array; scid?: Uint8Array; payload: Uint8Array; pn?: number }): Uint8Array {
  const version = opts.version ?? QUIC_V1;
  const pn = opts.pn ?? 0;
  const scid = opts.scid ?? new Uint8Array(0);
  const keys = initialKeys(version, opts.keyDcid ?? opts.dcid)![opts.side ?? "client"];
  const type = version === QUIC_V2 ? 1 : 0;
  const length = 4 + opts.payload.length + 16;
  const v = Buffer.alloc(4);
  v.writeUInt32BE(version >>> 0);
  const header = Buffer.concat([
    Buffer.of(0xc0 | (type << 4) | 3), v, Buffer.of(opts.dcid.length), opts.dcid, Buffer.of(scid.length), scid,
    Buffer.of(0), // token length (a server's Initial has none; neither does a first client Initial)
    Buffer.of(0x40 | (length >> 8), length & 0xff), Buffer.alloc(4),
  ]);
  header.writeUInt32BE(pn, header.length - 4);
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i]! ^= (pn >>> (8 * i)) & 0xff;
  const c = createCipheriv("aes-128-gcm", keys.key, nonce);
  c.setAAD(header);
  const packet = Buffer.concat([header, c.update(opts.payload), c.final(), c.getAuthTag()]);
  const pnOffset = header.length - 4;
  const mask = headerProtectionMask(keys.hp, packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < 4; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return packet;
}

export function cryptoFrame(offset: number, data: Uint8Array): Uint8Array {
  const varint = (v: number) => (v < 64 ? Buffer.of(v) : Buffer.of(0x40 | (v >> 8), v & 0xff));
  const frame = Buffer.concat([Buffer.of(0x06), varint(offset), varint(data.length), data]);
  // Header protection samples 16 bytes past the packet number: keep payloads long enough.
  return frame.length >= 20 ? frame : Buffer.concat([frame, Buffer.alloc(20 - frame.length)]);
}
