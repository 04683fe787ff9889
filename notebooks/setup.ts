// Registers the project's TypeScript Jupyter kernel (tslab, over @duckdb/node-api) in a project-local
// JUPYTER_PATH (notebooks/.jupyter), never in the user's or the system's Jupyter folders.
// Idempotent: rewrites kernel.json only when its content would change. Run:
//   node --import tsx notebooks/setup.ts
// then open the notebooks with
//   JUPYTER_PATH=notebooks/.jupyter jupyter notebook notebooks/
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const notebooksDir = dirname(fileURLToPath(import.meta.url));
export const jupyterPath = join(notebooksDir, ".jupyter");
export const KERNEL_NAME = "tslab";

export function setupKernel(): { changed: boolean; kernelJson: string } {
  const tslab = resolve(notebooksDir, "../node_modules/tslab/bin/tslab");
  if (!existsSync(tslab)) throw new Error("tslab is not installed (run the setup: npm install)");
  const dir = join(jupyterPath, "kernels", KERNEL_NAME);
  const kernelJson = join(dir, "kernel.json");
  const spec = JSON.stringify(
    {
      // This node, not whatever `node` is first on PATH when Jupyter starts the kernel.
      argv: [process.execPath, tslab, "kernel", "--config-path", "{connection_file}"],
      display_name: "TypeScript (tslab, cryptoscope)",
      language: "typescript",
    },
    null,
    2,
  );
  if (existsSync(kernelJson) && readFileSync(kernelJson, "utf8") === spec) return { changed: false, kernelJson };
  mkdirSync(dir, { recursive: true });
  writeFileSync(kernelJson, spec);
  return { changed: true, kernelJson };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { changed, kernelJson } = setupKernel();
  console.log(`notebooks: kernel ${KERNEL_NAME} ${changed ? "registered" : "already registered"} in ${kernelJson}`);
}
