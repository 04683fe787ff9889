// The repository's root folder (where bpf/, models/, site/ and .keys/ live), for modules that find files of
// the project itself. Kept free of project imports so that anything may use it cheaply.
// Found by walking up to the folder with the project's package.json, because this module runs from
// capture/ under tsx and from build/cli/chunks/ once compiled (scripts/compile-cli.ts).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "cryptoscope") return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the cryptoscope folder above ${from}`);
  }
}

export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
