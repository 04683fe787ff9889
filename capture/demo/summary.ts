// The few lines `cryptoscope demo` prints at the end: what was seen, by whom, and how ready it is.
import { dirname } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

export async function demoSummary(db: string): Promise<string> {
  const inst = await DuckDBInstance.create(db, { access_mode: "READ_ONLY", autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const con = await inst.connect();
  const q = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  // the views name the lake and marts relative to the database's folder
  await con.run(`SET file_search_path = '${dirname(db).replace(/'/g, "''")}'`);
  const lines: string[] = [];
  try {
    const byProto = await q(`SELECT proto, source, count(*) AS n FROM lake_handshakes GROUP BY ALL ORDER BY n DESC`);
    lines.push(`Handshakes seen: ${byProto.map((r) => `${r.n} ${r.proto} (${r.source})`).join(", ")}`);
    const exes = await q(`SELECT coalesce(exe, comm, '(unattributed)') AS exe, count(*) AS n FROM lake_handshakes GROUP BY ALL ORDER BY n DESC LIMIT 8`);
    lines.push(`Processes: ${exes.map((r) => `${String(r.exe).replace(/^.*\//, "")} ${r.n}`).join(", ")}`);
    const kex = await q(`SELECT kex_class, count(*) AS n FROM stg_handshakes GROUP BY ALL ORDER BY n DESC`).catch(() => []);
    if (kex.length) lines.push(`Key exchange: ${kex.map((r) => `${r.n} ${r.kex_class}`).join(", ")}`);
    const ready = await q(`SELECT readiness, handshake_pq_share, endpoint_pq_share FROM risk_readiness WHERE scope = 'fleet'`);
    if (ready[0]) lines.push(`Readiness: ${(Number(ready[0].readiness) * 100).toFixed(0)}% (post-quantum/hybrid handshakes ${(Number(ready[0].handshake_pq_share) * 100).toFixed(0)}%, endpoints ${(Number(ready[0].endpoint_pq_share) * 100).toFixed(0)}%)`);
    const top = await q(`SELECT severity, rule, label, message FROM risk_findings ORDER BY severity_rank DESC, occurrences DESC LIMIT 8`);
    lines.push(`Top findings:`);
    for (const f of top) lines.push(`  ${String(f.severity).padEnd(8)} ${f.rule}: ${f.label} — ${f.message}`);
  } finally {
    con.closeSync();
    inst.closeSync();
  }
  return lines.join("\n");
}
