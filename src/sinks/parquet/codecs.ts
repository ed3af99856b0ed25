// Page compression. Node 20's zlib has no zstd and no snappy, so both come from native addons
// published with prebuilt binaries as per-platform npm packages (nothing is downloaded or
// compiled at install time), loaded only when asked for.
//
// Measured on SCONE float32 pages (1 MiB, one core of a loaded 2-core machine): snappy (napi-rs)
// 1.1-2 GB/s when it copies its output into a V8 buffer, 130-200 MB/s when it hands out external
// buffers (the default: they are freed by finalizers that Node runs only between event-loop
// turns, so a synchronous loop piles them up); snappyjs 180 MB/s. zstd level 1 320-440 MB/s,
// level 3 ~170 MB/s for a file 0.3% smaller, level -1 510 MB/s for one 7% larger;
// @bokuweb/zstd-wasm level 1 150-230 MB/s. Hence zstd level 1 by default.
//
// Both addons also compress on libuv's thread pool (`compressAsync`): the sink hands each page to
// the pool as it fills and writes the row group once its pages are back, so one output file
// compresses on several cores. The bytes are the codec's, whichever thread ran it.
//
// The zstd addon has no copying mode: its page buffers are freed once the event loop turns, which
// the converter does at every read window. A caller that writes a whole file in one synchronous
// loop holds the compressed file in memory until it returns to the loop.
import { createRequire } from "node:module";
import { ArrowsmithError } from "../../errors.js";
import { Codec } from "./metadata.js";

export type Compression = "zstd" | "snappy" | "none";
export const COMPRESSIONS: readonly Compression[] = ["zstd", "snappy", "none"];
export const ZSTD_DEFAULT_LEVEL = 1;

export interface PageCodec {
  readonly name: Compression;
  /** Parquet's CompressionCodec id. */
  readonly id: number;
  /** Compresses one page; the result is a new buffer (or the input itself for `none`). */
  compress(page: Uint8Array): Uint8Array;
  /**
   * The same bytes as `compress`, computed on libuv's thread pool (the addons' async calls), so
   * one output file's pages compress on several cores; `page` must stay untouched until it settles.
   */
  compressAsync?(page: Uint8Array): Promise<Uint8Array>;
}

const require = createRequire(import.meta.url);

function load<T>(pkg: string, compression: Compression): T {
  try {
    return require(pkg) as T;
  } catch (e) {
    throw new ArrowsmithError("usage", `--compression ${compression} needs the package ${pkg}, which could not be loaded: ${(e as Error).message}`, {
      hint: "reinstall arrowsmith's dependencies, or use another --compression", cause: e,
    });
  }
}

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function pageCodec(name: Compression, zstdLevel = ZSTD_DEFAULT_LEVEL): PageCodec {
  switch (name) {
    case "none":
      return { name, id: Codec.UNCOMPRESSED, compress: (p) => p };
    case "snappy": {
      const snappy = load<{ compressSync(b: Uint8Array, o: { copyOutputData: boolean }): Buffer; compress(b: Uint8Array, o: { copyOutputData: boolean }): Promise<Buffer> }>("snappy", name);
      const copy = { copyOutputData: true };
      return { name, id: Codec.SNAPPY, compress: (p) => snappy.compressSync(asBuffer(p), copy), compressAsync: (p) => snappy.compress(asBuffer(p), copy) };
    }
    case "zstd": {
      const zstd = load<{ Encoder: new (level: number) => { encodeSync(b: Buffer): Buffer; encode(b: Buffer): Promise<Buffer> } }>("@toondepauw/node-zstd", name);
      const encoder = new zstd.Encoder(zstdLevel);
      return { name, id: Codec.ZSTD, compress: (p) => encoder.encodeSync(asBuffer(p)), compressAsync: (p) => encoder.encode(asBuffer(p)) };
    }
    default:
      throw new ArrowsmithError("usage", `compression must be one of ${COMPRESSIONS.join(", ")}, not ${String(name)}`);
  }
}
