// Address text (what a Segment carries) → the 32-bit words the flow index keys on, so segments given
// as text and packets decoded from bytes land on the same keys. Results are cached (the same few
// addresses come back in every segment); the cache is a pure function's, so clearing it is safe.

export interface AddressWords {
  v6: boolean;
  /** the address is not IP text: the words are a hash of it (keys of such flows are marked apart) */
  text: boolean;
  w: [number, number, number, number];
}

const cache = new Map<string, AddressWords>();
const CACHE_MAX = 65536;

export function addressWords(s: string): AddressWords {
  let r = cache.get(s);
  if (r === undefined) {
    r = parseV4(s) ?? parseV6(s) ?? hashed(s);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(s, r);
  }
  return r;
}

function v4Word(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let w = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    w = (w << 8) | n;
  }
  return w | 0;
}

function parseV4(s: string): AddressWords | undefined {
  const w = v4Word(s);
  return w === undefined ? undefined : { v6: false, text: false, w: [w, 0, 0, 0] };
}

function parseV6(s: string): AddressWords | undefined {
  if (!s.includes(":")) return undefined;
  const groups: number[] = [];
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const read = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes(".")) {
        // A dotted IPv4 tail (::ffff:1.2.3.4).
        const w = v4Word(it);
        if (w === undefined) return undefined;
        out.push((w >>> 16) & 0xffff, w & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = read(halves[0]!);
  const tail = halves.length === 2 ? read(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return undefined;
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    if (head.length !== 8) return undefined;
    groups.push(...head);
  }
  const w = (i: number) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) | 0;
  return { v6: true, text: false, w: [w(0), w(1), w(2), w(3)] };
}

// 128 bits from four differently seeded FNV-1a passes: two different texts share words only by a
// 128-bit collision.
function hashed(s: string): AddressWords {
  const h = (seed: number) => {
    let x = seed;
    for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193);
    return x | 0;
  };
  return { v6: false, text: true, w: [h(0x811c9dc5), h(0x01234567), h(0x89abcdef), h(0x7f4a7c15)] };
}
