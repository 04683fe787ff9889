// The whole tree type-checks with the project's own TypeScript (node_modules/typescript, not the older
// copy another package's bin may put first on PATH): tsx and esbuild strip types without checking them.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../capture/repo-root.ts";

it("type-checks (tsc --noEmit -p .)", () => {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", REPO_ROOT], { encoding: "utf8", timeout: 180_000 });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
}, 200_000);
