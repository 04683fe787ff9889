// A small lake written by the real lake writer, with values chosen so every mart's rows can be worked out
// by hand (the expected rows live in the tests, not here). Two agent hosts: "web1" (servers) and "laptop"
// (clients). Policy reference time AS_OF = 2026-06-01T00:00:00Z.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLake } from "../capture/lake/writer.ts";
import type { Row, TableName } from "../capture/lake/schema.ts";

export const AS_OF = "2026-06-01T00:00:00Z";
const t = (s: string) => new Date(`2026-05-01T${s}Z`);

const tls = (o: Row): Row => ({ source: "wire", proto: "tls", transport: "tcp", ...o });
const ssh = (o: Row): Row => ({ source: "wire", proto: "ssh", transport: "tcp", version_chosen: null, ...o });

export const HANDSHAKES: Record<string, Row[]> = {
  web1: [
    // h1-h3: shop.example on 10.0.0.1:443, TLS 1.3; two of three with X25519MLKEM768 (0x11EC)
    tls({ ts: t("10:05:00"), pid: 100, comm: "nginx", exe: "/usr/sbin/nginx", role: "server", client_addr: "10.0.0.50", client_port: 40001, server_addr: "10.0.0.1", server_port: 443, sni: "shop.example", alpn_chosen: "h2", versions_offered: [0x0304, 0x0303], version_chosen: 0x0304, suite_chosen: 0x1301, groups_offered: [0x11ec, 0x1d], key_share_groups: [0x11ec], group_chosen: 0x11ec, sig_alg_chosen: 0x0804, leaf_cert_sha256: "aaaa", library: "openssl", flow_id: "f1" }),
    tls({ ts: t("10:20:00"), pid: 100, comm: "nginx", exe: "/usr/sbin/nginx", role: "server", client_addr: "10.0.0.51", client_port: 40002, server_addr: "10.0.0.1", server_port: 443, sni: "shop.example", alpn_chosen: "http/1.1", versions_offered: [0x0304], version_chosen: 0x0304, suite_chosen: 0x1302, groups_offered: [0x1d], key_share_groups: [0x1d], group_chosen: 0x1d, sig_alg_chosen: 0x0804, leaf_cert_sha256: "aaaa", library: "openssl", flow_id: "f2" }),
    tls({ ts: t("10:40:00"), pid: 100, comm: "nginx", exe: "/usr/sbin/nginx", role: "server", client_addr: "10.0.0.52", client_port: 40003, server_addr: "10.0.0.1", server_port: 443, sni: "shop.example", alpn_chosen: "h2", versions_offered: [0x0304], version_chosen: 0x0304, suite_chosen: 0x1301, groups_offered: [0x11ec], key_share_groups: [0x11ec], group_chosen: 0x11ec, sig_alg_chosen: 0x0804, leaf_cert_sha256: "aaaa", library: "openssl", flow_id: "f3" }),
    // h4: legacy.example on 10.0.0.1:8443, TLS 1.2 with static RSA key transport (no forward secrecy)
    tls({ ts: t("11:10:00"), pid: 100, comm: "nginx", exe: "/usr/sbin/nginx", role: "server", client_addr: "10.0.0.53", client_port: 40004, server_addr: "10.0.0.1", server_port: 8443, sni: "legacy.example", versions_offered: null, legacy_version: 0x0303, version_chosen: 0x0303, suite_chosen: 0x009c, groups_offered: [0x17], group_chosen: null, sig_alg_chosen: null, leaf_cert_sha256: "bbbb", library: "openssl", flow_id: "f4" }),
    // s2: sshd on 10.0.0.3:22, classical curve25519
    ssh({ ts: t("12:30:00"), pid: 300, comm: "sshd", exe: "/usr/sbin/sshd", role: "server", client_addr: "10.0.0.60", client_port: 50000, server_addr: "10.0.0.3", server_port: 22, ssh_client_banner: "SSH-2.0-PuTTY_Release_0.78", ssh_server_banner: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", ssh_kex_client: ["curve25519-sha256"], ssh_kex_server: ["curve25519-sha256", "diffie-hellman-group14-sha256"], ssh_hostkey_server: ["rsa-sha2-512"], ssh_kex: "curve25519-sha256", ssh_hostkey: "rsa-sha2-512", ssh_cipher_c2s: "aes128-ctr", ssh_cipher_s2c: "aes128-ctr", ssh_mac_c2s: "hmac-sha2-256", ssh_mac_s2c: "hmac-sha2-256", flow_id: "s2" }),
  ],
  laptop: [
    // h5: curl → api.example, TLS 1.0, ECDHE-RSA-AES128-SHA over secp256r1, rsa_pkcs1_sha1
    tls({ ts: t("11:30:00"), pid: 200, comm: "curl", exe: "/usr/bin/curl", role: "client", client_addr: "192.168.1.10", client_port: 50001, server_addr: "93.184.0.1", server_port: 443, sni: "api.example", versions_offered: null, legacy_version: 0x0301, version_chosen: 0x0301, suite_chosen: 0xc013, groups_offered: [0x1d, 0x17], key_share_groups: null, group_chosen: 0x17, sig_alg_chosen: 0x0201, library: "openssl", flow_id: "f5" }),
    // h6: curl → shop.example, TLS 1.3 with X25519MLKEM768 (and GREASE in its lists)
    tls({ ts: t("11:45:00"), pid: 201, comm: "curl", exe: "/usr/bin/curl", role: "client", client_addr: "192.168.1.10", client_port: 50002, server_addr: "10.0.0.1", server_port: 443, sni: "shop.example", versions_offered: [0x2a2a, 0x0304, 0x0303], version_chosen: 0x0304, suite_chosen: 0x1301, groups_offered: [0x2a2a, 0x11ec, 0x1d], key_share_groups: [0x11ec], group_chosen: 0x11ec, sig_alg_chosen: 0x0804, leaf_cert_sha256: "aaaa", library: "openssl", flow_id: "f6" }),
    // s1: ssh → 10.0.0.2:22 with the sntrup761 hybrid
    ssh({ ts: t("12:00:00"), pid: 202, comm: "ssh", exe: "/usr/bin/ssh", role: "client", client_addr: "192.168.1.10", client_port: 50003, server_addr: "10.0.0.2", server_port: 22, ssh_client_banner: "SSH-2.0-OpenSSH_9.2p1", ssh_server_banner: "SSH-2.0-OpenSSH_9.6", ssh_kex_client: ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"], ssh_kex_server: ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"], ssh_hostkey_server: ["ssh-ed25519"], ssh_kex: "sntrup761x25519-sha512@openssh.com", ssh_hostkey: "ssh-ed25519", ssh_cipher_c2s: "chacha20-poly1305@openssh.com", ssh_cipher_s2c: "chacha20-poly1305@openssh.com", ssh_mac_c2s: null, ssh_mac_s2c: null, flow_id: "s1" }),
  ],
};

const cert = (o: Row): Row => ({ source: "wire", chain_position: 0, is_ca: false, ...o });
export const CERTIFICATES: Record<string, Row[]> = {
  web1: [
    cert({ ts: t("10:05:00"), sha256: "aaaa", subject: "CN=shop.example", issuer: "CN=Example CA", serial: "01", not_before: new Date("2026-01-01T00:00:00Z"), not_after: new Date("2027-01-01T00:00:00Z"), key_alg: "ec", key_oid: "1.2.840.10045.2.1", key_bits: 256, key_curve: "P-256", sig_alg_oid: "1.2.840.10045.4.3.2", sig_alg: "ecdsa-with-SHA256", sans: ["dns:shop.example"], server_addr: "10.0.0.1", server_port: 443, sni: "shop.example", flow_id: "f1" }),
    cert({ ts: t("11:10:00"), sha256: "bbbb", subject: "CN=legacy.example", issuer: "CN=Old CA", serial: "02", not_before: new Date("2024-06-15T00:00:00Z"), not_after: new Date("2026-06-15T00:00:00Z"), key_alg: "rsa", key_oid: "1.2.840.113549.1.1.1", key_bits: 1024, sig_alg_oid: "1.2.840.113549.1.1.5", sig_alg: "sha1WithRSAEncryption", sans: ["dns:legacy.example"], server_addr: "10.0.0.1", server_port: 8443, sni: "legacy.example", flow_id: "f4" }),
    cert({ ts: t("11:20:00"), sha256: "cccc", subject: "CN=expired.example", issuer: "CN=Old CA", serial: "03", not_before: new Date("2025-05-01T00:00:00Z"), not_after: new Date("2026-05-01T00:00:00Z"), key_alg: "rsa", key_oid: "1.2.840.113549.1.1.1", key_bits: 4096, sig_alg_oid: "1.2.840.113549.1.1.11", sig_alg: "sha256WithRSAEncryption", sans: [], server_addr: "10.0.0.9", server_port: 443, sni: null }),
  ],
  laptop: [
    cert({ ts: t("11:45:00"), sha256: "aaaa", subject: "CN=shop.example", issuer: "CN=Example CA", serial: "01", not_before: new Date("2026-01-01T00:00:00Z"), not_after: new Date("2027-01-01T00:00:00Z"), key_alg: "ec", key_oid: "1.2.840.10045.2.1", key_bits: 256, key_curve: "P-256", sig_alg_oid: "1.2.840.10045.4.3.2", sig_alg: "ecdsa-with-SHA256", sans: ["dns:shop.example"], server_addr: "10.0.0.1", server_port: 443, sni: "shop.example", flow_id: "f6" }),
  ],
};

const lib = (soname: string, version: string) => ({ path: `/usr/lib/x86_64-linux-gnu/${soname}`, soname, version });
export const PROCESSES: Record<string, Row[]> = {
  web1: [
    { ts: t("10:00:00"), event: "exec", pid: 100, ppid: 1, uid: 33, comm: "nginx", exe: "/usr/sbin/nginx", cmdline: ["nginx"], libraries: [lib("libssl.so.3", "3.0.15"), lib("libcrypto.so.3", "3.0.15")] },
  ],
  laptop: [
    { ts: t("11:29:00"), event: "exec", pid: 200, ppid: 10, uid: 1000, comm: "curl", exe: "/usr/bin/curl", cmdline: ["curl", "https://api.example"], libraries: [lib("libssl.so.3", "3.0.15"), lib("libgnutls.so.30", "3.7.9")] },
    { ts: t("11:44:00"), event: "exec", pid: 201, ppid: 10, uid: 1000, comm: "curl", exe: "/usr/bin/curl", cmdline: ["curl", "https://shop.example"], libraries: [lib("libssl.so.3", "3.0.15")] },
  ],
};

export const LIBRARY_EVENTS: Record<string, Row[]> = {
  web1: [
    { ts: t("12:30:00"), source: "uprobe", library: "openssl", library_path: "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", pid: 300, comm: "sshd", exe: "/usr/sbin/sshd", event: "group", key: "tls::group", value_int: 29 },
  ],
  laptop: [
    { ts: t("11:45:00"), source: "uprobe", library: "openssl", library_path: "/usr/lib/x86_64-linux-gnu/libssl.so.3", pid: 201, comm: "curl", exe: "/usr/bin/curl", event: "group", key: "tls::group", value_int: 4588 },
    { ts: t("11:45:01"), source: "uprobe", library: "openssl", library_path: "/usr/lib/x86_64-linux-gnu/libssl.so.3", pid: 201, comm: "curl", exe: "/usr/bin/curl", event: "cipher", key: "tls::ciphersuite", value_int: 4865 },
  ],
};

/** Write the fixture lake into a fresh temp folder; returns the lake root (its parent holds marts/db). */
export async function writeFixtureLake(dir = mkdtempSync(join(tmpdir(), "cs-models-"))): Promise<string> {
  const root = join(dir, "lake");
  for (const host of ["web1", "laptop"]) {
    const lake = await openLake({ root, host, flushIntervalMs: 3_600_000 });
    const tables: [TableName, Record<string, Row[]>][] = [
      ["handshakes", HANDSHAKES], ["certificates", CERTIFICATES], ["processes", PROCESSES], ["library_events", LIBRARY_EVENTS],
    ];
    for (const [table, rows] of tables) for (const r of rows[host] ?? []) lake.append(table, { host, ...r });
    await lake.close();
  }
  return root;
}
