// The platform half of the ZIP reader: raw deflate and CRC-32 as Node and this thread's wasm
// kernels provide them, handed to src/formats/zip.ts (which stays free of Node and of wasm) as a
// ZipCodec. `openZip` is ZipArchive.open with this codec.
import zlib from "node:zlib";
import { ArrowsmithError } from "../errors.js";
import { type ByteSource, crc32Table, type Flush, inflateRawWith, type RawInflater, type ZipCodec, ZipArchive, type ZipOptions } from "../formats/zip.js";
import { type Kernels, kernels } from "../wasm.js";

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE, as ZIP uses). node:zlib's native crc32 (Node >= 20.15) runs ~1.9 GB/s here; the
// table fallback keeps older Node 20 releases working.

const nativeCrc = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data`, continuing from `crc` (0 to start). */
export function crc32(data: Uint8Array, crc = 0): number {
  if (nativeCrc) return nativeCrc(data, crc) >>> 0;
  return crc32Table(data, crc);
}

/** Members at least this long are checked with the wasm kernel (assembly/crc32.ts). */
const KERNEL_CRC_MIN = 4096;
/** Bytes copied into wasm memory at a time for data that lies in JS memory. */
const KERNEL_CRC_CHUNK = 256 * 1024;

/**
 * CRC-32 of `into[at .. at+size)`, as the member check takes it. From 4 KiB on the wasm kernel does
 * it: in place when `into` is a view of this thread's wasm memory (the pipeline reads members
 * there), else through a copy into wasm memory 256 KiB at a time (bench/crc32.ts, 92 KB to 8 MB:
 * kernel 15-18 GB/s, through the copy 9-11 GB/s, zlib.crc32 ~4.2 GB/s). The copy goes above the
 * allocator's top without growing memory (growing would detach the callers' views); without room
 * it is zlib's. `k` is the instance of the task that reads: another instance in the same thread
 * may hold a batch still being written (write-behind), which a copy above its top would overwrite.
 */
export function memberCrc32(into: Uint8Array, at: number, size: number, start = 0, k: Kernels = kernels()): number {
  if (size >= KERNEL_CRC_MIN) {
    if (into.buffer === k.memory.buffer) return k.crc32(into.byteOffset + at, size, start);
    const top = k.mark();
    const room = Math.floor((k.memory.buffer.byteLength - top) / 64) * 64;
    if (room >= 65536) {
      const chunk = Math.min(KERNEL_CRC_CHUNK, room, Math.ceil(size / 64) * 64);
      const ptr = k.alloc(chunk);
      try {
        let crc = start;
        for (let done = 0; done < size; done += chunk) {
          const n = Math.min(chunk, size - done);
          k.bytes().set(into.subarray(at + done, at + done + n), ptr);
          crc = k.crc32(ptr, n, crc);
        }
        return crc;
      } finally {
        k.release(top);
      }
    }
  }
  return crc32(into.subarray(at, at + size), start);
}

// ---------------------------------------------------------------------------------------------
// Raw deflate into a caller's buffer.
//
// Measured on an 8 MB cluster batch (137 KB deflated, Node 20.20): inflateRawSync with its default
// 16 KiB chunks 625 MB/s, with 1 MiB chunks ~1.9 GB/s (+ a copy into wasm), fflate 140 MB/s, and
// zlib's handle writing straight into the destination ~6 GB/s. The handle (`_handle.writeSync`,
// `_writeState`) is what inflateRawSync itself runs on but is not public API, so it is
// feature-tested and inflateRawSync is the fallback.

interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

type InflateMode = "auto" | "direct" | "buffered";
let inflateMode: InflateMode = "auto";

/** For tests: force the public inflateRawSync path ("buffered") or the handle path ("direct"). */
export function setInflateMode(mode: InflateMode): void {
  inflateMode = mode;
}

const FLUSH: Record<Flush, number> = { none: zlib.constants.Z_NO_FLUSH, sync: zlib.constants.Z_SYNC_FLUSH, finish: zlib.constants.Z_FINISH };

/** zlib's inflate handle, stepped synchronously, or undefined where this Node lacks it. */
function openInflater(): RawInflater | undefined {
  if (inflateMode === "buffered") return undefined;
  const z = new zlib.InflateRaw();
  const raw = z as unknown as { _handle?: ZlibHandle; _writeState?: Uint32Array };
  const h = raw._handle;
  const state = raw._writeState;
  if (!h || typeof h.writeSync !== "function" || !(state instanceof Uint32Array) || state.length < 2) {
    z.close();
    if (inflateMode === "direct") throw new Error("zlib handle API not available in this Node");
    return undefined;
  }
  let err: string | undefined;
  // Replaces Node's handler, which would destroy the stream and emit asynchronously.
  h.onerror = (message: string, errno: number) => {
    err = `${message} (zlib errno ${errno})`;
  };
  return {
    write: (flush, input, inOff, inLen, out, outOff, outLen) => h.writeSync(FLUSH[flush], input, inOff, inLen, out, outOff, outLen),
    get availOut() { return state[0]; },
    get availIn() { return state[1]; },
    error: () => err,
    close: () => z.close(),
  };
}

function failure(detail: string): ArrowsmithError {
  return new ArrowsmithError("compression", detail);
}

function inflateWhole(comp: Uint8Array, into: Uint8Array, at: number, size: number): void {
  let out: Buffer;
  try {
    // 1 MiB chunks: the default 16 KiB makes inflateRawSync three times slower on 8 MB members.
    out = zlib.inflateRawSync(comp, { maxOutputLength: Math.max(size, 1), chunkSize: Math.min(Math.max(size, 64), 1 << 20) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ERR_BUFFER_TOO_LARGE") throw failure(`deflate data inflates to more than the ${size} bytes the member declares`);
    if (err.code === "Z_BUF_ERROR") throw failure(`deflate data ends before the ${size} bytes the member declares (${err.message})`);
    throw failure(`corrupt deflate data: ${err.message}`);
  }
  if (out.length !== size) {
    throw failure(out.length > size
      ? `deflate data inflates to more than the ${size} bytes the member declares`
      : `deflate data ends after ${out.length} bytes; the member declares ${size}`);
  }
  into.set(out, at);
}

/** Node's raw deflate and the wasm CRC-32, as src/formats/zip.ts takes them. */
export const NODE_ZIP_CODEC: ZipCodec = {
  openInflater,
  inflateWhole,
  inflatePartial: (comp) => zlib.inflateRawSync(comp, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  crc32: memberCrc32,
};

const codecs = new WeakMap<Kernels, ZipCodec>();

/** NODE_ZIP_CODEC with the CRC-32 of wasm instance `k` (the reading task's). */
export function zipCodec(k: Kernels): ZipCodec {
  let c = codecs.get(k);
  if (!c) codecs.set(k, (c = { ...NODE_ZIP_CODEC, crc32: (into, at, size, start) => memberCrc32(into, at, size, start, k) }));
  return c;
}

/**
 * Opens an archive with Node's inflater and CRC (ZipArchive.open with NODE_ZIP_CODEC), the CRC
 * in `k` (default: this thread's instance).
 */
export function openZip(src: ByteSource, opts: Omit<ZipOptions, "codec"> = {}, k?: Kernels): ZipArchive {
  return ZipArchive.open(src, { ...opts, codec: k ? zipCodec(k) : NODE_ZIP_CODEC });
}

/**
 * Inflates the raw deflate stream `comp` into exactly `size` bytes at `into[at ..]`. Throws
 * ArrowsmithError("compression") when the stream is corrupt, ends before `size` bytes, or would
 * produce more than `size` bytes (nothing beyond `at + size` is ever written).
 */
export function inflateRawInto(comp: Uint8Array, into: Uint8Array, at: number, size: number): void {
  inflateRawWith(NODE_ZIP_CODEC, comp, into, at, size);
}
