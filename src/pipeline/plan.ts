// Planning: inputs → tasks. A whole file is one task, except a large uncompressed SCONE TFRecord,
// which is cut at record boundaries (found by reading the record headers) into ranges of about
// `taskBytes`, so one big shard also keeps every core busy. The cut points depend only on the
// file and `taskBytes`, never on the thread count, so outputs are the same for any --threads.
import { openInputFile } from "../io/open-input.js";
import { closeSync, readSync } from "node:fs";
import { maskCrc } from "../formats/tfrecord.js";
import { detectTFRecordCompression, maskedCrcOf, readHead } from "../sources.js";
import type { Kernels } from "../wasm.js";
import { detectInput } from "../datasets/kinds.js";
import { isNpz, type Kind, type Task } from "./task.js";
import { statSync } from "node:fs";

export const DEFAULT_TASK_BYTES = 512 << 20;

export interface PlanOptions {
  kind: Kind;
  /** Output file extension, with its dot. */
  ext: string;
  taskBytes: number;
  /** Planning stops between inputs once this is aborted. */
  signal?: AbortSignal;
}

export { isNpz };

/** Record-boundary offsets (with the record index there) at which to cut a file into ranges. */
export function cutPoints(k: Kernels, path: string, size: number, taskBytes: number): { offset: number; index: number }[] {
  const fd = openInputFile(path);
  const head = new Uint8Array(12);
  const cuts: { offset: number; index: number }[] = [];
  try {
    let pos = 0;
    let index = 0;
    let rangeStart = 0;
    const ptr = k.alloc(12);
    try {
      while (pos + 12 <= size) {
        if (readSync(fd, head, 0, 12, pos) !== 12) break;
        // a header whose length CRC fails ends the splitting: the task reading it reports it
        k.bytes().set(head, ptr);
        if (maskCrc(k.crc32c(ptr, 8)) !== (head[8] | (head[9] << 8) | (head[10] << 16) | (head[11] << 24)) >>> 0) break;
        const length = (head[0] | (head[1] << 8) | (head[2] << 16) | (head[3] << 24)) >>> 0;
        const hi = (head[4] | (head[5] << 8) | (head[6] << 16) | (head[7] << 24)) >>> 0;
        const next = pos + 16 + hi * 2 ** 32 + length;
        if (next > size) break;
        if (pos - rangeStart >= taskBytes) {
          cuts.push({ offset: pos, index });
          rangeStart = pos;
        }
        pos = next;
        index++;
      }
    } finally {
      k.release(ptr);
    }
  } finally {
    closeSync(fd);
  }
  // a last range much smaller than the others is merged into the one before it
  if (cuts.length && size - cuts[cuts.length - 1].offset < taskBytes / 4) cuts.pop();
  return cuts;
}

function partName(stem: string, part: number, ext: string): string {
  return `${stem}-part${String(part).padStart(4, "0")}${ext}`;
}

/** Tasks for the inputs, in input order (parts in file order). `stems` maps input → output stem. */
export async function planTasks(k: Kernels, inputs: string[], stems: Map<string, string>, o: PlanOptions): Promise<Task[]> {
  const tasks: Task[] = [];
  for (const input of inputs) {
    // reading the record headers of a large shard takes a while: let a signal in between inputs
    if (o.signal) {
      await new Promise((r) => setImmediate(r));
      o.signal.throwIfAborted();
    }
    const stem = stems.get(input)!;
    const { container, kind } = await detectInput(k, input, o.kind);
    if (container === "npz") {
      tasks.push({ input, outName: stem + o.ext, kind, container });
      continue;
    }
    const size = statSync(input).size;
    const compressed = detectTFRecordCompression(readHead(input, 16), (b) => maskedCrcOf(k, b)) !== "none";
    const cuts = kind === "scone" && !compressed && size > o.taskBytes ? cutPoints(k, input, size, o.taskBytes) : [];
    if (!cuts.length) {
      tasks.push({ input, outName: stem + o.ext, kind, container });
      continue;
    }
    let start = { offset: 0, index: 0 };
    [...cuts, { offset: size, index: -1 }].forEach((cut, part) => {
      tasks.push({ input, outName: partName(stem, part, o.ext), kind, container, part, range: { start: start.offset, end: cut.offset, index: start.index } });
      start = cut;
    });
  }
  return tasks;
}
