// bench/ringbuf: events/s delivered to JS (one Buffer per batch), CPU and drops, against a plain C
// consumer of the same BPF producer in the same run. 64-byte records (ringbuf_bench.bpf.c).
// Two loads: paced at ~1.28 M records/s (the target: >= 1 M/s with 0 drops) and unpaced (the ceiling).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BpfObject, bpfObjectPath, forEachRecord, REPO_ROOT } from "../capture/bpf/native.ts";

const OUT = join(REPO_ROOT, "build/bench");
const LIBBPF = join(REPO_ROOT, "build/libbpf");
const BPFTOOL = join(REPO_ROOT, "build/bpftool/usr/sbin/bpftool");
const BURST = 64;

function buildHelpers(): { producer: string; consumer: string } {
  mkdirSync(OUT, { recursive: true });
  const skel = execFileSync(BPFTOOL, ["gen", "skeleton", bpfObjectPath("ringbuf_bench"), "name", "ringbuf_bench_bpf"]);
  const skelPath = join(OUT, "ringbuf_bench.skel.h");
  execFileSync("sh", ["-c", `cat > ${skelPath}`], { input: skel });
  const producer = join(OUT, "ringbuf_producer"), consumer = join(OUT, "ringbuf_consumer");
  execFileSync("gcc", ["-O2", "-o", producer, join(REPO_ROOT, "bench/c/ringbuf_producer.c")]);
  execFileSync("gcc", ["-O2", "-o", consumer, join(REPO_ROOT, "bench/c/ringbuf_consumer.c"), `-I${OUT}`, `-I${LIBBPF}/include`,
    join(LIBBPF, "lib/libbpf.a"), "-lelf", "-lz"]);
  return { producer, consumer };
}

interface Result { received: number; produced: number; kernelDrops: number; userDrops: number; seconds: number; cpuSeconds: number }

function runC(consumer: string, producer: string, calls: number, rate: number): Result {
  const out = execFileSync(consumer, [producer, String(calls), String(BURST), String(rate)]).toString().trim().split("\n").pop()!;
  const r = JSON.parse(out);
  return { ...r, userDrops: 0 };
}

async function runJs(producer: string, calls: number, rate: number): Promise<Result> {
  const child = spawn(producer, [String(calls), String(rate)], { stdio: ["pipe", "pipe", "inherit"] });
  const obj = new BpfObject(bpfObjectPath("ringbuf_bench"));
  obj.setRodata("target_tgid", child.pid!, 4).setRodata("burst", BURST, 4).load();
  obj.attachTracepoint("on_getppid", "syscalls", "sys_enter_getppid");
  let received = 0, first = 0n, last = 0n, checksum = 0;
  const consumer = obj.consumeRingBuffers(["events"], (batch) => {
    if (!first) first = process.hrtime.bigint();
    // walk every record, as the agent does, so JS really touches each event
    forEachRecord(batch, (r) => { received++; checksum += r[24]; });
    last = process.hrtime.bigint();
  }, { batchBytes: 256 * 1024, timeoutMs: 10, maxQueuedBatches: 256 });
  const cpu0 = process.cpuUsage();
  child.stdin!.write("go\n");
  await new Promise((r) => child.on("exit", r));
  // drain: wait until nothing more arrives for 200 ms
  for (let prev = -1; prev !== received; ) { prev = received; await new Promise((r) => setTimeout(r, 200)); }
  const cpu = process.cpuUsage(cpu0);
  const stats = consumer.stats();
  consumer.stop();
  const res: Result = {
    received, produced: Number(obj.arrayU64("produced", 0)), kernelDrops: Number(obj.kernelDrops()),
    userDrops: stats.droppedRecords, seconds: Number(last - first) / 1e9, cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  obj.close();
  void checksum;
  return res;
}

function row(name: string, r: Result): string {
  const rate = r.received / r.seconds;
  return [name.padEnd(28), `${(rate / 1e6).toFixed(2)} M/s`.padStart(10), String(r.received).padStart(9), String(r.produced).padStart(9),
    String(r.kernelDrops + r.userDrops).padStart(7), `${((r.cpuSeconds / r.seconds) * 100).toFixed(0)}%`.padStart(6)].join("  ");
}

const { producer, consumer } = buildHelpers();
console.log("bench/ringbuf: 64-byte records from a tracepoint (bpf_loop bursts of 64), 8 MiB ring buffer");
console.log(["consumer / load".padEnd(28), "delivered".padStart(10), "received".padStart(9), "produced".padStart(9), "drops".padStart(7), "CPU".padStart(6)].join("  "));
const loads = [
  { name: "paced 1.28 M/s", calls: 80_000, rate: 20_000 },
  { name: "unpaced", calls: 80_000, rate: 0 },
];
for (const l of loads) {
  const c = runC(consumer, producer, l.calls, l.rate);
  const js = await runJs(producer, l.calls, l.rate);
  console.log(row(`C (libbpf), ${l.name}`, c));
  console.log(row(`JS batches, ${l.name}`, js));
  console.log(`  ratio JS/C delivered: ${((js.received / js.seconds) / (c.received / c.seconds)).toFixed(2)}; JS drops ${js.kernelDrops + js.userDrops}` +
    (l.rate ? `; target >= 1 M/s with 0 drops: ${js.received / js.seconds >= 1e6 && js.kernelDrops + js.userDrops === 0 ? "met" : "NOT met"}` : ""));
}
