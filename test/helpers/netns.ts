// Two network namespaces joined by a veth pair, made and removed by the tests themselves.
import { execFileSync } from "node:child_process";

export interface NetnsPair {
  server: string; client: string;          // namespace names
  serverIf: string; clientIf: string;      // veth ends
  serverAddr: string; clientAddr: string;  // IPv4
  serverAddr6: string; clientAddr6: string;
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

let counter = 0;
/** Creates srv/cli namespaces (names unique per process) with 10.<subnet>.0.1/.2 and fd00:<subnet>::1/2. */
export function createNetnsPair(tag: string, opts: { subnet?: number; mtu?: number; offload?: boolean } = {}): NetnsPair {
  const id = `${tag}${process.pid % 10000}${counter++}`.slice(0, 10);
  const subnet = opts.subnet ?? 100 + ((process.pid + counter) % 100);
  const server = `cs${id}s`, client = `cs${id}c`;
  const serverIf = `v${id}s`.slice(0, 15), clientIf = `v${id}c`.slice(0, 15);
  const pair: NetnsPair = {
    server, client, serverIf, clientIf,
    serverAddr: `10.${subnet}.0.1`, clientAddr: `10.${subnet}.0.2`,
    serverAddr6: `fd00:${subnet}::1`, clientAddr6: `fd00:${subnet}::2`,
    destroy() {
      for (const ns of [server, client]) {
        // quiet: before a pair is made its namespaces do not exist yet, and `ip` says so on stderr
        try { execFileSync("ip", ["netns", "pids", ns], { stdio: ["ignore", "pipe", "ignore"] }).toString().split(/\s+/).filter(Boolean).forEach((p) => { try { process.kill(Number(p), "SIGKILL"); } catch {} }); } catch {}
        try { ip("netns", "del", ns); } catch {}
      }
    },
  };
  pair.destroy();
  ip("netns", "add", server);
  ip("netns", "add", client);
  ip("link", "add", serverIf, "netns", server, "type", "veth", "peer", "name", clientIf, "netns", client);
  for (const [ns, dev, a4, a6] of [[server, serverIf, pair.serverAddr, pair.serverAddr6], [client, clientIf, pair.clientAddr, pair.clientAddr6]]) {
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "addr", "add", `${a4}/24`, "dev", dev);
    ip("-n", ns, "-6", "addr", "add", `${a6}/64`, "dev", dev, "nodad");
    if (opts.mtu) ip("-n", ns, "link", "set", dev, "mtu", String(opts.mtu));
    ip("-n", ns, "link", "set", dev, "up");
    if (opts.offload === false) {
      try { execFileSync("ip", ["netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"], { stdio: "ignore" }); } catch {}
    }
  }
  return pair;
}

/** argv prefix that runs a command inside a namespace. */
export function inNetns(ns: string, ...cmd: string[]): [string, string[]] {
  return ["ip", ["netns", "exec", ns, ...cmd]];
}
