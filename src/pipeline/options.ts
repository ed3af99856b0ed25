// The options of a conversion, in one place: their defaults, their validation (each message names
// the option), the resume key and the manifest's copy, both derived from the options object itself
// so that a new option cannot be left out of either. Used by the CLI and the library alike.
import { SCONE_DEFAULTS, type SconeOptions } from "../datasets/scone.js";
import { ArrowsmithError } from "../errors.js";
import type { Shard } from "../scale/shards.js";
import type { SinkOptions } from "../sinks/sink.js";
import { FILE_DEFAULTS, type FileOptions, type TaskResult } from "./convert-file.js";
import { DEFAULT_MAX_RECORD_BYTES } from "../io/records.js";
import { DEFAULT_TASK_BYTES } from "./plan.js";

export interface ConvertOptions extends FileOptions {
  /** Output folder (must be given; created if missing). */
  output: string;
  /** Threads, this one included (default: all cores, but no more than the input size pays for). */
  threads?: number;
  /**
   * Stops the job: running tasks are ended (their workers terminated), their temporary files
   * removed, and convert() rejects with an ArrowsmithError of code "interrupted". Finished outputs
   * stay complete and journaled, so `resume` finishes the job.
   */
  signal?: AbortSignal;
  /**
   * Run every task in the calling thread, one after another, instead of in workers: for a caller
   * that is itself a worker or a test harness measuring one conversion. That thread is then busy
   * until each task ends (a signal or `signal` is seen between tasks only).
   */
  inThread?: boolean;
  /** Skip inputs already converted with the same options. */
  resume: boolean;
  /** Replace outputs that an earlier run wrote, or files of the same name. */
  overwrite: boolean;
  /** Search folders given as inputs recursively. */
  recursive: boolean;
  /** Split uncompressed SCONE files into tasks of about this many bytes. */
  taskBytes: number;
  /**
   * Convert only this shard's slice of the plan (a job array: `--shard I/N`), and write
   * `_manifest.shard-I-of-N.json` instead of `_manifest.json` (`arrowsmith merge` joins them);
   * the shard holds its own lock of the folder.
   */
  shard?: Shard;
  /** The command line, kept in a shard's manifest so that `merge` can print how to rerun it. */
  argv?: string[];
  /** Called after each task. */
  onTask?: (r: TaskResult, done: number, total: number) => void;
  /** Shared [input bytes, events] progress counters (BigInt64 × 2), read by a progress display. */
  progress?: SharedArrayBuffer;
  /** Called once the plan is known. */
  onPlan?: (p: { tasks: number; inputs: number; skipped: number; bytes: number }) => void;
  /** Called with each warning (an input skipped, an earlier output replaced). */
  onWarning?: (message: string) => void;
}

/** What a caller gives: `output`, and any other option (the rest take their defaults). */
export type ConvertInput = { output: string } & Partial<Omit<ConvertOptions, "output" | "scone" | "sink">> & {
  scone?: Partial<SconeOptions>;
  sink?: Partial<SinkOptions>;
};

export const CONVERT_DEFAULTS: Omit<ConvertOptions, "output"> = {
  ...FILE_DEFAULTS,
  resume: false,
  overwrite: false,
  recursive: false,
  taskBytes: DEFAULT_TASK_BYTES,
  maxRecordBytes: DEFAULT_MAX_RECORD_BYTES,
};

/**
 * Options that decide how the job runs, not what the outputs hold: left out of the resume key and
 * the workers' copy. Every other option is in the key, including any added later.
 */
const RUN_ONLY = ["output", "threads", "resume", "overwrite", "recursive", "shard", "argv", "signal", "inThread", "report", "onTask", "progress", "onPlan", "onWarning"] as const satisfies readonly (keyof ConvertOptions)[];
type RunOnly = (typeof RUN_ONLY)[number];

/** Smallest task size: below it a task is mostly overhead (and 0 would cut before the first record). */
export const MIN_TASK_BYTES = 64 << 10;

const CHOICES = {
  format: ["arrow", "arrow-stream", "parquet", "csv"],
  kind: ["auto", "scone", "clusters", "generic"],
  onError: ["fail", "skip"],
  metadataLayout: ["auto", "12", "11", "15", "12alt"],
  "scone.precision": ["f32", "f64"],
  "sink.compression": ["zstd", "snappy", "none"],
  "sink.tensorType": ["extension", "plain"],
} as const;

function bad(name: string, want: string, v: unknown): never {
  throw new ArrowsmithError("usage", `options.${name} must be ${want}, not ${typeof v === "string" ? JSON.stringify(v) : String(JSON.stringify(v) ?? v)}`);
}

function choice(name: keyof typeof CHOICES, v: unknown): void {
  if (!(CHOICES[name] as readonly unknown[]).includes(v)) bad(name, `one of ${CHOICES[name].join(", ")}`, v);
}

function integer(name: string, v: unknown, min: number): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) bad(name, `an integer ≥ ${min}`, v);
}

function pair(name: string, v: unknown, check: (x: unknown) => boolean, want: string): void {
  if (!Array.isArray(v) || v.length !== 2 || !v.every(check)) bad(name, want, v);
}

/** The options with their defaults filled in, checked; throws a usage error naming the option. */
export function resolveConvertOptions(o: ConvertInput): ConvertOptions {
  if (o === null || typeof o !== "object") bad("", "an object with at least `output`", o);
  const r: ConvertOptions = {
    ...CONVERT_DEFAULTS,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
    scone: { ...SCONE_DEFAULTS, ...Object.fromEntries(Object.entries(o.scone ?? {}).filter(([, v]) => v !== undefined)) },
    sink: { ...FILE_DEFAULTS.sink, ...Object.fromEntries(Object.entries(o.sink ?? {}).filter(([, v]) => v !== undefined)) },
  } as ConvertOptions;
  if (typeof r.output !== "string" || r.output.trim() === "") bad("output", "a folder name (an empty name is not the current folder)", r.output);
  choice("format", r.format);
  choice("kind", r.kind);
  choice("onError", r.onError);
  choice("metadataLayout", r.metadataLayout);
  choice("scone.precision", r.scone.precision);
  choice("sink.compression", r.sink.compression);
  if (r.sink.tensorType !== undefined) choice("sink.tensorType", r.sink.tensorType);
  if (r.report !== undefined && typeof r.report !== "boolean") bad("report", "true or false", r.report);
  for (const flag of ["verify", "resume", "overwrite", "recursive"] as const) if (typeof r[flag] !== "boolean") bad(flag, "true or false", r[flag]);
  if (r.threads !== undefined) integer("threads", r.threads, 1);
  integer("taskBytes", r.taskBytes, MIN_TASK_BYTES);
  if (r.maxRecordBytes !== undefined) integer("maxRecordBytes", r.maxRecordBytes, 1);
  // any size works: a TFRecord window grows to hold a record, an NPZ window holds at least one row
  // (the tests read with windows of a few hundred bytes and of one row)
  if (r.windowBytes !== undefined) integer("windowBytes", r.windowBytes, 1);
  if (r.sink.rowGroupBytes !== undefined) integer("sink.rowGroupBytes", r.sink.rowGroupBytes, 1);
  if (r.scone.batchRows !== undefined) integer("scone.batchRows", r.scone.batchRows, 1);
  const finite = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  pair("scone.timeRange", r.scone.timeRange, finite, "two increasing numbers");
  if (r.scone.timeRange[0] >= r.scone.timeRange[1]) bad("scone.timeRange", "two increasing numbers", r.scone.timeRange);
  pair("scone.wavelengthRange", r.scone.wavelengthRange, finite, "two increasing numbers");
  if (r.scone.wavelengthRange[0] >= r.scone.wavelengthRange[1]) bad("scone.wavelengthRange", "two increasing numbers", r.scone.wavelengthRange);
  pair("scone.bins", r.scone.bins, (x) => typeof x === "number" && Number.isInteger(x) && x >= 1, "two positive integers");
  if (r.shard !== undefined) {
    integer("shard.count", r.shard.count, 1);
    integer("shard.index", r.shard.index, 0);
    if (r.shard.index >= r.shard.count) bad("shard.index", `below shard.count (${r.shard.count})`, r.shard.index);
  }
  for (const cb of ["onTask", "onPlan", "onWarning"] as const) if (r[cb] !== undefined && typeof r[cb] !== "function") bad(cb, "a function", r[cb]);
  if (r.progress !== undefined && !(r.progress instanceof SharedArrayBuffer)) bad("progress", "a SharedArrayBuffer", r.progress);
  if (r.signal !== undefined && !(r.signal instanceof AbortSignal)) bad("signal", "an AbortSignal", r.signal);
  if (r.inThread !== undefined && typeof r.inThread !== "boolean") bad("inThread", "true or false", r.inThread);
  return r;
}

/** The options that decide the outputs' contents: every option but the run-only ones. */
export function contentOptions(o: ConvertOptions): Omit<ConvertOptions, RunOnly> {
  const out: Record<string, unknown> = { ...o };
  for (const k of RUN_ONLY) delete out[k];
  return out as Omit<ConvertOptions, RunOnly>;
}

/** JSON with object keys sorted at every depth, so the key does not depend on spelling order. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The resume key: outputs made with another key are converted again by --resume. */
export function resumeKey(o: ConvertOptions): string {
  return stableJson(contentOptions(o));
}

/** The plain data of the options for the workers (callbacks cannot cross threads). */
export function fileOptions(o: ConvertOptions): FileOptions {
  // `report` decides whether the workers accumulate statistics, not what the outputs hold
  return { ...contentOptions(o), report: o.report, index: true };
}

/**
 * The options as the manifest records them: every content option, nested groups flattened, names
 * in snake_case (`scone.timeRange` → `time_range`, `sink.tensorType` → `tensor_type`), and the
 * thread count used.
 */
export function manifestOptions(o: ConvertOptions, threads: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const walk = (v: Record<string, unknown>, prefix: string) => {
    for (const k of Object.keys(v).sort()) {
      const x = v[k];
      if (x === undefined || typeof x === "function") continue;
      if (x !== null && typeof x === "object" && !Array.isArray(x)) { walk(x as Record<string, unknown>, `${snake(k)}_`); continue; }
      // a group's leaves keep their own names unless that name is taken
      const name = snake(k) in out ? prefix + snake(k) : snake(k);
      out[name] = x;
    }
  };
  walk(contentOptions(o) as unknown as Record<string, unknown>, "");
  return { ...out, threads };
}
