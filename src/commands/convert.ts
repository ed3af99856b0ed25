// `arrowsmith convert`: inputs in, one output file per input, a summary out.
import { constants as osConstants } from "node:os";
import { convert, type ConvertSummary } from "../pipeline/convert.js";
import { FILE_DEFAULTS, type FileOptions, type Kind } from "../pipeline/convert-file.js";
import type { OnError } from "../pipeline/policy.js";
import { workerPool } from "../pipeline/pool.js";
import { ProgressLine } from "../pipeline/progress.js";
import type { OutputFormat, TensorType } from "../sinks/sink.js";
import { parseShard } from "../scale/shards.js";
import { formatBytes, MiB } from "../units.js";
import type { SconeExtra } from "../datasets/scone.js";
import { type CommandRun, fmtRate, type Outcome, sconeOptions, warn } from "./command.js";

export interface ConvertCommandOptions {
  output: string;
  format: OutputFormat;
  kind: Kind;
  precision: "f32" | "f64";
  threads?: number;
  compression: "zstd" | "snappy" | "none";
  tensorType: TensorType;
  onError: OnError;
  resume: boolean;
  overwrite: boolean;
  recursive: boolean;
  verify: boolean;
  timeRange?: [number, number];
  bins?: [number, number];
  extras?: SconeExtra[];
  csvDialect?: "default" | "scone-tools";
  metrics?: boolean;
  metadataLayout: FileOptions["metadataLayout"];
  json: boolean;
  quiet: boolean;
  shard?: string;
  taskBytes?: number;
  /** false with --no-report: no dataset statistics, no _report.json / _report.html. */
  report: boolean;
  maxRecordBytes?: number;
}

export interface ConvertCommandResult {
  summary: ConvertSummary;
  output: string;
  /** Options without effect and columns a format left out (also printed on stderr). */
  warnings: string[];
  /** --quiet: no summary on stdout (warnings and errors only, on stderr). */
  quiet: boolean;
}

/** What the options given (`given`: by the user, not by default) ask for that the format ignores. */
export function optionWarnings(o: Pick<ConvertCommandOptions, "format">, given: ReadonlySet<string>): string[] {
  const w: string[] = [];
  if (given.has("compression") && o.format !== "parquet") w.push(`--compression applies to Parquet output only: --format ${o.format} ignores it`);
  if (given.has("precision") && o.format === "csv") w.push("--precision sets the tensor columns, which CSV leaves out: ignored");
  if (given.has("tensorType") && o.format === "csv") w.push("--tensor-type sets the tensor columns, which CSV leaves out: ignored");
  return w;
}

/** The columns the outputs left out (CSV: tensors and lists), by name. */
export function droppedColumnWarnings(s: ConvertSummary): string[] {
  const dropped = [...new Set(s.results.flatMap((r) => r.output?.dropped ?? []))];
  return dropped.length
    ? [`CSV holds the scalar and metric columns only: ${dropped.join(", ")} left out (--format arrow or parquet keeps them)`]
    : [];
}

/** Converts with a progress line on a terminal; Ctrl-C or a kill stops it (see below). */
export async function runConvert(inputs: string[], o: ConvertCommandOptions, given: ReadonlySet<string> = new Set()): Promise<ConvertCommandResult> {
  const warnings = optionWarnings(o, given);
  warnings.forEach(warn);
  const quiet = o.quiet || o.json;
  const progress = new ProgressLine(process.stderr, !quiet && !!process.stderr.isTTY);
  // Ctrl-C or a kill: the running workers are terminated, their temporary files removed, and
  // convert() rejects with code "interrupted" (exit 128 + the signal's number); finished outputs
  // stay, and `--resume` carries on from them. This thread converts nothing, so it handles the
  // signal at once.
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(128 + osConstants.signals[sig]); // a second Ctrl-C: leave now
    progress.stop();
    stop.abort(sig);
    // should a worker not stop (stuck in a system call), leave anyway: the next run removes the
    // temporary file it leaves
    setTimeout(() => process.exit(128 + osConstants.signals[sig]), 5000).unref();
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const sig of signals) process.on(sig, onSignal);
  // this process converts once: its workers go as soon as the last task is done instead of
  // idling, so the index and report are written without the workers' memory (wasm windows and
  // batches, Parquet page buffers: ~100 MB a thread) still held
  workerPool().idleMs = 0;
  const summary = await convert(inputs, {
    ...FILE_DEFAULTS,
    output: o.output, format: o.format, kind: o.kind, verify: o.verify,
    onError: o.onError, scone: sconeOptions(o), threads: o.threads, resume: o.resume, overwrite: o.overwrite, recursive: o.recursive,
    onWarning: warn,
    sink: { compression: o.compression, tensorType: o.tensorType }, metadataLayout: o.metadataLayout, progress: progress.counters,
    shard: o.shard === undefined ? undefined : parseShard(o.shard),
    taskBytes: o.taskBytes, report: o.report !== false, maxRecordBytes: o.maxRecordBytes,
    argv: ["arrowsmith", ...process.argv.slice(2)],
    onPlan: (p) => progress.start(p.bytes, p.tasks),
    onTask: () => progress.taskDone(),
    signal: stop.signal,
  }).finally(() => {
    progress.stop();
    for (const sig of signals) process.off(sig, onSignal);
  });
  const dropped = droppedColumnWarnings(summary);
  dropped.forEach(warn);
  // quiet: what was skipped is still said (a warning), the rest of the summary is not
  if (o.quiet && !o.json && summary.problems.length) warn(problemsLine(summary, o.output));
  return { summary, output: o.output, warnings: [...warnings, ...dropped], quiet: o.quiet === true };
}

export function convertOutcome(s: { problems: unknown[] }): Outcome {
  return s.problems.length ? "skipped" : "ok";
}

function problemsLine(s: ConvertSummary, out: string): string {
  return `skipped ${s.problems.length} problem(s): see ${out}/_errors.jsonl`;
}

export function renderSummary(s: ConvertSummary, out: string): string {
  const lines: string[] = [];
  if (s.resumed.length && !s.results.length) {
    lines.push(`nothing to do: all ${s.resumed.length} input(s) are already converted with these options (--resume)`);
  } else {
    if (s.resumed.length) lines.push(`--resume: ${s.resumed.length} input(s) already converted, left alone`);
    lines.push(`converted ${s.results.length} task(s) on ${s.threads} thread(s): ${s.events} events in ${s.seconds.toFixed(2)} s (${fmtRate(s.inputBytes, s.events, s.seconds)})`);
    lines.push(`wrote ${formatBytes(s.outputBytes)} to ${out}`);
  }
  if (s.problems.length) lines.push(problemsLine(s, out));
  return lines.join("\n");
}

export function jsonSummary(s: ConvertSummary): Record<string, unknown> {
  return {
    ok: true, files: s.manifest.totals.inputs, tasks: s.results.length, threads: s.threads, resumed: s.resumed.length,
    events: s.events, input_bytes: s.inputBytes, output_bytes: s.outputBytes, seconds: s.seconds,
    events_per_second: s.events / s.seconds, mib_per_second: s.inputBytes / s.seconds / MiB,
    // peak resident memory of the whole process, worker threads included
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024, problems: s.problems,
    outputs: s.results.map((f) => ({ input: f.input, part: f.part, output: f.output?.path ?? null, rows: f.rows, bytes: f.output?.bytes ?? 0, kind: f.kind, skipped: f.skipped })),
  };
}

export const convertCommand: CommandRun<ConvertCommandResult> = {
  run: ([inputs], o, given) => runConvert(inputs as string[], { ...(o as unknown as ConvertCommandOptions), verify: o.verify !== false, report: o.report !== false }, given),
  outcome: (r) => convertOutcome(r.summary),
  text: (r) => (r.quiet ? null : renderSummary(r.summary, r.output)),
  json: (r) => ({ ...jsonSummary(r.summary), warnings: r.warnings }),
};
