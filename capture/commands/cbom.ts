// `cryptoscope cbom`: a CycloneDX 1.6 cryptography BOM of what the marts hold.
import type { Command } from "commander";
import { renameSync, writeFileSync } from "node:fs";

export function register(program: Command): void {
  program
    .command("cbom")
    .description("write a CycloneDX 1.6 cryptography BOM (algorithms, certificates, protocols, keys)")
    .option("--db <file>", "DuckDB database file", "data/cryptoscope.duckdb")
    .option("--out <file>", "output file (default: stdout)")
    .action(async (o: { db: string; out?: string }) => {
      const { buildCbom } = await import("../../models/cbom.ts");
      const text = JSON.stringify(await buildCbom(o.db), null, 2) + "\n";
      if (!o.out) {
        process.stdout.write(text);
        return;
      }
      const tmp = `${o.out}.tmp-${process.pid}`;
      writeFileSync(tmp, text);
      renameSync(tmp, o.out);
      console.error(`wrote ${o.out}`);
    });
}
