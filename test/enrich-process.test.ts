// Enrichment: container/pod identity from real-world cgroup path shapes of docker, containerd, cri-o and
// podman (systemd and cgroupfs drivers, with and without Kubernetes), and processInfo of a real child
// process; then the process tracker writes exec/exit rows with the crypto libraries a process maps.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DuckDBInstance } from "@duckdb/node-api";
import { containerFromCgroup, forgetProcess, processInfo } from "../capture/enrich/index.ts";
import { cgroup2Root, cgroupOfPid } from "../capture/bpf/kernelfs.ts";
import { startProcessTracker } from "../capture/libprobes/index.ts";
import { openLake } from "../capture/lake/writer.ts";
import { REPO_ROOT } from "../capture/bpf/native.ts";

// the agent loads only signed objects (capture/bpf/loader.ts): sign what `make -C bpf` rebuilt, as setup.sh does
function signBuiltObjects(): void {
  execFileSync(process.execPath, ["--import", "tsx", "capture/attest/setup-keys.ts", "--quiet"], { cwd: REPO_ROOT, stdio: "pipe" });
}

const ID = "4c0b0b0d1a7e9f3b2d6c5a4e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a";
const POD = "8f2a6c7e-1b3d-4e5f-9a8b-7c6d5e4f3a2b";
const POD_ = POD.replace(/-/g, "_");

describe("containerFromCgroup", () => {
  const cases: [string, string, string | null, string | null, string | null][] = [
    ["docker, systemd driver", `/system.slice/docker-${ID}.scope`, ID, "docker", null],
    ["docker, cgroupfs driver", `/docker/${ID}`, ID, "docker", null],
    ["docker in a nested cgroup namespace path", `/docker/${ID}/init.scope`, ID, "docker", null],
    ["kubernetes + containerd, systemd driver", `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${ID}.scope`, ID, "containerd", POD],
    ["kubernetes guaranteed QoS + containerd", `/kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${ID}.scope`, ID, "containerd", POD],
    ["containerd without kubernetes (cgroupfs, namespace k8s.io)", `/k8s.io/${ID}`, ID, "containerd", null],
    ["nerdctl", `/system.slice/nerdctl-${ID}.scope`, ID, "containerd", null],
    ["kubernetes + cri-o", `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-${ID}.scope`, ID, "cri-o", POD],
    ["kubernetes, cgroupfs driver (runtime not in the path)", `/kubepods/besteffort/pod${POD}/${ID}`, ID, null, POD],
    ["podman rootless", `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`, ID, "podman", null],
    ["podman rootful", `/machine.slice/libpod-${ID}.scope`, ID, "podman", null],
    ["podman's conmon is not the container", `/machine.slice/libpod-conmon-${ID}.scope`, null, null, null],
    ["cri-o's conmon is not the container", `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-conmon-${ID}.scope`, null, null, POD],
    ["a host service", "/system.slice/ssh.service", null, null, null],
    ["a user session", "/user.slice/user-0.slice/session-3.scope", null, null, null],
    ["the root cgroup", "/", null, null, null],
    ["a short hex name is not an id", "/system.slice/docker-abc123.scope", null, null, null],
  ];
  for (const [name, path, id, runtime, pod] of cases) {
    it(name, () => {
      expect(containerFromCgroup(path)).toEqual({ container_id: id, container_runtime: runtime, pod });
    });
  }
});

describe("processInfo", () => {
  it("reads a spawned child from /proc, cached until forgotten", async () => {
    const child = spawn("/bin/sleep", ["5"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const p = processInfo(child.pid!)!;
      expect(p).toMatchObject({ pid: child.pid, ppid: process.pid, uid: userInfo().uid, comm: "sleep", exe: "/usr/bin/sleep", cmdline: ["/bin/sleep", "5"] });
      expect(p.cgroup).toBe(cgroupOfPid(child.pid!));
      expect(p.cgroup_id).toBe(statSync(cgroup2Root() + (p.cgroup === "/" ? "" : p.cgroup!), { bigint: true }).ino);
      expect(typeof p.cgroup_id).toBe("bigint");
      expect(processInfo(child.pid!)).toBe(p); // the cached object
      forgetProcess(child.pid!);
      expect(processInfo(child.pid!)).not.toBe(p);
    } finally {
      child.kill();
    }
    await new Promise((r) => child.on("exit", r));
    forgetProcess(child.pid!);
    expect(processInfo(child.pid!)).toBeNull();
  });
});

describe("process tracker (sched_process_exec/exit tracepoints)", () => {
  it("writes scan, exec and exit rows with cmdline, cgroup and mapped crypto libraries", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cs-proc-"));
    try {
      signBuiltObjects();
      const lake = await openLake({ root: dir, host: "test-host", flushIntervalMs: 3_600_000 });
      const tracker = await startProcessTracker({ lake, host: "test-host" });
      // python3 maps libssl and libcrypto once `ssl` is imported, then lives long enough to be read
      const child = spawn("/usr/bin/python3", ["-c", "import ssl, time; time.sleep(0.6); raise SystemExit(3)"], { stdio: "ignore" });
      await new Promise((r) => child.on("exit", r));
      await new Promise((r) => setTimeout(r, 300));
      await tracker.stop();
      await lake.close();
      const db = await DuckDBInstance.create(":memory:");
      const con = await db.connect();
      const rows = (await con.runAndReadAll(`SELECT event, pid, ppid, comm, exe, cmdline, exit_code, cgroup, cgroup_id, [l.soname FOR l IN libraries] AS sonames
        FROM read_parquet('${dir}/processes/**/*.parquet') WHERE pid = ${child.pid} ORDER BY ts`)).getRowObjects();
      const scans = (await con.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${dir}/processes/**/*.parquet') WHERE event = 'scan' AND pid = ${process.pid}`)).getRowObjects();
      con.closeSync();
      db.closeSync();
      expect(scans[0].n).toBe(1n);
      expect(rows.map((r) => r.event)).toEqual(["exec", "exit"]);
      const [exec, exit] = rows;
      expect(exec.ppid).toBe(process.pid);
      expect(exec.comm).toBe("python3");
      expect(exec.exe).toBe("/usr/bin/python3.11");
      expect((exec.cmdline as { items: string[] }).items.slice(1)).toEqual(["-c", "import ssl, time; time.sleep(0.6); raise SystemExit(3)"]);
      expect(exec.cgroup).toBe(cgroupOfPid(process.pid)); // a child starts in its parent's cgroup
      expect(exec.cgroup_id).toBe(statSync(cgroup2Root() + (exec.cgroup === "/" ? "" : String(exec.cgroup)), { bigint: true }).ino);
      const sonames = (exec.sonames as { items: string[] }).items;
      expect(sonames).toContain("libssl.so.3");
      expect(sonames).toContain("libcrypto.so.3");
      expect(exit.exit_code).toBe(3 << 8); // wait status: exit code in the high byte
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("cgroupPathById", () => {
  it("maps a cgroup v2 id (the directory's inode) back to its path, for processes already gone", async () => {
    const { cgroupPathById } = await import("../capture/enrich/index.ts");
    const { cgroup2Root } = await import("../capture/bpf/kernelfs.ts");
    const { mkdirSync, rmdirSync, statSync } = await import("node:fs");
    const rel = `/cryptoscope-test-ids-${process.pid}/docker-${"ab".repeat(32)}.scope`;
    mkdirSync(cgroup2Root() + rel, { recursive: true });
    try {
      await new Promise((r) => setTimeout(r, 600)); // past the re-walk interval
      expect(cgroupPathById(statSync(cgroup2Root() + rel, { bigint: true }).ino)).toBe(rel);
      expect(cgroupPathById(0n)).toBeNull();
    } finally {
      rmdirSync(cgroup2Root() + rel);
      rmdirSync(cgroup2Root() + rel.slice(0, rel.lastIndexOf("/")));
    }
  });
});
