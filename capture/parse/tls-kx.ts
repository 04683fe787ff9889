// TLS 1.2 ServerKeyExchange: the ECDHE curve / DHE group and the signature scheme (RFC 8422 §5.4, RFC 5246 §7.4.3).
import { Reader, sha256hex, within } from "./reader.ts";

type Kx = "ecdhe" | "dhe" | "ecdhe_psk" | "dhe_psk" | "psk" | "rsa_psk" | "unknown";

function inRanges(s: number, ranges: number[]): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (s >= ranges[i]! && s <= ranges[i + 1]!) return true;
  return false;
}

// Cipher-suite code points by key exchange (IANA TLS Cipher Suites registry).
const ECDHE = [0xc006, 0xc00a, 0xc010, 0xc019, 0xc023, 0xc024, 0xc027, 0xc028, 0xc02b, 0xc02c, 0xc02f, 0xc030,
  0xc048, 0xc049, 0xc04c, 0xc04d, 0xc05c, 0xc05d, 0xc060, 0xc061, 0xc072, 0xc073, 0xc076, 0xc077, 0xc086, 0xc087,
  0xc08a, 0xc08b, 0xc0ac, 0xc0af, 0xcca8, 0xcca9];
const ECDHE_PSK = [0xc033, 0xc03b, 0xc070, 0xc071, 0xc09a, 0xc09b, 0xccac, 0xccac, 0xd001, 0xd005];
const DHE = [0x0011, 0x001b, 0x0032, 0x0034, 0x0038, 0x003a, 0x0040, 0x0040, 0x0044, 0x0046, 0x0067, 0x0067,
  0x006a, 0x006d, 0x0087, 0x0089, 0x0099, 0x009b, 0x009e, 0x009f, 0x00a2, 0x00a7, 0x00bd, 0x00bf, 0x00c3, 0x00c5,
  0xc09e, 0xc09f, 0xc0a2, 0xc0a3, 0xccaa, 0xccaa, 0xc042, 0xc047, 0xc052, 0xc053, 0xc056, 0xc057, 0xc05a, 0xc05b,
  0xc07c, 0xc07d, 0xc080, 0xc081, 0xc084, 0xc085];
const DHE_PSK = [0x008e, 0x0091, 0x00aa, 0x00ab, 0x00b2, 0x00b5, 0xc066, 0xc067, 0xc06c, 0xc06d, 0xc090, 0xc091,
  0xc096, 0xc097, 0xc0a6, 0xc0a7, 0xc0aa, 0xc0ab, 0xccad, 0xccad];
const PSK = [0x008a, 0x008d, 0x00a8, 0x00a9, 0x00ae, 0x00b1, 0xc064, 0xc065, 0xc06a, 0xc06b, 0xc08e, 0xc08f,
  0xc094, 0xc095, 0xc0a4, 0xc0a5, 0xc0a8, 0xc0a9, 0xccab, 0xccab];
const RSA_PSK = [0x0092, 0x0095, 0x00ac, 0x00ad, 0x00b6, 0x00b9, 0xc068, 0xc069, 0xc06e, 0xc06f, 0xc092, 0xc093,
  0xc098, 0xc099, 0xccae, 0xccae];

export function keyExchangeOf(suite: number): Kx {
  if (inRanges(suite, ECDHE)) return "ecdhe";
  if (inRanges(suite, ECDHE_PSK)) return "ecdhe_psk";
  if (inRanges(suite, DHE)) return "dhe";
  if (inRanges(suite, DHE_PSK)) return "dhe_psk";
  if (inRanges(suite, PSK)) return "psk";
  if (inRanges(suite, RSA_PSK)) return "rsa_psk";
  return "unknown";
}

// SHA-256 of the RFC 7919 primes (big-endian, no leading zero), from `openssl genpkey -genparam -algorithm DH
// -pkeyopt group:ffdheN`; test/parse-tls.test.ts re-derives them from openssl.
export const FFDHE_PRIME_SHA256: Record<string, number> = {
  "9cd3b7f336872f46c09428d1bbc19877a4d440512cda8d1c1cf0cd6e33698966": 0x0100, // ffdhe2048
  "0eaf67db3a839156d5013494a5318a772b5697d270d721f37f092efc69ea5a17": 0x0101, // ffdhe3072
  "4648414224ac881b3d0dc59b466f96d06a558278776807797ecf1f66ff397b3e": 0x0102, // ffdhe4096
  "227ac9066b3ddd9e193670cda2388fa884f65ba0cf98b742d1fe77a6687c79c7": 0x0103, // ffdhe6144
  "770b14efaf6f049929c523113b3fa99a8d11dab1b18af3609590122075d19833": 0x0104, // ffdhe8192
};

export function ffdheGroupOf(p: Uint8Array): number | undefined {
  let i = 0;
  while (i < p.length && p[i] === 0) i++;
  const prime = p.subarray(i);
  // Every RFC 7919 prime starts FFFFFFFF FFFFFFFF ADF85458 (the RFC 3526 MODP ones: ... C90FDAA2).
  if (prime.length < 256 || prime[0] !== 0xff || prime[7] !== 0xff || prime[8] !== 0xad || prime[9] !== 0xf8) return undefined;
  return FFDHE_PRIME_SHA256[sha256hex(prime)];
}

export interface ServerKeyExchange {
  group?: number; // named curve, or the ffdhe group whose prime the server sent
  dhBits?: number; // DHE prime size
  sigAlg?: number; // TLS 1.2 SignatureScheme
}

export function parseServerKeyExchange(body: Uint8Array, suite: number, version: number): ServerKeyExchange {
  const r = new Reader(body, "tls");
  return within(r, "ServerKeyExchange", () => {
    let kx = keyExchangeOf(suite);
    const out: ServerKeyExchange = {};
    if (kx === "psk" || kx === "rsa_psk") return out; // only a psk_identity_hint
    if (kx === "ecdhe_psk" || kx === "dhe_psk") r.skip(r.u16());
    if (kx === "unknown") {
      // Not in our table: guess from the structure (ECParameters start with curve_type named_curve = 3).
      kx = body.length >= 4 && body[0] === 3 ? "ecdhe" : "dhe";
    }
    if (kx === "ecdhe" || kx === "ecdhe_psk") {
      const curveType = r.u8();
      if (curveType !== 3) return out; // explicit curve parameters (deprecated): no named group
      out.group = r.u16();
      r.skip(r.u8()); // public point
    } else {
      const p = r.bytes(r.u16());
      r.skip(r.u16()); // g
      r.skip(r.u16()); // Ys
      let i = 0;
      while (i < p.length && p[i] === 0) i++;
      out.dhBits = (p.length - i) * 8;
      const g = ffdheGroupOf(p);
      if (g !== undefined) out.group = g;
    }
    if (kx === "ecdhe_psk" || kx === "dhe_psk") return out; // not signed
    if (version >= 0x0303 && r.remaining >= 4) out.sigAlg = r.u16();
    return out;
  });
}

