// Fans tasks out over worker threads (piscina), or runs them here for --threads 1. Each task
// writes its own output; results come back in task order. In fail mode the first error stops
// new tasks from starting; tasks already running finish their (complete, valid) outputs.
import { Piscina } from "piscina";
import { ArrowsmithError } from "../errors.js";
import { kernels } from "../wasm.js";
import type { FileOptions, Task, TaskResult } from "./convert-file.js";
import { runTask } from "./tasks.js";
import type { WorkerReply, WorkerRequest } from "./worker.js";

export interface PoolRun {
  tasks: Task[];
  outDir: string;
  opts: FileOptions;
  threads: number;
  /** Shared [input bytes, events] counters (BigInt64 × 2) for progress. */
  progress: SharedArrayBuffer;
  /** Called as each task finishes (any order). */
  onResult?: (r: TaskResult, task: Task) => void;
  /** Workers already started (see startWorkers), used for threads > 1. */
  workers?: Workers;
}

export type Workers = Piscina<WorkerRequest, WorkerReply>;

/**
 * Starts `threads` workers now: each imports its modules and makes its wasm instance while the
 * main thread is still planning (a worker takes ~0.2–0.4 s to be ready here).
 */
export function startWorkers(threads: number): Workers {
  const { filename, execArgv } = workerFile();
  const pool: Workers = new Piscina<WorkerRequest, WorkerReply>({ filename, execArgv, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  livePools.add(pool);
  return pool;
}

/** Stops workers started with startWorkers. */
export async function stopWorkers(pool: Workers): Promise<void> {
  livePools.delete(pool);
  await pool.destroy();
}

function workerFile(): { filename: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith(".ts");
  // under vitest/tsx the sources are .ts, and workers need the same loader
  return { filename: new URL(ts ? "./worker.ts" : "./worker.js", import.meta.url).href, execArgv: ts ? ["--import", "tsx"] : [] };
}

function toError(e: Extract<WorkerReply, { ok: false }>["error"]): ArrowsmithError {
  return new ArrowsmithError(e.code as never, e.message, { file: e.file, offset: e.offset, record: e.record, hint: e.hint });
}

const livePools = new Set<Piscina>();

/** Terminates every worker of this process (on Ctrl-C, before temporary files are removed). */
export async function stopAllWorkers(): Promise<void> {
  await Promise.allSettled([...livePools].map((p) => p.destroy()));
}

export async function runTasks(run: PoolRun): Promise<TaskResult[]> {
  const { tasks, outDir, opts } = run;
  const results: TaskResult[] = new Array(tasks.length);
  const counters = new BigInt64Array(run.progress);
  const threads = Math.max(1, Math.min(run.threads, tasks.length));
  // this thread is one of the lanes: it is warm already, and a worker costs ~0.3 s to start here
  const pool = threads > 1 ? run.workers ?? startWorkers(threads - 1) : undefined;
  let first: unknown;
  let next = 0;
  const k = kernels();
  const local = (task: Task) => runTask(k, task, outDir, opts, (bytes, events) => {
    counters[0] += BigInt(bytes);
    counters[1] += BigInt(events);
  });
  const remote = async (task: Task): Promise<TaskResult> => {
    let reply: WorkerReply;
    try {
      reply = await pool!.run({ task, outDir, opts, progress: run.progress });
    } catch (e) {
      const where = task.part === undefined ? task.input : `${task.input} (part ${task.part})`;
      reply = { ok: false, error: { code: "internal", message: `the worker converting ${where} died: ${(e as Error)?.message ?? e}`, file: task.input } };
    }
    if (!reply.ok) throw toError(reply.error);
    return reply.result;
  };
  // at most `threads` tasks in flight; after a failure no new task starts, running ones finish
  const lane = async (run1: (t: Task) => Promise<TaskResult>) => {
    while (first === undefined && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await run1(tasks[i]);
        run.onResult?.(results[i], tasks[i]);
      } catch (e) {
        first ??= e;
      }
    }
  };
  try {
    await Promise.all([lane(local), ...Array.from({ length: threads - 1 }, () => lane(remote))]);
  } finally {
    if (pool && !run.workers) await stopWorkers(pool);
  }
  if (first !== undefined) throw first;
  return results;
}
