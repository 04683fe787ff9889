// SSH parser on real sessions: banners and both KEXINITs compared with tshark's dissection; the chosen
// algorithms checked against what the capture's description says the peers negotiated.
import { describe, expect, it } from "vitest";
import { detectTcpProto, parseTcpConversation, ParseError, tcpStreamComplete } from "../capture/parse/index.ts";
import { chooseAlgorithms, parseKexInitPayload, scanSshSide, type KexInit } from "../capture/parse/ssh.ts";
import { conversationRows, tcpStreams, tsvRows, type TcpStream } from "./parse-corpus.ts";

const FILES = [
  "generated/ssh92.pcap",
  "generated/ssh10_mlkem.pcap",
  "generated/ssh10_mlkem_mtu576.pcap",
  "generated/ssh10_to_92.pcap",
  "generated/ssh92_curve25519_v6.pcap",
  "public/FoxIO-LLC_ja4/ssh.pcapng",
  "public/FoxIO-LLC_ja4/ssh-r.pcap",
  "public/FoxIO-LLC_ja4/sshv1.pcap",
  "public/FoxIO-LLC_ja4/ssh2-malformed.pcap",
  "public/zeek_zeek/ssh_kex_mlkem.pcap",
  "public/zeek_zeek/ssh_kex_curve25519.pcap",
  "public/zeek_zeek/ssh_kex_dh_group18.pcap",
  "public/zeek_zeek/ssh1-ssh2-fingerprints.pcap",
  "public/zeek_zeek/server-pre-banner-data.pcap",
  "public/zeek_zeek/ssh_version_199.pcap",
  "public/zeek_zeek/reverse-ssh.pcap",
  "public/zeek_zeek/single-conn.pcap",
  "public/zeek_zeek/ssh-on-port-80.pcap",
  "public/zeek_zeek/ssh_client_sends_first_enc_pkt_with_newkeys.pcap",
];

// Where tshark is the one that is short.
const TSHARK_SKIPS_SERVER: Record<string, string> = {
  "public/zeek_zeek/server-pre-banner-data.pcap": "lines before the server's banner stop tshark's SSH dissector for that direction",
};

function sshStreams(file: string): TcpStream[] {
  return tcpStreams(file).filter((s) => detectTcpProto(s.client) === "ssh");
}

const list = (cell: string | undefined) => (cell ? cell.split(",") : undefined);

describe("SSH banners and KEXINIT name-lists agree with tshark", () => {
  for (const file of FILES) {
    it(file, () => {
      const rows = tsvRows(file).filter((r) => r.kind === "ssh");
      const streams = sshStreams(file);
      expect(streams.length).toBeGreaterThan(0);
      for (const s of streams) {
        const conv = conversationRows(rows, s.clientPort, s.serverPort);
        const r = parseTcpConversation("ssh", s.client, s.server);
        const f = r.fields;
        const cBanner = conv.client.find((x) => x["ssh.protocol"]);
        const sBanner = conv.server.find((x) => x["ssh.protocol"]);
        if (cBanner) expect(f.ssh_client_banner).toBe(cBanner["ssh.protocol"]);
        if (sBanner) expect(f.ssh_server_banner).toBe(sBanner["ssh.protocol"]);
        const cKex = conv.client.find((x) => x["ssh.kex_algorithms"]);
        const sKex = conv.server.find((x) => x["ssh.kex_algorithms"]);
        expect(f.ssh_kex_client).toEqual(list(cKex?.["ssh.kex_algorithms"]));
        expect(f.ssh_hostkey_client).toEqual(list(cKex?.["ssh.server_host_key_algorithms"]));
        expect(f.ssh_ciphers_client).toEqual(list(cKex?.["ssh.encryption_algorithms_client_to_server"]));
        expect(f.ssh_macs_client).toEqual(list(cKex?.["ssh.mac_algorithms_client_to_server"]));
        if (conv.server.length === 0 && TSHARK_SKIPS_SERVER[file]) {
          // tshark dissected nothing of this server; we still read its banner and KEXINIT.
          expect(f.ssh_server_banner).toMatch(/^SSH-2\.0-/);
          expect(Array.isArray(f.ssh_kex_server)).toBe(true);
          continue;
        }
        expect(f.ssh_kex_server).toEqual(list(sKex?.["ssh.kex_algorithms"]));
        expect(f.ssh_hostkey_server).toEqual(list(sKex?.["ssh.server_host_key_algorithms"]));
        // tshark's columns hold the client-to-server lists; compare the server's own c2s lists with them.
        const server = scanSshSide(s.server).kexinit;
        expect(server?.ciphers_c2s).toEqual(list(sKex?.["ssh.encryption_algorithms_client_to_server"]));
        expect(server?.macs_c2s).toEqual(list(sKex?.["ssh.mac_algorithms_client_to_server"]));
        expect(r.complete).toBe(cKex !== undefined && sKex !== undefined);
        expect(tcpStreamComplete("ssh", s.client, "c2s")).toBe(true);
      }
    });
  }
});

describe("SSH algorithm choice (RFC 4253 §7.1)", () => {
  const chosen = (file: string) => {
    const [s] = sshStreams(file);
    return parseTcpConversation("ssh", s!.client, s!.server).fields;
  };

  it("post-quantum hybrids: OpenSSH 10.0 picks mlkem768x25519, 9.2 sntrup761x25519; AEAD means no MAC", () => {
    expect(chosen("generated/ssh10_mlkem.pcap")).toMatchObject({ ssh_kex: "mlkem768x25519-sha256", ssh_hostkey: "ssh-ed25519", ssh_cipher_c2s: "chacha20-poly1305@openssh.com" });
    expect(chosen("generated/ssh10_mlkem.pcap").ssh_mac_c2s).toBeUndefined();
    expect(chosen("generated/ssh10_mlkem_mtu576.pcap").ssh_kex).toBe("mlkem768x25519-sha256");
    expect(chosen("generated/ssh92.pcap").ssh_kex).toBe("sntrup761x25519-sha512");
    expect(chosen("generated/ssh10_to_92.pcap").ssh_kex).toBe("sntrup761x25519-sha512");
    expect(chosen("generated/ssh92_curve25519_v6.pcap").ssh_kex).toBe("curve25519-sha256");
    expect(chosen("public/zeek_zeek/ssh_kex_mlkem.pcap").ssh_kex).toBe("mlkem768x25519-sha256");
    expect(chosen("public/zeek_zeek/ssh_kex_dh_group18.pcap")).toMatchObject({ ssh_kex: "diffie-hellman-group18-sha512", ssh_cipher_c2s: "aes256-ctr", ssh_mac_c2s: "hmac-sha2-256" });
  });

  it("strict-kex and ext-info markers are never chosen as the key exchange", () => {
    const mk = (kex: string[]): KexInit => ({ kex, hostkey: ["ssh-ed25519"], ciphers_c2s: ["aes128-gcm@openssh.com", "aes128-ctr"],
      ciphers_s2c: ["aes128-ctr"], macs_c2s: ["hmac-sha2-256"], macs_s2c: ["hmac-sha2-256"], compression_c2s: ["none"],
      compression_s2c: ["none"], languages_c2s: [], languages_s2c: [], firstKexFollows: false });
    const c = mk(["kex-strict-c-v00@openssh.com", "ext-info-c", "ext-info-s", "curve25519-sha256"]);
    const s = mk(["ext-info-c", "ext-info-s", "kex-strict-c-v00@openssh.com", "curve25519-sha256"]);
    const a = chooseAlgorithms(c, s);
    expect(a.ssh_kex).toBe("curve25519-sha256");
    expect(a.ssh_cipher_s2c).toBe("aes128-ctr");
    expect(a.ssh_mac_s2c).toBe("hmac-sha2-256");
    expect(chooseAlgorithms({ ...c, ciphers_c2s: ["aes128-gcm@openssh.com"] }, s).ssh_mac_c2s).toBeUndefined();
  });

  it("server lines before the banner are skipped; SSH-1 gives banners only", () => {
    const pre = sshStreams("public/zeek_zeek/server-pre-banner-data.pcap")[0]!;
    expect(parseTcpConversation("ssh", pre.client, pre.server).fields.ssh_server_banner).toMatch(/^SSH-2\.0-/);
    const v1 = sshStreams("public/FoxIO-LLC_ja4/sshv1.pcap")[0]!;
    const r = parseTcpConversation("ssh", v1.client, v1.server);
    expect(r.complete).toBe(false);
    expect(r.fields.ssh_client_banner).toMatch(/^SSH-1\.5-/);
    expect(tcpStreamComplete("ssh", v1.client, "c2s")).toBe(true);
  });

  it("truncation and malformed packets", () => {
    const [s] = sshStreams("generated/ssh10_mlkem_mtu576.pcap");
    const side = scanSshSide(s!.client);
    const bannerEnd = s!.client.indexOf(0x0a) + 1;
    for (const cut of [0, 5, bannerEnd, bannerEnd + 3, bannerEnd + 600]) {
      const r = parseTcpConversation("ssh", s!.client.subarray(0, cut), s!.server);
      expect(r.complete).toBe(false);
      expect(tcpStreamComplete("ssh", s!.client.subarray(0, cut), "c2s")).toBe(false);
    }
    expect(side.kexinit?.kex[0]).toBe("mlkem768x25519-sha256");
    const bad = Uint8Array.from(s!.client);
    bad[bannerEnd + 5] = 21; // message type: not a KEXINIT
    expect(() => parseTcpConversation("ssh", bad, s!.server)).toThrow(ParseError);
    const huge = Uint8Array.from(s!.client);
    huge[bannerEnd] = 0x7f; // packet length ~2 GB
    expect(() => parseTcpConversation("ssh", huge, s!.server)).toThrow(ParseError);
    expect(() => parseKexInitPayload(Uint8Array.of(20, 1, 2))).toThrow(ParseError);
  });
});
