// Reading without writing: the conversion's plan, worker pool and task shell, with every task's
// batches going to a sink that keeps nothing (sinks/null.ts). `stats` runs on this, so it uses the
// cores as `convert` does (--threads, large files cut into ranges), and what it reports comes back
// as mergeable accumulators with each task's result, never as the events themselves.
import { Kernels } from "../wasm.js";
import { threadsFor } from "./convert.js";
import { DEFAULT_TASK_BYTES, planTasks } from "./plan.js";
import { runTasks, workerPool } from "./pool.js";
import type { TaskOptions, TaskResult } from "./task.js";

export interface ScanOptions {
  /** What each task reads and accumulates (`discard` is implied). */
  opts: TaskOptions;
  /** Most worker threads (default: as convert chooses, one per 256 MiB of input, at most the cores). */
  threads?: number;
  /** Uncompressed SCONE files larger than this are read as several tasks (default as convert's). */
  taskBytes?: number;
  /** Stops the running tasks (their workers are terminated); the scan then rejects. */
  signal?: AbortSignal;
}

/** Runs the tasks of `inputs` in worker threads, writing nothing; results in task order, and the threads used. */
export async function scan(inputs: string[], o: ScanOptions): Promise<{ results: TaskResult[]; threads: number }> {
  if (!inputs.length) return { results: [], threads: 0 };
  const taskBytes = o.taskBytes ?? DEFAULT_TASK_BYTES;
  const want = threadsFor(inputs, { threads: o.threads, taskBytes });
  const pool = workerPool();
  // workers load while this thread plans, as in convert
  pool.ensure(Math.min(want, inputs.length));
  // no output is written: names only need to be unique
  const stems = new Map(inputs.map((input, i) => [input, String(i)]));
  const tasks = await planTasks(new Kernels(), inputs, stems, { kind: o.opts.kind, ext: "", taskBytes, signal: o.signal });
  const threads = Math.max(1, Math.min(want, tasks.length));
  pool.ensure(threads);
  const results = await runTasks({ tasks, outDir: "", opts: { ...o.opts, discard: true }, threads, pool, progress: new SharedArrayBuffer(16), signal: o.signal });
  return { results, threads };
}
