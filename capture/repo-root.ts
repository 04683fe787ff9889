// The repository's root folder (where bpf/, models/, site/ and .keys/ live), for modules that find files of
// the project itself. Kept free of imports so that anything may use it cheaply.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
