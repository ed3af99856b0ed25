// The dataset kinds arrowsmith reads, and the one detector that every command (convert, inspect,
// stats, verify) asks what an input is. The container comes from the file's first bytes, not its
// name: a ZIP is an NPZ, a gzip/zlib stream or a first record header whose CRC checks out is a
// TFRecord. The name decides only for bytes that are neither, so that a damaged `.tfrecord` or
// `.npz` is reported by its reader at the damage. Anything else (our own Arrow, Parquet or CSV
// outputs, a lone .npy, text) is refused here with one clear error, before any reader guesses.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { detectTFRecordKind } from "../pipeline/convert-file.js";
import { type OpenedNpz, openNpz } from "../pipeline/npz-task.js";
import { isClusterArchive } from "./clusters.js";
import { detectTFRecordCompression, maskedCrcOf, readHead } from "../sources.js";
import { type Kernels, kernels } from "../wasm.js";

export type DatasetKind = "scone" | "clusters" | "generic";
export type Container = "tfrecord" | "npz";

export interface KindInfo {
  name: DatasetKind;
  /** The containers this kind comes in. */
  containers: readonly Container[];
  what: string;
}

/** The registry: every kind, the containers it is read from, and what it is. */
export const KINDS: Readonly<Record<DatasetKind, KindInfo>> = {
  scone: { name: "scone", containers: ["tfrecord"], what: "SCONE heatmap TFRecords (image_raw, id, label)" },
  clusters: { name: "clusters", containers: ["npz"], what: "DUNE cluster NPZ batches (images, metadata)" },
  generic: { name: "generic", containers: ["tfrecord", "npz"], what: "any TFRecord of tf.train.Example, any NPZ of arrays sharing a leading dimension" },
};

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

/** Whether the input is an NPZ archive (by its bytes; see detectContainer). False for what is neither. */
export function isNpzInput(path: string): boolean {
  try {
    return detectContainer(path) === "npz";
  } catch {
    return false;
  }
}

/** Checks a requested kind against the container; returns the kind to read it as ("auto" left for the content to decide). */
export function checkRequestedKind(path: string, container: Container, requested: "auto" | DatasetKind): "auto" | DatasetKind {
  if (requested !== "auto" && !KINDS[requested].containers.includes(container)) {
    throw new ArrowsmithError("usage", `--kind ${requested} reads ${KINDS[requested].what}, and this is ${container === "npz" ? "an NPZ archive" : "a TFRecord file"}`, {
      file: path, hint: `use --kind auto, or ${Object.values(KINDS).filter((x) => x.containers.includes(container)).map((x) => x.name).join(" or ")}`,
    });
  }
  return requested;
}

/**
 * What an input is and the kind to read it as: the requested kind (checked against the container),
 * or for `--kind auto` what its content says (a ZIP with `images` and `metadata` is a cluster batch;
 * TFRecord records with `image_raw`, `id` and `label` are SCONE; anything else is generic). An input
 * too damaged to tell is given the container's first kind, and its reader reports the damage.
 */
export async function detectInput(k: Kernels, path: string, requested: "auto" | DatasetKind = "auto"): Promise<{ container: Container; kind: DatasetKind }> {
  const container = detectContainer(path, k);
  const want = checkRequestedKind(path, container, requested);
  if (want !== "auto") return { container, kind: want };
  if (container === "tfrecord") return { container, kind: await detectTFRecordKind(k, path) };
  let input: OpenedNpz | undefined;
  try {
    input = openNpz(path, false);
    return { container, kind: !input.zip || isClusterArchive(input.zip) ? "clusters" : "generic" };
  } catch (e) {
    if (e instanceof ArrowsmithError && e.code !== "io") return { container, kind: "clusters" };
    throw e;
  } finally {
    input?.close();
  }
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
