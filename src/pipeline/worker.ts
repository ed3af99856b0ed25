// A piscina worker: one wasm instance per thread, one task per call. Only a summary goes back to
// the main thread (images never cross threads); errors come back as plain objects because class
// identity does not survive the thread boundary.
import { ArrowsmithError } from "../errors.js";
import { kernels } from "../wasm.js";
import type { FileOptions, Task, TaskResult } from "./convert-file.js";
import { runTask } from "./tasks.js";

export interface WorkerRequest {
  task: Task;
  outDir: string;
  opts: FileOptions;
  /** [input bytes, events] counters shared with the main thread for progress. */
  progress?: SharedArrayBuffer;
}

export type WorkerReply =
  | { ok: true; result: TaskResult }
  | { ok: false; error: { code: string; message: string; file?: string; offset?: number; record?: number; hint?: string } };

// the wasm instance is made when the worker starts, not in its first task
kernels();

export default async function work(req: WorkerRequest): Promise<WorkerReply> {
  // fault injection for the tests: a worker that dies mid-task
  const kill = process.env.ARROWSMITH_TEST_KILL_WORKER;
  if (kill && req.task.input.includes(kill)) process.exit(70);
  const counters = req.progress ? new BigInt64Array(req.progress) : undefined;
  try {
    const result = await runTask(kernels(), req.task, req.outDir, req.opts, counters ? (bytes, events) => {
      Atomics.add(counters, 0, BigInt(bytes));
      Atomics.add(counters, 1, BigInt(events));
    } : undefined);
    return { ok: true, result };
  } catch (e) {
    if (e instanceof ArrowsmithError) {
      return { ok: false, error: { code: e.code, message: e.detail, file: e.file, offset: e.offset, record: e.record, hint: e.hint } };
    }
    return { ok: false, error: { code: "internal", message: (e as Error)?.stack ?? String(e), file: req.task.input } };
  }
}
