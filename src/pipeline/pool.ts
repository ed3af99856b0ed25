// Worker threads for conversion. Every task runs in a worker, never in the calling thread: that
// thread keeps its event loop free for Ctrl-C, SIGTERM and the progress line. Each worker writes
// its own output; only summaries come back.
//
// A small pool of our own rather than piscina: a worker must not be terminated while it is still
// loading its modules (on Node 20, terminating a worker in the middle of linking its ES module
// graph can abort the whole process in V8: `--threads 32` on two inputs did, in about half the
// runs), so the pool has to know when each worker has loaded. piscina marks its first workers
// ready before they have loaded anything, and replaces workers that die with new ones that could
// again be terminated while loading.
//
// One pool serves the process. Workers stay for a few seconds after their last task, so a caller
// converting many times (a benchmark, a test suite, a service) does not pay ~0.3 s (much more
// under tsx) to start a worker each time. An idle worker does not keep the process alive; a
// loading one does, until it has loaded.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { bundledOr } from "../bundled.js";
import { ArrowsmithError } from "../errors.js";
import type { Task, TaskResult } from "./convert-file.js";
import { Kernels } from "../wasm.js";
import { LowestBounds } from "../report/scone-stats.js";
import { progressCounter, runTask } from "./tasks.js";
import { WORKER_MARK, type WorkerReply, type WorkerRequest } from "./worker.js";

interface Job {
  resolve: (r: WorkerReply) => void;
  reject: (e: Error) => void;
  /** The task only waits for its last writes (the worker said so): the lane may take the next. */
  draining: boolean;
}

interface Lane {
  worker: Worker;
  /** Settles once the worker has loaded its modules, or has exited. */
  loaded: Promise<void>;
  /** Exited, or being terminated: takes no task. */
  gone: boolean;
  /** Tasks in the worker by request id: one, or two when the older is draining. */
  jobs: Map<number, Job>;
}

/** Whether a lane takes another task: idle, or its one task draining (at most two per worker). */
function open(l: Lane): boolean {
  if (l.gone) return false;
  if (!l.jobs.size) return true;
  return l.jobs.size === 1 && [...l.jobs.values()][0].draining;
}

/**
 * Worker threads that run conversion tasks, one task per worker at a time, except that a task
 * whose output is being written behind (an NPZ batch's last writes on libuv's pool) lets its
 * worker start the next task meanwhile: that task computes while the older one's bytes go out.
 */
export class WorkerPool {
  private readonly lanes: Lane[] = [];
  private waiting: (() => void)[] = [];
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly filename = workerFile();

  /** `idleMs`: how long workers stay after the pool's last task (Infinity: until stop()). */
  constructor(public idleMs = 3000) {}

  /** Workers started and not stopped (loading, idle or busy). */
  get size(): number {
    return this.lanes.filter((l) => !l.gone).length;
  }

  /** Starts workers until there are `threads` (each loads in parallel with the caller's work). */
  ensure(threads: number): void {
    this.clearIdle();
    while (this.size < threads) this.lanes.push(this.spawn());
  }

  private spawn(): Lane {
    // from the .ts sources (vitest, tsx) the worker registers tsx's loader before importing them
    const worker = this.filename.pathname.endsWith(".ts")
      ? new Worker(`import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(this.filename.href)}); })`, { eval: true, workerData: WORKER_MARK })
      : new Worker(this.filename, { workerData: WORKER_MARK });
    let loaded!: () => void;
    const lane: Lane = { worker, loaded: new Promise<void>((r) => { loaded = r; }), gone: false, jobs: new Map() };
    /** Settles one job (by id) or all of them (a worker that failed or exited). */
    const settle = (id: number | undefined, f: (job: Job) => void) => {
      const ids = id === undefined ? [...lane.jobs.keys()] : [id];
      for (const i of ids) {
        const job = lane.jobs.get(i);
        lane.jobs.delete(i);
        if (job) f(job);
      }
      if (!lane.gone && !lane.jobs.size) worker.unref();
      this.wake();
      this.maybeIdle();
    };
    worker.on("message", (m: (WorkerReply & { id: number }) | { ready: true } | { id: number; draining: true }) => {
      if ("draining" in m) {
        const job = lane.jobs.get(m.id);
        if (job) job.draining = true;
        this.wake();
        return;
      }
      if (!("ready" in m)) return settle(m.id, (job) => job.resolve(m));
      loaded();
      if (!lane.jobs.size) worker.unref();
    });
    // an uncaught error ends the worker: 'exit' follows
    worker.on("error", (e) => settle(undefined, (job) => job.reject(e)));
    worker.on("exit", (code) => {
      lane.gone = true;
      loaded();
      this.lanes.splice(this.lanes.indexOf(lane), 1);
      settle(undefined, (job) => job.reject(new Error(`it exited with code ${code}`)));
      // tasks waiting for a free worker fail when none is left
      if (!this.size) for (const w of this.waiting.splice(0)) w();
    });
    return lane;
  }

  /**
   * Runs one task in the first free worker (waiting for one if all are busy). When `signal` is
   * aborted, the worker running the task is terminated and the task fails.
   */
  async run(req: WorkerRequest, signal?: AbortSignal): Promise<WorkerReply> {
    for (;;) {
      signal?.throwIfAborted();
      // an idle worker first; else one whose task is draining
      const lane = this.lanes.find((l) => !l.gone && !l.jobs.size) ?? this.lanes.find(open);
      if (lane) {
        this.clearIdle();
        const onAbort = () => void this.retire(lane);
        signal?.addEventListener("abort", onAbort, { once: true });
        try {
          return await new Promise<WorkerReply>((resolve, reject) => {
            const id = this.nextId++;
            lane.jobs.set(id, { resolve, reject, draining: false });
            lane.worker.ref();
            lane.worker.postMessage({ ...req, id });
          });
        } finally {
          signal?.removeEventListener("abort", onAbort);
        }
      }
      if (!this.size) throw new Error("no worker is running");
      await new Promise<void>((resolve) => {
        const wake = () => { signal?.removeEventListener("abort", wake); resolve(); };
        this.waiting.push(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /**
   * Wakes every caller waiting for a worker: each looks again and waits again if none is free (a
   * caller of available() may find it has no task left and start nothing, so waking one alone
   * could leave the others waiting for good).
   */
  private wake(): void {
    for (const w of this.waiting.splice(0)) w();
  }

  /** Resolves when some worker could start a task now (or none is left, or `signal` aborts). */
  async available(signal?: AbortSignal): Promise<void> {
    while (this.size && !signal?.aborted && !this.lanes.some(open)) {
      await new Promise<void>((resolve) => {
        const wake = () => { signal?.removeEventListener("abort", wake); resolve(); };
        this.waiting.push(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /** Terminates one worker, once it has loaded (see the note at the top). */
  private async retire(lane: Lane): Promise<void> {
    lane.gone = true;
    await lane.loaded;
    await lane.worker.terminate();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private maybeIdle(): void {
    if (this.idleTimer || !Number.isFinite(this.idleMs) || this.waiting.length || this.lanes.some((l) => l.jobs.size)) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      for (const l of this.lanes) if (!l.jobs.size && !l.gone) void this.retire(l);
    }, this.idleMs).unref();
  }

  /** Terminates every worker, also those running a task (their tasks fail). */
  async stop(): Promise<void> {
    this.clearIdle();
    await Promise.allSettled(this.lanes.map((l) => this.retire(l)));
    for (const w of this.waiting.splice(0)) w();
  }
}

/**
 * The module a worker starts from: from the .ts sources worker.ts; from dist/ the bundle of
 * worker.js and everything it imports (scripts/bundle-worker.mjs), which loads in ~0.1 s of CPU
 * instead of ~0.35 s, or worker.js itself when there is no bundle or, in a checkout, it is older
 * than worker.js (a `tsc` without the bundling step).
 */
function workerFile(): URL {
  if (import.meta.url.endsWith(".ts")) return new URL("./worker.ts", import.meta.url);
  return bundledOr(new URL("./worker.js", import.meta.url), new URL("../worker.bundle.js", import.meta.url));
}

let shared: WorkerPool | undefined;

/** The process's pool. */
export function workerPool(): WorkerPool {
  return (shared ??= new WorkerPool());
}

/** Terminates this process's workers now (rather than when they have been idle a while). */
export async function stopWorkers(): Promise<void> {
  await shared?.stop();
}

/** Never more workers than cores: more only share the same cores and each holds its own memory. */
export function maxWorkers(): number {
  return availableParallelism();
}

function toError(e: Extract<WorkerReply, { ok: false }>["error"]): ArrowsmithError {
  return new ArrowsmithError(e.code as never, e.message, { file: e.file, offset: e.offset, record: e.record, hint: e.hint });
}

export interface PoolRun {
  tasks: Task[];
  outDir: string;
  opts: WorkerRequest["opts"];
  /** Tasks in flight at once. */
  threads: number;
  /** Where the tasks run; none: in this thread, one after another. */
  pool: WorkerPool | undefined;
  /** Shared [input bytes, events] counters (BigInt64 × 2) for progress. */
  progress: SharedArrayBuffer;
  /** Called as each task finishes (any order). */
  onResult?: (r: TaskResult, task: Task) => void;
  /** Ends the running tasks (their workers are terminated); no new task starts. */
  signal?: AbortSignal;
}

/**
 * Runs the tasks in the pool, at most `threads` at a time; results come back in task order. In
 * fail mode the first error stops new tasks from starting; tasks already running finish their
 * (complete, valid) outputs.
 */
export async function runTasks(run: PoolRun): Promise<TaskResult[]> {
  const { tasks, outDir, opts, pool, signal } = run;
  const results: TaskResult[] = new Array(tasks.length);
  let first: unknown;
  let next = 0;
  // the report's lowest lists of the tasks finished so far bound what later tasks keep
  const bounds = opts.report === false ? undefined : new LowestBounds();
  const one = async (task: Task): Promise<TaskResult> => {
    const lowestBelow = bounds?.get();
    const o = lowestBelow ? { ...opts, lowestBelow } : opts;
    // in this thread: an instance per task, as a worker has its own (the caller may run several
    // conversions at once in this thread)
    if (!pool) return runTask(new Kernels(), task, outDir, o, progressCounter(run.progress));
    let reply: WorkerReply;
    try {
      reply = await pool.run({ task, outDir, opts: o, progress: run.progress }, signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      const where = task.part === undefined ? task.input : `${task.input} (part ${task.part})`;
      reply = { ok: false, error: { code: "internal", message: `the worker converting ${where} died: ${(e as Error)?.message ?? e}`, file: task.input } };
    }
    if (!reply.ok) throw toError(reply.error);
    return reply.result;
  };
  const lane = async () => {
    while (first === undefined && !signal?.aborted && next < tasks.length) {
      // a task is taken only when a worker can start it: after the first error none starts
      if (pool) {
        await pool.available(signal);
        if (first !== undefined || signal?.aborted || next >= tasks.length) break;
      }
      const i = next++;
      try {
        results[i] = await one(tasks[i]);
        if (bounds) {
          bounds.add(results[i].stats);
          // the kept events of finished tasks that later ones pushed out of every list go now
          for (const r of results) if (r?.lowestEvents?.length) r.lowestEvents = bounds.stillListed(r.stats, r.lowestEvents);
        }
        run.onResult?.(results[i], tasks[i]);
      } catch (e) {
        first ??= e;
      }
    }
  };
  // two per worker: a worker whose task is draining its output starts the next (WorkerPool)
  await Promise.all(Array.from({ length: pool ? Math.max(1, Math.min(2 * run.threads, tasks.length)) : 1 }, lane));
  if (first !== undefined) throw first;
  signal?.throwIfAborted();
  return results;
}
