// A small static file server for the built site: GET/HEAD, byte ranges (DuckDB-WASM and parquet readers ask
// for ranges), `.html` resolution for extension-less links, 127.0.0.1 only. Enough for tests, benches and a
// quick local look; any static server (nginx, caddy, S3) serves the same folder in production.
// It does what such a server should be set up to do (site/README.md): send the build's precompressed `.gz`
// copy when the browser accepts gzip (nginx gzip_static), and let browsers keep Framework's content-hashed
// and versioned files (`/_file/`, `/_npm/`, …) for a year without asking again; pages are revalidated.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json",
  ".wasm": "application/wasm", ".parquet": "application/vnd.apache.parquet", ".svg": "image/svg+xml",
  ".png": "image/png", ".woff2": "font/woff2", ".map": "application/json",
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

// Framework names these by content hash (`x.1a2b3c4d.js`) or by package version (`/_npm/name@1.2.3/`):
// a new build that changes one gets a new URL, so a cached copy never goes stale.
const IMMUTABLE = /^\/_(file|import|node|npm|observablehq)\//;

function resolveFile(root: string, urlPath: string): string | null {
  const rel = normalize(decodeURIComponent(urlPath.split("?")[0])).replace(/^(\.\.[/\\])+/, "");
  let file = join(root, rel);
  if (!file.startsWith(root + sep) && file !== root) return null;
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
  if (!existsSync(file) && existsSync(`${file}.html`)) file = `${file}.html`;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

export function serveStatic(dir: string, port = 0): Promise<StaticServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    const file = resolveFile(root, req.url ?? "/");
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const urlPath = (req.url ?? "/").split("?")[0];
    // The gzip copy, for a whole-file request from a browser that accepts it (ranges are of the plain file).
    const gzipped = !req.headers.range && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? "")) && existsSync(`${file}.gz`);
    const st = statSync(gzipped ? `${file}.gz` : file);
    const size = st.size;
    // Validators like any static server's, so a browser revalidates a page (304) instead of downloading it again.
    const etag = `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}${gzipped ? "-gz" : ""}"`;
    const headers: Record<string, string | number> = {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "accept-ranges": "bytes",
      "cache-control": IMMUTABLE.test(urlPath) ? "public, max-age=31536000, immutable" : "no-cache",
      vary: "accept-encoding",
      etag,
      "last-modified": st.mtime.toUTCString(),
    };
    if (gzipped) headers["content-encoding"] = "gzip";
    if (req.headers["if-none-match"] === etag && !req.headers.range) {
      res.writeHead(304, headers).end();
      return;
    }
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range) {
      if (range[1] === "") {
        start = Math.max(0, size - Number(range[2])); // suffix range: the last N bytes
      } else {
        start = Number(range[1]);
        if (range[2] !== "") end = Math.min(end, Number(range[2]));
      }
      if (start > end || start >= size) {
        res.writeHead(416, { "content-range": `bytes */${size}` }).end();
        return;
      }
      status = 206;
      headers["content-range"] = `bytes ${start}-${end}/${size}`;
    }
    headers["content-length"] = end - start + 1;
    res.writeHead(status, headers);
    if (req.method === "HEAD" || size === 0) res.end();
    else createReadStream(gzipped ? `${file}.gz` : file, { start, end }).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => {
      const addr = server.address();
      const p = typeof addr === "object" && addr ? addr.port : port;
      ok({ url: `http://127.0.0.1:${p}`, close: () => new Promise((c) => server.close(() => c())) });
    });
  });
}
