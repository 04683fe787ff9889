// Parallel ingest (--jobs N): the same lake as serial ingest, whatever the number of workers, for every
// capture of the corpus; and the shard of a connection is the same in both directions.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { jobsFor } from "../capture/commands/ingest.ts";
import { ingestFilesParallel } from "../capture/ingest-parallel.ts";
import { openLake } from "../capture/lake/writer.ts";
import { Packet } from "../capture/flow/segment.ts";
import { shardOf } from "../capture/flow/shard.ts";
import { REPO_ROOT } from "../capture/repo-root.ts";
import { queryLake } from "./helpers/lake.ts";

const bin = path.join(REPO_ROOT, "bin/cryptoscope");
const corpus = path.resolve(REPO_ROOT, "../shared/corpus");
const tmp = mkdtempSync(path.join(tmpdir(), "cs-ingest-par-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function captures(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(pcap|pcapng|cap)(\.gz)?$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function ingest(files: string[], lake: string, jobs: number) {
  const r = spawnSync(bin, ["ingest", ...files, "--lake", lake, "--host", "t", "--jobs", String(jobs)], { encoding: "utf8", timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("parallel ingest", () => {
  const files = captures(corpus);

  it("writes the same handshakes and certificates with 1, 2 and 3 workers, for every corpus capture", async () => {
    expect(files.length).toBeGreaterThan(50);
    const runs = [1, 2, 3].map((jobs) => {
      const lake = path.join(tmp, `lake-${jobs}`);
      const r = ingest(files, lake, jobs);
      return { jobs, lake, r };
    });
    // Damaged public captures make the exit code 1 in every run alike; the summary lines must agree.
    const summary = (s: string) => s.replace(/ in [\d.]+ s → .*$/m, "").trim();
    for (const { r } of runs) expect(summary(r.stdout)).toBe(summary(runs[0]!.r.stdout));
    for (const { r } of runs) expect(r.code).toBe(runs[0]!.r.code);
    expect(runs[0]!.r.stdout).toMatch(/[1-9]\d* handshakes/);

    // Every column of every handshake row (flow_id is a hash of the connection, so it matches too).
    const handshakes = (lake: string) => queryLake(lake, (t) => `SELECT * EXCLUDE (hour, host) FROM ${t("handshakes")} ORDER BY ALL`);
    // Certificates: one per certificate per server endpoint per file either way; the connection a row
    // names (flow_id, its sni and time) may differ: the first to present it in its own shard.
    const certificates = (lake: string) =>
      queryLake(lake, (t) => `SELECT * EXCLUDE (hour, host, flow_id, sni, ts) FROM ${t("certificates")} ORDER BY ALL`);
    const [h1, c1] = [await handshakes(runs[0]!.lake), await certificates(runs[0]!.lake)];
    expect(h1.length).toBeGreaterThan(100);
    expect(c1.length).toBeGreaterThan(10);
    for (const { lake } of runs.slice(1)) {
      expect(await handshakes(lake)).toEqual(h1);
      expect(await certificates(lake)).toEqual(c1);
    }
  });

  it("gives both directions of a connection the same shard, and spreads connections over the shards", () => {
    const words = fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(words, words, fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 9 }), (s, d, sp, dp, n) => {
        const p = new Packet();
        [p.s0, p.s1, p.s2, p.s3] = s;
        [p.d0, p.d1, p.d2, p.d3] = d;
        p.srcPort = sp;
        p.dstPort = dp;
        const there = shardOf(p, n);
        [p.s0, p.s1, p.s2, p.s3, p.d0, p.d1, p.d2, p.d3] = [...d, ...s];
        [p.srcPort, p.dstPort] = [dp, sp];
        return there === shardOf(p, n) && there >= 0 && there < n && Number.isInteger(there);
      }),
      { numRuns: 2000 },
    );
    // Client ports of one server: within 10% of even over 4 shards.
    const p = new Packet();
    p.s0 = 0x0a000001;
    p.d0 = 0x0a000002;
    p.dstPort = 443;
    const counts = [0, 0, 0, 0];
    for (let port = 32768; port < 32768 + 40_000; port++) {
      p.srcPort = port & 0xffff;
      counts[shardOf(p, 4)]!++;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(1_000);
  });

  it("stops all workers on abort, and what they read is in the lake, counted right", async () => {
    const root = path.join(tmp, "lake-abort");
    const generated = captures(path.join(corpus, "generated"));
    const paths = Array.from({ length: 20 }, () => generated).flat(); // one or two connections per file
    const agentStart = new Date();
    const lake = await openLake({ root, host: "t", agentStart });
    const stop = new AbortController();
    const onProgress = (p: { fileIndex: number }) => p.fileIndex >= 200 && stop.abort();
    const s = await ingestFilesParallel(paths, lake, { host: "t", signal: stop.signal, onProgress }, { jobs: 2, lake: { root, host: "t", agentStart } });
    await lake.close();
    expect(s.files.length).toBeGreaterThanOrEqual(200);
    expect(s.files.length).toBeLessThan(paths.length);
    expect(s.files.at(-1)!.aborted).toBe(true); // the last file reached was not read in full by every worker
    expect(s.handshakes).toBeGreaterThan(100);
    const n = await queryLake(root, (t) => `SELECT count(*)::INT AS n FROM ${t("handshakes")}`);
    expect(n[0]!.n).toBe(s.handshakes);
  });

  it("reads a pipe with one worker, saying so when --jobs asked for more", () => {
    const fifo = path.join(tmp, "in.pcap");
    spawnSync("mkfifo", [fifo]);
    const src = path.join(corpus, "generated/tls12_rsa_kx.pcap");
    const r = spawnSync("sh", ["-c", `cat "$1" > "$2" & exec "$3" ingest "$2" --lake "$4" --host t --jobs 2`, "sh", src, fifo, bin, path.join(tmp, "lake-fifo")], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("--jobs 2: a pipe is among the inputs, reading with one worker");
    expect(r.stdout).toMatch(/ingested 1 file \(\d+ packets\): 1 handshakes/);
  });

  it("uses workers for large captures only, and refuses a bad --jobs with one line", () => {
    expect(jobsFor("auto", 1e6, 8)).toBe(1);
    expect(jobsFor("auto", 200e6, 8)).toBe(1);
    expect(jobsFor("auto", 300e6, 2)).toBe(1);
    expect(jobsFor("auto", 300e6, 3)).toBe(3);
    expect(jobsFor("auto", 300e6, 32)).toBe(4);
    expect(jobsFor("3", 1, 1)).toBe(3);
    const r = ingest([files[0]!], path.join(tmp, "lake-bad"), 0);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('cryptoscope: --jobs 0: expected "auto" or a whole number from 1 to 64');
  });
});
