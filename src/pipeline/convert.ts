// A conversion job: inputs → tasks → worker pool → one output per task in the output folder, then
// _errors.jsonl and _manifest.json. Only summaries reach this thread.
import { availableParallelism } from "node:os";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { EXTENSIONS } from "../sinks/sink.js";
import { TMP_MARK } from "../sinks/atomic.js";
import { kernels } from "../wasm.js";
import type { FileOptions, Task, TaskResult } from "./convert-file.js";
import { expandInputs, outputStem } from "./inputs.js";
import { finishedEntries, journal, type Manifest, type ManifestEntry, manifestEntry, upToDate, writeManifest } from "./manifest.js";
import { DEFAULT_TASK_BYTES, planTasks } from "./plan.js";
import type { Problem } from "./policy.js";
import { runTasks, startWorkers, stopWorkers, type Workers } from "./pool.js";

export interface ConvertOptions extends FileOptions {
  output: string;
  /** Worker threads (default: all cores). */
  threads?: number;
  /** Skip inputs already converted with the same options. */
  resume?: boolean;
  /** Split uncompressed SCONE files into tasks of about this many bytes. */
  taskBytes?: number;
  /** Called after each task. */
  onTask?: (r: TaskResult, done: number, total: number) => void;
  /** Shared [input bytes, events] progress counters (BigInt64 × 2), read by a progress display. */
  progress?: SharedArrayBuffer;
  /** Called once the plan is known. */
  onPlan?: (p: { tasks: number; inputs: number; skipped: number; bytes: number }) => void;
}

export interface ConvertSummary {
  results: TaskResult[];
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
  return JSON.stringify({ format: o.format, kind: o.kind, scone: o.scone, verify: o.verify, onError: o.onError, sink: o.sink, layout: o.metadataLayout, task: o.taskBytes ?? DEFAULT_TASK_BYTES });
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

  // --resume: inputs whose entry matches (size, mtime, options) and whose outputs are all there
  const done = new Map<string, { entry: ManifestEntry; problems: Problem[] }>();
  if (opts.resume) {
    for (const [input, j] of finishedEntries(outDir)) if (stems.has(input) && upToDate(outDir, input, j.entry, key)) done.set(input, j);
  }
  const todo = inputs.filter((i) => !done.has(i));
  // workers boot while this thread plans; the count is known only after planning, so start as
  // many as the caller allows and the inputs could use (at least one task per input)
  const want = threadsFor(todo, opts);
  const workers = want > 1 ? startWorkers(want - 1) : undefined;
  try {
    return await convertPlanned(inputs, todo, done, stems, outDir, ext, key, opts, t0, want, workers);
  } finally {
    if (workers) await stopWorkers(workers);
  }
}

async function convertPlanned(inputs: string[], todo: string[], done: Map<string, { entry: ManifestEntry; problems: Problem[] }>,
                              stems: Map<string, string>, outDir: string, ext: string, key: string, opts: ConvertOptions,
                              t0: number, want: number, workers: Workers | undefined): Promise<ConvertSummary> {
  const k = kernels();
  const tasks = await planTasks(k, todo, stems, { kind: opts.kind, ext, taskBytes: opts.taskBytes ?? DEFAULT_TASK_BYTES });
  const threads = Math.max(1, Math.min(want, tasks.length));
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
  let results: TaskResult[];
  try {
    results = await runTasks({ tasks, outDir, opts: fileOptions(opts), threads, progress: opts.progress ?? new SharedArrayBuffer(16), onResult, workers });
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
  return {
    results, problems, manifest, resumed: [...done.keys()], threads,
    events: results.reduce((a, r) => a + r.rows, 0),
    inputBytes: results.reduce((a, r) => a + r.taskBytes, 0),
    outputBytes: results.reduce((a, r) => a + r.output.bytes, 0),
    seconds,
  };
}

/** Input bytes that make starting one more worker worth it (a worker takes ~0.3 s to be ready). */
const BYTES_PER_THREAD = 256 << 20;

/**
 * Threads for a job: --threads when given; otherwise all cores, but no more than the job's size
 * pays for, so a small job is not slowed down by starting workers it has no use for.
 */
function threadsFor(inputs: string[], opts: ConvertOptions): number {
  if (opts.threads !== undefined) return Math.max(1, opts.threads);
  const bytes = inputs.reduce((a, i) => a + statSync(i).size, 0);
  return Math.max(1, Math.min(availableParallelism(), Math.floor(bytes / BYTES_PER_THREAD)));
}

/** Only the plain data of the options goes to the workers (callbacks can't cross threads). */
function fileOptions(o: ConvertOptions): FileOptions {
  return { format: o.format, kind: o.kind, verify: o.verify, onError: o.onError, scone: o.scone, sink: o.sink, metadataLayout: o.metadataLayout, windowBytes: o.windowBytes };
}

function publicOptions(o: ConvertOptions, threads: number): Record<string, unknown> {
  return {
    format: o.format, kind: o.kind, verify: o.verify, on_error: o.onError, precision: o.scone.precision,
    time_range: o.scone.timeRange, bins: o.scone.bins, compression: o.format === "parquet" ? o.sink.compression : undefined,
    metadata_layout: o.metadataLayout, threads, task_bytes: o.taskBytes ?? DEFAULT_TASK_BYTES,
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
