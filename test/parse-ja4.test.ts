// JA4 / JA4S against FoxIO's published definition: the worked examples of its technical_details/JA4.md and
// JA4S.md, and the fingerprints its own tool prints for the captures of its repository
// (FoxIO-LLC/ja4 rust/ja4/src/snapshots/*.snap), which the corpus holds.
import { describe, expect, it } from "vitest";
import { isQuicLongHeaderInitial, parseQuicConversation, parseTcpConversation, detectTcpProto } from "../capture/parse/index.ts";
import { alpnChars, ja4, ja4s } from "../capture/parse/ja4.ts";
import type { ClientHello, ServerHello } from "../capture/parse/tls-hello.ts";
import { JA4_EXAMPLE_HELLO } from "./helpers/client-hello.ts";
import { tcpStreams, udpFlows } from "./parse-corpus.ts";

// [file, transport, client port, ja4, ja4s] as FoxIO's tool printed them.
const FOXIO: [string, "tcp" | "udp", number, string, string][] = [
  ["tls-alpn-h2.pcap", "tcp", 64034, "t12d4605h2_85626a9a5f7f_aaf95bb78ec9", "t1204h2_cca9_1428ce7b4018"],
  ["macos_tcp_flags.pcap", "tcp", 61311, "t13d2613h2_2802a3db6c62_845d286b0d67", "t130200_1301_234ea6891581"],
  ["badcurveball.pcap", "tcp", 55318, "t13d1615h2_46e7e9700bed_45f260be83e2", "t1205h1_c02b_845f7282a956"],
  ["chrome-cloudflare-quic-with-secrets.pcapng", "tcp", 57098, "t13d1516h2_8daaf6152771_e5627efa2ab1", "t130200_1301_234ea6891581"],
  ["chrome-cloudflare-quic-with-secrets.pcapng", "udp", 50280, "q13d0310h3_55b375c5d22e_cd85d2d88918", "q130200_1301_234ea6891581"],
  ["latest.pcapng", "tcp", 52936, "t13d1516h2_8daaf6152771_e5627efa2ab1", "t1206h2_c02f_3603f09c43ba"],
  ["latest.pcapng", "tcp", 52937, "t12d190800_d83cc789557e_7af1ed941c26", "t120600_c02f_51ad275821ba"],
  ["latest.pcapng", "tcp", 52938, "t13d1516h2_8daaf6152771_9b887d9acb53", "t130300_1301_6bbbaf601ed8"],
  ["latest.pcapng", "tcp", 52940, "t13d1516h2_8daaf6152771_e5627efa2ab1", "t120300_c030_09f674154ab3"],
  ["tls3.pcapng", "tcp", 63252, "t13d1516h2_8daaf6152771_9b887d9acb53", "t130300_1301_6bbbaf601ed8"],
  ["tls3.pcapng", "udp", 62481, "q13d0310h3_55b375c5d22e_cd85d2d88918", "q130200_1301_234ea6891581"],
  ["tls3.pcapng", "udp", 49791, "q13d0310h3_55b375c5d22e_cd85d2d88918", "q130200_1301_a56c5b993250"],
  ["tls3.pcapng", "udp", 61884, "q13d0311h3_55b375c5d22e_3512bcbbc9ec", "q130300_1301_6bbbaf601ed8"],
  ["tls-handshake.pcapng", "tcp", 50112, "t13d1516h2_8daaf6152771_e5627efa2ab1", "t130200_1301_234ea6891581"],
  ["tls-handshake.pcapng", "tcp", 50116, "t13d1516h2_8daaf6152771_e5627efa2ab1", "t130200_1302_a56c5b993250"],
  ["tls-handshake.pcapng", "tcp", 50122, "t13d1516h1_8daaf6152771_e5627efa2ab1", "t120300_c030_bec8bdbaef8a"],
  ["tls-handshake.pcapng", "tcp", 50123, "t13d151400_8daaf6152771_de4a06bb82e3", "t130200_1301_234ea6891581"],
  ["tls-handshake.pcapng", "tcp", 50153, "t13d1517h1_8daaf6152771_6cdcb247c39b", "t130300_1301_0ee26285a86f"],
  ["tls-handshake.pcapng", "tcp", 50157, "t13d1516h2_8daaf6152771_e5627efa2ab1", "t1206h1_c02b_9bd66850b8f2"],
  ["tls-handshake.pcapng", "tcp", 50167, "t13d1516h2_8daaf6152771_e5627efa2ab1", "t120400_c030_4e8089b08790"],
  ["tls-handshake.pcapng", "tcp", 50170, "t13d1516h2_8daaf6152771_e5627efa2ab1", "t1204h2_c02f_1428ce7b4018"],
];

describe("JA4/JA4S equal FoxIO's tool on its own captures", () => {
  const byFile = new Map<string, typeof FOXIO>();
  for (const row of FOXIO) byFile.set(row[0], [...(byFile.get(row[0]) ?? []), row]);
  for (const [file, expected] of byFile) {
    it(file, () => {
      const rel = `public/FoxIO-LLC_ja4/${file}`;
      const got = new Map<string, [unknown, unknown]>();
      if (expected.some((e) => e[1] === "tcp")) {
        for (const s of tcpStreams(rel)) {
          if (detectTcpProto(s.client) !== "tls") continue;
          const r = parseTcpConversation("tls", s.client, s.server);
          got.set(`tcp:${s.clientPort}`, [r.fields.ja4, r.fields.ja4s]);
        }
      }
      if (expected.some((e) => e[1] === "udp")) {
        for (const u of udpFlows(rel)) {
          if (!u.client.some(isQuicLongHeaderInitial)) continue;
          const r = parseQuicConversation(u.client, u.server);
          got.set(`udp:${u.clientPort}`, [r.fields.ja4, r.fields.ja4s]);
        }
      }
      for (const [, transport, port, j, js] of expected) expect(got.get(`${transport}:${port}`)).toEqual([j, js]);
    });
  }
});

describe("JA4 definition details", () => {
  const base: ClientHello = { ...JA4_EXAMPLE_HELLO };

  it("the worked example of JA4.md, and GREASE ignored everywhere", () => {
    expect(ja4(base, false)).toBe("t13d1516h2_8daaf6152771_e5627efa2ab1");
    const greased: ClientHello = {
      ...base,
      suites: [0x0a0a, ...base.suites],
      extensions: [0x3a3a, ...base.extensions, 0xfafa],
      sigAlgs: [0x5a5a, ...base.sigAlgs!],
      versions: [0x7a7a, 0x0304, 0x0303],
    };
    expect(ja4(greased, false)).toBe("t13d1516h2_8daaf6152771_e5627efa2ab1");
    expect(ja4({ ...base, sigAlgs: undefined }, false).endsWith("_6d807ffa2a79")).toBe(true);
    expect(ja4({ ...base, suites: [], extensions: [] }, true)).toBe("q12i0000h2_000000000000_000000000000");
  });

  it("ALPN: first and last characters; hex digits when not alphanumeric; 00 when absent", () => {
    const b = (...x: number[]) => Uint8Array.from(x);
    expect(alpnChars(new TextEncoder().encode("http/1.1"))).toBe("h1");
    expect(alpnChars(new TextEncoder().encode("h"))).toBe("hh");
    expect(alpnChars(undefined)).toBe("00");
    expect(alpnChars(b())).toBe("00");
    expect(alpnChars(b(0xab))).toBe("ab");
    expect(alpnChars(b(0xab, 0xcd))).toBe("ad");
    expect(alpnChars(b(0x30, 0xab))).toBe("3b");
    expect(alpnChars(b(0x30, 0x31, 0xab, 0xcd))).toBe("3d");
    expect(alpnChars(b(0x30, 0xab, 0xcd, 0x31))).toBe("01");
  });

  it("the worked example of JA4S.md", () => {
    const sh: ServerHello = { legacyVersion: 0x0303, sessionId: new Uint8Array(0), suite: 0xc030, extensions: [0x0005, 0x0017, 0xff01, 0x0000], helloRetry: false, pskSelected: false };
    expect(ja4s(sh, false)).toBe("t120400_c030_4e8089b08790");
  });
});
