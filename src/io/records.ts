// THE TFRecord record loop: windows of wasm memory → frames (framing and CRCs) → the error policy →
// records. convert, verify, inspect and stats all read records through `readRecords`, so what is
// kept, skipped and counted after damage is decided here once.
//
// Damage that ends the reading (a bad length CRC, a cut file, a damaged gzip/zlib stream) comes
// after every complete record before it has been framed and handed out: those are kept and counted
// in skip mode, and in fail mode the error says how many good records precede it.
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import { WireError } from "../formats/example.js";
import { DEFAULT_MAX_RECORD_BYTES, FRAME_OVERHEAD, type Frame, type FrameContext, frameRecords, HEADER_BYTES } from "../formats/tfrecord.js";
import type { ErrorPolicy } from "../pipeline/policy.js";
import { maskedCrcOf, type OpenedInput, openStream } from "../sources.js";
import type { Kernels } from "../wasm.js";
import { type SparseFeatures, sparseWindows } from "./sparse-records.js";

export { DEFAULT_MAX_RECORD_BYTES };
// 8 MiB: each conversion thread holds two (the read-ahead's)
const DEFAULT_WINDOW = 8 << 20;

export interface RecordWindow {
  /** View of wasm memory holding the window (valid until the iterator resumes). */
  bytes: Uint8Array;
  /** wasm pointer of bytes[0]. */
  ptr: number;
  frames: Frame[];
}

export interface TFRecordReadOptions {
  verify: boolean;
  /** Window size in bytes (grows for a record larger than it, up to the record size limit). */
  windowBytes?: number;
  /** Largest record data accepted (--max-record-bytes); larger records are skipped unread. */
  maxRecordBytes?: number;
  /** Stream offset to start at (a record boundary) and record index it has. */
  startOffset?: number;
  startIndex?: number;
  /** Stop before this stream offset (a record boundary). */
  endOffset?: number;
  /** Frame at most this many records (for a peek at the first ones). */
  maxRecords?: number;
  /**
   * Read the next window on the thread pool while this one is handed out (default true; for
   * uncompressed files): the read overlaps the decoding instead of adding to it. Costs a second
   * window of memory.
   */
  readAhead?: boolean;
}

/**
 * Iterates the records of a TFRecord stream in windows of wasm memory. Each yielded window is
 * reused after the consumer resumes the iterator, so frames must be consumed before that.
 * Damage that ends the reading throws, but only after the window holding every complete record
 * before it has been yielded; a data CRC mismatch or an oversized record is set on its frame.
 */
export async function* tfrecordWindows(k: Kernels, input: OpenedInput, opts: TFRecordReadOptions): AsyncGenerator<RecordWindow> {
  const stream = input.stream;
  const maxRecord = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
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
    maxRecord,
  };
  if (startOffset > 0) {
    if (!stream.seek) throw new ArrowsmithError("internal", "byte ranges need an uncompressed input", { file: input.path });
    stream.seek(startOffset);
    streamPos = startOffset;
  }
  // a damaged gzip/zlib stream is reported where the records stop: at the first one not complete
  const streamFault = (e: ArrowsmithError, offset: number) => e.at({ offset, record: ctx.index });
  // read-ahead: the next window is read into `spare` (after the unframed tail of this one) while
  // this one is out; nothing allocates while a read is in flight, so the view it fills stays valid
  const ahead = opts.readAhead !== false && stream.readAt !== undefined && maxRecords === Infinity;
  let spare = 0, spareCapacity = 0;
  let inflight: Promise<number> | undefined;
  let inflightRest = 0;
  try {
    for (;;) {
      let fault: ArrowsmithError | undefined;
      if (inflight) {
        const n = await inflight;
        inflight = undefined;
        [ptr, spare] = [spare, ptr];
        [capacity, spareCapacity] = [spareCapacity, capacity];
        filled = inflightRest + n;
        streamPos += n;
        stream.seek!(streamPos);
        if (n === 0) eof = true;
      }
      try {
        while (!eof && filled < capacity) {
          const want = Math.min(capacity - filled, limit - streamPos);
          if (want <= 0) { eof = true; break; }
          const n = await stream.read(() => k.bytes(), ptr + filled, want);
          if (n === 0) { eof = true; break; }
          filled += n;
          streamPos += n;
        }
      } catch (e) {
        if (!isArrowsmithError(e) || e.code !== "compression") throw e;
        fault = e; // frame what arrived before it, then report it
      }
      const frames: Frame[] = [];
      let used = 0;
      let broken: ArrowsmithError | undefined;
      try {
        used = frameRecords(k.bytes().subarray(ptr, ptr + filled), 0, filled, eof && !fault, ctx, frames, maxRecords - framed);
      } catch (e) {
        if (!isArrowsmithError(e)) throw e;
        broken = e;
      }
      framed += frames.length;
      if (ahead && !eof && !fault && !broken && used <= filled && streamPos < limit) {
        const rest = filled - used;
        const need = rest >= HEADER_BYTES ? spanAt(k.bytes(), ptr + used) : 0;
        if (need <= capacity && (rest < capacity || need > 0)) {
          if (spareCapacity < capacity) {
            spare = k.alloc(capacity);
            spareCapacity = capacity;
          }
          // the unframed tail goes first, the next bytes after it
          k.bytes().copyWithin(spare, ptr + used, ptr + filled);
          inflightRest = rest;
          inflight = stream.readAt!(k.bytes(), spare + rest, Math.min(spareCapacity - rest, limit - streamPos), streamPos);
          // a read that fails is reported when awaited; until then no unhandled rejection
          inflight.catch(() => undefined);
          ctx.base += used;
        }
      }
      if (frames.length) yield { bytes: k.bytes().subarray(ptr, ptr + filled), ptr, frames };
      if (inflight) continue;
      if (broken) throw broken;
      if (fault) throw streamFault(fault, ctx.base + used);
      if (framed >= maxRecords) return;
      if (used > filled) {
        // the last frame is an oversized record: pass over its bytes without keeping them
        await skipBytes(frames[frames.length - 1], used - filled);
        ctx.base += used;
        filled = 0;
        continue;
      }
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
    // the window must not be released (or the file closed) under a read still in flight
    if (inflight) await inflight.catch(() => undefined);
    stream.close();
  }

  async function skipBytes(big: Frame, n: number): Promise<void> {
    if (stream.seek && stream.size !== undefined) {
      // uncompressed: the framing checked that the record lies within the file
      streamPos += n;
      stream.seek(streamPos);
      return;
    }
    let left = n;
    while (left > 0) {
      let got: number;
      try {
        got = await stream.read(() => k.bytes(), ptr, Math.min(capacity, left));
      } catch (e) {
        if (!isArrowsmithError(e) || e.code !== "compression") throw e;
        throw streamFault(e, ctx.base + filled + n);
      }
      if (got === 0) {
        throw new ArrowsmithError("truncated", `record of ${big.length} data bytes is cut off after ${filled - big.start + n - left}`, {
          file: input.path, offset: big.offset, record: big.index,
          hint: "the file was cut short (an interrupted copy?); re-copy it, or use --on-error skip to keep the records before this point",
        });
      }
      left -= got;
      streamPos += got;
    }
  }
}

function spanAt(b: Uint8Array, p: number): number {
  const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  const hi = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
  return FRAME_OVERHEAD + hi * 0x1_0000_0000 + lo;
}

/**
 * Places a record-level error at its record: decoders throw without knowing the file, offset or
 * index (a WireError from any depth of the protobuf decoder), the caller holding the frame does.
 */
export function locate(e: ArrowsmithError, file: string, f: Frame): ArrowsmithError {
  if (e instanceof WireError) {
    return new ArrowsmithError("protobuf", `malformed tf.train.Example: ${e.detail} (at data byte ${e.position - f.start})`, {
      file, offset: f.offset, record: f.index, hint: "the record is corrupt; use --on-error skip to drop it",
    });
  }
  return e.file === undefined ? e.at({ file, offset: f.offset, record: f.index }) : e;
}

/** Returned by a visitor to stop reading (the records seen so far count). */
export const STOP = Symbol("stop");

/**
 * Called with each record whose framing and CRCs are good: throws an ArrowsmithError when the
 * record can't be used (the loop applies the policy), or returns STOP to end the reading.
 */
export type RecordVisitor = (bytes: Uint8Array, ptr: number, f: Frame) => void | typeof STOP;

export interface RecordLoopOptions extends TFRecordReadOptions {
  /** What to do with each problem (fail: throw it; skip: record it and go on). */
  policy: ErrorPolicy;
  /** Called after each window with the input bytes consumed so far (compressed bytes for compressed files). */
  onWindow?: (consumed: number) => void;
  /** Awaited after each window when it returns a promise: a consumer in this thread that wants the reading to wait. */
  pace?: () => Promise<void> | undefined;
  /**
   * Without verification, on an uncompressed file read from its start: read only the small
   * features of each record (see io/sparse-records.ts). The records handed to the visitor are
   * then rebuilt Examples outside wasm memory (`ptr` -1) holding only those features. Ignored
   * where it does not apply (CRCs checked, compressed input, a byte range, a record limit).
   */
  sparse?: SparseFeatures;
}

export interface RecordLoopResult {
  path: string;
  compression: string;
  fileSize: number;
  mtimeMs: number;
  /** Records the visitor took. */
  records: number;
  /** Records framed (taken, refused or with a bad data CRC). */
  framed: number;
  /** Problems handed to the policy (in skip mode: records dropped, plus one for a lost rest of file). */
  skipped: number;
}

/**
 * Reads every record of a TFRecord file (or of a byte range of it) and hands the good ones to
 * `visit`. Each problem goes to the policy: a bad record as "record", damage that ends the reading
 * as "rest_of_file" after every complete record before it was visited. Errors of reading itself
 * (io, internal, usage) and anything that is not an ArrowsmithError are thrown.
 */
export async function readRecords(k: Kernels, path: string, opts: RecordLoopOptions, visit: RecordVisitor): Promise<RecordLoopResult> {
  const { policy } = opts;
  const input = openStream(path, undefined, (b) => maskedCrcOf(k, b));
  const first = opts.startIndex ?? 0;
  let records = 0;
  let framed = 0;
  let skipped = 0;
  // in fail mode the message says how much before the damage is sound
  const counted = (e: ArrowsmithError) => {
    const before = `${records} good record${records === 1 ? "" : "s"} before it${first ? ` from record ${first} on` : ""}`;
    return new ArrowsmithError(e.code, `${e.detail} (${before})`, { file: e.file ?? path, offset: e.offset, record: e.record, hint: e.hint, cause: e.cause });
  };
  const sparse = opts.sparse && !opts.verify && input.compression === "none" && input.stream.seek && input.stream.size !== undefined &&
    !opts.startOffset && !opts.startIndex && opts.endOffset === undefined && opts.maxRecords === undefined;
  const windows = sparse
    ? sparseWindows(input.stream, { file: path, maxRecord: opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES, sparse: opts.sparse! })
    : tfrecordWindows(k, input, opts);
  try {
    for (;;) {
      let step: IteratorResult<RecordWindow>;
      try {
        step = await windows.next();
      } catch (e) {
        if (!isArrowsmithError(e) || e.code === "io" || e.code === "internal" || e.code === "usage") throw e;
        skipped++;
        policy.restOfFile(counted(e.file === undefined ? e.at({ file: path }) : e));
        break;
      }
      if (step.done) break;
      const w = step.value;
      let stop = false;
      for (const f of w.frames) {
        framed++;
        let problem = f.error;
        if (!problem) {
          try {
            stop = visit(w.bytes, w.ptr, f) === STOP;
            records++;
          } catch (e) {
            if (!isArrowsmithError(e) || e.code === "io" || e.code === "internal" || e.code === "usage") throw e;
            problem = locate(e, path, f);
          }
        }
        if (problem) {
          skipped++;
          policy.record(policy.mode === "fail" ? counted(problem) : problem);
        }
        if (stop) break;
      }
      opts.onWindow?.(input.stream.consumed());
      const wait = opts.pace?.();
      if (wait) await wait;
      if (stop) break;
    }
  } finally {
    await windows.return(undefined);
    input.stream.close();
  }
  return { path, compression: input.compression, fileSize: input.fileSize, mtimeMs: input.mtimeMs, records, framed, skipped };
}
