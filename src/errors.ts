// One error class for everything arrowsmith reports about its inputs, options or outputs. Each
// carries a stable `code`, and where known the file, the byte offset and the record index, so a
// user can find the damage with `xxd -s OFFSET FILE` and a script can act on the code.

export type ErrorCode =
  | "usage"            // bad option or argument
  | "io"               // a file could not be read or written
  | "truncated"        // fewer bytes than a header promises
  | "length_crc"       // TFRecord length CRC mismatch: framing is lost
  | "data_crc"         // TFRecord data CRC mismatch
  | "protobuf"         // malformed tf.train.Example
  | "feature"          // missing or mistyped feature
  | "image_size"       // image byte length does not match the bins
  | "compression"      // corrupt gzip/zlib/deflate stream
  | "zip"              // bad ZIP structure
  | "member_crc"       // ZIP member CRC-32 mismatch
  | "npy"              // bad .npy header or unsupported dtype
  | "refused"          // content that would need code execution (pickle, object arrays)
  | "layout"           // metadata layout ambiguous or inconsistent
  | "schema"           // records disagree with the inferred or requested schema
  | "record_size"      // a TFRecord record larger than --max-record-bytes
  | "unknown_kind"     // the input is none of the kinds we read
  | "too_large"        // a member, row or record larger than what is read whole
  | "interrupted"      // stopped by a signal or an AbortSignal; finished outputs are complete
  | "internal";

export interface ErrorWhere {
  file?: string;
  offset?: number;
  record?: number;
  hint?: string;
  cause?: unknown;
}

export class ArrowsmithError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly offset?: number;
  readonly record?: number;
  readonly hint?: string;
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, where: ErrorWhere = {}) {
    super(formatMessage(detail, where), where.cause === undefined ? undefined : { cause: where.cause });
    this.name = "ArrowsmithError";
    this.code = code;
    this.detail = detail;
    this.file = where.file;
    this.offset = where.offset;
    this.record = where.record;
    this.hint = where.hint;
  }

  /** The same error placed in a file (decoders know offsets, callers know the file name). */
  at(where: ErrorWhere): ArrowsmithError {
    return new ArrowsmithError(this.code, this.detail, {
      file: where.file ?? this.file,
      offset: where.offset ?? this.offset,
      record: where.record ?? this.record,
      hint: where.hint ?? this.hint,
      cause: this.cause,
    });
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, file: this.file, offset: this.offset, record: this.record, message: this.detail, hint: this.hint };
  }
}

function formatMessage(detail: string, w: ErrorWhere): string {
  const place: string[] = [];
  if (w.file !== undefined) place.push(w.file);
  if (w.offset !== undefined) place.push(`byte ${w.offset}`);
  if (w.record !== undefined) place.push(`record ${w.record}`);
  const head = place.length ? `${place.join(", ")}: ` : "";
  return `${head}${detail}${w.hint ? `. ${w.hint}` : ""}`;
}

export function isArrowsmithError(e: unknown): e is ArrowsmithError {
  return e instanceof ArrowsmithError;
}
