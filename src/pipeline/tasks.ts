// Runs one task in the calling thread, whatever its input format; used by workers and by the
// single-thread path alike, so outputs do not depend on the thread count.
import type { Kernels } from "../wasm.js";
import { type FileOptions, type Progress, runTFRecordTask, type Task, type TaskResult } from "./convert-file.js";
import { runNpzTask } from "./npz-task.js";
import { isNpz } from "./plan.js";

export async function runTask(k: Kernels, task: Task, outDir: string, opts: FileOptions, progress?: Progress): Promise<TaskResult> {
  if (task.container ? task.container === "npz" : isNpz(task.input)) return runNpzTask(k, task, outDir, opts, progress);
  return runTFRecordTask(k, task, outDir, opts, progress);
}

/** Adds a task's progress to [input bytes, events] counters shared with the main thread. */
export function progressCounter(shared: SharedArrayBuffer | undefined): Progress | undefined {
  if (!shared) return undefined;
  const counters = new BigInt64Array(shared);
  return (bytes, events) => {
    Atomics.add(counters, 0, BigInt(bytes));
    Atomics.add(counters, 1, BigInt(events));
  };
}

