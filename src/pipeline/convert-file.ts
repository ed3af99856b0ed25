// Converts one task (a whole input file, or a byte range of records of a large uncompressed one)
// into one output file in the calling thread: read into wasm memory, frame and check, decode, run
// the kernels, write record batches as they fill. Workers run exactly this; nothing here holds
// more than one input window and one batch.
import { join } from "node:path";
import type { RecordBatch, Schema } from "apache-arrow";
import { SCONE_DEFAULTS, type SconeOptions, SconeBatcher, isSconeRecord, sconeCsvSpec, sconeMetricNames } from "../datasets/scone.js";
import { ExampleSchemaInference, GenericBatcher, featureKinds } from "../datasets/generic-tfrecord.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import type { Frame } from "../formats/tfrecord.js";
import { readRecords, STOP } from "../io/records.js";
import type { CsvColumn, CsvSpec } from "../sinks/csv.js";
import { openSink } from "../sinks/open.js";
import type { OutputFormat, Sink, SinkResult, SinkOptions } from "../sinks/sink.js";
import { type Kernels } from "../wasm.js";
import { ErrorPolicy, type OnError, type Problem } from "./policy.js";
import { SconeTap } from "../report/scone-stats.js";
import type { StatsJson } from "../report/stats.js";
import { type IndexPart, IndexTap } from "../sinks/snid-index.js";

export type Kind = "auto" | "scone" | "clusters" | "generic";

export interface FileOptions {
  format: OutputFormat;
  kind: Kind;
  verify: boolean;
  onError: OnError;
  scone: SconeOptions;
  sink: SinkOptions;
  /** Cluster metadata layout (NPZ). */
  metadataLayout: "auto" | "12" | "11" | "15" | "12alt";
  windowBytes?: number;
  /** Largest TFRecord record accepted, in bytes (--max-record-bytes; default 64 MiB). */
  maxRecordBytes?: number;
  /** Accumulate the dataset statistics of _report.json (default on; --no-report). */
  report?: boolean;
  /** Collect the SNID index rows of SCONE tasks (convert sets it; _index.parquet). */
  index?: boolean;
}

export const FILE_DEFAULTS: FileOptions = {
  format: "arrow",
  kind: "auto",
  verify: true,
  onError: "fail",
  scone: SCONE_DEFAULTS,
  sink: { compression: "zstd", tensorType: "extension" },
  metadataLayout: "auto",
};

/** One unit of work: an input file, or records [range.start, range.end) of it, into one output. */
export interface Task {
  input: string;
  outName: string;
  kind: Exclude<Kind, "auto">;
  /** From the file's bytes (src/datasets/kinds.ts); absent in tasks planned by name only. */
  container?: "tfrecord" | "npz";
  range?: { start: number; end: number; index: number };
  part?: number;
}

export interface TaskResult {
  input: string;
  /** The output name the plan gave the task (written only when `output` is set). */
  outName: string;
  part?: number;
  kind: Exclude<Kind, "auto">;
  compression: string;
  /** Size and mtime of the whole input file. */
  inputBytes: number;
  mtimeMs: number;
  /** Input bytes this task covered (the range, or the whole file). */
  taskBytes: number;
  /** Records read (good ones), rows written, records skipped. */
  records: number;
  rows: number;
  skipped: number;
  nonfiniteEvents: number;
  /** None for an input refused as a whole in skip mode (it is in the manifest and _errors.jsonl only). */
  output?: SinkResult;
  seconds: number;
  problems: Problem[];
  /** The task's dataset statistics (mergeable accumulators as JSON), unless --no-report. */
  stats?: StatsJson;
  /** The SNID index rows of the task's output (SCONE tasks, when asked for). */
  index?: IndexPart;
}

/** Called as work advances: input bytes consumed and events written since the last call. */
export type Progress = (bytes: number, events: number) => void;

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

/** Opens where a task's batches go, given the output schema (and the CSV columns of the kind). */
export type SinkOpener = (schema: Schema, csv?: CsvSpec | CsvColumn[]) => Sink;

/** Runs one TFRecord task in this thread, writing its output file. In fail mode the first problem throws. */
export async function runTFRecordTask(k: Kernels, task: Task, outDir: string, opts: FileOptions,
                                      progress?: Progress): Promise<TaskResult> {
  return decodeTFRecordTask(k, task, opts, (schema, csv) => openSink(opts.format, join(outDir, task.outName), schema, opts.sink, csv), progress);
}

/**
 * Reads, checks and decodes one TFRecord task into the sink `open` gives: everything `convert`
 * does to a file, also used without writing (`verify`, with a sink that only counts).
 */
export async function decodeTFRecordTask(k: Kernels, task: Task, opts: FileOptions, open: SinkOpener,
                                         progress?: Progress): Promise<TaskResult> {
  const t0 = performance.now();
  const path = task.input;
  const policy = new ErrorPolicy(opts.onError);
  const readOpts = {
    verify: opts.verify, windowBytes: opts.windowBytes, maxRecordBytes: opts.maxRecordBytes,
    startOffset: task.range?.start, endOffset: task.range?.end, startIndex: task.range?.index,
  };
  const mark = k.mark();
  let sink: Sink | undefined;
  let events = 0;
  try {
    let batcher: Batcher;
    let tap: SconeTap | undefined;
    // the SNID index: the offset of each record the batcher takes, then the rows of its batches
    const index = task.kind === "scone" && opts.index ? new IndexTap(path, task.outName) : undefined;
    const emit = (b: RecordBatch) => { tap?.batch(b); index?.batch(b); sink!.write(b); events += b.numRows; };
    if (task.kind === "scone") {
      const b = new SconeBatcher(k, opts.scone, basenameOf(path), emit);
      if (opts.report !== false) {
        tap = new SconeTap(k, opts.scone, sconeMetricNames(b.schema), basenameOf(path));
        b.onImage = tap.image;
      }
      sink = open(b.schema, sconeCsvSpec(opts.scone));
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
      sink = open(schema);
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
    // skip mode: an input (or part) of which no record could be kept gets no output file, so no
    // output has a schema the data did not decide; the manifest and _errors.jsonl still list it
    let output: SinkResult | undefined;
    if (read.records === 0 && policy.problems.length) sink.abort();
    else {
      await sink.drain?.();
      output = sink.finish();
    }
    return {
      input: path, outName: task.outName, part: task.part, kind: task.kind, compression: read.compression, inputBytes: read.fileSize, mtimeMs: read.mtimeMs,
      taskBytes: task.range ? task.range.end - task.range.start : read.fileSize,
      records: read.records, rows: output?.rows ?? 0, skipped: read.skipped, nonfiniteEvents: batcher.nonfiniteEvents ?? 0, output,
      seconds: (performance.now() - t0) / 1000, problems: policy.problems,
      ...(tap ? { stats: tap.finish().toJSON() } : {}),
      ...(index && output ? { index: index.finish() } : {}),
    };
  } catch (e) {
    sink?.abort();
    throw e;
  } finally {
    k.release(mark);
  }
}
