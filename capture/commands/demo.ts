// `cryptoscope demo`: a self-contained run on this host. A built-in workload of real peers in network
// namespaces is captured by the agent (wire + library probes), then the models and the site are built
// and a summary printed. Leaves no processes or namespaces behind.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { REPO_ROOT } from "../repo-root.ts";

const BIN = join(REPO_ROOT, "bin/cryptoscope");

function step(n: number, total: number, msg: string): void {
  const tag = `[${n}/${total}]`;
  process.stderr.write(`${process.stderr.isTTY ? `\x1b[1m${tag}\x1b[0m` : tag} ${msg}\n`);
}

function cli(args: string[]): void {
  const r = spawnSync(BIN, args, { stdio: ["ignore", "inherit", "pipe"], encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cryptoscope ${args[0]} ${args[1] ?? ""} failed: ${(r.stderr || "").trim().split("\n").pop()}`);
}

export function register(program: Command): void {
  program
    .command("demo")
    .description("capture a built-in workload of real TLS/SSH peers on this host, build the models and the site, print a summary")
    .option("--dir <dir>", "where the lake, marts, DuckDB file and site go", "data/demo")
    .option("--rounds <n>", "rounds of client connections", (v) => Number(v), 3)
    .option("--short", "one round, for tests")
    .option("--no-site", "skip building the site")
    .action(async (o) => {
      const dir = resolve(o.dir);
      const lake = join(dir, "lake"), marts = join(dir, "marts"), db = join(dir, "cryptoscope.duckdb"), site = join(dir, "site");
      const rounds = o.short ? 1 : o.rounds;
      const total = o.site ? 5 : 4;
      const [{ runAgent }, { DemoWorkload }, { demoSummary }] = await Promise.all([
        import("../agent.ts"), import("../demo/workload.ts"), import("../demo/summary.ts")]);
      rmSync(dir, { recursive: true, force: true }); // a demo starts from nothing
      const t0 = Date.now();
      const workload = new DemoWorkload(join(dir, "workload"), (m) => process.stderr.write(`      ${m}\n`));
      const cleanup = () => workload.stop();
      process.once("exit", cleanup);
      try {
        step(1, total, "starting the workload: OpenSSL, GnuTLS, python, Go and OpenSSH servers in netns csdemo-srv");
        await workload.start();
        step(2, total, `capturing ${rounds} round(s) of curl, openssl, gnutls-cli, python, node, Go and ssh clients`);
        let ready!: () => void;
        const isReady = new Promise<void>((r) => (ready = r));
        const driven = isReady.then(async () => {
          for (let i = 0; i < rounds; i++) {
            workload.round();
            const ok = workload.steps.filter((s) => s.ok).length;
            process.stderr.write(`      round ${i + 1}/${rounds}: ${ok}/${workload.steps.length} client runs succeeded\n`);
            if (i + 1 < rounds) await new Promise((r) => setTimeout(r, 1000));
          }
          await new Promise((r) => setTimeout(r, 1500)); // last records and library events reach the agent
        });
        const cap = await runAgent({ lake, host: "demo-host", progress: "none", until: driven, onReady: ready, flushIntervalMs: 5000 });
        process.stderr.write(`      captured ${cap.handshakes} handshakes, ${cap.libraryEvents} library events; drops: kernel ${cap.kernelDrops}, consumer ${cap.userDrops}\n`);
        workload.stop();
        step(3, total, "building the models (staging → inventory → risk → reports)");
        cli(["models", "build", "--lake", lake, "--out", marts, "--db", db]);
        if (o.site) {
          step(4, total, "building the report site");
          cli(["site", "build", "--marts", marts, "--out", site]);
        }
        step(total, total, "summary");
        console.log(`\n${await demoSummary(db)}\n`);
        console.log(`Lake:    ${lake}`);
        console.log(`DuckDB:  ${db}   (cd ${dir} && duckdb cryptoscope.duckdb)`);
        if (o.site) console.log(`Site:    ${site}/index.html   (serve it: python3 -m http.server -d ${site})`);
        console.log(`Done in ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
      } finally {
        cleanup();
        process.off("exit", cleanup);
      }
    });
}
