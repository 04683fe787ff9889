// Test helper: write the capture formats and link layers the reader must take, from frames of
// real corpus files. Every file made here is also read by tshark in the tests, so the writer
// cannot make up a format of its own.
export interface Frame {
  tsUs: number;
  data: Uint8Array;
}

class Out {
  private parts: Uint8Array[] = [];
  constructor(private readonly le: boolean) {}
  u8(v: number) {
    this.parts.push(new Uint8Array([v & 0xff]));
  }
  u16(v: number) {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, this.le);
    this.parts.push(b);
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, this.le);
    this.parts.push(b);
  }
  bytes(b: Uint8Array) {
    this.parts.push(b);
  }
  pad4(n: number) {
    if (n % 4) this.parts.push(new Uint8Array(4 - (n % 4)));
  }
  done(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

export function writePcap(opts: { le: boolean; ns: boolean; linkType: number; frames: Frame[] }): Uint8Array {
  const o = new Out(opts.le);
  o.u32(opts.ns ? 0xa1b23c4d : 0xa1b2c3d4);
  o.u16(2);
  o.u16(4);
  o.u32(0);
  o.u32(0);
  o.u32(262144);
  o.u32(opts.linkType);
  for (const f of opts.frames) {
    const sec = Math.floor(f.tsUs / 1e6);
    const us = f.tsUs - sec * 1e6;
    o.u32(sec);
    o.u32(opts.ns ? us * 1000 + 123 : us);
    o.u32(f.data.length);
    o.u32(f.data.length);
    o.bytes(f.data);
  }
  return o.done();
}

export interface NgInterface {
  linkType: number;
  /** if_tsresol option byte (default none = µs) */
  tsresol?: number;
}

export interface NgPacket extends Frame {
  iface: number;
  /** write as a Simple Packet Block (interface 0, no timestamp) */
  simple?: boolean;
}

export function writePcapng(opts: { le: boolean; interfaces: NgInterface[]; packets: NgPacket[] }): Uint8Array {
  const o = new Out(opts.le);
  // Section Header Block
  o.u32(0x0a0d0d0a);
  o.u32(28);
  o.u32(0x1a2b3c4d);
  o.u16(1);
  o.u16(0);
  o.u32(0xffffffff);
  o.u32(0xffffffff);
  o.u32(28);
  for (const i of opts.interfaces) {
    const withOpt = i.tsresol !== undefined;
    const len = 20 + (withOpt ? 12 : 0);
    o.u32(1);
    o.u32(len);
    o.u16(i.linkType);
    o.u16(0);
    o.u32(262144);
    if (withOpt) {
      o.u16(9);
      o.u16(1);
      o.u8(i.tsresol!);
      o.pad4(1);
      o.u16(0); // opt_endofopt
      o.u16(0);
    }
    o.u32(len);
  }
  for (const p of opts.packets) {
    const pad = (4 - (p.data.length % 4)) % 4;
    if (p.simple) {
      const len = 16 + p.data.length + pad;
      o.u32(3);
      o.u32(len);
      o.u32(p.data.length);
      o.bytes(p.data);
      o.pad4(p.data.length);
      o.u32(len);
      continue;
    }
    const res = opts.interfaces[p.iface]!.tsresol;
    // Ticks in the interface's resolution (10^-6 default, 10^-9 with tsresol 9).
    const ticks = res === 9 ? BigInt(p.tsUs) * 1000n + 456n : BigInt(p.tsUs);
    const len = 32 + p.data.length + pad;
    o.u32(6);
    o.u32(len);
    o.u32(p.iface);
    o.u32(Number(ticks >> 32n));
    o.u32(Number(ticks & 0xffffffffn));
    o.u32(p.data.length);
    o.u32(p.data.length);
    o.bytes(p.data);
    o.pad4(p.data.length);
    o.u32(len);
  }
  return o.done();
}

// ---- link layers, from an Ethernet frame ----

function ethertype(e: Uint8Array): number {
  return (e[12]! << 8) | e[13]!;
}

export function toSll(e: Uint8Array): Uint8Array {
  const h = new Uint8Array(16);
  h[1] = 0; // packet type: to us
  h[3] = 1; // ARPHRD_ETHER
  h[5] = 6;
  h.set(e.subarray(6, 12), 6);
  h[14] = e[12]!;
  h[15] = e[13]!;
  return Buffer.concat([h, e.subarray(14)]);
}

export function toSll2(e: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = e[12]!;
  h[1] = e[13]!;
  h[7] = 2; // if index
  h[9] = 1; // ARPHRD_ETHER
  h[10] = 0;
  h[11] = 6;
  h.set(e.subarray(6, 12), 12);
  return Buffer.concat([h, e.subarray(14)]);
}

export function toRaw(e: Uint8Array): Uint8Array {
  return e.subarray(14);
}

/** BSD loopback: the address family in the writer's (here little-endian) byte order. */
export function toNull(e: Uint8Array): Uint8Array {
  const af = ethertype(e) === 0x86dd ? 30 : 2;
  return Buffer.concat([new Uint8Array([af, 0, 0, 0]), e.subarray(14)]);
}

/** 802.1Q tag (and an outer 802.1ad tag for QinQ) after the MAC addresses. */
export function toVlan(e: Uint8Array, qinq: boolean): Uint8Array {
  const tags = qinq ? [0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x64] : [0x81, 0x00, 0x00, 0x64];
  return Buffer.concat([e.subarray(0, 12), new Uint8Array(tags), e.subarray(12)]);
}

export function toPpp(e: Uint8Array): Uint8Array {
  const proto = ethertype(e) === 0x86dd ? [0x00, 0x57] : [0x00, 0x21];
  return Buffer.concat([new Uint8Array([0xff, 0x03, ...proto]), e.subarray(14)]);
}
