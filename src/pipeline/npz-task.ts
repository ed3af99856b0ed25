// Converts one NPZ file (one task: NPZ files are never split) into one output in the calling
// thread. `--kind auto` makes an archive holding `images` and `metadata` a cluster batch and any
// other archive a generic table. Arrays are read in windows of rows, so memory follows the window,
// not the member. A problem with an NPZ (a bad CRC, an inconsistent layout) is a problem with the
// whole file: `--on-error fail` stops; `--on-error skip` reports it (in the manifest and
// _errors.jsonl) and writes no output for it, so no output ever has a schema the data did not
// decide. `verify` runs the same reading with a sink that keeps nothing.
import { openInputFile } from "../io/open-input.js";
import { closeSync, fstatSync, readSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { RecordBatch, Schema } from "apache-arrow";
import { dictionaryVector } from "../arrow.js";
import {
  clusterBatches, clusterPlanSchema, clusterSchema, isClusterArchive, LAYOUTS, type LayoutName, planClusterBatch,
} from "../datasets/clusters.js";
import { emitGenericNpz, emptyGenericSchema, planGenericNpz } from "../datasets/generic-npz.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import { NPZ_WHOLE_LIMIT, npzArrays } from "../formats/npy.js";
import { type ByteSource, type ZipArchive, ZIP_DEFLATE, ZIP_STORED } from "../formats/zip.js";
import { openZip } from "../io/zip-codec.js";
import { sinkFactory } from "../sinks/open.js";
import type { Sink } from "../sinks/sink.js";
import type { Kernels } from "../wasm.js";
import type { FileOptions, Progress, SinkOpener, Task, TaskResult } from "./task.js";
import { runTaskShell } from "./task-shell.js";
import { ClusterTap, type ClusterStatsJson } from "../report/cluster-stats.js";

export interface OpenedNpz {
  path: string;
  size: number;
  mtimeMs: number;
  /** undefined for a 0-byte file (an empty batch). */
  zip?: ZipArchive;
  close(): void;
}

/** A ByteSource over an open file: reads land straight in the caller's buffer (wasm memory). */
export function fileSource(fd: number, size: number, path: string): ByteSource {
  return {
    size,
    read(offset, length, into, at) {
      let done = 0;
      while (done < length) {
        const got = readSync(fd, into, at + done, length - done, offset + done);
        if (got === 0) throw new ArrowsmithError("truncated", `file ended at ${offset + done} bytes, ${size} expected (changed while read?)`, { file: path, offset: offset + done });
        done += got;
      }
    },
  };
}

/**
 * Opens an NPZ file and reads its central directory. A 0-byte file opens with no archive. `k`:
 * the wasm instance that checks the members' CRCs (the reading task's; default this thread's).
 */
export function openNpz(path: string, verify = true, k?: Kernels): OpenedNpz {
  const fd = openInputFile(path);
  let open = true;
  const close = () => { if (open) { open = false; closeSync(fd); } };
  try {
    const st = fstatSync(fd);
    // whole reads (metadata, Fortran-order arrays, 0-d values) are bounded; arrays are read in row windows
    const zip = st.size === 0 ? undefined : openZip(fileSource(fd, st.size, path), { file: path, verifyCrc: verify, maxMemberSize: NPZ_WHOLE_LIMIT }, k);
    return { path, size: st.size, mtimeMs: st.mtimeMs, zip, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** How the members are stored: "stored", "deflate", "stored+deflate", or "none" (no members). */
export function npzCompression(zip: ZipArchive | undefined): string {
  if (!zip) return "none";
  const methods = new Set(zip.entries.map((e) => e.method));
  if (!methods.size) return "none";
  return [ZIP_STORED, ZIP_DEFLATE].filter((m) => methods.has(m)).map((m) => (m === ZIP_STORED ? "stored" : "deflate")).join("+") || "other";
}

/** The schema of an empty batch: the requested layout (or the seed's 12 columns) and 128 × 16 images. */
export function defaultClusterSchema(layout: "auto" | LayoutName, precision: "f32" | "f64", extra: Record<string, string> = {}): Schema {
  const name: LayoutName = layout === "auto" ? "12" : layout;
  return clusterSchema({ layout: LAYOUTS[name], height: 128, width: 16, precision, how: layout === "auto" ? "default" : "requested", extra });
}

function warn(message: string): void {
  process.stderr.write(`arrowsmith: warning: ${message}\n`);
}

export interface NpzReadOptions {
  kind: "auto" | "clusters" | "generic";
  metadataLayout: "auto" | LayoutName;
  precision: "f32" | "f64";
  verify: boolean;
  /** Bytes per window of rows (default: 32 MiB). */
  windowBytes?: number;
  /** Accumulate the cluster statistics of the dataset report. */
  report?: boolean;
  /** Write-behind: called when only the output's last writes are left (see runTask). */
  onDraining?: () => void;
}

/** What reading an NPZ found. */
export interface NpzRead {
  kind: "clusters" | "generic";
  compression: string;
  size: number;
  mtimeMs: number;
  /** Rows written, and clusters with a non-finite pixel. */
  rows: number;
  nonfinite: number;
  /** Set for a 0-byte file. */
  empty: boolean;
  /** The file's cluster statistics (with `report`). */
  stats?: ClusterStatsJson;
}

/**
 * Reads one NPZ file with every check of the conversion (central directory, headers, layout, row
 * counts, the plane in the file name, each member's CRC-32, the end of each deflate stream),
 * handing its record batches to the sink `open` gives for the schema the data decided. Throws the
 * first problem (an ArrowsmithError placed in the file); the caller aborts the sink then.
 */
export function readNpzFile(k: Kernels, path: string, o: NpzReadOptions, open: (schema: Schema) => Sink): NpzRead & { sink: Sink } {
  const steps = npzSteps(k, path, o, open, false);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * readNpzFile for a task: with `o.onDraining` (a worker that starts its next task meanwhile), a
 * sink that can write behind (an Arrow file) writes each window's batch on libuv's thread pool
 * while the report's tap reads it and the next window is read and computed, at most two batches in
 * flight. The bytes written are those readNpzFile writes.
 */
export async function readNpzFileBehind(k: Kernels, path: string, o: NpzReadOptions, open: (schema: Schema) => Sink): Promise<NpzRead & { sink: Sink }> {
  const steps = npzSteps(k, path, o, open, true);
  let r = steps.next();
  while (!r.done) {
    try {
      await r.value;
    } catch (e) {
      // back into the reader, which aborts its sink and places the error in the file
      r = steps.throw(e);
      continue;
    }
    r = steps.next();
  }
  return r.value;
}

/** The body of readNpzFile; yields what the sink asks the reading to wait for (with `behind`). */
function* npzSteps(k: Kernels, path: string, o: NpzReadOptions, open: (schema: Schema) => Sink, behind: boolean): Generator<Promise<void> | undefined, NpzRead & { sink: Sink }, void> {
  const mark = k.mark();
  const source = dictionaryVector([basename(path)]);
  const input = openNpz(path, o.verify, k);
  let sink: Sink | undefined;
  try {
    const zip = input.zip;
    const base = { compression: npzCompression(zip), size: input.size, mtimeMs: input.mtimeMs };
    let rows = 0;
    let tap: ClusterTap | undefined;
    const emit = (b: RecordBatch) => { tap?.batch(b); sink!.write(b); rows += b.numRows; };
    if (!zip) {
      warn(`${path}: empty file (0 bytes), an empty batch`);
      const kind = o.kind === "generic" ? "generic" : "clusters";
      sink = open(kind === "generic" ? emptyGenericSchema({ "arrowsmith:warning": "empty input file (0 bytes)" })
        : defaultClusterSchema(o.metadataLayout, o.precision, { "arrowsmith:warning": "empty input file (0 bytes)" }));
      return { ...base, kind, rows: 0, nonfinite: 0, empty: true, sink };
    }
    const arrays = npzArrays(zip);
    const kind = o.kind === "generic" || (o.kind === "auto" && !isClusterArchive(zip)) ? "generic" : "clusters";
    let nonfinite = 0;
    if (kind === "clusters") {
      const plan = planClusterBatch(k, zip, { metadataLayout: o.metadataLayout });
      const schema = clusterPlanSchema(plan, o.precision, { "arrowsmith:source_dtypes": JSON.stringify({ images: plan.imageDtype, metadata: plan.metadataDtype }) });
      const out = (sink = open(schema));
      // only where the worker can start its next task meanwhile (onDraining): in a thread that
      // converts one file after another, the wait for the pool cost more than the overlap with
      // the tap gave (in-thread, 24 batches: 370 and 380 ms against 327 and 342 ms, same CPU)
      const background = behind && o.onDraining !== undefined && out.writeBehind?.() === true;
      // the tap's wasm regions are allocated here, before any view of the rows is made
      if (o.report) tap = new ClusterTap(k, basename(path), plan.height * plan.width);
      const batches = clusterBatches(k, zip, plan, schema, source, {
        precision: o.precision, windowBytes: o.windowBytes, buffers: background ? 2 : 1,
        ...(tap && o.precision !== "f64" ? { meanImages: tap.kernelSums() } : {}),
      });
      for (;;) {
        const b = batches.next();
        if (b.done) {
          nonfinite = b.value;
          break;
        }
        // written first: in write-behind the tap reads the batch while the pool writes it
        out.write(b.value);
        tap?.batch(b.value);
        rows += b.value.numRows;
        if (background) yield out.ready?.();
      }
      if (background) {
        o.onDraining?.();
        yield out.drain?.();
      }
    } else {
      const plan = planGenericNpz(zip, arrays);
      sink = open(plan.schema);
      emitGenericNpz(zip, plan, source, emit, o.windowBytes);
    }
    return { ...base, kind, rows, nonfinite, empty: false, sink, ...(tap ? { stats: tap.toJSON() } : {}) };
  } catch (e) {
    sink?.abort();
    throw isArrowsmithError(e) && !e.file ? e.at({ file: path }) : e;
  } finally {
    input.close();
    k.release(mark);
  }
}

/** Runs one NPZ task in this thread, writing its output file. In fail mode the first problem throws. */
export async function runNpzTask(k: Kernels, task: Task, outDir: string, opts: FileOptions, progress?: Progress, onDraining?: () => void): Promise<TaskResult> {
  const make = await sinkFactory(opts.format);
  return decodeNpzTask(k, task, opts, (schema) => make(join(outDir, task.outName), schema, opts.sink), progress, onDraining);
}

/**
 * Reads and checks one NPZ task into the sink `open` gives, in the task shell (src/pipeline/
 * task-shell.ts) the TFRecord tasks run in: everything `convert` does to a file, also used without
 * writing (`verify`, the report from inputs, batches read as a library).
 */
export async function decodeNpzTask(k: Kernels, task: Task, opts: FileOptions, open: SinkOpener, progress?: Progress, onDraining?: () => void): Promise<TaskResult> {
  const path = task.input;
  if (task.kind === "scone") {
    throw new ArrowsmithError("usage", "--kind scone reads TFRecord shards, not NPZ archives", { file: path, hint: "use --kind auto, clusters or generic" });
  }
  let stat: { size: number; mtimeMs: number };
  try {
    stat = statSync(path);
  } catch (e) {
    throw new ArrowsmithError("io", `cannot open: ${(e as Error).message}`, { file: path, cause: e });
  }
  return runTaskShell(k, task, opts, open, progress, async ({ policy, open: openSink, dropSink }) => {
    let read: NpzRead | undefined;
    try {
      // the plan calls an NPZ "clusters" under kind auto: the archive decides
      read = await readNpzFileBehind(k, path, { kind: opts.kind === "scone" ? "auto" : opts.kind, metadataLayout: opts.metadataLayout, precision: opts.scone.precision, verify: opts.verify, windowBytes: opts.windowBytes, report: opts.report !== false, onDraining },
        (schema) => openSink(schema));
    } catch (e) {
      dropSink(); // readNpzFile aborted it
      if (!isArrowsmithError(e) || e.code === "io" || e.code === "internal" || e.code === "usage") throw e;
      // skip mode: the input is refused as a whole and gets no output file
      policy.file(e.file ? e : e.at({ file: path }));
    }
    const size = read?.size ?? stat.size;
    progress?.(size, read?.rows ?? 0);
    return {
      kind: read?.kind ?? (task.kind === "generic" ? "generic" : "clusters"), compression: read?.compression ?? "unread",
      inputBytes: size, mtimeMs: read?.mtimeMs ?? stat.mtimeMs, records: read?.rows ?? 0,
      skipped: read ? 0 : 1, nonfiniteEvents: read?.nonfinite ?? 0,
      ...(read?.stats ? { stats: read.stats } : {}),
    };
  });
}
