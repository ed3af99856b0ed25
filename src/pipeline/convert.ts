// A conversion job: inputs → tasks → worker pool → one output per task in the output folder, then
// _errors.jsonl and _manifest.json. Only summaries reach this thread.
import { createHash } from "node:crypto";
import { accessSync, constants, lstatSync, mkdirSync, realpathSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { FolderLock, folderError, HOST, removeTemporariesOf } from "../io/folder-lock.js";
import { EXTENSIONS } from "../sinks/sink.js";
import { Kernels } from "../wasm.js";
import type { Task, TaskResult } from "./convert-file.js";
import type { SconeOptions } from "../datasets/scone.js";
import { expandInputs, outputStem } from "./inputs.js";
import { type Finished, finishedEntries, dropIntents, journal, journalIntents, type Manifest, type ManifestEntry, manifestEntry, ownedOutputs, upToDate, writeManifest } from "./manifest.js";
import { type ConvertInput, type ConvertOptions, fileOptions, manifestOptions, resolveConvertOptions, resumeKey } from "./options.js";
import { isNpz, planTasks } from "./plan.js";
import type { Problem } from "./policy.js";
import { maxWorkers, runTasks, type WorkerPool, workerPool } from "./pool.js";
import { BYTES_PER_THREAD } from "./threads.js";
import { plainStats } from "../report/plain.js";
import { type Shard, shardTag, sliceTasks } from "../scale/shards.js";
import { shardManifestName } from "../scale/merge.js";
import { journalTask, readShardManifest, taskBytesOf, taskRecord, upToDateTask, writeShardManifest } from "../scale/shard-run.js";
import { shardIndexName } from "../sinks/snid-index.js";
import { checkIndexFile, collectIndex, INDEX_FILE, indexedOutputs, indexedTasks, type RescanOptions, writeFolderIndex } from "./index-build.js";
import type { IndexPart } from "../sinks/snid-index.js";

export type { ConvertInput, ConvertOptions } from "./options.js";

export interface ConvertSummary {
  results: TaskResult[];
  /** The report files written beside the manifest (none with --no-report). */
  /** The report files, with the wall and CPU seconds (this process) spent writing them after the conversion. */
  report?: { json: string; html: string; seconds: number; cpuSeconds: number };
  /** The SNID index written beside the manifest (none when no SCONE events were converted). */
  index?: { file: string; rows: number };
  problems: Problem[];
  manifest: Manifest;
  /** Inputs left alone by --resume. */
  resumed: string[];
  /** Inputs of earlier runs into the folder, kept in the manifest (this run was not given them). */
  earlier: string[];
  events: number;
  inputBytes: number;
  outputBytes: number;
  seconds: number;
  threads: number;
}

/** The options that decide an output's contents (for the manifest and --resume). */
export function optionsKey(o: ConvertInput): string {
  return resumeKey(resolveConvertOptions(o));
}

/** Identifies a run for the shards of a job array: its inputs, the options' key and the shard count. */
function runKey(inputs: string[], key: string, shards: number): string {
  return createHash("sha256").update(JSON.stringify({ inputs, key, shards })).digest("hex").slice(0, 16);
}

interface Job {
  opts: ConvertOptions;
  inputs: string[];
  stems: Map<string, string>;
  outDir: string;
  ext: string;
  key: string;
  run: string;
  earlier: Map<string, Finished>;
  done: Map<string, Finished>;
  warn: (m: string) => void;
  t0: number;
}

export async function convert(inputArgs: string[], options: ConvertInput): Promise<ConvertSummary> {
  const t0 = performance.now();
  const opts = resolveConvertOptions(options);
  const warn = opts.onWarning ?? (() => {});
  const inputs = expandInputs(inputArgs, { recursive: opts.recursive, onWarning: warn });
  if (!inputs.length) throw new ArrowsmithError("usage", "no input files found", { hint: "give .tfrecord/.npz files or folders holding them" });
  const stems = new Map(inputs.map((i) => [i, outputStem(i)]));
  const outDir = makeOutputFolder(opts.output);
  const key = resumeKey(opts);
  const run = runKey(inputs, key, opts.shard?.count ?? 1);
  const signal = opts.signal;
  let lock: FolderLock | undefined;
  try {
    lock = FolderLock.acquire(outDir, { run, shard: opts.shard });
    signal?.throwIfAborted();
    await checkIndexFile(outDir, opts.shard ? shardIndexName(opts.shard) : INDEX_FILE, opts.overwrite);
    if (opts.shard) return await convertShard({ opts, inputs, stems, outDir, ext: EXTENSIONS[opts.format], key, run, earlier: new Map(), done: new Map(), warn, t0 }, opts.shard);
    const earlier = finishedEntries(outDir, warn);
    // --resume: inputs whose entry matches (size, mtime, options) and whose outputs are all there
    const done = new Map<string, Finished>();
    if (opts.resume) {
      for (const input of inputs) {
        const j = earlier.get(input);
        if (j && upToDate(outDir, input, j.entry, key)) done.set(input, j);
      }
    }
    const job: Job = { opts, inputs, stems, outDir, ext: EXTENSIONS[opts.format], key, run, earlier, done, warn, t0 };
    const todo = inputs.filter((i) => !done.has(i));
    // workers load their modules while this thread plans: one per input at most (each input is
    // at least one task), more once the plan has split large files
    const want = threadsFor(todo, opts);
    const pool = opts.inThread ? undefined : workerPool();
    if (todo.length) pool?.ensure(Math.min(want, todo.length));
    const tasks = await planTasks(new Kernels(), todo, stems, { kind: opts.kind, ext: job.ext, taskBytes: opts.taskBytes, signal }); // an instance of its own: several conversions may plan at once in this thread
    checkPlan(job, tasks, tasks, [...done].flatMap(([input, j]) => j.entry.outputs.map((o): [string, string] => [o.file, input])),
      (owner, t) => opts.resume && owner.input === t.input);
    checkReconverted(job, tasks);
    return await convertPlanned(job, todo, tasks, want, pool);
  } catch (e) {
    if (!signal?.aborted) throw e;
    removeOwnTemporaries(outDir);
    throw interrupted(signal);
  } finally {
    lock?.release();
  }
}

/** The error of an aborted job; its `cause` is the abort's reason (the CLI passes the signal's name). */
function interrupted(signal: AbortSignal): ArrowsmithError {
  const why = typeof signal.reason === "string" ? signal.reason : "aborted";
  return new ArrowsmithError("interrupted", `interrupted (${why}); the outputs already written are complete`, {
    hint: "run the same command again with --resume to finish the job", cause: signal.reason,
  });
}

/**
 * Creates the output folder (and its parents); returns its real path.
 * Every way this can fail is said in words: an existing file, a file above it, no permission.
 */
function makeOutputFolder(path: string): string {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new ArrowsmithError("usage", `output ${path} exists and is not a folder`, { hint: "give a folder for -o" });
    if (code === "ENOTDIR") throw new ArrowsmithError("usage", `cannot create output folder ${path}: ${fileAbove(path) ?? "a part of its path"} is a file, not a folder`);
    // an unwritable parent has been reported as ENOENT: name the real cause
    const above = existingAbove(path);
    if (code === "ENOENT" && above && !writable(above)) e = Object.assign(new Error("permission denied"), { code: "EACCES" });
    throw folderError(e, path, "cannot create the output folder");
  }
  return realpathSync(path);
}

function existingAbove(path: string): string | undefined {
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      if (lstatSync(p, { throwIfNoEntry: false })) return p;
    } catch { /* ENOTDIR: a file above; go on up to it */ }
    if (dirname(p) === p) return undefined;
  }
}

function fileAbove(path: string): string | undefined {
  const p = existingAbove(path);
  return p && !statSync(p, { throwIfNoEntry: false })?.isDirectory() ? p : undefined;
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks the whole plan before anything is written: no two inputs write the same output (parts
 * included; `earlierOutputs`: outputs of inputs that --resume leaves alone), and no output replaces
 * an input (by name, symbolic link or hard link). Then `mine`, the tasks this run writes: none
 * replaces a file that an earlier run owns, or that arrowsmith did not write, unless asked to
 * (`mayReplace` says which owners this run may replace anyway).
 */
function checkPlan(job: Job, plan: Task[], mine: Task[], earlierOutputs: [string, string][],
                   mayReplace: (owner: { input: string; listedIn: string }, t: Task) => boolean): void {
  const { outDir, opts } = job;
  const writer = new Map<string, string>();
  const claim = (name: string, input: string) => {
    const prev = writer.get(name);
    if (prev !== undefined && prev !== input) {
      throw new ArrowsmithError("usage", `inputs ${prev} and ${input} would both write ${name}`, { hint: "convert them into different output folders, or rename one" });
    }
    writer.set(name, input);
  };
  for (const [name, input] of earlierOutputs) claim(name, input);
  for (const t of plan) claim(t.outName, t.input);

  const inputIds = new Map<string, string>();
  for (const i of job.inputs) {
    const st = statSync(i);
    inputIds.set(`${st.dev}:${st.ino}`, i);
  }
  const owned = ownedOutputs(outDir);
  for (const t of plan) {
    const p = join(outDir, t.outName);
    const ls = lstatSync(p, { throwIfNoEntry: false });
    if (!ls) continue;
    // the output's name is an input, or a link to one: writing it would lose that input
    const st = statSync(p, { throwIfNoEntry: false }) ?? ls;
    const victim = inputIds.get(`${st.dev}:${st.ino}`) ?? inputIds.get(`${ls.dev}:${ls.ino}`);
    if (victim) {
      throw new ArrowsmithError("usage", `output ${t.outName} of ${t.input} would replace the input ${victim}${ls.isSymbolicLink() ? " (a symbolic link to it)" : victim !== p ? " (a hard link to it)" : ""}`, {
        file: p, hint: "choose another output folder",
      });
    }
    if (opts.overwrite || !mine.includes(t)) continue;
    const owner = owned.get(t.outName);
    if (owner && mayReplace(owner, t)) continue;
    if (owner) {
      throw new ArrowsmithError("usage", `${t.outName} was written by an earlier run (for ${owner.input}, listed in ${owner.listedIn})`, {
        file: p, hint: owner.input === t.input ? "use --resume to finish or update that run, or --overwrite to replace its outputs" : "use --overwrite to replace it, or choose another output folder",
      });
    }
    throw new ArrowsmithError("usage", `${t.outName} exists and no manifest here lists it (a file arrowsmith did not write?)`, {
      file: p, hint: "move it away, choose another output folder, or use --overwrite to replace it",
    });
  }
}

/** An input converted here before keeps its entry unless asked to convert it again. */
function checkReconverted(job: Job, tasks: Task[]): void {
  const { outDir, opts, earlier } = job;
  if (opts.resume || opts.overwrite) return;
  for (const t of tasks) {
    const prior = earlier.get(t.input);
    if (prior && prior.entry.outputs.some((o) => lstatSync(join(outDir, o.file), { throwIfNoEntry: false }))) {
      throw new ArrowsmithError("usage", `${t.input} was converted into this folder by an earlier run (${prior.entry.outputs.map((o) => o.file).join(", ")})`, {
        file: outDir, hint: "use --resume to skip inputs already converted with these options, or --overwrite to convert it again",
      });
    }
  }
}

async function convertPlanned(job: Job, todo: string[], tasks: Task[], want: number, pool: WorkerPool | undefined): Promise<ConvertSummary> {
  const { opts, inputs, outDir, key, done, earlier, warn } = job;
  const threads = pool ? Math.max(1, Math.min(want, tasks.length)) : 1;
  if (tasks.length) pool?.ensure(threads);
  opts.onPlan?.({ tasks: tasks.length, inputs: todo.length, skipped: done.size, bytes: todo.reduce((a, i) => a + statSync(i).size, 0) });

  // journal each input as soon as all its tasks are done
  const pending = new Map<string, number>();
  for (const t of tasks) pending.set(t.input, (pending.get(t.input) ?? 0) + 1);
  const finished = new Map<string, TaskResult[]>();
  let count = 0;
  const onResult = (r: TaskResult, task: Task) => {
    // a task's per-pixel sums come as float64 arrays (moved from the worker, not serialized): JSON
    // arrays from here on, in what a caller sees (onTask, the results) as anywhere else
    if (r.stats) r.stats = plainStats(r.stats);
    const list = finished.get(task.input) ?? [];
    list.push(r);
    finished.set(task.input, list);
    opts.onTask?.(r, ++count, tasks.length);
    if (list.length === pending.get(task.input)) {
      list.sort((a, b) => (a.part ?? 0) - (b.part ?? 0));
      journal(outDir, manifestEntry(list, key), list.flatMap((x) => x.problems));
    }
  };
  // the report's modules load, and its SCONE figures compile, while the workers convert (see
  // loadReport), in a small job; a large one loads them once its tasks are done, so that their
  // ~75 MB (Vega, resvg) do not add to the workers' memory, for a second in a job of many
  const startReport = () => (opts.report === false ? undefined : loadReport(tasks.some((t) => t.kind === "scone") ? opts.scone : undefined));
  const jobBytes = tasks.reduce((a, t) => a + (t.range ? t.range.end - t.range.start : statSync(t.input).size), 0);
  let reporting = jobBytes < REPORT_PRELOAD_BYTES ? startReport() : undefined;
  let results: TaskResult[] = [];
  try {
    if (tasks.length) {
      journalIntents(outDir, tasks);
      results = await runTasks({ tasks, outDir, opts: fileOptions(opts), threads, pool, progress: opts.progress ?? new SharedArrayBuffer(16), onResult, signal: opts.signal });
    }
  } catch (e) {
    // a worker that died mid-write leaves its temporary file behind
    removeOwnTemporaries(outDir);
    if (!opts.signal?.aborted) dropIntents(outDir);
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
  const written = new Set(entries.flatMap((e) => e.outputs.map((o) => o.file)));
  // an input converted again (other options, another format): its earlier outputs that this run
  // did not write again are ours and would be listed nowhere, so they go
  for (const input of todo) {
    for (const o of earlier.get(input)?.entry.outputs ?? []) {
      if (written.has(o.file)) continue;
      const p = join(outDir, o.file);
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (st?.isFile() && st.size === o.bytes) {
        rmSync(p, { force: true });
        warn(`removed ${o.file}, written for ${input} by an earlier run with other options`);
      }
    }
  }
  // entries of earlier runs for inputs this run was not given stay listed, unless this run replaced an output of theirs
  const kept: string[] = [];
  for (const [input, j] of earlier) {
    if (job.stems.has(input)) continue;
    const replaced = j.entry.outputs.find((o) => written.has(o.file));
    if (replaced) { warn(`${replaced.file} of ${input} (an earlier run) was replaced: that input is no longer listed in the manifest`); continue; }
    entries.push(j.entry);
    problems.push(...j.problems);
    kept.push(input);
  }
  // the SNID index of every SCONE output the manifest lists, kept ones included; before the
  // manifest, which is written last
  const index = await writeFolderIndex(outDir, INDEX_FILE, await collectIndex(outDir, indexedOutputs(entries), freshIndex(results), rescanOptions(job), warn));
  const seconds = (performance.now() - job.t0) / 1000;
  const manifest = writeManifest(outDir, {
    options: manifestOptions(opts, threads), entries, problems, resumed: done.size, earlier: kept.length, wallSeconds: seconds,
  });
  reporting ??= startReport();
  const rep = reporting && await reporting;
  const lowestEvents = results.flatMap((r) => r.lowestEvents ?? []);
  for (const r of results) delete r.lowestEvents;
  const r0 = performance.now(), c0 = process.cpuUsage();
  const pages = rep && await rep[0].writeReport(outDir, rep[1].mergeStats(results.map((r) => r.stats)), {
    manifest, problems, complete: done.size === 0, lowestEvents,
    ...(done.size ? { note: `${done.size} input(s) were left alone by --resume and are not in these statistics: run arrowsmith report on the folder to include them` } : {}),
  });
  const c1 = process.cpuUsage(c0);
  const report = pages && { ...pages, seconds: (performance.now() - r0) / 1000, cpuSeconds: (c1.user + c1.system) / 1e6 };
  return {
    results, problems, manifest, resumed: [...done.keys()], earlier: kept, threads, report, ...(index ? { index } : {}),
    events: results.reduce((a, r) => a + r.rows, 0),
    inputBytes: results.reduce((a, r) => a + r.taskBytes, 0),
    outputBytes: results.reduce((a, r) => a + (r.output?.bytes ?? 0), 0),
    seconds,
  };
}

let reportModules: Promise<[typeof import("../report/report.js"), typeof import("../report/stats.js")]> | undefined;

/**
 * The report's modules, imported when a conversion first needs them rather than by every command
 * at start: its figures load Vega and resvg, ~1 s of CPU (`--version` took 1.6 s). With `scone`
 * (axes), the SCONE figure templates are compiled too, while the workers convert.
 */
function loadReport(scone?: Pick<SconeOptions, "timeRange" | "wavelengthRange">) {
  const modules = (reportModules ??= Promise.all([import("../report/report.js"), import("../report/stats.js")]));
  if (!scone) return modules;
  return modules.then(async (m) => {
    (await import("../report/html.js")).prepareSconeFigures(scone);
    return m;
  });
}

export { BYTES_PER_THREAD };

/** Jobs smaller than this load the report's modules while they convert (see convertPlanned). */
export const REPORT_PRELOAD_BYTES = 256 << 20;

/**
 * Workers for a job: --threads when given, otherwise as many as the job's size pays for (a small
 * job is not slowed down by starting workers it has no use for); never more than the cores, nor
 * than the tasks the plan can make (each input is one task, or at most size / taskBytes + 1 parts).
 */
export function threadsFor(inputs: string[], opts: Pick<ConvertOptions, "threads" | "taskBytes">): number {
  const sizes = inputs.map((i) => statSync(i).size);
  const want = opts.threads ?? Math.floor(sizes.reduce((a, b) => a + b, 0) / BYTES_PER_THREAD);
  const tasks = sizes.reduce((a, s, i) => a + (isNpz(inputs[i]) ? 1 : Math.floor(s / opts.taskBytes) + 1), 0);
  return Math.max(1, Math.min(want, maxWorkers(), tasks));
}

/** Removes this process's temporary files in `dir` (on Ctrl-C: only complete files keep a final name). */
export function removeOwnTemporaries(dir: string): void {
  removeTemporariesOf(dir, { pid: process.pid, host: HOST });
}

/**
 * One shard of a job array: plan the whole run (every shard finds the same tasks), keep this
 * shard's slice, skip (with --resume) the tasks it already finished, convert the rest, and write
 * the shard's manifest, also when it fails, so that `merge` can name it.
 */
async function convertShard(job: Job, shard: Shard): Promise<ConvertSummary> {
  const { opts, inputs, stems, outDir, ext, key, t0 } = job;
  const k = new Kernels(); // its own: several conversions may plan at once in this thread
  const plan = await planTasks(k, inputs, stems, { kind: opts.kind, ext, taskBytes: opts.taskBytes, signal: opts.signal });
  const mine = sliceTasks(plan, plan.map(taskBytesOf), shard);
  // the whole plan's names are checked on every shard; this shard's own earlier outputs (its
  // manifest or journal) are its to replace, as a rerun of a failed shard does
  const own = new Set([shardManifestName(shard), `.arrowsmith-journal.${shardTag(shard)}.jsonl`]);
  checkPlan(job, plan, mine, [], (owner) => own.has(owner.listedIn));
  const run = { key, options: manifestOptions(opts, opts.threads ?? 1), inputs, tasks: plan.map((t) => t.outName) };
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
      onResult: (r) => {
        if (r.stats) r.stats = plainStats(r.stats); // as in convertPlanned, before the journal writes them
        journalTask(outDir, shard, r);
        opts.onTask?.(r, ++count, todo.length);
      },
    });
    const problems = [...keptProblems, ...results.flatMap((r) => r.problems)];
    // the shard's own index (its kept tasks' rows from its earlier index or their inputs); merge joins them
    const taskOutputs = [...kept, ...results].map((t) => taskRecord(t));
    const shardIndex = await writeFolderIndex(outDir, shardIndexName(shard), await collectIndex(outDir, indexedTasks(taskOutputs), freshIndex(results), rescanOptions(job), job.warn, [join(outDir, shardIndexName(shard))]));
    const seconds = (performance.now() - t0) / 1000;
    const sm = writeShardManifest(outDir, shard, { status: "complete", run, tasks: [...kept, ...results], problems, argv: opts.argv ?? [], wall_seconds: seconds });
    const manifest = shardAsManifest(sm.tasks.length, results, problems, seconds, run.options);
    return {
      results, problems, manifest, resumed: [...new Set(kept.map((t) => t.input))], earlier: [], threads: want, ...(shardIndex ? { index: shardIndex } : {}),
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

/** This run's index parts by output name. */
function freshIndex(results: TaskResult[]): Map<string, IndexPart> {
  return new Map(results.flatMap((r) => (r.index ? [[r.index.output, r.index] as [string, IndexPart]] : [])));
}

function rescanOptions(job: Job): RescanOptions {
  const o = job.opts;
  return { verify: o.verify, maxRecordBytes: o.maxRecordBytes, bins: o.scone.bins, taskBytes: o.taskBytes, ext: job.ext };
}
