// Converts one task (a whole input file, or a byte range of records of a large uncompressed one)
// into one output file in the calling thread: read into wasm memory, frame and check, decode, run
// the kernels, write record batches as they fill. Workers run exactly this; nothing here holds
// more than one input window and one batch.
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { SCONE_DEFAULTS, type SconeOptions, SconeBatcher, isSconeRecord, sconeCsvColumns } from "../datasets/scone.js";
import { ExampleSchemaInference, GenericBatcher, featureKinds } from "../datasets/generic-tfrecord.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import { WireError } from "../formats/example.js";
import type { Frame } from "../formats/tfrecord.js";
import { openSink, type OutputFormat, type Sink, type SinkResult, type SinkOptions } from "../sinks/sink.js";
import { maskedCrcOf, openStream, tfrecordWindows } from "../sources.js";
import { type Kernels } from "../wasm.js";
import { ErrorPolicy, type OnError, type Problem } from "./policy.js";

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
}

export const FILE_DEFAULTS: FileOptions = {
  format: "arrow",
  kind: "auto",
  verify: true,
  onError: "fail",
  scone: SCONE_DEFAULTS,
  sink: { compression: "zstd" },
  metadataLayout: "auto",
};

/** One unit of work: an input file, or records [range.start, range.end) of it, into one output. */
export interface Task {
  input: string;
  outName: string;
  kind: Exclude<Kind, "auto">;
  range?: { start: number; end: number; index: number };
  part?: number;
}

export interface TaskResult {
  input: string;
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
  output: SinkResult;
  seconds: number;
  problems: Problem[];
}

/** Called as work advances: input bytes consumed and events written since the last call. */
export type Progress = (bytes: number, events: number) => void;

/**
 * The feature kinds of the first record that decodes among the first few, or undefined (an empty
 * or unreadable start: the conversion itself then reports what is wrong, at the right record).
 */
export async function firstRecordKinds(k: Kernels, path: string): Promise<Map<string, string> | undefined> {
  const mark = k.mark();
  const input = openStream(path, undefined, (b) => maskedCrcOf(k, b));
  try {
    for await (const w of tfrecordWindows(k, input, { verify: true, windowBytes: 1 << 20, maxRecords: 8 })) {
      for (const f of w.frames) {
        if (f.error) continue;
        try {
          return featureKinds(w.bytes, f);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
        }
      }
    }
    return undefined;
  } catch (e) {
    if (isArrowsmithError(e)) return undefined;
    throw e;
  } finally {
    input.stream.close();
    k.release(mark);
  }
}

/** The kind of a TFRecord file for --kind auto: scone when its records look like SCONE heatmaps. */
export async function detectTFRecordKind(k: Kernels, path: string): Promise<"scone" | "generic"> {
  const kinds = await firstRecordKinds(k, path);
  return !kinds || isSconeRecord(kinds) ? "scone" : "generic";
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

type Batcher = { add(b: Uint8Array, ptr: number, f: Frame, file: string): void; flush(): void; nonfiniteEvents?: number };

function basenameOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}

/** Runs one TFRecord task in this thread. In fail mode the first problem throws. */
export async function runTFRecordTask(k: Kernels, task: Task, outDir: string, opts: FileOptions,
                                      progress?: Progress): Promise<TaskResult> {
  const t0 = performance.now();
  const path = task.input;
  const policy = new ErrorPolicy(opts.onError);
  const crcOf = (b: Uint8Array) => maskedCrcOf(k, b);
  const readOpts = {
    verify: opts.verify, windowBytes: opts.windowBytes,
    startOffset: task.range?.start, endOffset: task.range?.end, startIndex: task.range?.index,
  };
  const mark = k.mark();
  let sink: Sink | undefined;
  let skipped = 0;
  let events = 0;
  try {
    let batcher: Batcher;
    const emit = (b: RecordBatch) => { sink!.write(b); events += b.numRows; };
    if (task.kind === "scone") {
      const b = new SconeBatcher(k, opts.scone, basenameOf(path), emit);
      sink = openSink(opts.format, join(outDir, task.outName), b.schema, opts.sink, sconeCsvColumns());
      batcher = b;
    } else if (task.kind === "generic") {
      // generic files are never split: the schema comes from all their records
      const inference = new ExampleSchemaInference();
      const pass1 = openStream(path, undefined, crcOf);
      try {
        for await (const w of tfrecordWindows(k, pass1, readOpts)) {
          for (const f of w.frames) if (!f.error) {
            try { inference.add(w.bytes, f, path); } catch (e) { if (!isArrowsmithError(e)) throw e; /* reported in pass 2 */ }
          }
        }
      } catch (e) {
        if (!isArrowsmithError(e)) throw e; /* framing problems are reported in pass 2 */
      }
      const schema = inference.schema(path);
      const g = new GenericBatcher(schema, basenameOf(path), emit);
      sink = openSink(opts.format, join(outDir, task.outName), schema, opts.sink);
      batcher = { add: (w, _p, f, file) => g.add(w, f, file), flush: () => g.flush() };
    } else {
      throw new ArrowsmithError("usage", `--kind ${task.kind} reads NPZ batches, not TFRecord files`, { file: path });
    }
    const input = openStream(path, undefined, crcOf);
    let records = 0;
    let consumed = task.range?.start ?? 0;
    let reported = 0;
    try {
      for await (const w of tfrecordWindows(k, input, readOpts)) {
        for (const f of w.frames) {
          if (f.error) { policy.record(f.error); skipped++; continue; }
          try {
            batcher.add(w.bytes, w.ptr, f, path);
            records++;
          } catch (e) {
            if (!isArrowsmithError(e)) throw e;
            policy.record(locate(e, path, f));
            skipped++;
          }
        }
        if (progress) {
          const now = input.stream.consumed();
          progress(now - consumed, events - reported);
          consumed = now;
          reported = events;
        }
      }
    } catch (e) {
      if (!isArrowsmithError(e) || e.code === "io" || e.code === "internal") throw e;
      policy.restOfFile(e);
      skipped++;
    }
    batcher.flush();
    progress?.(0, events - reported);
    const output = sink.finish();
    return {
      input: path, part: task.part, kind: task.kind, compression: input.compression, inputBytes: input.fileSize, mtimeMs: input.mtimeMs,
      taskBytes: task.range ? task.range.end - task.range.start : input.fileSize,
      records, rows: output.rows, skipped, nonfiniteEvents: batcher.nonfiniteEvents ?? 0, output,
      seconds: (performance.now() - t0) / 1000, problems: policy.problems,
    };
  } catch (e) {
    sink?.abort();
    throw e;
  } finally {
    k.release(mark);
  }
}
