// List columns through the JS encoder's list path (list-chunk.ts: lists bit-packed once per distinct
// list, rows copied a word at a time, levels written per row): every list length from empty to longer
// than a packed word, dictionary widths from one value (an RLE run) to 16 bits, ints outside the direct
// table, strings with multi-byte characters, nulls, several row groups and clustered (permuted) rows.
// DuckDB and hyparquet must both read back exactly what was appended.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parquetReadObjects } from "hyparquet";
import { afterAll, describe, expect, it } from "vitest";
import { openLake } from "../capture/lake/writer.js";
import type { Row } from "../capture/lake/schema.js";
import { zstd } from "../capture/lake/zstd.js";
import { glob, listFiles, query } from "./lake-helpers.js";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const LIST_COLUMNS = ["suites_offered", "groups_offered", "sig_algs_offered", "key_share_groups", "psk_modes", "versions_offered", "ssh_kex_client", "alpn_offered"] as const;

describe("lake list columns", () => {
  it("read back exactly at every list length and dictionary width (DuckDB and hyparquet)", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "lake-lists-"));
    roots.push(root);
    const r = rng(11);
    const int = (n: number) => Math.floor(r() * n);
    // Pools of distinct lists: rows pick from them, so lists repeat as they do per client stack.
    const pool = <T>(count: number, make: (k: number) => T[]) => Array.from({ length: count }, (_, k) => make(k));
    const suites = pool(400, (k) => Array.from({ length: k % 71 }, () => int(3000))); // lengths 0..70, ~11-bit codes
    const wide = pool(2500, (k) => Array.from({ length: 20 }, (_, j) => (k * 20 + j) % 40_000)); // ~40k distinct values: 16-bit codes
    const names = ["mlkem768x25519-sha256", "curve25519-sha256", "ecdh-sha2-nistp256", "bücher-kex@example.org", "😀-kex", ...Array.from({ length: 195 }, (_, k) => `kex-${k}@example.org`)];
    const kex = pool(300, (k) => Array.from({ length: k % 41 }, () => names[int(names.length)]));
    const odd = pool(50, (k) => [-5 - k, 2147483647, -2147483648, 70_000 + k, 65_535, 65_536]); // outside the u16 table
    const rows: Row[] = [];
    const M = 20_000;
    const t0 = BigInt(Date.UTC(2026, 11, 1, 9)) * 1000n;
    for (let i = 0; i < M; i++) {
      const nul = (p: number) => r() < p;
      rows.push({
        ts: t0 + BigInt(i) * 1000n,
        flow_id: `f${i}`,
        proto: ["tls", "quic", "ssh"][i % 3],
        ja4: `j${int(7)}`,
        pid: int(50),
        suites_offered: nul(0.05) ? null : suites[int(suites.length)],
        groups_offered: nul(0.1) ? null : [[29], [29, 29, 29], []][int(3)], // one distinct value: an RLE code run
        sig_algs_offered: nul(0.02) ? null : wide[int(wide.length)],
        key_share_groups: nul(0.3) ? null : [[29], [23], [29, 23]][int(3)], // two values: 1-bit codes
        psk_modes: nul(0.5) ? null : [1],
        versions_offered: nul(0.2) ? null : odd[int(odd.length)],
        ssh_kex_client: nul(0.4) ? null : kex[int(kex.length)],
        alpn_offered: nul(0.3) ? null : [["h2", "http/1.1"], ["http/1.1"], ["h3"], []][int(4)],
      });
    }
    const lake = await openLake({ root, host: "h", rowGroupSize: 3000 });
    for (const row of rows) lake.append("handshakes", row);
    await lake.close();

    const src = `read_parquet(${glob(root, "handshakes")})`;
    const cols = LIST_COLUMNS.map((c) => `to_json(${c})::VARCHAR AS ${c}`).join(", ");
    const back = await query(`SELECT flow_id, ${cols} FROM ${src} ORDER BY epoch_us(ts)`);
    expect(back.length).toBe(M);
    back.forEach((b, i) => {
      const want: Record<string, unknown> = { flow_id: rows[i].flow_id };
      for (const c of LIST_COLUMNS) want[c] = rows[i][c] === null ? null : JSON.stringify(rows[i][c]);
      expect(b).toEqual(want);
    });
    // The paths under test were taken: dictionary-coded lists, 16-bit codes in the widest column.
    const enc = await query(`SELECT DISTINCT path_in_schema AS p, encodings AS e FROM parquet_metadata(${glob(root, "handshakes")}) WHERE path_in_schema LIKE '%.list.element' ORDER BY p`);
    expect(enc.filter((e) => (LIST_COLUMNS as readonly string[]).includes(String(e.p).split(".")[0]) && !String(e.e).includes("RLE_DICTIONARY"))).toEqual([]);

    const { decompress } = await zstd();
    const other: Record<string, unknown>[] = [];
    for (const f of listFiles(root)) {
      const b = readFileSync(path.join(root, f));
      const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      other.push(...(await parquetReadObjects({ file, compressors: { ZSTD: (input: Uint8Array) => decompress(input) }, columns: ["flow_id", ...LIST_COLUMNS] })));
    }
    const byFlow = new Map(other.map((o) => [o.flow_id, o]));
    expect(byFlow.size).toBe(M);
    for (const row of rows) {
      const want: Record<string, unknown> = { flow_id: row.flow_id };
      for (const c of LIST_COLUMNS) want[c] = row[c];
      expect(byFlow.get(row.flow_id)).toEqual(want);
    }
  });

  it("rejects a bad list element with one clear line, also in a list that looks like one met before", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "lake-lists-"));
    roots.push(root);
    const lake = await openLake({ root, host: "h" });
    const ts = BigInt(Date.UTC(2026, 11, 1, 9)) * 1000n;
    const good = [4865, 4866, 4867, 49195, 49199, 49196, 49200, 52393, 52392, 49171];
    lake.append("handshakes", { ts, flow_id: "a", suites_offered: good, alpn_offered: ["h2", "http/1.1"] });
    // Same length and the same first and last four elements as the list above (same hash): only the
    // element by element comparison tells them apart.
    const near = (k: number, e: unknown) => good.map((x, i) => (i === k ? e : x));
    expect(() => lake.append("handshakes", { ts, flow_id: "b", suites_offered: near(5, "49196") })).toThrow(/column suites_offered \(INTEGER\[\]\): element 5: expected a 32-bit integer, got string/);
    expect(() => lake.append("handshakes", { ts, flow_id: "c", suites_offered: near(5, 49196.5) })).toThrow(/element 5: expected a 32-bit integer/);
    expect(() => lake.append("handshakes", { ts, flow_id: "d", suites_offered: near(5, null) })).toThrow(/element 5 is null \(lists hold no nulls\)/);
    expect(() => lake.append("handshakes", { ts, flow_id: "e", suites_offered: near(0, 2 ** 31) })).toThrow(/element 0: expected a 32-bit integer/);
    expect(() => lake.append("handshakes", { ts, flow_id: "f", alpn_offered: ["h2", 11] })).toThrow(/column alpn_offered \(VARCHAR\[\]\): element 1: expected a string/);
    lake.append("handshakes", { ts, flow_id: "g", suites_offered: near(5, 1), alpn_offered: ["h2", "http/1.2"] }); // a different list, fine
    await lake.close();
    const back = await query(`SELECT flow_id, to_json(suites_offered)::VARCHAR AS s, to_json(alpn_offered)::VARCHAR AS a FROM read_parquet(${glob(root, "handshakes")}) ORDER BY flow_id`);
    expect(back).toEqual([
      { flow_id: "a", s: JSON.stringify(good), a: JSON.stringify(["h2", "http/1.1"]) },
      { flow_id: "g", s: JSON.stringify(near(5, 1)), a: JSON.stringify(["h2", "http/1.2"]) },
    ]);
  });
  it("knows a frozen list by identity, and never a list its owner can still change", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "lake-lists-"));
    roots.push(root);
    const lake = await openLake({ root, host: "h" });
    const ts = BigInt(Date.UTC(2026, 11, 1, 9)) * 1000n;
    const shared = Object.freeze([4865, 4866, 4867]);
    const names = Object.freeze(["h2", "http/1.1"]);
    const mutable = [29, 23];
    const want: [string, unknown, unknown][] = [];
    const add = (flow: string, s: readonly number[], a: readonly string[]) => {
      lake.append("handshakes", { ts, flow_id: flow, suites_offered: s, alpn_offered: a });
      want.push([flow, [...s], [...a]]);
    };
    add("a", shared, names);
    add("b", mutable, names);
    mutable[1] = 24; // changed after it was appended: row b keeps [29, 23], row c gets [29, 24]
    add("c", mutable, names);
    add("d", shared, names);
    add("e", Object.freeze([4865, 4866, 4867]), Object.freeze(["h2", "http/1.1"])); // equal, another object
    mutable.push(25);
    add("f", mutable, ["h3"]);
    // Past the identity table's bound (4096 per partition): one new frozen array per row, still exact.
    for (let i = 0; i < 5000; i++) add(`g${String(i).padStart(4, "0")}`, Object.freeze([i % 7, 1000 + (i % 11)]), names);
    add("h", shared, names);
    await lake.close();
    const back = await query(`SELECT flow_id, to_json(suites_offered)::VARCHAR AS s, to_json(alpn_offered)::VARCHAR AS a FROM read_parquet(${glob(root, "handshakes")}) ORDER BY flow_id`);
    expect(back).toEqual(want.sort((x, y) => (x[0] < y[0] ? -1 : 1)).map(([f, s, a]) => ({ flow_id: f, s: JSON.stringify(s), a: JSON.stringify(a) })));
  });
});
