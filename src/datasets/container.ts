// What an input file is made of (a TFRecord or an NPZ archive), from its first bytes, and the
// error for arguments that hold no input: the part of the kind detection (kinds.ts) that commands
// reading only TFRecords (index, find) need, in a module that loads no reader or writer.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { detectTFRecordCompression, maskedCrcOf, readHead } from "../sources.js";
import { type Kernels, kernels } from "../wasm.js";

export type Container = "tfrecord" | "npz";

const NOT_INPUT_HINT = "arrowsmith reads TFRecord files (.tfrecord, plain, gzip or zlib) and NPZ archives (.npz)";

/** What the first bytes are, when they are something we know but do not read. */
function foreign(head: Uint8Array): string | undefined {
  const starts = (s: string) => head.length >= s.length && [...s].every((c, i) => head[i] === c.charCodeAt(0));
  if (starts("ARROW1")) return "an Arrow IPC file (what arrowsmith convert writes), not an input";
  if (starts("PAR1")) return "a Parquet file (what arrowsmith convert writes), not an input";
  if (head.length >= 8 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return "an Arrow IPC stream (what arrowsmith convert writes), not an input";
  if (starts("\x93NUMPY")) return "a single .npy array, not an NPZ archive (np.savez writes NPZ)";
  return undefined;
}

/**
 * The container of an input file, from its bytes. Throws ArrowsmithError("unknown_kind") for a
 * file that is neither a TFRecord nor an NPZ, naming what it is where we can tell.
 */
export function detectContainer(path: string, k: Kernels = kernels()): Container {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ArrowsmithError("io", `cannot open: ${(e as Error).message}`, { file: path, cause: e });
  }
  if (!st.isFile()) throw new ArrowsmithError("usage", `not a regular file (${st.isDirectory() ? "a folder" : "a FIFO, socket or device"})`, { file: path, hint: NOT_INPUT_HINT });
  const head = readHead(path, 16);
  const byName: Container | undefined = /\.npz$/i.test(path) ? "npz" : /\.tfrecords?(\.|$|-)/i.test(path) ? "tfrecord" : undefined;
  if (head.length === 0) {
    if (byName) return byName; // an empty batch or shard: its reader says so
    throw new ArrowsmithError("unknown_kind", "empty file (0 bytes) whose name says neither .tfrecord nor .npz", { file: path, hint: NOT_INPUT_HINT });
  }
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))) return "npz";
  const other = foreign(head);
  if (other) throw new ArrowsmithError("unknown_kind", `this is ${other}`, { file: path, hint: NOT_INPUT_HINT });
  const crcOf = (b: Uint8Array) => maskedCrcOf(k, b);
  if (detectTFRecordCompression(head, crcOf) !== "none") return "tfrecord";
  if (head.length >= 12 && ((head[8] | (head[9] << 8) | (head[10] << 16) | (head[11] << 24)) >>> 0) === crcOf(head.subarray(0, 8))) return "tfrecord";
  if (byName) return byName; // damaged from its first byte: the reader reports where and how
  const shown = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new ArrowsmithError("unknown_kind", `neither a TFRecord nor an NPZ archive (first bytes ${shown})`, { file: path, offset: 0, hint: NOT_INPUT_HINT });
}

/**
 * For a command that found no input in its arguments: an error naming the other files in the
 * folders given (our own outputs, most often), or undefined when the folders are truly empty.
 */
export function noInputsError(args: string[], command: string): ArrowsmithError | undefined {
  const others: string[] = [];
  for (const a of args) {
    try {
      if (statSync(a).isDirectory()) for (const n of readdirSync(a).sort()) if (!n.startsWith(".") && statSync(join(a, n)).isFile()) others.push(n);
    } catch { /* not a folder, or unreadable: expandInputs already said so */ }
  }
  if (!others.length) return undefined;
  const outputs = others.some((n) => /\.(arrow|arrows|parquet|csv)$|^_manifest/.test(n));
  return new ArrowsmithError("unknown_kind",
    `${command}: no .tfrecord or .npz input in ${args.join(" ")}, only ${others.length} other file(s) (${others.slice(0, 4).join(", ")}${others.length > 4 ? ", …" : ""})`,
    { hint: outputs ? `these are arrowsmith outputs; ${command} reads the inputs they were converted from (open outputs with pyarrow, pandas or DuckDB)` : NOT_INPUT_HINT });
}
