// A writer process for the lake crash/signal tests (not a test itself). Appends handshake rows
// forever at a steady pace and reports on stdout:
//   appended <n>   rows handed to append() so far
//   flushed <n>    rows in complete, published files (stats().rows) whenever that grows
// Usage: node --import tsx test/lake-child.ts ROOT FLUSH_INTERVAL_MS [signals]

import { installSignalFlush, openLake } from "../capture/lake/writer.js";

const [root, interval, mode] = process.argv.slice(2);
const lake = await openLake({ root, host: "child", flushIntervalMs: Number(interval) });
if (mode === "signals") installSignalFlush(lake);

let appended = 0;
let flushed = 0;
const t0 = Date.now();
const timer = setInterval(() => {
  for (let k = 0; k < 500; k++) {
    const i = appended++;
    lake.append("handshakes", {
      ts: new Date(t0 + i),
      host: "child",
      proto: "tls",
      pid: i,
      sni: `s${i % 100}.example`,
      suites_offered: [4865, 4866, 4867, i % 1000],
      flow_id: `c${i}`,
    });
  }
  process.stdout.write(`appended ${appended}\n`);
  const now = lake.stats().rows.handshakes;
  if (now !== flushed) {
    flushed = now;
    process.stdout.write(`flushed ${flushed}\n`);
  }
}, 5);
timer.unref(); // the lake's own work and the signal handlers keep the process alive
setInterval(() => {}, 1 << 30);
