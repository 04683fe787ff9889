// The lake writer with rows shaped the way capture builds them: columns missing rather than null, keys
// added in different orders, rows with many keys added by keyed stores (V8 dictionary-mode objects),
// values of every buffer kind, past the buffers' first growth (a fresh lake has no size hint). What is
// read back must be exactly what was appended; a bad value is refused with its one line and undoes the
// half-appended row (its nulls and values), also after growth and with a later flush.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LakeError, openLake } from "../capture/lake/writer.js";
import { TABLES, type Row } from "../capture/lake/schema.js";
import { glob, query } from "./lake-helpers.js";

const roots: string[] = [];
function tmpRoot(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "lake-shapes-"));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const N = 5000; // past the 1024-row first size of every buffer, several doublings

// Every value of row i for the columns under test; null or undefined = absent (the row then misses the key or holds it as null).
function values(i: number): Record<string, unknown> {
  const ints = [0, -0, 1, -1, 2147483647, -2147483648, 443, 65535];
  return {
    pid: i % 5 === 0 ? null : i % 7 === 0 ? BigInt(i) : i % 3 === 0 ? ints[i % ints.length] : i,
    client_port: i % 11 === 0 ? undefined : 32768 + (i % 28000),
    cgroup_id: i % 4 === 0 ? 2n ** 64n - 1n - BigInt(i) : i % 4 === 1 ? i : i % 4 === 2 ? BigInt(i) : null,
    quic_version: i % 3 === 0 ? -(2n ** 63n) + BigInt(i) : i % 3 === 1 ? 2 ** 53 - 1 - i : null,
    hello_retry: i % 3 === 0 ? true : i % 3 === 1 ? false : null,
    ech: i % 10 === 0 ? undefined : i % 2 === 0,
    sni: i % 6 === 0 ? null : i % 17 === 0 ? `bücher-${i % 4}.example` : `host-${i % 700}.example.com`,
    comm: ["curl", "nginx", "java", null][i % 4],
    ja4: i % 9 === 0 ? null : `t13d${i % 40}h2_8daaf6152771_e5627efa2ab1`,
    suites_offered: i % 8 === 0 ? null : i % 8 === 1 ? [] : [4865, 4866, i % 300, -1],
    alpn_offered: i % 5 === 1 ? ["h2", "http/1.1"] : i % 5 === 2 ? [`x-${i % 9}`] : null,
    // nulls only among the first rows: the validity bitmap must still cover every later (valid) row
    server_port: i < 100 && i % 2 === 0 ? null : 443 + (i % 3),
    resumed: i < 100 && i % 3 === 0 ? null : i % 2 === 0,
    netns: i < 100 && i % 2 === 1 ? null : BigInt(4026531840 + (i % 7)),
    role: i < 100 && i % 2 === 1 ? null : i % 3 === 0 ? "server" : "client",
    psk_modes: i < 100 && i % 2 === 1 ? null : [1],
    flow_id: `f${String(i).padStart(5, "0")}`,
  };
}

/** Row i built in one of several ways: shape varies like capture's rows. */
function row(i: number): Row {
  const v = values(i);
  const keys = Object.keys(v);
  const ts = BigInt(T0 + i) * 1000n;
  switch (i % 4) {
    case 0: {
      // parser-like: named stores of the present values only, ts last
      const r: Row = {};
      for (const k of keys) if (v[k] !== null && v[k] !== undefined) r[k] = v[k];
      r.ts = ts;
      return r;
    }
    case 1: {
      // reversed key order, nulls kept as null and undefined kept as undefined
      const r: Row = { ts };
      for (const k of [...keys].reverse()) r[k] = v[k];
      return r;
    }
    case 2: {
      // many keys by keyed stores (a dictionary-mode object in V8), absent ones missing
      const r: Row = {};
      for (const k of ["host", "source", "proto", "transport", "role", "server_addr", "client_addr", "server_port", "legacy_version", "version_chosen", "suite_chosen", "group_chosen", "sig_alg_chosen", "alpn_chosen", "ja4s", "leaf_cert_sha256", "cert_count", "resumed", "psk_modes", "key_share_groups", "groups_offered", "sig_algs_offered", "versions_offered"])
        r[k] = null;
      for (const k of keys) if (v[k] !== null && v[k] !== undefined) r[k] = v[k];
      r.ts = ts;
      return r;
    }
    default:
      // one literal of every column under test
      return { ts, ...v };
  }
}

const EXPECT_SQL = `SELECT flow_id, pid::VARCHAR AS pid, client_port::VARCHAR AS client_port, cgroup_id::VARCHAR AS cgroup_id,
  quic_version::VARCHAR AS quic_version, hello_retry::VARCHAR AS hello_retry, ech::VARCHAR AS ech, sni, comm, ja4,
  to_json(suites_offered)::VARCHAR AS suites, to_json(alpn_offered)::VARCHAR AS alpn, epoch_us(ts)::VARCHAR AS ts,
  server_port::VARCHAR AS server_port, resumed::VARCHAR AS resumed, netns::VARCHAR AS netns, role, to_json(psk_modes)::VARCHAR AS psk`;

function expected(i: number): Record<string, unknown> {
  const v = values(i);
  const s = (x: unknown) => (x === null || x === undefined ? null : String(x === -0 ? 0 : x));
  return {
    flow_id: v.flow_id, pid: s(v.pid), client_port: s(v.client_port), cgroup_id: s(v.cgroup_id), quic_version: s(v.quic_version),
    hello_retry: s(v.hello_retry), ech: s(v.ech), sni: v.sni ?? null, comm: v.comm ?? null, ja4: v.ja4 ?? null,
    suites: v.suites_offered == null ? null : JSON.stringify(v.suites_offered), alpn: v.alpn_offered == null ? null : JSON.stringify(v.alpn_offered),
    ts: String(T0 * 1000 + i * 1000),
    server_port: s(v.server_port), resumed: s(v.resumed), netns: s(v.netns), role: v.role ?? null, psk: v.psk_modes == null ? null : JSON.stringify(v.psk_modes),
  };
}

describe("lake writer: rows of varied shapes", () => {
  for (const encoder of ["js", "duckdb"] as const)
    it(`reads back exactly rows of varied shapes past buffer growth, with bad rows undone (${encoder} encoder)`, async () => {
      const root = tmpRoot();
      const lake = await openLake({ root, host: "h", encoder, clusterBy: {} });
      const refused: string[] = [];
      const bad: [number, string, unknown, RegExp][] = [
        [1500, "pid", 2.5, /column pid \(INTEGER\): expected a 32-bit integer, got number 2\.5/],
        [1600, "pid", 2 ** 31, /column pid \(INTEGER\): expected a 32-bit integer/],
        [1700, "client_port", "443", /column client_port \(INTEGER\): expected a 32-bit integer, got string "443"/],
        [1800, "cgroup_id", -1n, /column cgroup_id \(UBIGINT\): out of range, got bigint -1n/],
        [1900, "quic_version", 2n ** 63n, /column quic_version \(BIGINT\): out of range/],
        [2000, "quic_version", 1.5, /column quic_version \(BIGINT\): expected an integer/],
        [2100, "hello_retry", 1, /column hello_retry \(BOOLEAN\): expected a boolean, got number 1/],
        [2200, "sni", 7, /column sni \(VARCHAR\): expected a string, got number 7/],
        [2300, "suites_offered", [1, 2.5], /column suites_offered \(INTEGER\[\]\): element 1: expected a 32-bit integer/],
        [2400, "flow_id", 12, /column flow_id \(VARCHAR\): expected a string/],
      ];
      for (let i = 0; i < N; i++) {
        const b = bad.find((x) => x[0] === i);
        if (b) {
          // The columns before the bad one (in schema order) were appended, nulls too, and must be undone;
          // flow_id is the last column, so its row undoes every other column.
          const r = { ...values(i), comm: null, ja4: null, ts: BigInt(T0 + i) * 1000n, [b[1]]: b[2] };
          let msg = "";
          try {
            lake.append("handshakes", r);
          } catch (e) {
            expect(e).toBeInstanceOf(LakeError);
            msg = (e as Error).message;
          }
          expect(msg).toMatch(b[3]);
          expect(msg).not.toContain("\n");
          refused.push(msg);
          continue;
        }
        lake.append("handshakes", row(i));
        if (i === 3000) await lake.flush(); // a file boundary in the middle: the next partition grows from its hint
      }
      await lake.close();
      expect(refused).toHaveLength(bad.length);
      const got = await query(`${EXPECT_SQL} FROM read_parquet(${glob(root, "handshakes")}) ORDER BY flow_id`);
      const want = Array.from({ length: N }, (_, i) => i).filter((i) => !bad.some((b) => b[0] === i)).map(expected);
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
      // Null counts in the statistics are exact (an undone row's nulls are forgotten).
      const stats = await query(`SELECT path_in_schema AS c, sum(stats_null_count)::INTEGER AS nulls FROM parquet_metadata(${glob(root, "handshakes")})
        WHERE path_in_schema IN ('comm', 'ja4', 'pid', 'hello_retry') GROUP BY ALL ORDER BY c`);
      const nulls = (k: string) => want.filter((w) => w[k] === null).length;
      expect(stats).toEqual([
        { c: "comm", nulls: nulls("comm") },
        { c: "hello_retry", nulls: nulls("hello_retry") },
        { c: "ja4", nulls: nulls("ja4") },
        { c: "pid", nulls: nulls("pid") },
      ]);
    });

  it("refuses an unknown column on the first row of a partition, whatever the row's shape", async () => {
    const root = tmpRoot();
    const lake = await openLake({ root, host: "h" });
    const r: Row = {};
    for (const c of TABLES.handshakes.slice(1, 40)) r[c.name] = null; // keyed stores: a dictionary-mode object
    r["snii"] = "typo";
    r.ts = new Date(T0);
    expect(() => lake.append("handshakes", r)).toThrow(/^lake .*: bad row for handshakes: no column named snii$/);
    lake.append("handshakes", { ts: new Date(T0), pid: 1 });
    await lake.close();
    expect(await query(`SELECT pid FROM read_parquet(${glob(root, "handshakes")})`)).toEqual([{ pid: 1 }]);
  });
});
