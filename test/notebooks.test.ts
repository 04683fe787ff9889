// Every notebook in notebooks/ runs end to end, headless, with the project-local TypeScript kernel (tslab over
// @duckdb/node-api): `jupyter nbconvert --to notebook --execute`, over a fixture lake and fixture marts.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURE, writeFixtureLake, writeFixtureMarts } from "../site/fixture.ts";
import { jupyterPath, notebooksDir, setupKernel } from "../notebooks/setup.ts";

const run = promisify(execFile);

// What the executed notebooks must print, from the fixture lake and marts.
const EXPECT: Record<string, string[]> = {
  "explore-the-lake.ipynb": [
    "handshakes 144", // 2 handshakes per fixture migration row (72 rows)
    "X25519MLKEM768 hybrid hybrid TLS 1.3", // code point 4588 joined to the seed registry
    "CN=legacy.example.test rsa 1024 sha1WithRSAEncryption", // handshake → certificate join
    "libssl.so.3 3.5.1", // handshake → process libraries join
  ],
  "quantum-risk.ipynb": [
    "fleet 1548 40.7 3 2 66.7 51.1",
    "critical tls_legacy_version 1 11",
    "legacy.example.test|10.0.0.9:443 100 critical",
    FIXTURE.rsaCert,
  ],
};

interface Output { output_type: string; text?: string[]; data?: Record<string, string[]>; ename?: string; evalue?: string }
const outputText = (o: Output) =>
  (o.text ?? o.data?.["text/html"] ?? o.data?.["text/plain"] ?? []).join("").replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");

let dir: string;
beforeAll(async () => {
  setupKernel();
  setupKernel(); // idempotent
  dir = mkdtempSync(join(tmpdir(), "cryptoscope-nb-"));
  await writeFixtureLake(join(dir, "lake"));
  await writeFixtureMarts(join(dir, "marts"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("notebooks", () => {
  const notebooks = readdirSync(notebooksDir).filter((f) => f.endsWith(".ipynb")).sort();

  it("are the ones this test knows about", () => {
    expect(notebooks).toEqual(Object.keys(EXPECT).sort());
  });

  for (const nb of notebooks) {
    it(`${nb} executes end to end with the tslab kernel`, async () => {
      await run("jupyter", ["nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=120", join(notebooksDir, nb), "--output-dir", dir], {
        cwd: notebooksDir,
        env: { ...process.env, JUPYTER_PATH: jupyterPath, CRYPTOSCOPE_LAKE: join(dir, "lake"), CRYPTOSCOPE_MARTS: join(dir, "marts") },
        timeout: 150_000,
      });
      const out = JSON.parse(readFileSync(join(dir, nb), "utf8")) as { cells: { cell_type: string; outputs?: Output[] }[]; metadata: { kernelspec: { name: string } } };
      expect(out.metadata.kernelspec.name).toBe("tslab");
      const outputs = out.cells.filter((c) => c.cell_type === "code").flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === "error").map((o) => `${o.ename}: ${o.evalue}`)).toEqual([]);
      // Every code cell produced something: no cell silently did nothing.
      for (const [i, c] of out.cells.entries()) if (c.cell_type === "code") expect(c.outputs?.length, `cell ${i}`).toBeGreaterThan(0);
      const text = outputs.map(outputText).join(" ");
      for (const s of EXPECT[nb] ?? []) expect(text, s).toContain(s);
    });
  }

  it("keeps the kernel spec project-local", () => {
    const spec = JSON.parse(readFileSync(join(jupyterPath, "kernels/tslab/kernel.json"), "utf8")) as { argv: string[] };
    expect(spec.argv[1]).toBe(resolve(notebooksDir, "../node_modules/tslab/bin/tslab"));
    expect(jupyterPath.startsWith(resolve(notebooksDir))).toBe(true);
  });
});
