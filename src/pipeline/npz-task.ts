// Converts one NPZ file (one task: NPZ files are never split) into one output in the calling
// thread. `--kind auto` makes an archive holding `images` and `metadata` a cluster batch and any
// other archive a generic table. An NPZ is read as a whole (a batch is ~8 MB), so a problem with it
// (a bad CRC, an inconsistent layout) is a problem with the whole file: `--on-error fail` stops,
// `--on-error skip` reports it and writes an empty output of the default schema, so every input
// still has its output and its manifest entry.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { RecordBatch, Schema } from "apache-arrow";
import { dictionaryVector } from "../arrow.js";
import {
  clusterSchema, emitClusterBatches, isClusterArchive, LAYOUTS, type LayoutName, readClusterBatch,
} from "../datasets/clusters.js";
import { emitGenericNpz, emptyGenericSchema, planGenericNpz } from "../datasets/generic-npz.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import { npzArrays } from "../formats/npy.js";
import { type ByteSource, ZipArchive, ZIP_DEFLATE, ZIP_STORED } from "../formats/zip.js";
import { openSink, type Sink } from "../sinks/sink.js";
import type { Kernels } from "../wasm.js";
import type { FileOptions, Progress, Task, TaskResult } from "./convert-file.js";
import { ErrorPolicy } from "./policy.js";

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

/** Opens an NPZ file and reads its central directory. A 0-byte file opens with no archive. */
export function openNpz(path: string, verify = true): OpenedNpz {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new ArrowsmithError("io", `cannot open: ${(e as Error).message}`, { file: path, cause: e });
  }
  let open = true;
  const close = () => { if (open) { open = false; closeSync(fd); } };
  try {
    const st = fstatSync(fd);
    const zip = st.size === 0 ? undefined : ZipArchive.open(fileSource(fd, st.size, path), { file: path, verifyCrc: verify });
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

/** Runs one NPZ task in this thread. In fail mode the first problem throws. */
export async function runNpzTask(k: Kernels, task: Task, outDir: string, opts: FileOptions, progress?: Progress): Promise<TaskResult> {
  const t0 = performance.now();
  const path = task.input;
  const outPath = join(outDir, task.outName);
  if (task.kind === "scone") {
    throw new ArrowsmithError("usage", "--kind scone reads TFRecord shards, not NPZ archives", { file: path, hint: "use --kind auto, clusters or generic" });
  }
  const policy = new ErrorPolicy(opts.onError);
  const source = dictionaryVector([basename(path)]);
  const mark = k.mark();
  let sink: Sink | undefined;
  let input: OpenedNpz | undefined;
  let stat: { size: number; mtimeMs: number } | undefined;
  let kind: "clusters" | "generic" = task.kind;
  let rows = 0;
  let skipped = 0;
  let nonfinite = 0;
  const emit = (b: RecordBatch) => { sink!.write(b); rows += b.numRows; };
  const fallback = (extra: Record<string, string> = {}) => (kind === "generic" ? emptyGenericSchema(extra) : defaultClusterSchema(opts.metadataLayout, opts.scone.precision, extra));
  try {
    try {
      try {
        stat = statSync(path);
      } catch (e) {
        throw new ArrowsmithError("io", `cannot open: ${(e as Error).message}`, { file: path, cause: e });
      }
      input = openNpz(path, opts.verify);
      const zip = input.zip;
      if (!zip) {
        warn(`${path}: empty file (0 bytes), written as an empty batch`);
        sink = openSink(opts.format, outPath, fallback({ "arrowsmith:warning": "empty input file (0 bytes)" }), opts.sink);
      } else {
        const arrays = npzArrays(zip);
        // --kind auto reaches here as "clusters" (the plan cannot tell without reading the archive)
        if (opts.kind === "auto" && !isClusterArchive(zip)) kind = "generic";
        if (kind === "clusters") {
          const b = readClusterBatch(k, zip, { metadataLayout: opts.metadataLayout, precision: opts.scone.precision });
          const schema = clusterSchema({
            layout: b.layout.layout, how: b.layout.how, height: b.height, width: b.width, precision: opts.scone.precision,
            extra: { "arrowsmith:source_dtypes": JSON.stringify({ images: b.imageDtype, metadata: b.metadataDtype }) },
          });
          sink = openSink(opts.format, outPath, schema, opts.sink);
          nonfinite = emitClusterBatches(k, b, schema, source, emit);
        } else {
          const plan = planGenericNpz(zip, arrays);
          sink = openSink(opts.format, outPath, plan.schema, opts.sink);
          emitGenericNpz(zip, plan, source, emit);
        }
      }
    } catch (e) {
      if (!isArrowsmithError(e) || e.code === "io" || e.code === "internal" || e.code === "usage") throw e;
      sink?.abort();
      sink = undefined;
      policy.file(e.file ? e : e.at({ file: path }));
      skipped++;
      rows = 0;
      nonfinite = 0;
      sink = openSink(opts.format, outPath, fallback({ "arrowsmith:skipped": `${e.code}: ${e.detail}` }), opts.sink);
    }
    const output = sink.finish();
    const size = input?.size ?? stat?.size ?? 0;
    progress?.(size, rows);
    return {
      input: path, part: task.part, kind, compression: npzCompression(input?.zip), inputBytes: size, mtimeMs: input?.mtimeMs ?? stat?.mtimeMs ?? 0,
      taskBytes: size, records: rows, rows: output.rows, skipped, nonfiniteEvents: nonfinite, output,
      seconds: (performance.now() - t0) / 1000, problems: policy.problems,
    };
  } catch (e) {
    sink?.abort();
    throw e;
  } finally {
    input?.close();
    k.release(mark);
  }
}
