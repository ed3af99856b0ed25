// What a task is: one unit of work (an input file, or a byte range of records of one), the
// options a task runs with, and what it reports. Shared by the task shell, the container loops
// (convert-file.ts, npz-task.ts), the pool and the plan.
import type { Schema } from "apache-arrow";
import { SCONE_DEFAULTS, type SconeOptions } from "../datasets/scone.js";
import type { CsvColumn, CsvSpec } from "../sinks/csv.js";
import type { OutputFormat, Sink, SinkOptions, SinkResult } from "../sinks/sink.js";
import type { StatsJson } from "../report/stats.js";
import type { SconeEvent } from "../report/figures/scone.js";
import type { SconeSummaryJson } from "../datasets/scone/summary.js";
import type { IndexPart } from "../sinks/index-tap.js";
import type { OnError, Problem } from "./policy.js";

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

/** Whether a planned input is an NPZ archive, by its name (what the plan knew before it read the bytes). */
export function isNpz(path: string): boolean {
  return /\.npz$/i.test(path);
}

/** A task's options as the pool carries them: the file options, and what `stats` asks for instead of an output. */
export interface TaskOptions extends FileOptions {
  /** Write nothing: the batches go to a sink that only counts them. */
  discard?: boolean;
  /** Accumulate the SCONE summary that `stats` prints (TaskResult.summary). */
  summary?: boolean;
  /**
   * Per lowest-list metric of the report, a value that LOWEST_K events of tasks already finished
   * in this run are at or below: an event above it cannot be in the run's merged list, so the
   * task does not keep it (see LowestBounds).
   */
  lowestBelow?: Record<string, number>;
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
  /** The events of the task's lowest lists, with their maps, for the report's figures (not in the manifest or --json). */
  lowestEvents?: SconeEvent[];
  /** The SNID index rows of the task's output (SCONE tasks, when asked for). */
  index?: IndexPart;
  /** The SCONE summary of `stats` (mergeable accumulators as JSON), when asked for. */
  summary?: SconeSummaryJson;
}

/** Called as work advances: input bytes consumed and events written since the last call. */
export type Progress = (bytes: number, events: number) => void;

/** Opens where a task's batches go, given the output schema (and the CSV columns of the kind). */
export type SinkOpener = (schema: Schema, csv?: CsvSpec | CsvColumn[]) => Sink;
