// A conversion worker (see pool.ts): one wasm instance per thread, one task per message. Only a
// summary goes back to the main thread (images never cross threads); errors come back as plain
// objects because class identity does not survive the thread boundary.
import { parentPort, workerData } from "node:worker_threads";
import { ArrowsmithError } from "../errors.js";
import { Kernels, kernels } from "../wasm.js";
import type { Task, TaskOptions, TaskResult } from "./convert-file.js";
import { progressCounter, runTask } from "./tasks.js";

export interface WorkerRequest {
  task: Task;
  outDir: string;
  opts: TaskOptions;
  /** [input bytes, events] counters shared with the main thread for progress. */
  progress?: SharedArrayBuffer;
}

export type WorkerReply =
  | { ok: true; result: TaskResult }
  | { ok: false; error: { code: string; message: string; file?: string; offset?: number; record?: number; hint?: string } };

const SLEEP = new Int32Array(new SharedArrayBuffer(4));

// wasm instances of this worker: the thread's own, and a second for a task that starts while the
// previous one drains its output (its regions stay in use until its last write returns)
const spare: Kernels[] = [];
const made: Kernels[] = [];

export async function work(req: WorkerRequest, onDraining?: () => void): Promise<WorkerReply> {
  // fault injection for the tests: a worker that dies mid-task
  const kill = process.env.ARROWSMITH_TEST_KILL_WORKER;
  if (kill && req.task.input.includes(kill)) process.exit(70);
  // fault injection for the terminal tests: every input window takes this much longer (the worker
  // blocks, as it does in real work), so that a small job lasts as long as a large one
  const slow = Number(process.env.ARROWSMITH_TEST_WINDOW_MS ?? 0);
  const counter = progressCounter(req.progress);
  const progress = slow > 0 && counter ? (bytes: number, events: number) => { counter(bytes, events); Atomics.wait(SLEEP, 0, 0, slow); } : counter;
  try {
    let k = spare.pop();
    if (!k) made.push((k = made.length ? new Kernels() : kernels()));
    try {
      const result = await runTask(k, req.task, req.outDir, req.opts, progress, onDraining);
      return { ok: true, result };
    } finally {
      spare.push(k);
    }
  } catch (e) {
    if (e instanceof ArrowsmithError) {
      return { ok: false, error: { code: e.code, message: e.detail, file: e.file, offset: e.offset, record: e.record, hint: e.hint } };
    }
    return { ok: false, error: { code: "internal", message: (e as Error)?.stack ?? String(e), file: req.task.input } };
  }
}

/** The buffers of a result's kept-event maps and flux sums (the task made them for the reply alone). */
function transferables(r: TaskResult): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  // never a wasm memory (it cannot move, and a view of it would take all of it along)
  const memories = new Set<ArrayBufferLike>([kernels(), ...made].map((k) => k.memory.buffer));
  const arrays: ArrayLike<unknown>[] = (r.lowestEvents ?? []).flatMap((e) => [e.flux, e.err]);
  const sums = r.stats?.kind === "scone" ? Object.values(r.stats.flux) : r.stats ? Object.values(r.stats.images) : [];
  for (const f of sums) arrays.push(f.sum, ...("sum_sq" in f && f.sum_sq ? [f.sum_sq] : []));
  for (const m of arrays) if (ArrayBuffer.isView(m) && m.buffer instanceof ArrayBuffer && !memories.has(m.buffer)) out.add(m.buffer);
  return [...out];
}

/** Set in workerData by the pool that starts this file as a worker. */
export const WORKER_MARK = "arrowsmith-conversion-worker";

// Only as one of our workers (not when a program's own worker thread imports this module): the
// wasm instance is made when the worker starts, not in its first task; then the pool learns that
// this worker has loaded (and may be terminated safely).
if (parentPort && workerData === WORKER_MARK) {
  const port = parentPort;
  kernels();
  port.on("message", (req: WorkerRequest & { id: number }) => {
    const id = req.id;
    // the kept events' maps (views of one buffer a task) move to the main thread rather than being copied
    void work(req, () => port.postMessage({ id, draining: true }))
      .then((reply) => port.postMessage({ ...reply, id }, reply.ok ? transferables(reply.result) : []));
  });
  port.postMessage({ ready: true });
}
