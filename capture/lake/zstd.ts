// ZSTD for the lake, through @bokuweb/zstd-wasm (pure wasm: no native build, no download, sync calls).
// Its init() must run exactly once per process: a second call re-instantiates the module under the
// feet of the first and later compress() calls fail or write corrupt frames. Everything in the
// project that wants ZSTD goes through this memoized loader.

import { compress, decompress, init } from "@bokuweb/zstd-wasm";

let ready: Promise<void> | null = null;

export async function zstd(): Promise<{ compress: typeof compress; decompress: typeof decompress }> {
  ready ??= init();
  await ready;
  return { compress, decompress };
}
