// Runs one task in the calling thread, whatever its input format; used by workers and by the
// single-thread path alike, so outputs do not depend on the thread count.
import type { Kernels } from "../wasm.js";
import { decodeTFRecordTask, runTFRecordTask } from "./convert-file.js";
import { NullSink } from "../sinks/null.js";
import { isNpz, type Progress, type SinkOpener, type Task, type TaskOptions, type TaskResult } from "./task.js";

const npzTask = (task: Task) => (task.container ? task.container === "npz" : isNpz(task.input));

/**
 * `onDraining`: called when the task has nothing left but to wait for its output's last writes
 * (NPZ batches to Arrow files, written behind), so that a worker may start its next task.
 */
export async function runTask(k: Kernels, task: Task, outDir: string, opts: TaskOptions, progress?: Progress, onDraining?: () => void): Promise<TaskResult> {
  if (opts.discard) return decodeTask(k, task, opts, () => new NullSink(), progress);
  if (npzTask(task)) return (await import("./npz-task.js")).runNpzTask(k, task, outDir, opts, progress, onDraining);
  return runTFRecordTask(k, task, outDir, opts, progress);
}

/** Runs one task into the sink `open` gives (a sink that counts, or hands batches on), whatever its container. */
export async function decodeTask(k: Kernels, task: Task, opts: TaskOptions, open: SinkOpener, progress?: Progress): Promise<TaskResult> {
  if (npzTask(task)) return (await import("./npz-task.js")).decodeNpzTask(k, task, opts, open, progress);
  return decodeTFRecordTask(k, task, opts, open, progress);
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

