// The one task shell, around the container loops of TFRecord (convert-file.ts) and NPZ
// (npz-task.ts) tasks: the error policy, the sink (opened once the data decided the schema), the
// rule that an input of which nothing could be kept gets no output, aborting on failure, the
// wasm regions given back, and the TaskResult. The loops keep only what their container needs.
import { ErrorPolicy } from "./policy.js";
import type { FileOptions, Kind, Progress, SinkOpener, Task, TaskResult } from "./task.js";
import type { Sink, SinkResult } from "../sinks/sink.js";
import type { StatsJson } from "../report/stats.js";
import type { SconeSummaryJson } from "../datasets/scone/summary.js";
import type { Kernels } from "../wasm.js";

/** What a container loop hands its body. */
export interface TaskContext {
  readonly policy: ErrorPolicy;
  readonly progress?: Progress;
  /** Opens the task's sink for the schema the data decided (once). */
  open: SinkOpener;
  /** The sink was aborted by the loop itself (nothing left to finish or abort). */
  dropSink(): void;
}

/** What a container loop found. */
export interface TaskRead {
  /** The kind the data turned out to be (NPZ under --kind auto), else the task's. */
  kind?: Exclude<Kind, "auto">;
  compression: string;
  /** Size and mtime of the whole input file. */
  inputBytes: number;
  mtimeMs: number;
  /** Records read (good ones), and records (or files) skipped. */
  records: number;
  skipped: number;
  nonfiniteEvents: number;
  stats?: StatsJson;
  lowestEvents?: TaskResult["lowestEvents"];
  summary?: SconeSummaryJson;
  /** What the loop's taps add to the result once the output is known (undefined: none written). */
  finish?(output: SinkResult | undefined): Partial<TaskResult>;
}

/**
 * Runs `loop` in the shell. In fail mode the first problem throws (and the sink is aborted); in
 * skip mode a task that kept no record but had problems gets no output file, so no output has a
 * schema the data did not decide (the manifest and _errors.jsonl still list it).
 */
export async function runTaskShell(k: Kernels, task: Task, opts: FileOptions, open: SinkOpener, progress: Progress | undefined,
                                   loop: (ctx: TaskContext) => Promise<TaskRead> | TaskRead): Promise<TaskResult> {
  const t0 = performance.now();
  const policy = new ErrorPolicy(opts.onError);
  const mark = k.mark();
  let sink: Sink | undefined;
  const ctx: TaskContext = {
    policy, progress,
    open: (schema, csv) => {
      if (sink) throw new Error("a task opens one sink");
      return (sink = open(schema, csv));
    },
    dropSink: () => { sink = undefined; },
  };
  try {
    const read = await loop(ctx);
    let output: SinkResult | undefined;
    if (sink && read.records === 0 && policy.problems.length) sink.abort();
    else if (sink) {
      // a sink with work in flight (Parquet pages compressing on the thread pool) completes it first
      await sink.drain?.();
      output = sink.finish();
    }
    sink = undefined;
    return {
      input: task.input, outName: task.outName, part: task.part, kind: read.kind ?? task.kind,
      compression: read.compression, inputBytes: read.inputBytes, mtimeMs: read.mtimeMs,
      taskBytes: task.range ? task.range.end - task.range.start : read.inputBytes,
      records: read.records, rows: output?.rows ?? 0, skipped: read.skipped, nonfiniteEvents: read.nonfiniteEvents, output,
      seconds: (performance.now() - t0) / 1000, problems: policy.problems,
      ...(read.stats ? { stats: read.stats } : {}),
      ...(read.lowestEvents ? { lowestEvents: read.lowestEvents } : {}),
      ...(read.summary ? { summary: read.summary } : {}),
      ...read.finish?.(output),
    };
  } catch (e) {
    sink?.abort();
    throw e;
  } finally {
    k.release(mark);
  }
}
