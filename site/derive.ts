// Page-sized tables derived from the marts at build time (DuckDB, @duckdb/node-api), for the marts whose grain
// is far finer than a page draws: rpt_migration_hourly has a row per (hour, host, proto, service), millions for
// a large fleet, and rpt_flame_tree a node per distinct path. The pages load these instead, so the browser
// fetches and indexes thousands of rows, not millions; every host/time/protocol filter still re-queries them.
import { DuckDBInstance } from "@duckdb/node-api";
import { join } from "node:path";

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const DERIVED = {
  // Charts and totals of the migration page: services summed away.
  migration_host_hour: (m: (name: string) => string) => `
    SELECT hour, host, proto, sum(handshakes)::BIGINT AS handshakes, sum(pq_handshakes)::BIGINT AS pq_handshakes,
           sum(hybrid_handshakes)::BIGINT AS hybrid_handshakes, sum(classical_handshakes)::BIGINT AS classical_handshakes,
           sum(unknown_handshakes)::BIGINT AS unknown_handshakes, count(DISTINCT service)::BIGINT AS services
    FROM ${m("rpt_migration_hourly")} GROUP BY ALL ORDER BY hour, host, proto`,
  // The per-service table of the migration page: one row per service and host with its totals and when it
  // was seen; a time range keeps the services seen in it (as the inventory pages do).
  migration_services: (m: (name: string) => string) => `
    SELECT service, proto, host, sum(handshakes)::BIGINT AS handshakes,
           sum(pq_handshakes + hybrid_handshakes)::BIGINT AS pq_or_hybrid, sum(handshakes - unknown_handshakes)::BIGINT AS known,
           min(hour) AS first_hour, max(hour) AS last_hour
    FROM ${m("rpt_migration_hourly")} GROUP BY ALL ORDER BY service, host`,
  // Overview: finding counts per host and severity, and the 10 worst findings of each host and of the fleet-wide
  // ones (host null). The worst 10 of any host filter are among these, so the page never loads every finding.
  findings_by_severity: (m: (name: string) => string) => `
    SELECT host, severity, severity_rank, count(*)::BIGINT AS findings FROM ${m("risk_findings")} GROUP BY ALL`,
  findings_top: (m: (name: string) => string) => `
    SELECT severity, severity_rank, rule, label, message, occurrences, last_seen, host FROM ${m("risk_findings")}
    QUALIFY row_number() OVER (PARTITION BY host ORDER BY severity_rank DESC, occurrences DESC, rule, label) <= 10`,
  // Flame graph: frames narrower than 1/5000 of all handshakes (a fifth of a pixel on a 1000-px graph) are
  // folded into their parent, which keeps its full value; a host's own subtree keeps frames down to 1/1000
  // of that host, so the host filter still shows detail.
  // Each frame also gets the host it belongs to (from its depth-1 ancestor), so the host filter does not
  // depend on how ids are spelled, and a small integer id (the mart's ids are whole paths: a page would load
  // each path twice, as id and parent).
  flame_tree: (m: (name: string) => string) => `
    WITH RECURSIVE src AS (SELECT * FROM ${m("rpt_flame_tree")}),
         walk(id, host) AS (
           SELECT id, name FROM src WHERE depth = 1
           UNION ALL
           SELECT s.id, w.host FROM src s JOIN walk w ON s.parent_id = w.id),
         t AS (SELECT src.*, walk.host FROM src LEFT JOIN walk USING (id)),
         root AS (SELECT value AS total FROM t WHERE parent_id IS NULL),
         hosts AS (SELECT host, value AS host_total FROM t WHERE depth = 1),
         kept AS (
           SELECT t.*, row_number() OVER (ORDER BY depth, id)::INTEGER AS n
           FROM t LEFT JOIN hosts USING (host), root
           WHERE depth <= 1 OR value >= total / 5000 OR value >= host_total / 1000)
    SELECT c.n AS id, p.n AS parent_id, c.depth, c.level, c.name, c.value, c.pq_share, c.quantum_status, c.host
    FROM kept c LEFT JOIN kept p ON c.parent_id = p.id
    ORDER BY c.n`,
} as const;

export type DerivedName = keyof typeof DERIVED;

/** Writes `<outDir>/<name>.parquet` for every derived table, reading `<martsDir>/<mart>.parquet`. */
export async function writeDerived(martsDir: string, outDir: string): Promise<Record<DerivedName, number>> {
  const db = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const con = await db.connect();
  const rows = {} as Record<DerivedName, number>;
  try {
    const mart = (name: string) => `read_parquet(${lit(join(martsDir, `${name}.parquet`))})`;
    for (const [name, sql] of Object.entries(DERIVED) as [DerivedName, (m: (n: string) => string) => string][]) {
      const file = join(outDir, `${name}.parquet`);
      await con.run(`COPY (${sql(mart)}) TO ${lit(file)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`);
      const r = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet(${lit(file)})`);
      rows[name] = Number(r.getRowObjects()[0].n);
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
  return rows;
}
