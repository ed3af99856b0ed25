// Converts one task (a whole input file, or a byte range of records of a large uncompressed one)
// into one output file in the calling thread: read into wasm memory, frame and check, decode, run
// the kernels, write record batches as they fill. Workers run exactly this; nothing here holds
// more than one input window and one batch.
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { SconeBatcher, isSconeRecord, sconeCsvSpec, sconeMetricNames } from "../datasets/scone.js";
import { ExampleSchemaInference, GenericBatcher, featureKinds } from "../datasets/generic-tfrecord.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import type { Frame } from "../formats/tfrecord.js";
import { readRecords, STOP } from "../io/records.js";
import { sinkFactory } from "../sinks/open.js";
import type { Sink, SinkResult } from "../sinks/sink.js";
import { IndexTap } from "../sinks/index-tap.js";
import { type Kernels } from "../wasm.js";
import { ErrorPolicy } from "./policy.js";
import { SconeTap } from "../report/scone-stats.js";
import { SconeSummary } from "../datasets/scone/summary.js";
import { FILE_DEFAULTS, type FileOptions, type Kind, type Progress, type SinkOpener, type Task, type TaskOptions, type TaskResult } from "./task.js";
import { runTaskShell } from "./task-shell.js";

// the task types live in task.ts; importers of this file find them here too
export { FILE_DEFAULTS, type FileOptions, type Kind, type Progress, type SinkOpener, type Task, type TaskOptions, type TaskResult };

/**
 * The feature kinds of the first record that decodes among the first few, or undefined (an empty
 * or unreadable start: the conversion itself then reports what is wrong, at the right record).
 */
export async function firstRecordKinds(k: Kernels, path: string): Promise<Map<string, string> | undefined> {
  const mark = k.mark();
  let kinds: Map<string, string> | undefined;
  try {
    await readRecords(k, path, { verify: true, windowBytes: 1 << 20, maxRecords: 8, policy: new ErrorPolicy("skip") }, (b, _p, f) => {
      kinds = featureKinds(b, f);
      return STOP;
    });
    return kinds;
  } catch (e) {
    if (isArrowsmithError(e)) return undefined;
    throw e;
  } finally {
    k.release(mark);
  }
}

/** The kind of a TFRecord file for --kind auto: scone when its records look like SCONE heatmaps. */
export async function detectTFRecordKind(k: Kernels, path: string): Promise<"scone" | "generic"> {
  const kinds = await firstRecordKinds(k, path);
  return !kinds || isSconeRecord(kinds) ? "scone" : "generic";
}

type Batcher = { add(b: Uint8Array, ptr: number, f: Frame, file: string): void; flush(): void; nonfiniteEvents?: number };

function basenameOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}


/** Runs one TFRecord task in this thread, writing its output file. In fail mode the first problem throws. */
export async function runTFRecordTask(k: Kernels, task: Task, outDir: string, opts: FileOptions,
                                      progress?: Progress): Promise<TaskResult> {
  const make = await sinkFactory(opts.format);
  return decodeTFRecordTask(k, task, opts, (schema, csv) => make(join(outDir, task.outName), schema, opts.sink, csv), progress);
}

/**
 * Reads, checks and decodes one TFRecord task into the sink `open` gives: everything `convert`
 * does to a file, also used without writing (`verify`, with a sink that only counts).
 */
export async function decodeTFRecordTask(k: Kernels, task: Task, opts: TaskOptions, open: SinkOpener,
                                         progress?: Progress): Promise<TaskResult> {
  return runTaskShell(k, task, opts, open, progress, async ({ policy, open: openSink }) => {
    const path = task.input;
    const readOpts = {
      verify: opts.verify, windowBytes: opts.windowBytes, maxRecordBytes: opts.maxRecordBytes,
      startOffset: task.range?.start, endOffset: task.range?.end, startIndex: task.range?.index,
    };
    let sink: Sink | undefined;
    let events = 0;
    let batcher: Batcher;
    let tap: SconeTap | undefined;
    // the SNID index: the offset of each record the batcher takes, then the rows of its batches
    const index = task.kind === "scone" && opts.index ? new IndexTap(path, task.outName) : undefined;
    // what `stats` prints
    const summary = task.kind === "scone" && opts.summary ? new SconeSummary(opts.scone.bins) : undefined;
    const emit = (b: RecordBatch) => { tap?.batch(b); index?.batch(b); summary?.add(b); sink!.write(b); events += b.numRows; };
    if (task.kind === "scone") {
      const b = new SconeBatcher(k, opts.scone, basenameOf(path), emit);
      if (opts.report !== false) {
        tap = new SconeTap(k, opts.scone, sconeMetricNames(b.schema), basenameOf(path), opts.lowestBelow);
        b.sums = tap;
      }
      sink = openSink(b.schema, sconeCsvSpec(opts.scone));
      batcher = b;
    } else if (task.kind === "generic") {
      // generic files are never split: the schema comes from all their records; problems are
      // reported by the second pass, at the same records
      const inference = new ExampleSchemaInference();
      try {
        await readRecords(k, path, { ...readOpts, policy: new ErrorPolicy("skip") }, (w, _p, f) => inference.add(w, f, path));
      } catch (e) {
        if (!isArrowsmithError(e)) throw e;
      }
      const schema = inference.schema(path);
      const g = new GenericBatcher(schema, basenameOf(path), emit);
      sink = openSink(schema);
      batcher = { add: (w, _p, f, file) => g.add(w, f, file), flush: () => g.flush() };
    } else {
      throw new ArrowsmithError("usage", `--kind ${task.kind} reads NPZ batches, not TFRecord files`, { file: path });
    }
    let consumed = task.range?.start ?? 0;
    let reported = 0;
    const read = await readRecords(k, path, {
      ...readOpts, policy,
      pace: () => sink?.ready?.(),
      onWindow: progress && ((now) => {
        progress(now - consumed, events - reported);
        consumed = now;
        reported = events;
      }),
    }, index
      // told before the add, which may emit the batch that holds this record; taken back if refused
      ? (w, ptr, f) => { index.offset(f.offset); try { batcher.add(w, ptr, f, path); } catch (e) { index.drop(); throw e; } }
      : (w, ptr, f) => batcher.add(w, ptr, f, path));
    batcher.flush();
    progress?.(0, events - reported);
    return {
      compression: read.compression, inputBytes: read.fileSize, mtimeMs: read.mtimeMs,
      records: read.records, skipped: read.skipped, nonfiniteEvents: batcher.nonfiniteEvents ?? 0,
      ...(tap ? { stats: tap.toJSON(), lowestEvents: tap.lowestEvents() } : {}),
      ...(summary ? { summary: summary.toJSON() } : {}),
      ...(index ? { finish: (output: SinkResult | undefined) => (output ? { index: index.finish() } : {}) } : {}),
    };
  });
}
