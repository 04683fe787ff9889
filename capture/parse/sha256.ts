// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) in plain JS, for the QUIC Initial key schedule:
// nine HMACs of a few dozen bytes per connection. Node's crypto spends 1.7-3 µs per call on such
// inputs (crypto.hash, createHash, createHmac: algorithm lookup and objects per call), @noble/hashes
// 7-14 µs per HMAC; one compression here is a fraction of a microsecond, and an HMAC key's inner and
// outer states are computed once, so each HMAC of a short message is two compressions.
// For long inputs (certificates) Node's native hash stays the better choice.

const K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);
const IV = Int32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);
const W = new Int32Array(64);

/** One 64-byte block of `b` at `off` into the state `s`. */
function compress(s: Int32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++, off += 4) W[i] = (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!, y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = s[0]!, b1 = s[1]!, c = s[2]!, d = s[3]!, e = s[4]!, f = s[5]!, g = s[6]!, h = s[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b1) ^ (a & c) ^ (b1 & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b1;
    b1 = a;
    a = (t1 + t2) | 0;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b1) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
  s[5] = (s[5]! + f) | 0;
  s[6] = (s[6]! + g) | 0;
  s[7] = (s[7]! + h) | 0;
}

const STATE = new Int32Array(8);
const TAIL = new Uint8Array(128);

/** The digest of (whatever brought `from` to its state: `before` bytes) + msg, written into out[0..32). */
function finish(from: Int32Array, before: number, msg: Uint8Array, out: Uint8Array): void {
  const s = STATE;
  s.set(from);
  const n = msg.length;
  let off = 0;
  for (; n - off >= 64; off += 64) compress(s, msg, off);
  const rest = n - off;
  TAIL.fill(0);
  TAIL.set(msg.subarray(off), 0);
  TAIL[rest] = 0x80;
  const end = rest + 9 <= 64 ? 64 : 128;
  const bits = (before + n) * 8; // exact below 2^53
  const hi = Math.floor(bits / 4294967296);
  const lo = bits >>> 0;
  TAIL[end - 8] = hi >>> 24;
  TAIL[end - 7] = hi >>> 16;
  TAIL[end - 6] = hi >>> 8;
  TAIL[end - 5] = hi;
  TAIL[end - 4] = lo >>> 24;
  TAIL[end - 3] = lo >>> 16;
  TAIL[end - 2] = lo >>> 8;
  TAIL[end - 1] = lo;
  compress(s, TAIL, 0);
  if (end === 128) compress(s, TAIL, 64);
  for (let i = 0; i < 8; i++) {
    const w = s[i]!;
    out[4 * i] = w >>> 24;
    out[4 * i + 1] = w >>> 16;
    out[4 * i + 2] = w >>> 8;
    out[4 * i + 3] = w;
  }
}

export function sha256(msg: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(32);
  finish(IV, 0, msg, out);
  return out;
}

const PAD = new Uint8Array(64);
const INNER = new Uint8Array(32);

/** HMAC-SHA256 under one key, its padded-key blocks compressed once. */
export class HmacSha256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  constructor(key: Uint8Array) {
    const k = key.length > 64 ? sha256(key) : key;
    for (const [state, x] of [[this.inner, 0x36], [this.outer, 0x5c]] as const) {
      for (let i = 0; i < 64; i++) PAD[i] = (i < k.length ? k[i]! : 0) ^ x;
      state.set(IV);
      compress(state, PAD, 0);
    }
  }
  mac(msg: Uint8Array): Buffer {
    finish(this.inner, 64, msg, INNER);
    const out = Buffer.allocUnsafe(32);
    finish(this.outer, 64, INNER, out);
    return out;
  }
}
