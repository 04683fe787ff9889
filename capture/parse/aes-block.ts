// AES-128 encryption of single blocks (FIPS 197), for QUIC header protection: one 16-byte block per
// packet under a key used for a handful of packets. Node's createCipheriv costs ~6 µs per key (a
// cipher context per connection side), more than a key expansion and a block here together; the
// payloads (AES-GCM, a kilobyte and more, tag checked) stay with Node's crypto.
// Table-driven (four 256-entry round tables): not constant-time, which is fine for this use: the keys
// are derived from a connection ID sent in clear, and nothing secret passes through here.

const SBOX = new Uint8Array(256);
const T0 = new Int32Array(256), T1 = new Int32Array(256), T2 = new Int32Array(256), T3 = new Int32Array(256);
{
  // The S-box from the multiplicative inverse in GF(2^8) and the affine map; the round tables from it.
  const exp = new Uint8Array(256), log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x = (x ^ (x << 1) ^ (x & 0x80 ? 0x11b : 0)) & 0xff; // x * 3, a generator
  }
  for (let i = 0; i < 256; i++) {
    const inv = i === 0 ? 0 : exp[(255 - log[i]!) % 255]!;
    let s = inv;
    for (let r = 1; r <= 4; r++) s ^= ((inv << r) | (inv >>> (8 - r))) & 0xff;
    SBOX[i] = s ^ 0x63;
  }
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i]!;
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x11b : 0)) & 0xff;
    const t = (s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s);
    T0[i] = t;
    T1[i] = (t >>> 8) | (t << 24);
    T2[i] = (t >>> 16) | (t << 16);
    T3[i] = (t >>> 24) | (t << 8);
  }
}
const RCON = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36];

/** An expanded AES-128 key: 44 round-key words. */
export class Aes128 {
  private readonly rk = new Int32Array(44);
  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError(`AES-128 key of ${key.length} bytes`);
    const rk = this.rk;
    for (let i = 0; i < 4; i++) rk[i] = (key[4 * i]! << 24) | (key[4 * i + 1]! << 16) | (key[4 * i + 2]! << 8) | key[4 * i + 3]!;
    for (let i = 4; i < 44; i++) {
      let t = rk[i - 1]!;
      if (i % 4 === 0) {
        // SubWord(RotWord(t)) ^ Rcon
        t = (SBOX[(t >>> 16) & 0xff]! << 24) | (SBOX[(t >>> 8) & 0xff]! << 16) | (SBOX[t & 0xff]! << 8) | SBOX[t >>> 24]!;
        t ^= RCON[i / 4 - 1]! << 24;
      }
      rk[i] = rk[i - 4]! ^ t;
    }
  }

  /** Encrypts the 16 bytes at input[off..] into out[0..16). */
  encryptBlock(input: Uint8Array, off: number, out: Uint8Array): void {
    const rk = this.rk;
    let s0 = ((input[off]! << 24) | (input[off + 1]! << 16) | (input[off + 2]! << 8) | input[off + 3]!) ^ rk[0]!;
    let s1 = ((input[off + 4]! << 24) | (input[off + 5]! << 16) | (input[off + 6]! << 8) | input[off + 7]!) ^ rk[1]!;
    let s2 = ((input[off + 8]! << 24) | (input[off + 9]! << 16) | (input[off + 10]! << 8) | input[off + 11]!) ^ rk[2]!;
    let s3 = ((input[off + 12]! << 24) | (input[off + 13]! << 16) | (input[off + 14]! << 8) | input[off + 15]!) ^ rk[3]!;
    for (let k = 4; k < 40; k += 4) {
      const t0 = T0[s0 >>> 24]! ^ T1[(s1 >>> 16) & 0xff]! ^ T2[(s2 >>> 8) & 0xff]! ^ T3[s3 & 0xff]! ^ rk[k]!;
      const t1 = T0[s1 >>> 24]! ^ T1[(s2 >>> 16) & 0xff]! ^ T2[(s3 >>> 8) & 0xff]! ^ T3[s0 & 0xff]! ^ rk[k + 1]!;
      const t2 = T0[s2 >>> 24]! ^ T1[(s3 >>> 16) & 0xff]! ^ T2[(s0 >>> 8) & 0xff]! ^ T3[s1 & 0xff]! ^ rk[k + 2]!;
      const t3 = T0[s3 >>> 24]! ^ T1[(s0 >>> 16) & 0xff]! ^ T2[(s1 >>> 8) & 0xff]! ^ T3[s2 & 0xff]! ^ rk[k + 3]!;
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
    }
    // last round: SubBytes, ShiftRows, AddRoundKey (no MixColumns)
    lastWord(s0, s1, s2, s3, rk[40]!, out, 0);
    lastWord(s1, s2, s3, s0, rk[41]!, out, 4);
    lastWord(s2, s3, s0, s1, rk[42]!, out, 8);
    lastWord(s3, s0, s1, s2, rk[43]!, out, 12);
  }
}

function lastWord(a: number, b: number, c: number, d: number, k: number, out: Uint8Array, at: number): void {
  const w = ((SBOX[a >>> 24]! << 24) | (SBOX[(b >>> 16) & 0xff]! << 16) | (SBOX[(c >>> 8) & 0xff]! << 8) | SBOX[d & 0xff]!) ^ k;
  out[at] = w >>> 24;
  out[at + 1] = w >>> 16;
  out[at + 2] = w >>> 8;
  out[at + 3] = w;
}
