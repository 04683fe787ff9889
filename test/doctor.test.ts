// `cryptoscope doctor` tries every hook for real: on this machine (root, BTF, 6.x) all pass; without
// privileges every failing check says what is missing in one line.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runDoctor } from "../capture/doctor.ts";

const BIN = join(import.meta.dirname, "../bin/cryptoscope");

describe("cryptoscope doctor", () => {
  it("finds every kernel feature the capture needs on this host", () => {
    const checks = runDoctor();
    expect(checks.filter((c) => !c.ok), JSON.stringify(checks, null, 1)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual(expect.arrayContaining(["kernel BTF", "cgroup v2", "tracepoint (raw_syscalls/sys_enter)", "uprobe (libssl SSL_do_handshake)", "TC clsact (lo ingress)", "cgroup_skb (cgroup v2)"]));
  });

  it("without privileges: non-zero exit, one line per failed check naming the cause", () => {
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", BIN, "doctor"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    const fails = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
    expect(fails.length).toBeGreaterThan(0);
    expect(fails.join("\n")).toMatch(/not root .*CAP_BPF/);
  });
});
