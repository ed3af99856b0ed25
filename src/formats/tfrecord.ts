// TFRecord framing: `u64 length (LE) | u32 masked_crc32c(length bytes) | data | u32 masked_crc32c(data)`.
// Pure: works on a byte window of the file; the caller supplies the checksum (a wasm kernel over
// the same memory in practice, a plain function in tests) and the window's place in the file.
import { ArrowsmithError } from "../errors.js";

export const HEADER_BYTES = 12;
export const FOOTER_BYTES = 4;
export const FRAME_OVERHEAD = HEADER_BYTES + FOOTER_BYTES;
/** Default --max-record-bytes: far above any SCONE heatmap (92 KB) or DUNE record, far below memory. */
export const DEFAULT_MAX_RECORD_BYTES = 64 << 20;

/** TFRecord's mask of a CRC32C: rotate right by 15 bits and add 0xA282EAD8 (mod 2^32). */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

export interface Frame {
  /** Index of the record in the file (0-based). */
  index: number;
  /** File (decompressed-stream) offset of the record's length field. */
  offset: number;
  /** Position of the data in the window. */
  start: number;
  /** Data length in bytes. */
  length: number;
  /**
   * Set when the record can't be used but the framing is intact, so reading goes on after it: a
   * data CRC mismatch, or a record larger than `maxRecord` (its data is then not in the window:
   * the reader skips past it).
   */
  error?: ArrowsmithError;
}

export interface FrameContext {
  /** Name used in errors. */
  file: string;
  /** Stream offset of window[0]. */
  base: number;
  /** Index the next record gets. */
  index: number;
  /** Check both CRCs. */
  verify: boolean;
  /** Masked CRC32C of window[pos, pos+len). */
  maskedCrc(pos: number, len: number): number;
  /** Total stream size when known (uncompressed files), to refuse lengths that run past it. */
  size?: number;
  /** Largest record data accepted (bytes, --max-record-bytes); a larger record is skipped unread. */
  maxRecord: number;
}

/** Lengths at or above 2^53 can't be byte positions: the framing is lost. */
const MAX_SAFE_HI = 0x200000;

/**
 * Frames every complete record in window[start, end) and pushes it to `out`. Returns the position
 * of the first byte not consumed: a partial record left for the next window, or a position past
 * `end` when the last frame is a record larger than `maxRecord` whose bytes the reader must skip.
 * With `eof`, a partial record is an error. `ctx.index` advances with each record. Throws on
 * broken framing (a bad length CRC, a length past the end of the stream); a data CRC mismatch or
 * an oversized record is reported on its frame. At most `limit` records are framed.
 */
export function frameRecords(window: Uint8Array, start: number, end: number, eof: boolean,
                             ctx: FrameContext, out: Frame[], limit = Infinity): number {
  let pos = start;
  while (pos < end && out.length < limit) {
    const offset = ctx.base + pos;
    if (end - pos < HEADER_BYTES) {
      if (!eof) break;
      if (offset === 0) {
        throw new ArrowsmithError("truncated", `not a TFRecord file: it holds ${end - pos} bytes, less than one ${HEADER_BYTES}-byte record header`, {
          file: ctx.file, offset, record: ctx.index, hint: "check that this is a TFRecord file (or a GZIP/ZLIB-compressed one)",
        });
      }
      throw truncated(ctx, offset, `record header needs ${HEADER_BYTES} bytes but the file ends after ${end - pos}`);
    }
    const lo = u32(window, pos);
    const hi = u32(window, pos + 4);
    if (ctx.verify) {
      const want = u32(window, pos + 8);
      const got = ctx.maskedCrc(pos, 8);
      if (want !== got) {
        if (offset === 0) {
          const what = sniff(window.subarray(pos, pos + 8));
          throw new ArrowsmithError("length_crc", `not a TFRecord file: the first record header does not check out${what ? ` (the file starts like ${what})` : ""}`, {
            file: ctx.file, offset, record: ctx.index, hint: what ? "give it to the converter for that format, or check the file name" : "check that this is a TFRecord file (or a GZIP/ZLIB-compressed one)",
          });
        }
        throw new ArrowsmithError("length_crc", `record length CRC mismatch (stored 0x${hex(want)}, computed 0x${hex(got)}): the framing is lost`, {
          file: ctx.file, offset, record: ctx.index,
          hint: "the file is corrupt from here on; re-copy it, or use --on-error skip to keep the records before this point",
        });
      }
    }
    const length = hi * 0x1_0000_0000 + lo;
    const total = FRAME_OVERHEAD + length;
    const pastEnd = ctx.size !== undefined && offset + total > ctx.size;
    if (hi >= MAX_SAFE_HI || length > ctx.maxRecord) {
      const unchecked = ctx.verify ? "" : " (lengths are not checked with --no-verify)";
      const holds = pastEnd ? `more than the file holds (${ctx.size} bytes) and ` : "";
      const e = new ArrowsmithError("record_size", `record declares ${declared(hi, lo)} bytes of data, ${holds}more than --max-record-bytes ${ctx.maxRecord}${unchecked}`, {
        file: ctx.file, offset, record: ctx.index,
        hint: pastEnd || hi >= MAX_SAFE_HI ? "the length field is corrupt, or this is not a TFRecord file"
          : "raise --max-record-bytes if records really are this large, or use --on-error skip to drop the record",
      });
      // its bytes are not there, or not even addressable: the framing can't go on
      if (hi >= MAX_SAFE_HI || pastEnd) throw e;
      out.push({ index: ctx.index, offset, start: pos + HEADER_BYTES, length, error: e });
      ctx.index++;
      pos += total;
      continue;
    }
    if (pastEnd) {
      const what = `record of ${length} data bytes runs past the end of the file (${ctx.size} bytes)`;
      if (offset === 0 && !ctx.verify) {
        throw new ArrowsmithError("truncated", what, { file: ctx.file, offset, record: ctx.index, hint: "this is not a TFRecord file, or one cut short (checksums are off: --no-verify)" });
      }
      throw truncated(ctx, offset, what);
    }
    if (end - pos < total) {
      if (eof) throw truncated(ctx, offset, `record of ${length} data bytes is cut off after ${end - pos - HEADER_BYTES}`);
      break;
    }
    const frame: Frame = { index: ctx.index, offset, start: pos + HEADER_BYTES, length };
    if (ctx.verify) {
      const want = u32(window, pos + HEADER_BYTES + length);
      const got = ctx.maskedCrc(pos + HEADER_BYTES, length);
      if (want !== got) {
        frame.error = new ArrowsmithError("data_crc", `record data CRC mismatch (stored 0x${hex(want)}, computed 0x${hex(got)})`, {
          file: ctx.file, offset, record: ctx.index,
          hint: "the record is corrupt; re-copy the file, or use --on-error skip to drop just this record",
        });
      }
    }
    out.push(frame);
    ctx.index++;
    pos += total;
  }
  return pos;
}

/** The 64-bit length field as an exact decimal (a double would round 2^63 to 9223372036854776000). */
function declared(hi: number, lo: number): string {
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Bytes a window must hold to frame the record at `pos`, or 0 when its header is not complete. */
export function recordSpan(window: Uint8Array, pos: number, end: number): number {
  if (end - pos < HEADER_BYTES) return 0;
  return FRAME_OVERHEAD + u32(window, pos + 4) * 0x1_0000_0000 + u32(window, pos);
}

function truncated(ctx: FrameContext, offset: number, detail: string): ArrowsmithError {
  return new ArrowsmithError("truncated", detail, {
    file: ctx.file, offset, record: ctx.index,
    hint: "the file was cut short (an interrupted copy?); re-copy it, or use --on-error skip to keep the records before this point",
  });
}

const MAGICS: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], "a ZIP archive (an NPZ?)"],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], "a numpy .npy file"],
  [[0x89, 0x50, 0x4e, 0x47], "a PNG image"],
  [[0x41, 0x52, 0x52, 0x4f, 0x57, 0x31], "an Arrow IPC file"],
  [[0x50, 0x41, 0x52, 0x31], "a Parquet file"],
  [[0x89, 0x48, 0x44, 0x46], "an HDF5 file"],
];

/** A name for a well-known file magic at the start of `head`, if any. */
function sniff(head: Uint8Array): string | undefined {
  return MAGICS.find(([m]) => m.every((c, i) => head[i] === c))?.[1];
}

function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

/** Encodes one record's framing around `data` (for the generator and tests): header and footer. */
export function frameHeader(length: number, maskedCrcOfHeader: (h: Uint8Array) => number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, length >>> 0, true);
  dv.setUint32(4, Math.floor(length / 0x1_0000_0000), true);
  dv.setUint32(8, maskedCrcOfHeader(h.subarray(0, 8)), true);
  return h;
}
