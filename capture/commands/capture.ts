// `cryptoscope capture`: watch every handshake on this host until interrupted (or --duration).
import { Command, InvalidArgumentError } from "commander";

function port(v: string, prev: number[] = []): number[] {
  const out = [...prev];
  for (const p of v.split(",")) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a port: ${p}`);
    out.push(n);
  }
  return out;
}
function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

export function register(program: Command): void {
  program
    .command("capture")
    .description("capture TLS, SSH and QUIC handshakes and crypto-library calls on this host into the lake (needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN)")
    .option("--lake <dir>", "lake root", "data/lake")
    .option("--host <name>", "host name to record (default: this host's)")
    .option("--duration <seconds>", "stop after this many seconds", (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError("must be a positive number of seconds");
      return n;
    })
    .option("--iface <name>", "also capture with TC on this interface (NETNS:IFNAME for one inside a named netns); repeatable", collect)
    .option("--cgroup <path>", "watch only sockets of this cgroup v2 directory (default: all, the root)")
    .option("--exclude-cgroup <path>", "leave sockets of this cgroup v2 directory and its subtree alone (the agent's own traffic, backups); repeatable, at most 4", collect)
    .option("--no-cgroup-hook", "no cgroup_skb hook (TC interfaces only)")
    .option("--port <ports>", "only these TCP/UDP ports (comma-separated, repeatable)", port)
    .option("--no-library-probes", "no uprobes/USDT on crypto libraries")
    .option("--hash-identifiers", "store keyed hashes of SNI and addresses instead of clear text")
    .option("--hash-key <file>", "key for --hash-identifiers (default: one kept in the lake root)")
    .option("--flush-interval <seconds>", "write files at least this often", (v) => Number(v) * 1000, 60_000)
    .action(async (o) => {
      if (o.excludeCgroup?.length) {
        // a bad path fails here with its one line, before the lake is opened
        const { resolveExcludedCgroups } = await import("../wire/excluded-cgroups.ts");
        resolveExcludedCgroups(o.excludeCgroup);
      }
      const { runAgent } = await import("../agent.ts");
      const s = await runAgent({
        lake: o.lake, host: o.host, durationS: o.duration, ifaces: o.iface, ports: o.port,
        cgroup: o.cgroupHook === false ? null : o.cgroup, excludeCgroups: o.excludeCgroup, libraryProbes: o.libraryProbes,
        hashIdentifiers: o.hashIdentifiers, hashKeyFile: o.hashKey, flushIntervalMs: o.flushInterval,
        onReady: () => process.stderr.write(`cryptoscope capture: running, writing to ${o.lake}${o.duration ? ` for ${o.duration} s` : " until interrupted"}\n`),
      });
      console.log(`captured ${s.handshakes} handshakes, ${s.libraryEvents} library events in ${s.seconds.toFixed(1)} s; drops: kernel ${s.kernelDrops}, consumer ${s.userDrops}, lake ${s.lakeDrops}; ${s.files} files in ${o.lake}`);
    });
}
