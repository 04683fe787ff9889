// `cryptoscope doctor`: which kernel features this host offers the agent, tried for real.
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("doctor")
    .description("check, by loading a tiny real BPF program per hook, that this host can run the capture")
    .action(async () => {
      const { runDoctor } = await import("../doctor.ts");
      const checks = runDoctor();
      for (const c of checks) console.log(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(48)} ${c.detail}`);
      const failed = checks.filter((c) => !c.ok).length;
      if (failed) {
        console.log(`${failed} check(s) failed`);
        process.exitCode = 1;
      }
    });
}
