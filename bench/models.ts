// `models build` over a synthetic 10M-handshake lake (20 hosts × 48 hours, hive layout, ZSTD Parquet),
// generated once with DuckDB range() + COPY … PARTITION_BY and cached under data/bench/ (git-ignored).
// Prints wall time and peak RSS of the build (in a child process, as `cryptoscope models build` runs),
// against a baseline measured in the same run: one plain DuckDB scan-and-aggregate of the same lake.
// Target: < 15 s on 2 cores. Env: BENCH_ROWS (default 10,000,000), BENCH_REGEN=1 to rebuild the lake.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openOffline } from "../models/runner.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const base = join(repo, "data", "bench", `models-${ROWS}`);
const lake = join(base, "lake");
const stamp = join(base, "READY");

async function generate(): Promise<void> {
  rmSync(base, { recursive: true, force: true });
  mkdirSync(lake, { recursive: true });
  const { instance, conn } = await openOffline();
  const t0 = performance.now();
  // Shape: 12 programs per host, 3 of them SSH (sshd, ssh, git: ~25%), the rest TLS (5% of it QUIC); PQ/hybrid share grows
  // from ~10% to ~60% over the 48 hours;
  // each client program talks to 6 services of 1,500, servers are their own host's; half the programs in containers.
  // What a handshake negotiates follows from who talks to whom (version/suite/signature from the server endpoint and
  // the client program, the classical group from the client), as with real peers; only the PQ share moves with time.
  await conn.run(`
    CREATE VIEW hs_gen AS
    WITH r AS (
      SELECT i, (hash(i) >> 2)::BIGINT AS h1, (hash(i * 7 + 3) >> 2)::BIGINT AS h2, (hash(i * 13 + 5) >> 2)::BIGINT AS h3,
        TIMESTAMP '2026-11-01 00:00:00' + to_microseconds((i * 172800000000 // ${ROWS})::BIGINT) AS ts
      FROM range(${ROWS}) t(i)
    ), s0 AS (
      SELECT *, (h1 % 20)::INTEGER AS host_n, (h3 % 100)::INTEGER AS p100,
        ((h1 >> 8) % 12)::INTEGER AS prog, ((h2 >> 8) % 100)::INTEGER AS q100,
        date_diff('hour', TIMESTAMP '2026-11-01 00:00:00', ts) AS hr
      FROM r
    ), s AS (
      -- clients talk to a handful of services each; servers (nginx, envoy, postgres, sshd) are this host's own endpoints
      SELECT *, CASE WHEN prog IN (0, 5, 6, 7) THEN 1500 + host_n * 20 + prog * 3 + (h2 % 3)
                     ELSE (host_n * 37 + prog * 11 + (h2 % 6)) % 1500 END::INTEGER AS ep
      FROM s0
    ), t AS (
      SELECT *, CASE WHEN prog IN (7, 8, 9) THEN 'ssh' WHEN p100 < 5 THEN 'quic' ELSE 'tls' END AS proto,
        (q100 < 10 + hr OR prog % 3 = 0) AS offers_pq, (q100 < 10 + hr OR prog % 3 = 0) AND ep % 5 <> 0 AS pq
      FROM s
    )
    SELECT ts, 'host-' || host_n AS host,
      CASE WHEN (h3 >> 16) % 10 = 0 THEN 'pcap' ELSE 'wire' END AS source,
      proto,
      (1000 + host_n * 100 + prog)::INTEGER AS pid,
      ['nginx', 'curl', 'python3', 'java', 'node', 'envoy', 'postgres', 'sshd', 'ssh', 'git', 'apt', 'go-app'][(prog + 1)::BIGINT] AS comm,
      ['/usr/sbin/nginx', '/usr/bin/curl', '/usr/bin/python3', '/usr/lib/jvm/bin/java', '/usr/bin/node', '/usr/local/bin/envoy', '/usr/lib/postgresql/bin/postgres', '/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/git', '/usr/bin/apt', '/app/server'][(prog + 1)::BIGINT] AS exe,
      CASE WHEN prog % 2 = 0 THEN md5('c' || host_n || '-' || prog) END AS container_id,
      CASE WHEN prog IN (0, 5, 6, 7) THEN 'server' ELSE 'client' END AS role,
      CASE WHEN proto = 'quic' THEN 'udp' ELSE 'tcp' END AS transport,
      '10.1.' || (host_n) || '.' || (prog + 10) AS client_addr, (30000 + (h1 % 30000))::INTEGER AS client_port,
      CASE WHEN prog IN (0, 5, 6, 7) THEN '10.1.' || host_n || '.' || (prog + 10) ELSE '10.2.' || (ep // 250) || '.' || (ep % 250) END AS server_addr,
      CASE WHEN proto = 'ssh' THEN 22 WHEN ep % 10 = 0 THEN 8443 ELSE 443 END::INTEGER AS server_port,
      CASE WHEN proto = 'ssh' THEN NULL ELSE 'svc' || ep || '.example' END AS sni,
      CASE WHEN proto = 'ssh' THEN NULL ELSE ['h2', 'http/1.1'] END AS alpn_offered,
      CASE WHEN proto = 'ssh' THEN NULL WHEN p100 < 60 THEN 'h2' ELSE 'http/1.1' END AS alpn_chosen,
      CASE WHEN proto = 'ssh' THEN NULL ELSE 771 END::INTEGER AS legacy_version,
      CASE WHEN proto = 'ssh' THEN NULL WHEN p100 < 98 THEN [2570, 772, 771] ELSE [771, 770, 769] END::INTEGER[] AS versions_offered,
      CASE WHEN proto = 'ssh' THEN NULL WHEN proto = 'quic' OR ep % 50 < 40 THEN 772 WHEN ep % 50 < 49 THEN 771 ELSE 769 END::INTEGER AS version_chosen,
      CASE WHEN proto = 'ssh' THEN NULL ELSE [4865, 4866, 4867, 49199, 49200, 52393, 156] END::INTEGER[] AS suites_offered,
      CASE WHEN proto = 'ssh' THEN NULL WHEN proto = 'quic' OR ep % 50 < 40 THEN [4865, 4866, 4867][((prog + ep) % 3 + 1)::BIGINT]
           WHEN ep % 50 < 47 THEN [49199, 49200][((prog + ep) % 2 + 1)::BIGINT] ELSE 156 END::INTEGER AS suite_chosen,
      CASE WHEN proto = 'ssh' THEN NULL WHEN offers_pq THEN [2570, 4588, 29, 23, 24] ELSE [29, 23, 24] END::INTEGER[] AS groups_offered,
      CASE WHEN proto = 'ssh' THEN NULL WHEN offers_pq THEN [4588, 29] ELSE [29] END::INTEGER[] AS key_share_groups,
      CASE WHEN proto = 'ssh' THEN NULL WHEN suite_chosen = 156 THEN NULL WHEN pq THEN 4588 WHEN prog % 10 < 7 THEN 29 WHEN prog % 10 < 9 THEN 23 ELSE 24 END::INTEGER AS group_chosen,
      (h1 >> 40) % 50 = 0 AS hello_retry,
      CASE WHEN proto = 'ssh' THEN NULL ELSE [2052, 1027, 2053, 1025] END::INTEGER[] AS sig_algs_offered,
      CASE WHEN proto = 'ssh' THEN NULL ELSE [2052, 1027, 2053][(ep % 3 + 1)::BIGINT] END::INTEGER AS sig_alg_chosen,
      CASE WHEN proto = 'ssh' THEN NULL ELSE [1] END::INTEGER[] AS psk_modes,
      false AS ech, (h1 >> 44) % 5 = 0 AS resumed,
      CASE WHEN proto = 'quic' THEN 1 END::BIGINT AS quic_version,
      't13d1516h2_8daaf6152771_e5627efa2ab1' AS ja4, NULL::VARCHAR AS ja4s,
      CASE WHEN proto = 'ssh' THEN NULL ELSE 3 END::INTEGER AS cert_count,
      CASE WHEN proto = 'ssh' THEN NULL ELSE sha256('cert' || ep) END AS leaf_cert_sha256,
      CASE WHEN proto = 'ssh' THEN 'SSH-2.0-OpenSSH_9.2p1' END AS ssh_client_banner,
      CASE WHEN proto = 'ssh' THEN 'SSH-2.0-OpenSSH_' || ['9.2p1', '9.6', '9.9'][(ep % 3 + 1)::BIGINT] END AS ssh_server_banner,
      CASE WHEN proto = 'ssh' THEN ['sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'ecdh-sha2-nistp256', 'ext-info-c'] END AS ssh_kex_client,
      CASE WHEN proto = 'ssh' THEN ['sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'diffie-hellman-group14-sha256'] END AS ssh_kex_server,
      CASE WHEN proto = 'ssh' THEN ['ssh-ed25519', 'rsa-sha2-512'] END AS ssh_hostkey_client,
      CASE WHEN proto = 'ssh' THEN ['ssh-ed25519', 'rsa-sha2-512'] END AS ssh_hostkey_server,
      CASE WHEN proto = 'ssh' THEN ['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com'] END AS ssh_ciphers_client,
      CASE WHEN proto = 'ssh' THEN ['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com'] END AS ssh_ciphers_server,
      CASE WHEN proto = 'ssh' THEN ['hmac-sha2-256-etm@openssh.com'] END AS ssh_macs_client,
      CASE WHEN proto = 'ssh' THEN ['hmac-sha2-256-etm@openssh.com'] END AS ssh_macs_server,
      CASE WHEN proto = 'ssh' THEN CASE WHEN pq THEN 'sntrup761x25519-sha512@openssh.com' ELSE 'curve25519-sha256' END END AS ssh_kex,
      CASE WHEN proto = 'ssh' THEN CASE WHEN ep % 4 = 0 THEN 'rsa-sha2-512' ELSE 'ssh-ed25519' END END AS ssh_hostkey,
      CASE WHEN proto = 'ssh' THEN 'chacha20-poly1305@openssh.com' END AS ssh_cipher_c2s,
      CASE WHEN proto = 'ssh' THEN 'chacha20-poly1305@openssh.com' END AS ssh_cipher_s2c,
      NULL::VARCHAR AS ssh_mac_c2s, NULL::VARCHAR AS ssh_mac_s2c,
      CASE WHEN proto = 'ssh' THEN NULL WHEN prog = 11 THEN 'go' ELSE 'openssl' END AS library,
      'f' || i AS flow_id,
      strftime(ts, '%Y-%m-%dT%H') AS hour
    FROM t`);
  await conn.run(`COPY hs_gen TO '${lake}/handshakes' (FORMAT parquet, PARTITION_BY (hour, host), WRITE_PARTITION_COLUMNS true, COMPRESSION zstd, ROW_GROUP_SIZE 100000, FILENAME_PATTERN 'part-bench-{i}')`);
  // the other tables are derived from the handshakes just written (streamed, so memory stays low)
  await conn.run(`CREATE VIEW hs AS SELECT * FROM read_parquet('${lake}/handshakes/**/*.parquet')`);
  await conn.run(`
    COPY (SELECT DISTINCT ON (host, hour, leaf_cert_sha256) ts, host, leaf_cert_sha256 AS sha256, 'CN=' || sni AS subject, 'CN=Bench CA' AS issuer,
      substr(leaf_cert_sha256, 1, 16) AS serial, TIMESTAMP '2026-01-01' AS not_before,
      TIMESTAMP '2026-11-20' + to_days((hash(leaf_cert_sha256) % 400)::INTEGER) AS not_after,
      CASE WHEN hash(leaf_cert_sha256) % 3 = 0 THEN 'rsa' ELSE 'ec' END AS key_alg,
      CASE WHEN hash(leaf_cert_sha256) % 3 = 0 THEN '1.2.840.113549.1.1.1' ELSE '1.2.840.10045.2.1' END AS key_oid,
      CASE WHEN hash(leaf_cert_sha256) % 3 = 0 THEN 2048 ELSE 256 END::INTEGER AS key_bits,
      CASE WHEN hash(leaf_cert_sha256) % 3 = 0 THEN NULL ELSE 'P-256' END AS key_curve,
      '1.2.840.113549.1.1.11' AS sig_alg_oid, 'sha256WithRSAEncryption' AS sig_alg, ['dns:' || sni] AS sans, false AS is_ca, 0 AS chain_position,
      source, pid, comm, exe, container_id, server_addr, server_port, sni, flow_id, NULL::BLOB AS der, hour
     FROM hs WHERE leaf_cert_sha256 IS NOT NULL)
    TO '${lake}/certificates' (FORMAT parquet, PARTITION_BY (hour, host), WRITE_PARTITION_COLUMNS true, COMPRESSION zstd, FILENAME_PATTERN 'part-bench-{i}')`);
  await conn.run(`
    COPY (SELECT min(ts) AS ts, host, 'exec' AS event, pid, 1 AS ppid, 0 AS uid, comm, exe, [comm] AS cmdline, NULL AS cgroup, NULL::UBIGINT AS cgroup_id,
      container_id, CASE WHEN container_id IS NOT NULL THEN 'containerd' END AS container_runtime, NULL AS pod, NULL::INTEGER AS exit_code,
      [{'path': '/usr/lib/x86_64-linux-gnu/libssl.so.3', 'soname': 'libssl.so.3', 'version': '3.0.15'},
       {'path': '/usr/lib/x86_64-linux-gnu/libcrypto.so.3', 'soname': 'libcrypto.so.3', 'version': '3.0.15'}] AS libraries,
      strftime(min(ts), '%Y-%m-%dT%H') AS hour
     FROM hs GROUP BY host, pid, comm, exe, container_id)
    TO '${lake}/processes' (FORMAT parquet, PARTITION_BY (hour, host), WRITE_PARTITION_COLUMNS true, COMPRESSION zstd, FILENAME_PATTERN 'part-bench-{i}')`);
  await conn.run(`
    COPY (SELECT ts, host, 'uprobe' AS source, 'openssl' AS library, '/usr/lib/x86_64-linux-gnu/libssl.so.3' AS library_path, pid, comm, exe,
      NULL::UBIGINT AS cgroup_id, container_id, NULL AS pod, pid AS tid, 'group' AS event, 'tls::group' AS key, group_chosen::BIGINT AS value_int,
      NULL AS value_str, NULL::BLOB AS value_blob, NULL::UBIGINT AS context, NULL::UBIGINT AS parent_context, flow_id, hour
     FROM hs WHERE library = 'openssl' AND group_chosen IS NOT NULL AND hash(flow_id) % 10 = 0)
    TO '${lake}/library_events' (FORMAT parquet, PARTITION_BY (hour, host), WRITE_PARTITION_COLUMNS true, COMPRESSION zstd, FILENAME_PATTERN 'part-bench-{i}')`);
  conn.closeSync();
  instance.closeSync();
  writeFileSync(stamp, String(ROWS));
  console.log(`generated ${ROWS.toLocaleString()} handshakes in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${lake}`);
}

/** Runs a script in its own node process; the script reports its own peak RSS and CPU time on its last line. */
function runMeasured(script: string): { seconds: number; rssMB: number; cpu: number; stdout: string } {
  const footer = `
const ru = process.resourceUsage();
console.log("MEASURED " + JSON.stringify({ maxRssKB: ru.maxRSS, cpuS: (ru.userCPUTime + ru.systemCPUTime) / 1e6 }));
`;
  const t0 = performance.now();
  const out = execFileSync("node", ["--import", "tsx", "--input-type=module", "-e", script + footer], { cwd: repo, encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  const m = JSON.parse(/MEASURED (.*)$/m.exec(out)![1]) as { maxRssKB: number; cpuS: number };
  return { seconds, rssMB: m.maxRssKB / 1024, cpu: m.cpuS, stdout: out };
}

if (!existsSync(stamp) || process.env.BENCH_REGEN || readFileSync(stamp, "utf8") !== String(ROWS)) await generate();
else console.log(`using cached lake ${lake}`);

const baselineScript = `
import { openOffline } from "./models/runner.ts";
const { conn } = await openOffline();
const r = await conn.runAndReadAll("SELECT count(*), count(DISTINCT server_addr), sum(CASE WHEN group_chosen = 4588 THEN 1 ELSE 0 END), count(DISTINCT exe) FROM read_parquet('${lake}/handshakes/**/*.parquet')");
console.log(JSON.stringify(r.getRows().map((x) => x.map(String))));
`;
const baseline = runMeasured(baselineScript);
const out = join(base, "marts");
const db = join(base, "cryptoscope.duckdb");
// The same code path as \`cryptoscope models build\`, in its own process so its peak RSS is its own.
const buildScript = `
import { buildModels } from "./models/runner.ts";
const r = await buildModels({ lake: ${JSON.stringify(lake)}, out: ${JSON.stringify(out)}, db: ${JSON.stringify(db)} });
for (const m of r.marts) console.log(m.name.padEnd(32) + String(m.rows).padStart(12) + " rows");
console.log("lake files: " + Object.entries(r.lakeFiles).map(([t, n]) => t + " " + n).join(", "));
`;
const build = runMeasured(buildScript);
const hsLine = /lake files: ([^\n]*)/.exec(build.stdout)?.[1] ?? "";
console.log(build.stdout.split("\n").filter((l) => /rows$/.test(l.trim())).join("\n"));
console.log(`lake: ${ROWS.toLocaleString()} handshakes; ${hsLine}`);
// Wall time depends on what else runs on the machine: print the load and the CPU time too.
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(`cores: ${(await import("node:os")).availableParallelism()}, load average now: ${load}`);
console.log(`baseline (one DuckDB scan + aggregate of lake_handshakes): ${baseline.seconds.toFixed(2)} s wall, ${baseline.cpu.toFixed(1)} s CPU, peak RSS ${baseline.rssMB.toFixed(0)} MB`);
console.log(`models build: ${build.seconds.toFixed(2)} s wall, ${build.cpu.toFixed(1)} s CPU, peak RSS ${build.rssMB.toFixed(0)} MB  (target < 15 s wall on 2 cores)`);
console.log(`ratio build/baseline: ${(build.seconds / baseline.seconds).toFixed(1)}× wall, ${(build.cpu / baseline.cpu).toFixed(1)}× CPU`);
