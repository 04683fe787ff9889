// The foundation loads real BPF programs into this kernel: tracepoint, uprobe on libssl, TC in a
// network namespace, cgroup_skb, and the ring-buffer consumer. No mocks: a missing feature fails here.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BpfObject, bpfObjectPath, forEachRecord, libbpfVersion } from "../capture/bpf/native.ts";
import { cgroup2Root } from "../capture/bpf/kernelfs.ts";
import { createNetnsPair, type NetnsPair } from "./helpers/netns.ts";
import { freePort, makeCert, waitForPort } from "./helpers/tls.ts";

const REC_SYSCALL = 2, REC_UPROBE_HIT = 3;
const SYS_getppid = 110; // x86_64

function findLibssl(): string {
  const out = execFileSync("ldconfig", ["-p"]).toString();
  const m = out.match(/libssl\.so\.3 .*=> (\S+)/);
  if (!m) throw new Error("libssl.so.3 not found (apt-get install libssl3)");
  return m[1];
}

function collect(obj: BpfObject, ms: number, type: number): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const recs: Buffer[] = [];
    const c = obj.consumeRingBuffers(["events"], (batch) => forEachRecord(batch, (r) => {
      if (r.readUInt32LE(0) === type) recs.push(Buffer.from(r));
    }), { timeoutMs: 10 });
    setTimeout(() => { c.stop(); setTimeout(() => resolve(recs), 50); }, ms);
  });
}

describe("native addon over libbpf", () => {
  it("is linked against libbpf 1.5", () => {
    expect(libbpfVersion()).toBe("v1.5");
  });

  it("a tracepoint program sees a child process's syscalls", async () => {
    // The child waits on stdin so its pid can go into .rodata before it does anything.
    const child = spawn("/usr/bin/python3", ["-c", "import os,sys\nsys.stdin.readline()\nfor _ in range(5): os.getppid()\nprint('done', flush=True)"], { stdio: ["pipe", "pipe", "inherit"] });
    const obj = new BpfObject(bpfObjectPath("probe_check"));
    try {
      obj.setRodata("target_tgid", child.pid!, 4).load();
      obj.attachTracepoint("on_sys_enter", "raw_syscalls", "sys_enter");
      const recsP = collect(obj, 1500, REC_SYSCALL);
      child.stdin!.write("go\n");
      const recs = await recsP;
      const mine = recs.filter((r) => r.readUInt32LE(16) === child.pid);
      expect(mine.length).toBe(recs.length); // filtered in the kernel
      const getppids = mine.filter((r) => Number(r.readBigInt64LE(24)) === SYS_getppid);
      expect(getppids.length).toBeGreaterThanOrEqual(5);
      expect(mine[mine.length - 1].subarray(32, 48).toString().replace(/\0.*$/s, "")).toBe("python3");
      expect(obj.kernelDrops()).toBe(0n);
    } finally {
      obj.close();
      child.kill();
    }
  });

  describe("uprobe on libssl", () => {
    let server: ChildProcess;
    let port: number;
    beforeAll(async () => {
      const { cert, key } = makeCert("rsa");
      port = await freePort();
      server = spawn("openssl", ["s_server", "-accept", `127.0.0.1:${port}`, "-cert", cert, "-key", key, "-www", "-quiet"], { stdio: "ignore" });
      await waitForPort(port);
    });
    afterAll(() => { server?.kill(); });

    it("fires for a real curl https handshake against openssl s_server", async () => {
      const libssl = findLibssl();
      const obj = new BpfObject(bpfObjectPath("probe_check"));
      try {
        obj.load();
        obj.attachUprobe("on_uprobe", { binary: libssl, symbol: "SSL_do_handshake", cookie: 0xc0ffeen });
        const recsP = collect(obj, 2500, REC_UPROBE_HIT);
        const out = execFileSync("curl", ["-sk", `https://127.0.0.1:${port}/`]).toString();
        expect(out).toContain("s_server");
        const recs = await recsP;
        const curlHits = recs.filter((r) => r.subarray(40, 56).toString().startsWith("curl"));
        expect(curlHits.length).toBeGreaterThanOrEqual(1);
        expect(curlHits[0].readBigUInt64LE(24)).toBe(0xc0ffeen); // the attach cookie reaches the program
      } finally {
        obj.close();
      }
    });

    it("attaching to a missing symbol gives a clear error", () => {
      const obj = new BpfObject(bpfObjectPath("probe_check"));
      try {
        obj.load();
        expect(() => obj.attachUprobe("on_uprobe", { binary: findLibssl(), symbol: "SSL_no_such_function" }))
          .toThrow(/attach uprobe .*libssl\.so\.3:SSL_no_such_function: .*\(errno \d+\) - /);
        expect(() => obj.attachUprobe("on_uprobe", { binary: "/nonexistent/libfoo.so", symbol: "x" }))
          .toThrow(/does not exist|No such file/);
      } finally {
        obj.close();
      }
    });
  });

  describe("TC and cgroup_skb", () => {
    let ns: NetnsPair;
    beforeAll(() => { ns = createNetnsPair("tcf"); });
    afterAll(() => ns?.destroy());

    it("a TC program on a veth inside a network namespace counts packets", () => {
      const obj = new BpfObject(bpfObjectPath("probe_check"));
      try {
        obj.load();
        obj.attachTc("on_tc", { ifname: ns.serverIf, netns: ns.server, direction: "ingress" });
        execFileSync("ip", ["netns", "exec", ns.client, "ping", "-c", "5", "-i", "0.05", "-q", ns.serverAddr], { stdio: "ignore" });
        expect(Number(obj.arrayU64("packets", 0))).toBeGreaterThanOrEqual(5);
        // the interface exists only in that namespace: a clear error outside it
        expect(() => obj.attachTc("on_tc", { ifname: ns.serverIf, direction: "ingress" })).toThrow(/interface .* not found/);
      } finally {
        obj.close();
      }
      // closing removed the clsact qdisc we created
      const qdiscs = execFileSync("tc", ["-n", ns.server, "qdisc", "show", "dev", ns.serverIf]).toString();
      expect(qdiscs).not.toContain("clsact");
    });

    it("a cgroup_skb program on a cgroup sees its processes' packets", () => {
      const cg = `${cgroup2Root()}/cryptoscope-test-${process.pid}`;
      mkdirSync(cg, { recursive: true });
      const obj = new BpfObject(bpfObjectPath("probe_check"));
      try {
        obj.load();
        obj.attachCgroup("on_cgroup_egress", cg);
        // a shell moves itself into the cgroup, then pings loopback
        execFileSync("sh", ["-c", `echo $$ > ${cg}/cgroup.procs && ping -c 3 -i 0.05 -q 127.0.0.1`], { stdio: "ignore" });
        expect(Number(obj.arrayU64("packets", 1))).toBeGreaterThanOrEqual(3);
      } finally {
        obj.close();
        try { rmdirSync(cg); } catch {}
      }
    });
  });

  it("reports clear errors for misuse", () => {
    expect(() => new BpfObject("/nonexistent.bpf.o")).toThrow(/open BPF object \/nonexistent\.bpf\.o: .*errno/);
    const obj = new BpfObject(bpfObjectPath("probe_check"));
    try {
      expect(() => obj.setRodata("no_such_var", 1)).toThrow(/no const volatile variable named no_such_var/);
      expect(() => obj.attachTracepoint("on_sys_enter", "raw_syscalls", "sys_enter")).toThrow(/call load\(\) first/);
      obj.load();
      expect(() => obj.setRodata("target_tgid", 1)).toThrow(/before load/);
      expect(() => obj.attachTracepoint("on_sys_enter", "nosuchcat", "nosuchtp")).toThrow(/attach tracepoint nosuchcat\/nosuchtp/);
    } finally {
      obj.close();
    }
    const garbage = Buffer.from("not an ELF file at all");
    expect(() => new BpfObject(garbage, "garbage")).toThrow(/open BPF object garbage from memory/);
    writeFileSync("/tmp/cs-empty.bpf.o", "");
  });
});
