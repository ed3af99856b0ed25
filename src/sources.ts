// Reading input files into wasm memory with bounded memory: uncompressed files are read with
// readSync straight into a window of wasm memory (no intermediate copy); GZIP/ZLIB files are
// inflated by node:zlib on demand (io/inflate.ts), and each inflated chunk is copied once into the window.
import { closeSync, fstatSync, read as readAsync, readSync } from "node:fs";
import { openInputFile } from "./io/open-input.js";
import { basename } from "node:path";
import { ArrowsmithError } from "./errors.js";
import { type Compression, detectCompression } from "./formats/compression.js";
import { HEADER_BYTES, maskCrc } from "./formats/tfrecord.js";
import { inflateFile } from "./io/inflate.js";
import { type Kernels } from "./wasm.js";

/** Where a stream's bytes go: a buffer, or a function giving the current view of one. */
export type ReadTarget = Uint8Array | (() => Uint8Array);

/** Pulls bytes of a (possibly decompressed) stream into a target buffer. */
export interface ByteStream {
  /**
   * Reads up to `max` bytes into `into` at `at`; returns 0 only at the end of the stream. `into`
   * may be a function returning the target: a stream that waits (a compressed file) takes the
   * view only once the bytes are there, so a view on wasm memory that grew meanwhile (another
   * task of the same thread) is not used detached.
   */
  read(into: ReadTarget, at: number, max: number): number | Promise<number>;
  close(): void;
  /** Moves to a byte offset (uncompressed files only). */
  seek?(offset: number): void;
  /**
   * Reads up to `max` bytes at file offset `position` on libuv's thread pool, without moving the
   * stream (uncompressed files only): the read of the next window while this one is decoded.
   * `into` must stay attached (no wasm memory growth) until it settles.
   */
  readAt?(into: Uint8Array, at: number, max: number, position: number): Promise<number>;
  /** Total stream length when known up front (uncompressed files). */
  readonly size?: number;
  /** Bytes of the input file consumed so far (compressed bytes for compressed files). */
  consumed(): number;
}

export interface OpenedInput {
  path: string;
  name: string;
  fileSize: number;
  mtimeMs: number;
  compression: Compression;
  stream: ByteStream;
}

const HEAD_BYTES = 16;

/** Reads the first bytes of a file (for kind and compression detection). */
export function readHead(path: string, n = 64): Uint8Array {
  const fd = openInput(path);
  try {
    const buf = new Uint8Array(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function openInput(path: string): number {
  return openInputFile(path);
}

/**
 * Detects whole-file compression from the bytes. A TFRecord's first length field can itself start
 * with 1f 8b or 78 9c, so a header whose length CRC is valid wins over the magic.
 */
export function detectTFRecordCompression(head: Uint8Array, maskedCrc32c: (b: Uint8Array) => number): Compression {
  const magic = detectCompression(head);
  if (magic !== "none" && head.length >= HEADER_BYTES) {
    const stored = (head[8] | (head[9] << 8) | (head[10] << 16) | (head[11] << 24)) >>> 0;
    if (stored === maskedCrc32c(head.subarray(0, 8))) return "none";
  }
  return magic;
}

/** Opens a file as a byte stream, inflating GZIP/ZLIB detected from its bytes. */
export function openStream(path: string, compression?: Compression, crcOf?: (b: Uint8Array) => number): OpenedInput {
  const fd = openInput(path);
  const st = fstatSync(fd);
  const head = new Uint8Array(HEAD_BYTES);
  const got = readSync(fd, head, 0, HEAD_BYTES, 0);
  const comp = compression ?? (crcOf ? detectTFRecordCompression(head.subarray(0, got), crcOf) : detectCompression(head.subarray(0, got)));
  const base = { path, name: basename(path), fileSize: st.size, mtimeMs: st.mtimeMs, compression: comp };
  if (comp === "none") {
    let pos = 0;
    let open = true;
    return {
      ...base,
      stream: {
        size: st.size,
        read(into, at, max) {
          const n = readSync(fd, typeof into === "function" ? into() : into, at, max, pos);
          pos += n;
          return n;
        },
        close() { if (open) { open = false; closeSync(fd); } },
        seek(offset) { pos = offset; },
        readAt: (into, at, max, position) => new Promise((resolve, reject) => {
          readAsync(fd, into, at, max, position, (err, n) => (err ? reject(err) : resolve(n)));
        }),
        consumed: () => pos,
      },
    };
  }
  return { ...base, stream: inflateFile(path, fd, st.size, comp) };
}

/** Masked CRC32C of a small JS buffer through the kernels (for detection and the generator). */
export function maskedCrcOf(k: Kernels, data: Uint8Array): number {
  const mark = k.mark();
  try {
    return maskCrc(k.crc32c(k.put(data), data.byteLength));
  } finally {
    k.release(mark);
  }
}
