// ZSTD for the lake, through @bokuweb/zstd-wasm (pure wasm: no native build, no download, sync calls).
// Its init() must run exactly once per process: a second call re-instantiates the module under the
// feet of the first and later compress() calls fail or write corrupt frames. Everything in the
// project that wants ZSTD goes through this memoized loader.

import { compress, compressUsingDict, createCCtx, decompress, init } from "@bokuweb/zstd-wasm";

let ready: Promise<void> | null = null;

export async function zstd(): Promise<{ compress: typeof compress; decompress: typeof decompress; withContext: () => (buf: Uint8Array, level?: number) => Uint8Array }> {
  ready ??= init();
  await ready;
  return { compress, decompress, withContext };
}

const NO_DICT = new Uint8Array(0);

/**
 * A compressor that keeps one compression context (plain compress() sets one up and tears it down per
 * call: most of the cost for the lake's many small pages). Frames are the same as compress()'s.
 */
function withContext(): (buf: Uint8Array, level?: number) => Uint8Array {
  const cctx = createCCtx();
  return (buf, level = 3) => compressUsingDict(cctx, buf, NO_DICT, level);
}
