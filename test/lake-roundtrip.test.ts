// The lake writer against DuckDB: what is written is read back exactly (counts, sums, lists, nulls,
// timestamps, blobs, 64-bit values) across an hour rollover; layout, metadata and schema evolution.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { parquetReadObjects } from "hyparquet";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LakeError, openLake } from "../capture/lake/writer.js";
import { SCHEMA_VERSION, TABLES, type Row } from "../capture/lake/schema.js";
import { zstd } from "../capture/lake/zstd.js";
import { glob, listFiles, query } from "./lake-helpers.js";

const roots: string[] = [];
function tmpRoot(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "lake-rt-"));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 11, 1, 18, 59, 58, 500); // 1.5 s before 19:00 UTC
const N = 3000; // 1 ms apart: rows 0..1499 in hour 18, 1500..2999 in hour 19

function handshake(i: number): Row {
  return {
    ts: i % 2 === 0 ? new Date(T0 + i) : BigInt(T0 + i) * 1000n + 7n, // Date (ms) or bigint µs
    host: "test-host",
    source: i % 4 === 0 ? "pcap" : "wire",
    proto: ["tls", "quic", "ssh"][i % 3],
    pid: i % 5 === 0 ? null : i,
    cgroup_id: i % 4 === 0 ? 2n ** 64n - 1n - BigInt(i) : BigInt(i), // UBIGINT above 2^63
    netns: 4026531840 + i,
    quic_version: i % 3 === 1 ? 0x6b3343cf : null,
    sni: i % 7 === 0 ? null : i % 11 === 0 ? `bücher-${i % 3}.example` : i % 13 === 0 ? "a.io" : `host-${i % 50}.example.com`,
    suites_offered: i % 6 === 0 ? null : i % 6 === 1 ? [] : [4865, 4866, i, -1],
    alpn_offered: i % 2 === 1 ? ["h2", "http/1.1"] : null,
    hello_retry: i % 3 === 0,
    ech: i % 9 === 0 ? null : i % 2 === 0,
    ja4: "t13d1516h2_8daaf6152771_e5627efa2ab1",
    ssh_kex_client: i % 3 === 2 ? ["mlkem768x25519-sha256", "curve25519-sha256", `x-${i % 4}@example.org`] : null,
    flow_id: `f${String(i).padStart(5, "0")}`,
  };
}

const i2e = (i: number) => ["group", "cipher", "signature"][i % 3];

function tsMicros(r: Row): bigint {
  return r.ts instanceof Date ? BigInt(r.ts.getTime()) * 1000n : (r.ts as bigint);
}

describe("lake writer round trip", () => {
  for (const encoder of ["js", "duckdb"] as const)
  it(`reads back exactly what was written, across an hour rollover (${encoder} encoder)`, async () => {
    const root = tmpRoot();
    const lake = await openLake({ root, host: "test-host", agentStart: new Date(Date.UTC(2026, 11, 1, 18, 0, 0)), encoder });
    const rows = Array.from({ length: N }, (_, i) => handshake(i));
    for (const r of rows) lake.append("handshakes", r);
    const der = (k: number) => Uint8Array.from({ length: 300 + k }, (_, j) => (j * 7 + k) % 256); // includes 0x00 bytes
    for (let k = 0; k < 5; k++)
      lake.append("certificates", {
        ts: new Date(T0 + 2000 + k),
        host: "test-host",
        sha256: "ab".repeat(32),
        subject: `CN=server-${k}`,
        not_before: new Date(Date.UTC(2026, 0, 1)),
        not_after: new Date(Date.UTC(2027, 0, 1, 12, 30, 15, 250)),
        sans: k === 0 ? null : [`dns:s${k}.example`, "ip:10.0.0.1"],
        is_ca: k === 4,
        der: der(k),
      });
    lake.append("processes", {
      ts: new Date(T0),
      host: "test-host",
      event: "exec",
      pid: 42,
      cmdline: ["/usr/bin/curl", "-s", "https://example.org/"],
      libraries: [
        { path: "/usr/lib/x86_64-linux-gnu/libssl.so.3", soname: "libssl.so.3", version: "3.5.1" },
        { path: "/usr/lib/x86_64-linux-gnu/libgnutls.so.30", soname: "libgnutls.so.30", version: null },
      ],
    });
    await lake.close();

    const s = lake.stats();
    expect(s.rows.handshakes).toBe(N);
    expect(s.rows.certificates).toBe(5);
    expect(s.dropped.handshakes).toBe(0);
    expect(s.buffered).toBe(0);

    // Layout: hive partitions by hour of each row's own ts, no temp files left.
    const files = listFiles(root);
    expect(files.filter((f) => f.startsWith("handshakes/"))).toEqual([
      "handshakes/hour=2026-12-01T18/host=test-host/part-20261201T180000Z-000001.parquet",
      "handshakes/hour=2026-12-01T19/host=test-host/part-20261201T180000Z-000002.parquet",
    ]);
    expect(files.some((f) => f.endsWith(".tmp"))).toBe(false);

    const src = `read_parquet(${glob(root, "handshakes")}, hive_partitioning=true)`;
    const perHour = await query(`SELECT hour, host, count(*)::INTEGER AS n, min(ts) < TIMESTAMP '2026-12-01 19:00:00' AS early FROM ${src} GROUP BY ALL ORDER BY hour`);
    expect(perHour).toEqual([
      { hour: "2026-12-01T18", host: "test-host", n: 1500, early: true },
      { hour: "2026-12-01T19", host: "test-host", n: 1500, early: false },
    ]);

    // Types as DuckDB sees them: TIMESTAMP (not WITH TIME ZONE), lists as lists, UBIGINT.
    const types = await query(`SELECT typeof(ts) AS ts, typeof(suites_offered) AS suites, typeof(cgroup_id) AS cg, typeof(alpn_offered) AS alpn FROM ${src} LIMIT 1`);
    expect(types).toEqual([{ ts: "TIMESTAMP", suites: "INTEGER[]", cg: "UBIGINT", alpn: "VARCHAR[]" }]);

    // Aggregates.
    const expectSum = (f: (r: Row) => number | bigint | null) => rows.reduce<bigint>((a, r) => a + BigInt(f(r) ?? 0), 0n);
    const agg = (await query(`SELECT sum(pid)::VARCHAR AS pid, count(pid)::INTEGER AS npid, sum(cgroup_id)::VARCHAR AS cg, sum(netns)::VARCHAR AS netns,
        sum(list_sum(suites_offered))::VARCHAR AS suites, count(suites_offered)::INTEGER AS nsuites, sum(len(suites_offered))::INTEGER AS nelems,
        count(sni)::INTEGER AS nsni, count(DISTINCT sni)::INTEGER AS dsni, sum(hello_retry::INTEGER)::INTEGER AS hrr, count(ech)::INTEGER AS nech,
        sum(quic_version)::VARCHAR AS qv FROM ${src}`))[0];
    expect(agg).toEqual({
      pid: expectSum((r) => r.pid as number | null).toString(),
      npid: rows.filter((r) => r.pid !== null).length,
      cg: expectSum((r) => r.cgroup_id as bigint).toString(),
      netns: expectSum((r) => r.netns as number).toString(),
      suites: expectSum((r) => ((r.suites_offered as number[] | null) ?? []).reduce((a, b) => a + b, 0)).toString(),
      nsuites: rows.filter((r) => r.suites_offered !== null).length,
      nelems: rows.reduce((a, r) => a + ((r.suites_offered as number[] | null)?.length ?? 0), 0),
      nsni: rows.filter((r) => r.sni !== null).length,
      dsni: new Set(rows.map((r) => r.sni).filter((x) => x !== null)).size,
      hrr: rows.filter((r) => r.hello_retry).length,
      nech: rows.filter((r) => r.ech !== null).length,
      qv: expectSum((r) => r.quic_version as number | null).toString(),
    });

    // Row by row (rows are clustered inside a file, so compare by flow_id).
    const back = await query(`SELECT flow_id, epoch_us(ts)::VARCHAR AS ts, proto, pid, cgroup_id::VARCHAR AS cg, sni, to_json(suites_offered)::VARCHAR AS suites,
        to_json(alpn_offered)::VARCHAR AS alpn, to_json(ssh_kex_client)::VARCHAR AS kex, hello_retry, ech, quic_version::VARCHAR AS qv, comm FROM ${src} ORDER BY flow_id`);
    expect(back.length).toBe(N);
    back.forEach((b, i) => {
      const r = rows[i];
      expect(b).toEqual({
        flow_id: r.flow_id,
        ts: tsMicros(r).toString(),
        proto: r.proto,
        pid: r.pid,
        cg: (r.cgroup_id as bigint).toString(),
        sni: r.sni,
        suites: r.suites_offered === null ? null : JSON.stringify(r.suites_offered),
        alpn: r.alpn_offered === null ? null : JSON.stringify(r.alpn_offered),
        kex: r.ssh_kex_client === null ? null : JSON.stringify(r.ssh_kex_client),
        hello_retry: r.hello_retry,
        ech: r.ech,
        qv: r.quic_version === null ? null : String(r.quic_version),
        comm: null, // missing key = null
      });
    });

    // An independent reader (hyparquet, pure JS) reads the same values.
    const { decompress } = await zstd();
    const other: Record<string, unknown>[] = [];
    for (const f of files.filter((f) => f.startsWith("handshakes/"))) {
      const b = readFileSync(path.join(root, f));
      const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      other.push(...(await parquetReadObjects({ file, compressors: { ZSTD: (input: Uint8Array) => decompress(input) }, columns: ["flow_id", "pid", "cgroup_id", "sni", "suites_offered", "ssh_kex_client", "hello_retry"] })));
    }
    other.sort((a, b) => String(a.flow_id).localeCompare(String(b.flow_id)));
    expect(other).toEqual(
      rows.map((r) => ({
        flow_id: r.flow_id, pid: r.pid, cgroup_id: r.cgroup_id, sni: r.sni, suites_offered: r.suites_offered, ssh_kex_client: r.ssh_kex_client, hello_retry: r.hello_retry,
      })),
    );

    // Blobs, timestamps and lists of the other tables.
    const certs = await query(`SELECT subject, hex(der) AS der, epoch_us(not_after)::VARCHAR AS na, to_json(sans)::VARCHAR AS sans, is_ca
        FROM read_parquet(${glob(root, "certificates")}, hive_partitioning=true) ORDER BY subject`);
    expect(certs).toEqual(
      [0, 1, 2, 3, 4].map((k) => ({
        subject: `CN=server-${k}`,
        der: Buffer.from(der(k)).toString("hex").toUpperCase(),
        na: (BigInt(Date.UTC(2027, 0, 1, 12, 30, 15, 250)) * 1000n).toString(),
        sans: k === 0 ? null : JSON.stringify([`dns:s${k}.example`, "ip:10.0.0.1"]),
        is_ca: k === 4,
      })),
    );
    const procs = await query(`SELECT to_json(cmdline)::VARCHAR AS cmd, to_json(libraries)::VARCHAR AS libs, typeof(libraries) AS t
        FROM read_parquet(${glob(root, "processes")}, hive_partitioning=true)`);
    expect(procs).toEqual([
      {
        cmd: JSON.stringify(["/usr/bin/curl", "-s", "https://example.org/"]),
        libs: JSON.stringify([
          { path: "/usr/lib/x86_64-linux-gnu/libssl.so.3", soname: "libssl.so.3", version: "3.5.1" },
          { path: "/usr/lib/x86_64-linux-gnu/libgnutls.so.30", soname: "libgnutls.so.30", version: null },
        ]),
        t: "STRUCT(path VARCHAR, soname VARCHAR, \"version\" VARCHAR)[]",
      },
    ]);

    // File metadata: schema version and table in the key-value metadata, ZSTD everywhere.
    const kv = await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${glob(root, "handshakes")}) ORDER BY file_name, k`);
    expect(kv.filter((r) => r.k === "cryptoscope.schema_version").map((r) => r.v)).toEqual([String(SCHEMA_VERSION), String(SCHEMA_VERSION)]);
    expect(kv.filter((r) => r.k === "cryptoscope.table").map((r) => r.v)).toEqual(["handshakes", "handshakes"]);
    const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata(${glob(root, "*")})`);
    expect(codecs).toEqual([{ compression: "ZSTD" }]);
  });

  // Strings are dictionary-coded as they are appended and a near-unique column turns into raw UTF-8
  // bytes part-way through a batch; lists are interned. Every path, with several row groups per file.
  for (const encoder of ["js", "duckdb"] as const)
  it(`reads back strings and lists of every cardinality exactly (${encoder} encoder)`, async () => {
    const root = tmpRoot();
    const lake = await openLake({ root, host: "h", rowGroupSize: 4000, encoder });
    const M = 12_000;
    const t0 = BigInt(Date.UTC(2026, 11, 1, 9)) * 1000n;
    const rows: Row[] = [];
    for (let i = 0; i < M; i++) {
      rows.push({
        ts: t0 + BigInt(i) * 1000n,
        flow_id: `flow-${i}`, // unique: raw from ~3000 rows on
        // unique after the first 5000 rows, non-ASCII and astral characters, some nulls: switches late
        client_addr: i % 17 === 0 ? null : i < 5000 ? `addr-${i % 40}` : `adr-ü-${i}${i % 5 === 0 ? "😀" : ""}`,
        sni: i % 9 === 0 ? null : `name-${(i * 7919) % 2500}.example`,
        comm: ["curl", "wget", "node", "java", "", "bücher"][i % 6],
        suites_offered: i % 10 === 0 ? null : i % 10 === 1 ? [] : i % 3 === 0 ? [4865, 4866, 4867] : [i, -i, i % 7, 2147483647, -2147483648],
        ssh_kex_client: i % 8 === 0 ? null : i % 8 === 1 ? [] : i % 2 === 0 ? ["a", "b", "ä"] : [`k${i}`, "a", `k${i % 13}`],
      });
    }
    for (const r of rows) lake.append("handshakes", r);
    await lake.close();
    const src = `read_parquet(${glob(root, "handshakes")}, hive_partitioning=true)`;
    const back = await query(`SELECT flow_id, client_addr, sni, comm, to_json(suites_offered)::VARCHAR AS suites, to_json(ssh_kex_client)::VARCHAR AS kex
        FROM ${src} ORDER BY epoch_us(ts)`);
    expect(back).toEqual(
      rows.map((r) => ({
        flow_id: r.flow_id, client_addr: r.client_addr, sni: r.sni, comm: r.comm,
        suites: r.suites_offered === null ? null : JSON.stringify(r.suites_offered),
        kex: r.ssh_kex_client === null ? null : JSON.stringify(r.ssh_kex_client),
      })),
    );
    // Statistics of dictionary-coded strings are the chunk's own min/max: a lookup prunes nothing it needs.
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM ${src} WHERE sni = 'name-7.example' OR comm = 'bücher'`);
    expect(n).toBe(rows.filter((r) => r.sni === "name-7.example" || r.comm === "bücher").length);
    const { decompress } = await zstd();
    const other: Record<string, unknown>[] = [];
    for (const f of listFiles(root)) {
      const b = readFileSync(path.join(root, f));
      const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      other.push(...(await parquetReadObjects({ file, compressors: { ZSTD: (input: Uint8Array) => decompress(input) }, columns: ["flow_id", "client_addr", "comm", "suites_offered", "ssh_kex_client"] })));
    }
    const byFlow = new Map(other.map((o) => [o.flow_id, o]));
    expect(byFlow.size).toBe(M);
    for (const r of rows)
      expect(byFlow.get(r.flow_id)).toEqual({ flow_id: r.flow_id, client_addr: r.client_addr, comm: r.comm, suites_offered: r.suites_offered, ssh_kex_client: r.ssh_kex_client });
  });

  it("keeps 64-bit values and timestamps exact at the extremes (dictionary, delta and plain paths)", async () => {
    const root = tmpRoot();
    const lake = await openLake({ root, host: "h" });
    const small = [-5n, 0n, 7n, 123456789012n, -(2n ** 51n)]; // dictionary-coded
    const huge = [-(2n ** 63n), 2n ** 63n - 1n, -1n]; // force the plain path
    const times = [-62135596800000000n, -1n, 0n, 1n, 253402300799999999n]; // 0001-01-01 .. 9999-12-31, around the epoch
    const rows: { ts: bigint; v: bigint; id: number }[] = [];
    for (let i = 0; i < 600; i++) rows.push({ ts: times[i % times.length] + BigInt(i), v: (i < 300 ? small : huge)[i % (i < 300 ? small.length : huge.length)], id: i });
    for (const r of rows) lake.append("library_events", { ts: r.ts, value_int: r.v, tid: r.id, event: i2e(r.id) });
    await lake.close();
    const back = await query(`SELECT tid, epoch_us(ts)::VARCHAR AS ts, value_int::VARCHAR AS v FROM read_parquet(${glob(root, "library_events")}) ORDER BY tid`);
    expect(back).toEqual(rows.map((r) => ({ tid: r.id, ts: r.ts.toString(), v: r.v.toString() })));
    // Statistics must be right too: DuckDB prunes row groups on them.
    const [{ n }] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet(${glob(root, "library_events")}) WHERE value_int = ${2n ** 63n - 1n} OR ts < TIMESTAMP '0002-01-01'`);
    expect(n).toBe(rows.filter((r) => r.v === 2n ** 63n - 1n || r.ts < -62135596800000000n + 31536000000000n).length);
  });

  it("packs time deltas wider than 24 bits exactly (rows spread over an hour, clustered)", async () => {
    const root = tmpRoot();
    const lake = await openLake({ root, host: "h" });
    const hour = BigInt(Date.UTC(2026, 11, 1, 7)) * 1000n;
    const ts: bigint[] = [];
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      ts.push(hour + BigInt(x % 3_600_000_000)); // anywhere in the hour: jumps up to 2^32 µs
      lake.append("handshakes", { ts: ts[i], ja4: `j${i % 7}`, pid: i });
    }
    await lake.close();
    const back = await query(`SELECT pid, epoch_us(ts)::VARCHAR AS ts FROM read_parquet(${glob(root, "handshakes")}) ORDER BY pid`);
    expect(back).toEqual(ts.map((t, i) => ({ pid: i, ts: t.toString() })));
    const enc = await query(`SELECT DISTINCT encodings FROM parquet_metadata(${glob(root, "handshakes")}) WHERE path_in_schema = 'ts'`);
    expect(enc).toEqual([{ encodings: "RLE, DELTA_BINARY_PACKED" }]);
  });

  it("rolls files at the row limit and writes row groups of the configured size", async () => {
    const root = tmpRoot();
    // DuckDB closes a row group at whole 2048-row vectors: 4096 is an exact multiple.
    const lake = await openLake({ root, host: "h", maxRowsPerFile: 10_000, rowGroupSize: 4096 });
    for (let i = 0; i < 25_000; i++) lake.append("handshakes", { ts: new Date(T0 + 2000 + i), flow_id: `r${i}`, pid: i });
    await lake.close();
    const perFile = await query(`SELECT file_name, count(DISTINCT row_group_id)::INTEGER AS groups, max(row_group_num_rows)::INTEGER AS maxrows,
        (sum(row_group_num_rows) / count(*) * count(DISTINCT row_group_id))::INTEGER AS rows FROM parquet_metadata(${glob(root, "handshakes")}) GROUP BY ALL ORDER BY file_name`);
    expect(perFile.map((f) => f.rows)).toEqual([10_000, 10_000, 5000]);
    expect(perFile.map((f) => [f.groups, f.maxrows])).toEqual([[3, 4096], [3, 4096], [2, 4096]]);
    const [{ n, s }] = await query(`SELECT count(*)::INTEGER AS n, sum(pid)::BIGINT AS s FROM read_parquet(${glob(root, "handshakes")})`);
    expect(n).toBe(25_000);
    expect(s).toBe(BigInt((24_999 * 25_000) / 2));
  });

  it("writes at the flush interval without being asked, and on an hour rollover", async () => {
    const root = tmpRoot();
    const lake = await openLake({ root, host: "h", flushIntervalMs: 200 });
    for (let i = 0; i < 10; i++) lake.append("handshakes", { ts: new Date(T0 + 2000 + i), pid: i });
    const until = Date.now() + 10_000;
    while (lake.stats().rows.handshakes < 10 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(lake.stats().rows.handshakes).toBe(10);
    expect(listFiles(root)).toHaveLength(1);
    await lake.close();

    // A row of the next hour seals the current hour's buffer right away (no flush call, no timer).
    const root2 = tmpRoot();
    const slow = await openLake({ root: root2, host: "h", flushIntervalMs: 3_600_000 });
    slow.append("handshakes", { ts: new Date(T0 + 2000), pid: 1 });
    slow.append("handshakes", { ts: new Date(T0 + 2000 + 3_600_000), pid: 2 });
    while (slow.stats().rows.handshakes < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(slow.stats().rows.handshakes).toBe(1);
    expect(listFiles(root2).map((f) => f.split("/")[1])).toEqual(["hour=2026-12-01T19"]);
    await slow.close();
    expect(listFiles(root2).map((f) => f.split("/")[1])).toEqual(["hour=2026-12-01T19", "hour=2026-12-01T20"]);
  });

  it("old and new schema versions read together with union_by_name", async () => {
    const root = tmpRoot();
    const v1 = await openLake({ root, host: "h", agentStart: new Date(Date.UTC(2026, 11, 1, 10)) });
    for (let i = 0; i < 100; i++) v1.append("handshakes", { ts: new Date(T0 + i), sni: `old-${i}`, pid: i });
    await v1.close();
    // Version 2 adds two columns (a later schema.ts); version 1 files stay as they are.
    const v2tables = { handshakes: [...TABLES.handshakes, { name: "pq_hybrid", type: "BOOLEAN" as const, doc: "" }, { name: "kem_groups", type: "INTEGER[]" as const, doc: "" }] };
    const v2 = await openLake({ root, host: "h", agentStart: new Date(Date.UTC(2026, 11, 1, 11)), tables: v2tables, schemaVersion: 2 });
    for (let i = 0; i < 50; i++) v2.append("handshakes", { ts: new Date(T0 + i), sni: `new-${i}`, pid: 1000 + i, pq_hybrid: i % 2 === 0, kem_groups: [4588] });
    await v2.close();
    const src = `read_parquet(${glob(root, "handshakes")}, union_by_name=true, hive_partitioning=true)`;
    const r = await query(`SELECT starts_with(sni, 'new') AS new, count(*)::INTEGER AS n, count(pq_hybrid)::INTEGER AS npq, sum(pq_hybrid::INTEGER)::INTEGER AS pq,
        sum(list_sum(kem_groups))::INTEGER AS kem, sum(pid)::INTEGER AS pid FROM ${src} GROUP BY ALL ORDER BY new`);
    expect(r).toEqual([
      { new: false, n: 100, npq: 0, pq: null, kem: null, pid: 4950 },
      { new: true, n: 50, npq: 50, pq: 25, kem: 50 * 4588, pid: 50 * 1000 + 1225 },
    ]);
    const versions = await query(`SELECT DISTINCT decode(value) AS v FROM parquet_kv_metadata(${glob(root, "handshakes")}) WHERE decode(key) = 'cryptoscope.schema_version' ORDER BY v`);
    expect(versions).toEqual([{ v: "1" }, { v: "2" }]);
  });

  it("rejects a bad row with one clear line and keeps the rows before it", async () => {
    const root = tmpRoot();
    const lake = await openLake({ root, host: "h" });
    lake.append("handshakes", { ts: new Date(T0), pid: 1, suites_offered: [1, 2] });
    expect(() => lake.append("handshakes", { ts: new Date(T0), pid: 2, suites_offered: [1, "x"] })).toThrow(LakeError);
    expect(() => lake.append("handshakes", { ts: new Date(T0), pid: 2.5 })).toThrow(/column pid \(INTEGER\): expected a 32-bit integer/);
    expect(() => lake.append("handshakes", { ts: "yesterday" })).toThrow(/ts must be a Date or bigint/);
    expect(() => lake.append("handshakes", { ts: Date.now() })).toThrow(/ts must be a Date or bigint µs, got number/); // ms or µs? refused
    expect(() => lake.append("certificates", { ts: new Date(T0), not_after: 1700000000000 })).toThrow(/column not_after \(TIMESTAMP\): expected a Date or bigint µs/);
    expect(() => lake.append("nope" as never, { ts: new Date(T0) })).toThrow(/unknown table nope/);
    lake.append("handshakes", { ts: new Date(T0), pid: 3, suites_offered: [3] });
    await lake.close();
    expect(() => lake.append("handshakes", { ts: new Date(T0) })).toThrow(/closed/);
    const r = await query(`SELECT pid, to_json(suites_offered)::VARCHAR AS s FROM read_parquet(${glob(root, "handshakes")}) ORDER BY pid`);
    expect(r).toEqual([
      { pid: 1, s: "[1,2]" },
      { pid: 3, s: "[3]" },
    ]);
  });

  it("catches a misspelt column name on the first row of a partition", async () => {
    const root = tmpRoot();
    const lake = await openLake({ root, host: "h" });
    expect(() => lake.append("handshakes", { ts: new Date(T0), snii: "x" })).toThrow(/no column named snii/);
    await lake.close();
  });
});
