// The lake writer when things go wrong: a full disk (a real 2 MB tmpfs), an unwritable lake, a full
// buffer (drops reported to agent_log), a writer killed with SIGKILL mid-stream, SIGTERM.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { LakeError, openLake } from "../capture/lake/writer.js";
import { glob, listFiles, query } from "./lake-helpers.js";

const repo = path.resolve(fileURLToPath(import.meta.url), "../..");
const base = mkdtempSync(path.join(os.tmpdir(), "lake-fail-"));
const mounts: string[] = [];
function tmpfs(name: string, options: string): string {
  const dir = path.join(base, name);
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
  mounts.push(dir);
  return dir;
}
afterAll(() => {
  for (const m of mounts) execFileSync("umount", [m]);
  rmSync(base, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** Rows that do not compress: random 64-hex-character strings. */
function noisyRow(i: number): Record<string, unknown> {
  let hex = "";
  for (let k = 0; k < 4; k++) hex += Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, "0");
  return { ts: new Date(T0 + i), flow_id: `n${i}`, leaf_cert_sha256: hex + hex.split("").reverse().join(""), pid: i };
}

describe("lake writer failures", () => {
  it("a full disk gives one clear error, keeps earlier files readable and leaves no temp file", async () => {
    const root = path.join(tmpfs("full", "size=2m"), "lake");
    const errors: LakeError[] = [];
    const lake = await openLake({ root, host: "h", onError: (e) => errors.push(e) });
    for (let i = 0; i < 1000; i++) lake.append("handshakes", noisyRow(i));
    await lake.flush();
    expect(lake.stats().rows.handshakes).toBe(1000);
    const before = listFiles(root);
    expect(before).toHaveLength(1);

    // ~100 bytes per row of incompressible data: 60k rows do not fit in what is left of 2 MB.
    for (let i = 1000; i < 61_000; i++) lake.append("handshakes", noisyRow(i));
    const err = await lake.flush().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(LakeError);
    expect((err as Error).message).toBe(`lake ${root}: no space left on device while writing handshakes; files already written are intact`);
    expect((err as Error).message).not.toContain("\n");

    expect(listFiles(root)).toEqual(before); // nothing half-written, the temp file is gone
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${glob(root, "handshakes")})`);
    expect(n).toBe(1000);
    expect(lake.stats().buffered).toBe(60_000); // kept for a later retry, within maxBufferedRows
    expect(errors).toEqual([]); // the error went to the flush() caller, not to onError
    await expect(lake.close()).rejects.toThrow(/no space left on device/);
  });

  it("an unwritable lake is refused at open with one clear line", async () => {
    const ro = tmpfs("ro", "ro,size=1m");
    await expect(openLake({ root: path.join(ro, "lake"), host: "h" })).rejects.toThrow(
      new LakeError(`lake ${path.join(ro, "lake")}: read-only file system; cannot write the lake, nothing was written`),
    );
    const file = path.join(base, "a-file");
    writeFileSync(file, "not a directory");
    await expect(openLake({ root: path.join(file, "lake"), host: "h" })).rejects.toThrow(/^lake .*a-file\/lake: a path component is not a directory; cannot write the lake/);
  });

  it("a full buffer drops rows, counts them and reports them to agent_log", async () => {
    const root = path.join(base, "drops");
    const lake = await openLake({ root, host: "h", maxBufferedRows: 100, flushIntervalMs: 3_600_000 });
    // Synchronous appends: the writer cannot run in between, so past 100 buffered rows they are dropped.
    for (let i = 0; i < 130; i++) lake.append("handshakes", { ts: new Date(T0 + i), pid: i });
    for (let i = 0; i < 5; i++) lake.append("certificates", { ts: new Date(T0 + i), sha256: `c${i}` });
    expect(lake.stats().dropped).toMatchObject({ handshakes: 30, certificates: 5 });
    await lake.close();
    expect(lake.stats().rows.handshakes).toBe(100);
    const log = await query(`SELECT level, event, object_name, count::INTEGER AS count, message FROM read_parquet(${glob(root, "agent_log")}, hive_partitioning=true) ORDER BY object_name`);
    expect(log).toEqual([
      { level: "warn", event: "drops", object_name: "certificates", count: 5, message: "5 certificates rows dropped: the lake writer's buffer was full (maxBufferedRows 100)" },
      { level: "warn", event: "drops", object_name: "handshakes", count: 30, message: "30 handshakes rows dropped: the lake writer's buffer was full (maxBufferedRows 100)" },
    ]);
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${glob(root, "handshakes")})`);
    expect(n).toBe(100);
  });

  it("drain() lets a producer that can wait avoid drops", async () => {
    const root = path.join(base, "drain");
    const lake = await openLake({ root, host: "h", maxBufferedRows: 1000 });
    for (let i = 0; i < 20_000; i++) {
      lake.append("handshakes", { ts: new Date(T0 + i), pid: i });
      if (i % 100 === 99) await lake.drain();
    }
    await lake.close();
    expect(lake.stats().dropped.handshakes).toBe(0);
    expect(lake.stats().rows.handshakes).toBe(20_000);
  });

  function startChild(root: string, interval: number, mode = ""): { child: ChildProcess; reports: { appended: number; flushed: number }; lines: Promise<void> } {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repo, "test/lake-child.ts"), root, String(interval), mode], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    const reports = { appended: 0, flushed: 0 };
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const [k, v] = buf.slice(0, nl).split(" ");
        buf = buf.slice(nl + 1);
        if (k === "appended" || k === "flushed") reports[k] = Number(v);
      }
    });
    const lines = new Promise<void>((resolve) => child.on("close", () => resolve()));
    return { child, reports, lines };
  }

  const until = async (cond: () => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it("a writer killed with SIGKILL mid-stream leaves only complete files and loses at most the last interval", async () => {
    const root = path.join(base, "kill");
    const { child, reports, lines } = startChild(root, 300);
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    await until(() => reports.flushed >= 50_000);
    const flushedBeforeKill = reports.flushed;
    child.kill("SIGKILL");
    await lines;
    const appendedAtKill = reports.appended;
    expect(stderr).toBe("");

    // Every visible file is complete and readable on its own.
    const files = listFiles(root).filter((f) => f.endsWith(".parquet"));
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) {
      const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${path.join(root, f)}')`);
      expect(n).toBeGreaterThan(0);
    }
    const [{ n, d, lo, hi }] = await query(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT pid)::INTEGER AS d, min(pid) AS lo, max(pid) AS hi FROM read_parquet(${glob(root, "handshakes")}, hive_partitioning=true)`,
    );
    // At least everything the child saw published; nothing twice; a prefix of what it appended.
    expect(n as number).toBeGreaterThanOrEqual(flushedBeforeKill);
    expect(n as number).toBeLessThanOrEqual(appendedAtKill);
    expect(d).toBe(n);
    expect(lo).toBe(0);
    expect(hi).toBe((n as number) - 1);
    // Temp files a kill can leave are hidden from `*.parquet`, and the next writer of the host removes them.
    for (const f of listFiles(root).filter((f) => !f.endsWith(".parquet"))) expect(path.basename(f)).toMatch(/^\.part-.*\.parquet\.tmp$/);
    const stale = path.join(root, "handshakes", "hour=2026-12-01T00", "host=child", ".part-20261201T000000Z-000009.parquet.tmp");
    mkdirSync(path.dirname(stale), { recursive: true });
    writeFileSync(stale, "half a file");
    const next = await openLake({ root, host: "child", staleTempAgeMs: 0 });
    await next.close();
    expect(listFiles(root).filter((f) => !f.endsWith(".parquet"))).toEqual([]);
    expect(listFiles(root).filter((f) => f.endsWith(".parquet"))).toEqual(files); // complete files untouched
  });

  it("SIGTERM flushes everything appended, closes and exits 143", async () => {
    const root = path.join(base, "term");
    const { child, reports, lines } = startChild(root, 3_600_000, "signals");
    await until(() => reports.appended >= 20_000);
    const appendedBeforeSignal = reports.appended;
    child.kill("SIGTERM");
    await lines;
    expect(child.exitCode).toBe(143);
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${glob(root, "handshakes")})`);
    expect(n as number).toBeGreaterThanOrEqual(appendedBeforeSignal); // rows appended after the signal may be refused
    expect(n as number).toBeLessThanOrEqual(reports.appended);
    expect(readdirSync(root)).toEqual(["handshakes"]);
  });
});
