// Reading input files into wasm memory with bounded memory: uncompressed files are read with
// readSync straight into a window of wasm memory (no intermediate copy); GZIP/ZLIB files are
// inflated by node:zlib in a stream, and each inflated chunk is copied once into the window.
// The TFRecord iterator frames whole records in the window and moves a partial tail to its front.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { createGunzip, createInflate } from "node:zlib";
import { ArrowsmithError } from "./errors.js";
import { type Compression, detectCompression } from "./formats/compression.js";
import { FRAME_OVERHEAD, type Frame, type FrameContext, frameRecords, HEADER_BYTES, maskCrc } from "./formats/tfrecord.js";
import { type Kernels } from "./wasm.js";

/** Pulls bytes of a (possibly decompressed) stream into a target buffer. */
export interface ByteStream {
  /** Reads up to `max` bytes into `into` at `at`; returns 0 only at the end of the stream. */
  read(into: Uint8Array, at: number, max: number): number | Promise<number>;
  close(): void;
  /** Moves to a byte offset (uncompressed files only). */
  seek?(offset: number): void;
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
  try {
    return openSync(path, "r");
  } catch (e) {
    throw new ArrowsmithError("io", `cannot open: ${(e as Error).message}`, { file: path, cause: e });
  }
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
          const n = readSync(fd, into, at, max, pos);
          pos += n;
          return n;
        },
        close() { if (open) { open = false; closeSync(fd); } },
        seek(offset) { pos = offset; },
        consumed: () => pos,
      },
    };
  }
  closeSync(fd);
  return { ...base, stream: inflateStream(path, comp) };
}

function inflateStream(path: string, comp: Compression): ByteStream {
  const raw = createReadStream(path, { highWaterMark: 1 << 22 });
  const inflate = comp === "gzip" ? createGunzip({ chunkSize: 1 << 20 }) : createInflate({ chunkSize: 1 << 20 });
  raw.on("error", (e) => inflate.destroy(e));
  raw.pipe(inflate);
  const it = inflate[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer | undefined;
  let produced = 0;
  return {
    async read(into, at, max) {
      while (!pending || pending.length === 0) {
        let r: IteratorResult<Buffer>;
        try {
          r = await it.next();
        } catch (e) {
          throw new ArrowsmithError("compression", `${comp} stream is corrupt after ${produced} decompressed bytes: ${(e as Error).message}`, {
            file: path, offset: produced, hint: "the compressed file is damaged or cut short; re-copy it",
          });
        }
        if (r.done) return 0;
        pending = r.value;
      }
      const n = Math.min(max, pending.length);
      into.set(pending.subarray(0, n), at);
      pending = pending.subarray(n);
      produced += n;
      return n;
    },
    close() { raw.destroy(); inflate.destroy(); },
    consumed: () => raw.bytesRead,
  };
}

export interface RecordWindow {
  /** View of wasm memory holding the window (valid until the iterator resumes). */
  bytes: Uint8Array;
  /** wasm pointer of bytes[0]. */
  ptr: number;
  frames: Frame[];
}

export interface TFRecordReadOptions {
  verify: boolean;
  /** Window size in bytes (grows for a record larger than it). */
  windowBytes?: number;
  /** Largest record accepted. */
  maxRecord?: number;
  /** Stream offset to start at (a record boundary) and record index it has. */
  startOffset?: number;
  startIndex?: number;
  /** Stop before this stream offset (a record boundary). */
  endOffset?: number;
  /** Frame at most this many records (for a peek at the first ones). */
  maxRecords?: number;
}

const DEFAULT_WINDOW = 16 << 20;
const DEFAULT_MAX_RECORD = 1 << 30;

/**
 * Iterates the records of a TFRecord stream in windows of wasm memory. Each yielded window is
 * reused after the consumer resumes the iterator, so frames must be consumed before that.
 * Framing errors throw; a data CRC mismatch is set on its frame.
 */
export async function* tfrecordWindows(k: Kernels, input: OpenedInput, opts: TFRecordReadOptions): AsyncGenerator<RecordWindow> {
  const stream = input.stream;
  let capacity = opts.windowBytes ?? DEFAULT_WINDOW;
  let ptr = k.alloc(capacity);
  let filled = 0;
  let eof = false;
  let streamPos = 0;
  const startOffset = opts.startOffset ?? 0;
  const limit = opts.endOffset ?? Infinity;
  const maxRecords = opts.maxRecords ?? Infinity;
  let framed = 0;
  const ctx: FrameContext = {
    file: input.path,
    base: startOffset,
    index: opts.startIndex ?? 0,
    verify: opts.verify,
    maskedCrc: (pos, len) => k.maskedCrc32c(ptr + pos, len),
    size: stream.size,
    maxRecord: opts.maxRecord ?? DEFAULT_MAX_RECORD,
  };
  if (startOffset > 0) {
    if (!stream.seek) throw new ArrowsmithError("internal", "byte ranges need an uncompressed input", { file: input.path });
    stream.seek(startOffset);
    streamPos = startOffset;
  }
  try {
    for (;;) {
      // fill the window
      while (!eof && filled < capacity) {
        const want = Math.min(capacity - filled, limit - streamPos);
        if (want <= 0) { eof = true; break; }
        const n = await stream.read(k.bytes(), ptr + filled, want);
        if (n === 0) { eof = true; break; }
        filled += n;
        streamPos += n;
      }
      const bytes = k.bytes().subarray(ptr, ptr + filled);
      const frames: Frame[] = [];
      const used = frameRecords(bytes, 0, filled, eof, ctx, frames, maxRecords - framed);
      framed += frames.length;
      if (frames.length) yield { bytes: k.bytes().subarray(ptr, ptr + filled), ptr, frames };
      if (framed >= maxRecords) return;
      if (eof && used >= filled) return;
      // keep the partial record: move it to the front, or move to a larger window when it can't fit
      const rest = filled - used;
      const need = rest >= HEADER_BYTES ? spanAt(k.bytes(), ptr + used) : 0;
      if (need > capacity) {
        // grow at most 2× per fill: memory follows the bytes actually there, not a length field's claim
        const bigger = Math.min(need, capacity * 2);
        const next = k.alloc(bigger);
        k.bytes().copyWithin(next, ptr + used, ptr + filled);
        ptr = next;
        capacity = bigger;
      } else if (used > 0) {
        k.bytes().copyWithin(ptr, ptr + used, ptr + filled);
      } else if (filled === capacity && need === 0) {
        throw new ArrowsmithError("internal", "window full without a record header", { file: input.path });
      }
      ctx.base += used;
      filled = rest;
    }
  } finally {
    stream.close();
  }
}

function spanAt(b: Uint8Array, p: number): number {
  const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  const hi = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
  return FRAME_OVERHEAD + hi * 0x1_0000_0000 + lo;
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
