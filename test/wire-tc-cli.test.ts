// Wire capture beyond the default: TC clsact on an interface inside a namespace (traffic with no local
// socket in view), port filters, --hash-identifiers, and the `cryptoscope capture` command end to end.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cgroup2Root } from "../capture/bpf/kernelfs.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLake } from "../capture/lake/writer.ts";
import { WireCapture } from "../capture/wire/capture.ts";
import { createNetnsPair, type NetnsPair } from "./helpers/netns.ts";
import { queryLake } from "./helpers/lake.ts";
import { runIn, startIn } from "./helpers/peers.ts";
import { makeCert, waitForPort } from "./helpers/tls.ts";

const BIN = join(import.meta.dirname, "../bin/cryptoscope");

describe("wire capture: TC, filters, hashing, CLI", () => {
  let ns: NetnsPair;
  let tmp: string;
  const servers: ChildProcess[] = [];
  const cert = makeCert("rsa", "tc.test");

  beforeAll(async () => {
    ns = createNetnsPair("wtc");
    tmp = mkdtempSync(join(tmpdir(), "cs-wtc-"));
    for (const port of [14441, 14442]) {
      servers.push(startIn(ns.server, ["openssl", "s_server", "-quiet", "-key", cert.key, "-cert", cert.cert, "-accept", String(port), "-www"]));
      await waitForPort(port, ns.serverAddr, 10_000, ns.client);
    }
  });
  afterAll(() => {
    for (const s of servers) s.kill("SIGKILL");
    ns?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const curl = (port: number, sni = "tc.test") =>
    runIn(ns.client, ["curl", "-sk", "--resolve", `${sni}:${port}:${ns.serverAddr}`, `https://${sni}:${port}/`]);

  it("TC on a veth inside a namespace sees the handshake (no local socket: no pid), and only watched ports", async () => {
    const root = join(tmp, "tc");
    const lake = await openLake({ root, host: "tc" });
    const wire = new WireCapture({ sink: lake, host: "tc", cgroup: null, ifaces: [`${ns.server}:${ns.serverIf}`], ports: [14441] });
    await curl(14441);
    await curl(14442); // not a watched port
    await new Promise((r) => setTimeout(r, 200));
    await wire.stop();
    await lake.close();
    const rows = await queryLake(root, (t) => `SELECT * FROM ${t("handshakes")}`);
    expect(rows.length).toBe(1);
    expect(rows[0]).toMatchObject({ server_port: 14441, sni: "tc.test", version_chosen: 0x0304, client_addr: ns.clientAddr, pid: null, role: null });
    const log = await queryLake(root, (t) => `SELECT event, decision FROM ${t("agent_log")} WHERE event = 'bpf_load'`);
    expect(log).toEqual([{ event: "bpf_load", decision: "allow" }]);
  });

  it("a client inside a container's cgroup (Kubernetes pod, containerd naming) is attributed to its container and pod", async () => {
    const id = "3f".repeat(32), pod = "4a8e2c1d-5b6f-4e7a-9c0d-1e2f3a4b5c6d";
    const rel = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${pod.replace(/-/g, "_")}.slice/cri-containerd-${id}.scope`;
    const cg = cgroup2Root() + rel;
    mkdirSync(cg, { recursive: true });
    const root = join(tmp, "ctr");
    const lake = await openLake({ root, host: "ctr" });
    const wire = new WireCapture({ sink: lake, host: "ctr", ports: [14442] });
    try {
      // a shell in the client namespace waits until we have moved it into the container's cgroup
      // (ip netns exec remounts /sys, so it cannot do it itself), then becomes curl
      const sh = spawn("ip", ["netns", "exec", ns.client, "sh", "-c", `read go; exec curl -sk --resolve ctr.test:14442:${ns.serverAddr} https://ctr.test:14442/`], { stdio: ["pipe", "ignore", "inherit"] });
      writeFileSync(`${cg}/cgroup.procs`, String(sh.pid));
      sh.stdin!.end("go\n");
      expect(await new Promise((r) => sh.on("exit", r))).toBe(0);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await wire.stop();
      await lake.close();
    }
    const rows = await queryLake(root, (t) => `SELECT role, exe, container_id, pod, cgroup_id FROM ${t("handshakes")} WHERE role = 'client'`);
    expect(rows).toEqual([{ role: "client", exe: "/usr/bin/curl", container_id: id, pod, cgroup_id: statSync(cg, { bigint: true }).ino }]);
    rmdirSync(cg);
    for (let d = cg.slice(0, cg.lastIndexOf("/")); d.length > cgroup2Root().length; d = d.slice(0, d.lastIndexOf("/"))) try { rmdirSync(d); } catch {}
  });

  it("--hash-identifiers stores keyed hashes of SNI and addresses, never the clear text", async () => {
    const root = join(tmp, "hash");
    const keyFile = join(tmp, "key");
    execFileSync("sh", ["-c", `head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > ${keyFile}`]);
    const capture = spawn(BIN, ["capture", "--lake", root, "--duration", "3", "--port", "14441", "--hash-identifiers", "--hash-key", keyFile, "--no-library-probes"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    capture.stdout.on("data", (d) => (out += d));
    capture.stderr.on("data", (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`capture never became ready: ${out}`)), 30_000);
      capture.stderr.on("data", () => { if (out.includes("capture: running")) { clearTimeout(t); resolve(); } });
    });
    await curl(14441, "secret-name.test");
    const code = await new Promise((r) => capture.on("close", r));
    expect(code, out).toBe(0);
    expect(out).toMatch(/captured [1-9]\d* handshakes/);
    const key = Buffer.from(readFileSync(keyFile, "utf8").trim(), "hex");
    const h = (v: string) => createHmac("sha256", key).update(v).digest("hex").slice(0, 32);
    const rows = await queryLake(root, (t) => `SELECT sni, client_addr, server_addr, role FROM ${t("handshakes")} ORDER BY role`);
    expect(rows.length).toBe(2); // the client's socket and the server's
    for (const r of rows) expect(r).toMatchObject({ sni: h("secret-name.test"), client_addr: h(ns.clientAddr), server_addr: h(ns.serverAddr) });
    const clear = await queryLake(root, (t) => `SELECT count(*) AS n FROM ${t("handshakes")} AS x WHERE position('secret-name' IN CAST(x AS VARCHAR)) > 0 OR position('${ns.serverAddr}' IN CAST(x AS VARCHAR)) > 0`);
    expect(Number(clear[0]!.n)).toBe(0);
    const log = await queryLake(root, (t) => `SELECT list(DISTINCT event ORDER BY event) AS ev FROM ${t("agent_log")}`);
    expect(log[0]!.ev).toEqual(expect.arrayContaining(["bpf_load", "drops", "start", "stop"]));
  });

  it("`cryptoscope capture` with a bad option or no privileges fails in one clear line", () => {
    const bad = (() => { try { execFileSync(BIN, ["capture", "--port", "99999"], { stdio: "pipe" }); return ""; } catch (e) { return String((e as { stderr: Buffer }).stderr); } })();
    expect(bad.trim().split("\n")[0]).toMatch(/not a port: 99999/);
    const unpriv = (() => {
      try { execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", BIN, "capture", "--lake", join(tmp, "nopriv"), "--duration", "1"], { stdio: "pipe" }); return ""; }
      catch (e) { return String((e as { stderr: Buffer }).stderr); }
    })();
    expect(unpriv.trim().split("\n").length).toBe(1);
    expect(unpriv).toMatch(/cryptoscope: .*(needs root or CAP_BPF|permission denied|EACCES)/i);
  });
});
