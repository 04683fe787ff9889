// The ClientHello of FoxIO's JA4.md worked example (t13d1516h2_8daaf6152771_e5627efa2ab1): the base that the
// JA4 tests and the fingerprint-cache tests vary one field at a time. Tests spread it, never change it.
import type { ClientHello } from "../../capture/parse/tls-hello.ts";

export const JA4_EXAMPLE_HELLO: Readonly<ClientHello> = Object.freeze({
  legacyVersion: 0x0303, sessionId: new Uint8Array(0), psk: false, ech: false,
  suites: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
  extensions: [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015],
  sigAlgs: [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
  versions: [0x0304, 0x0303],
  alpnRaw: [new TextEncoder().encode("h2")],
});
