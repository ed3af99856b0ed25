// A conversion job: inputs → tasks → worker pool → one output per task in the output folder, then
// _errors.jsonl and _manifest.json. Only summaries reach this thread.
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { DEFAULT_MAX_RECORD_BYTES } from "../io/records.js";
import { EXTENSIONS } from "../sinks/sink.js";
import { TMP_MARK } from "../sinks/atomic.js";
import { kernels } from "../wasm.js";
import type { FileOptions, Task, TaskResult } from "./convert-file.js";
import { expandInputs, outputStem } from "./inputs.js";
import { finishedEntries, journal, type Manifest, type ManifestEntry, manifestEntry, upToDate, writeManifest } from "./manifest.js";
import { DEFAULT_TASK_BYTES, isNpz, planTasks } from "./plan.js";
import type { Problem } from "./policy.js";
import { maxWorkers, runTasks, type WorkerPool, workerPool } from "./pool.js";
import { type Shard, sliceTasks } from "../scale/shards.js";
import { journalTask, readShardManifest, taskBytesOf, upToDateTask, writeShardManifest } from "../scale/shard-run.js";

export interface ConvertOptions extends FileOptions {
  output: string;
  /**
   * Worker threads (default: as many as the job's size pays for, up to the number of cores). Never
   * more than the cores or the tasks; all conversion runs in workers, none in the calling thread.
   */
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
  resume?: boolean;
  /** Split uncompressed SCONE files into tasks of about this many bytes. */
  taskBytes?: number;
  /** Called after each task. */
  onTask?: (r: TaskResult, done: number, total: number) => void;
  /** Shared [input bytes, events] progress counters (BigInt64 × 2), read by a progress display. */
  progress?: SharedArrayBuffer;
  /**
   * Convert only this shard's slice of the plan (a job array: `--shard I/N`), and write
   * `_manifest.shard-I-of-N.json` instead of `_manifest.json` (`arrowsmith merge` joins them).
   */
  shard?: Shard;
  /** The command line, kept in a shard's manifest so that `merge` can print how to rerun it. */
  argv?: string[];
  /** Called once the plan is known. */
  onPlan?: (p: { tasks: number; inputs: number; skipped: number; bytes: number }) => void;
}

export interface ConvertSummary {
  results: TaskResult[];
  /** The report files written beside the manifest (none with --no-report). */
  report?: { json: string; html: string };
  problems: Problem[];
  manifest: Manifest;
  /** Inputs left alone by --resume. */
  resumed: string[];
  events: number;
  inputBytes: number;
  outputBytes: number;
  seconds: number;
  threads: number;
}

/** The options that decide an output's contents (for the manifest and --resume). */
export function optionsKey(o: FileOptions & { taskBytes?: number }): string {
  return JSON.stringify({ format: o.format, kind: o.kind, scone: o.scone, verify: o.verify, onError: o.onError, sink: o.sink, layout: o.metadataLayout, task: o.taskBytes ?? DEFAULT_TASK_BYTES,
    // only when not the default, so manifests written before the option existed still match
    ...(o.maxRecordBytes !== undefined && o.maxRecordBytes !== DEFAULT_MAX_RECORD_BYTES ? { maxRecord: o.maxRecordBytes } : {}) });
}

export async function convert(inputArgs: string[], opts: ConvertOptions): Promise<ConvertSummary> {
  const t0 = performance.now();
  const inputs = expandInputs(inputArgs);
  if (!inputs.length) throw new ArrowsmithError("usage", "no input files found", { hint: "give .tfrecord/.npz files or folders holding them" });
  const outDir = resolve(opts.output);
  const ext = EXTENSIONS[opts.format];
  const stems = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const input of inputs) {
    const stem = outputStem(input);
    const prev = byName.get(stem);
    if (prev) throw new ArrowsmithError("usage", `inputs ${prev} and ${input} would both write ${stem}${ext}`, { hint: "convert them into different output folders" });
    byName.set(stem, input);
    stems.set(input, stem);
    if (resolve(outDir, stem + ext) === input) throw new ArrowsmithError("usage", `output ${stem}${ext} would overwrite its input`, { file: input, hint: "choose another output folder" });
  }
  mkdirSync(outDir, { recursive: true });
  removeStaleTemporaries(outDir);
  const key = optionsKey(opts);
  const signal = opts.signal;
  try {
    signal?.throwIfAborted();
    if (opts.shard) return await convertShard(inputs, stems, outDir, ext, key, opts, t0);

    // --resume: inputs whose entry matches (size, mtime, options) and whose outputs are all there
    const done = new Map<string, { entry: ManifestEntry; problems: Problem[] }>();
    if (opts.resume) {
      for (const [input, j] of finishedEntries(outDir)) if (stems.has(input) && upToDate(outDir, input, j.entry, key)) done.set(input, j);
    }
    const todo = inputs.filter((i) => !done.has(i));
    // workers load their modules while this thread plans: one per input at most (each input is
    // at least one task), more once the plan has split large files
    const want = threadsFor(todo, opts);
    const pool = opts.inThread ? undefined : workerPool();
    if (todo.length) pool?.ensure(Math.min(want, todo.length));
    return await convertPlanned(inputs, todo, done, stems, outDir, ext, key, opts, t0, want, pool);
  } catch (e) {
    if (!signal?.aborted) throw e;
    removeOwnTemporaries(outDir);
    throw interrupted(signal);
  }
}

/** The error of an aborted job; its `cause` is the abort's reason (the CLI passes the signal's name). */
function interrupted(signal: AbortSignal): ArrowsmithError {
  const why = typeof signal.reason === "string" ? signal.reason : "aborted";
  return new ArrowsmithError("interrupted", `interrupted (${why}); the outputs already written are complete`, {
    hint: "run the same command again with --resume to finish the job", cause: signal.reason,
  });
}

async function convertPlanned(inputs: string[], todo: string[], done: Map<string, { entry: ManifestEntry; problems: Problem[] }>,
                              stems: Map<string, string>, outDir: string, ext: string, key: string, opts: ConvertOptions,
                              t0: number, want: number, pool: WorkerPool | undefined): Promise<ConvertSummary> {
  const k = kernels();
  const tasks = await planTasks(k, todo, stems, { kind: opts.kind, ext, taskBytes: opts.taskBytes ?? DEFAULT_TASK_BYTES, signal: opts.signal });
  const threads = pool ? Math.max(1, Math.min(want, tasks.length)) : 1;
  if (tasks.length) pool?.ensure(threads);
  opts.onPlan?.({ tasks: tasks.length, inputs: todo.length, skipped: done.size, bytes: todo.reduce((a, i) => a + statSync(i).size, 0) });

  // journal each input as soon as all its tasks are done
  const pending = new Map<string, number>();
  for (const t of tasks) pending.set(t.input, (pending.get(t.input) ?? 0) + 1);
  const finished = new Map<string, TaskResult[]>();
  let count = 0;
  const onResult = (r: TaskResult, task: Task) => {
    const list = finished.get(task.input) ?? [];
    list.push(r);
    finished.set(task.input, list);
    opts.onTask?.(r, ++count, tasks.length);
    if (list.length === pending.get(task.input)) {
      list.sort((a, b) => (a.part ?? 0) - (b.part ?? 0));
      journal(outDir, manifestEntry(list, key), list.flatMap((x) => x.problems));
    }
  };
  // the report's modules load while the workers convert (see loadReport)
  const reporting = opts.report === false ? undefined : loadReport();
  let results: TaskResult[] = [];
  try {
    if (tasks.length) {
      results = await runTasks({ tasks, outDir, opts: fileOptions(opts), threads, pool, progress: opts.progress ?? new SharedArrayBuffer(16), onResult, signal: opts.signal });
    }
  } catch (e) {
    // a worker that died mid-write leaves its temporary file behind
    removeOwnTemporaries(outDir);
    throw e;
  }

  const problems: Problem[] = [];
  const entries: ManifestEntry[] = [];
  for (const input of inputs) {
    const prior = done.get(input);
    if (prior) { entries.push(prior.entry); problems.push(...prior.problems); continue; }
    const list = finished.get(input)!;
    entries.push(manifestEntry(list, key));
    problems.push(...list.flatMap((x) => x.problems));
  }
  const seconds = (performance.now() - t0) / 1000;
  const manifest = writeManifest(outDir, publicOptions(opts, threads), entries, problems, done.size, seconds);
  const rep = reporting && await reporting;
  const report = rep && await rep[0].writeReport(outDir, rep[1].mergeStats(results.map((r) => r.stats)), {
    manifest, problems, complete: done.size === 0,
    ...(done.size ? { note: `${done.size} input(s) were left alone by --resume and are not in these statistics: run arrowsmith report on the folder to include them` } : {}),
  });
  return {
    results, problems, manifest, resumed: [...done.keys()], threads, report,
    events: results.reduce((a, r) => a + r.rows, 0),
    inputBytes: results.reduce((a, r) => a + r.taskBytes, 0),
    outputBytes: results.reduce((a, r) => a + (r.output?.bytes ?? 0), 0),
    seconds,
  };
}

let reportModules: Promise<[typeof import("../report/report.js"), typeof import("../report/stats.js")]> | undefined;

/**
 * The report's modules, imported when a conversion first needs them rather than by every command
 * at start: its figures load Vega, resvg and pdfkit, ~1 s of CPU (`--version` took 1.6 s).
 */
function loadReport() {
  return (reportModules ??= Promise.all([import("../report/report.js"), import("../report/stats.js")]));
}

/** Input bytes that make starting one more worker worth it (a worker takes ~0.3 s to be ready). */
export const BYTES_PER_THREAD = 256 << 20;

/**
 * Workers for a job: --threads when given, otherwise as many as the job's size pays for (a small
 * job is not slowed down by starting workers it has no use for); never more than the cores, nor
 * than the tasks the plan can make (each input is one task, or at most size / taskBytes + 1 parts).
 */
function threadsFor(inputs: string[], opts: ConvertOptions): number {
  const sizes = inputs.map((i) => statSync(i).size);
  const taskBytes = opts.taskBytes ?? DEFAULT_TASK_BYTES;
  const want = opts.threads ?? Math.floor(sizes.reduce((a, b) => a + b, 0) / BYTES_PER_THREAD);
  const tasks = sizes.reduce((a, s, i) => a + (isNpz(inputs[i]) ? 1 : Math.floor(s / taskBytes) + 1), 0);
  return Math.max(1, Math.min(want, maxWorkers(), tasks));
}

/** Only the plain data of the options goes to the workers (callbacks can't cross threads). */
function fileOptions(o: ConvertOptions): FileOptions {
  return { format: o.format, kind: o.kind, verify: o.verify, onError: o.onError, scone: o.scone, sink: o.sink, metadataLayout: o.metadataLayout, windowBytes: o.windowBytes, maxRecordBytes: o.maxRecordBytes, report: o.report };
}

function publicOptions(o: ConvertOptions, threads: number): Record<string, unknown> {
  return {
    format: o.format, kind: o.kind, verify: o.verify, on_error: o.onError, precision: o.scone.precision,
    time_range: o.scone.timeRange, bins: o.scone.bins, extras: o.scone.extras, csv_dialect: o.scone.csvDialect, compression: o.format === "parquet" ? o.sink.compression : undefined,
    tensor_type: o.sink.tensorType ?? "extension",
    metadata_layout: o.metadataLayout, threads, task_bytes: o.taskBytes ?? DEFAULT_TASK_BYTES, max_record_bytes: o.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
  };
}

/** Removes this process's temporary files in `dir` (on Ctrl-C: only complete files keep a final name). */
export function removeOwnTemporaries(dir: string): void {
  try {
    for (const name of readdirSync(dir)) if (name.startsWith(".") && name.includes(`${TMP_MARK}${process.pid}-`)) rmSync(join(dir, name), { force: true });
  } catch { /* the folder may not exist yet */ }
}

/** Temporary files of an interrupted run (never under a final name) are removed before a new run. */
function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(".") || !name.includes(TMP_MARK)) continue;
    const pid = Number(/\.tmp-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && alive(pid)) continue; // another live run writes here
    rmSync(join(dir, name), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One shard of a job array: plan the whole run (every shard finds the same tasks), keep this
 * shard's slice, skip (with --resume) the tasks it already finished, convert the rest, and write
 * the shard's manifest, also when it fails, so that `merge` can name it.
 */
async function convertShard(inputs: string[], stems: Map<string, string>, outDir: string, ext: string, key: string,
                            opts: ConvertOptions, t0: number): Promise<ConvertSummary> {
  const shard = opts.shard!;
  const k = kernels();
  const plan = await planTasks(k, inputs, stems, { kind: opts.kind, ext, taskBytes: opts.taskBytes ?? DEFAULT_TASK_BYTES, signal: opts.signal });
  const mine = sliceTasks(plan, plan.map(taskBytesOf), shard);
  const run = { key, options: publicOptions(opts, opts.threads ?? 1), inputs, tasks: plan.map((t) => t.outName) };
  const previous = opts.resume ? readShardManifest(outDir, shard) : undefined;
  // a shard's earlier work counts only for the same run (options, inputs, plan)
  const sameRun = !!previous && (!previous.run || (previous.run.key === run.key && JSON.stringify(previous.run.tasks) === JSON.stringify(run.tasks)));
  const kept = sameRun ? previous!.tasks.filter((t) => mine.some((m) => m.outName === t.output.path) && upToDateTask(outDir, t)) : [];
  const keptNames = new Set(kept.map((t) => t.output.path));
  const todo = mine.filter((t) => !keptNames.has(t.outName));
  const keptProblems = previous ? previous.problems.filter((p) => kept.some((t) => t.input === p.file)) : [];
  const want = opts.inThread ? 1 : Math.max(1, Math.min(opts.threads ?? maxWorkers(), maxWorkers(), todo.length));
  opts.onPlan?.({ tasks: todo.length, inputs: new Set(todo.map((t) => t.input)).size, skipped: kept.length, bytes: todo.reduce((a, t) => a + taskBytesOf(t), 0) });
  const pool = opts.inThread ? undefined : workerPool();
  if (todo.length) pool?.ensure(want);
  let count = 0;
  try {
    const results = await runTasks({
      tasks: todo, outDir, opts: fileOptions(opts), threads: want, pool, signal: opts.signal, progress: opts.progress ?? new SharedArrayBuffer(16),
      onResult: (r) => { journalTask(outDir, shard, r); opts.onTask?.(r, ++count, todo.length); },
    });
    const problems = [...keptProblems, ...results.flatMap((r) => r.problems)];
    const seconds = (performance.now() - t0) / 1000;
    const sm = writeShardManifest(outDir, shard, { status: "complete", run, tasks: [...kept, ...results], problems, argv: opts.argv ?? [], wall_seconds: seconds });
    const manifest = shardAsManifest(sm.tasks.length, results, problems, seconds, run.options);
    return {
      results, problems, manifest, resumed: [...new Set(kept.map((t) => t.input))], threads: want,
      events: results.reduce((a, r) => a + r.rows, 0),
      inputBytes: results.reduce((a, r) => a + r.taskBytes, 0),
      outputBytes: results.reduce((a, r) => a + (r.output?.bytes ?? 0), 0),
      seconds,
    };
  } catch (e) {
    removeOwnTemporaries(outDir);
    const err = (opts.signal?.aborted ? interrupted(opts.signal) : e) as ArrowsmithError;
    // the tasks finished before the failure stay (journaled): a rerun with --resume skips them
    const sofar = readShardManifest(outDir, shard);
    writeShardManifest(outDir, shard, {
      status: "failed", error: { code: String(err.code ?? "internal"), message: err.message ?? String(e), file: err.file },
      run, tasks: sofar?.tasks ?? kept, problems: sofar?.problems ?? keptProblems, argv: opts.argv ?? [], wall_seconds: (performance.now() - t0) / 1000,
    });
    throw e;
  }
}

/** A shard's summary in the manifest's shape (the merged _manifest.json is written by `merge`). */
function shardAsManifest(tasks: number, results: TaskResult[], problems: Problem[], seconds: number, options: Record<string, unknown>): Manifest {
  return {
    tool: "arrowsmith", version: "", created: new Date().toISOString(), options, inputs: [],
    totals: {
      inputs: new Set(results.map((r) => r.input)).size, outputs: tasks, records: results.reduce((a, r) => a + r.records, 0),
      rows: results.reduce((a, r) => a + r.rows, 0), skipped: results.reduce((a, r) => a + r.skipped, 0),
      input_bytes: results.reduce((a, r) => a + r.taskBytes, 0), output_bytes: results.reduce((a, r) => a + (r.output?.bytes ?? 0), 0),
    },
    problems: problems.length, resumed: 0, wall_seconds: seconds,
  };
}
