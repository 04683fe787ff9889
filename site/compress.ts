// Gzip copies next to the built site's large text and wasm files (`duckdb-eh.wasm.gz` beside `duckdb-eh.wasm`),
// for servers that send a precompressed file when the browser accepts it (nginx `gzip_static on`, Caddy
// `file_server { precompressed gzip }`, static-server.ts here): DuckDB-WASM's 36 MB of wasm travel as 7 MB.
// Parquet is left alone (its pages are already compressed).
import { readdirSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { promisify } from "node:util";
import { gzip, constants } from "node:zlib";

const gz = promisify(gzip);
export const COMPRESSIBLE = new Set([".wasm", ".js", ".css", ".html", ".json", ".svg", ".map"]);
const MIN_BYTES = 1024;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && COMPRESSIBLE.has(extname(e.name)))
    .map((e) => join(e.parentPath, e.name));
}

/** Writes `<file>.gz` for every compressible file of at least 1 KB that gzip shrinks by 10 % or more. */
export async function writeGzipCopies(dir: string): Promise<{ files: number; bytes: number; gzipped: number }> {
  const todo = files(dir).filter((f) => statSync(f).size >= MIN_BYTES);
  let bytes = 0;
  let gzipped = 0;
  let n = 0;
  // zlib runs on libuv's thread pool: a few at a time keeps both cores busy without holding every file at once.
  const queue = [...todo];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const data = await readFile(f);
      const z = await gz(data, { level: 6, memLevel: 9, strategy: constants.Z_DEFAULT_STRATEGY });
      if (z.length > data.length * 0.9) continue;
      await writeFile(`${f}.gz`, z);
      bytes += data.length;
      gzipped += z.length;
      n++;
    }
  }));
  return { files: n, bytes, gzipped };
}
