// The in-memory reader: the record batches `convert` would write, handed to the caller in this
// thread instead of written to files. Each batch is copied out of the wasm memory it was built in
// (that memory is reused for the next one), and a TFRecord is read only as far as the caller keeps
// up: the reading waits after a window (16 MiB of input) while AHEAD batches are not yet taken. An
// NPZ file's batches are made in one go, as `convert` makes them.
import { Data, RecordBatch, type Schema } from "apache-arrow";
import { withoutExtensions } from "../arrow.js";
import { SCONE_DEFAULTS, type SconeOptions } from "../datasets/scone.js";
import { ArrowsmithError } from "../errors.js";
import type { Sink, SinkResult, TensorType } from "../sinks/sink.js";
import { Kernels } from "../wasm.js";
import { FILE_DEFAULTS, type FileOptions, type Kind, type Task } from "./task.js";
import { expandInputs, outputStem } from "./inputs.js";
import { planTasks } from "./plan.js";
import type { OnError, Problem } from "./policy.js";
import { decodeTask } from "./tasks.js";

export interface ReadOptions {
  /** Dataset kind (default "auto": detected per file). */
  kind?: Kind;
  /** Check CRCs (default true). */
  verify?: boolean;
  /** On a damaged record (default "fail": throw; "skip": drop it and report it to `onProblem`). */
  onError?: OnError;
  /** SCONE options (precision, axes, bins; each defaults as in SCONE_DEFAULTS). */
  scone?: Partial<SconeOptions>;
  /** Cluster metadata layout (default "auto"). */
  metadataLayout?: FileOptions["metadataLayout"];
  /** Tensor columns as Arrow's fixed_shape_tensor extension (default) or plain FixedSizeList. */
  tensorType?: TensorType;
  /** Largest TFRecord record accepted, in bytes (default 64 MiB). */
  maxRecordBytes?: number;
  /** Each problem skipped in "skip" mode. */
  onProblem?: (p: Problem) => void;
}

/** Batches a TFRecord reader may run ahead of the caller. */
const AHEAD = 4;

/** A deep copy of `d` in JS memory (its buffers may be views of wasm memory about to be reused). */
function copyData(d: Data): Data {
  return new Data(d.type, d.offset, d.length, d.nullCount,
    [d.valueOffsets?.slice(), d.values?.slice(), d.nullBitmap?.slice(), d.typeIds?.slice()] as never,
    d.children.map(copyData), d.dictionary);
}

function fileOptions(o: ReadOptions): FileOptions {
  const known = ["kind", "verify", "onError", "scone", "metadataLayout", "tensorType", "maxRecordBytes", "onProblem"];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ArrowsmithError("usage", `options.${k} is not an option of readRecordBatches (${known.join(", ")})`);
  return {
    ...FILE_DEFAULTS,
    kind: o.kind ?? FILE_DEFAULTS.kind,
    verify: o.verify ?? FILE_DEFAULTS.verify,
    onError: o.onError ?? FILE_DEFAULTS.onError,
    scone: { ...SCONE_DEFAULTS, ...Object.fromEntries(Object.entries(o.scone ?? {}).filter(([, v]) => v !== undefined)) },
    metadataLayout: o.metadataLayout ?? FILE_DEFAULTS.metadataLayout,
    sink: { ...FILE_DEFAULTS.sink, tensorType: o.tensorType ?? "extension" },
    maxRecordBytes: o.maxRecordBytes,
    // the batches only: no dataset statistics
    report: false,
  };
}

/**
 * The Arrow record batches of `path` (a file, a folder or a glob, as `convert` takes them), with
 * the schema `convert --format arrow` gives the files, one input after another, without writing
 * anything:
 *
 *     for await (const batch of readRecordBatches("heatmaps_0000.tfrecord")) use(batch);
 *
 * Stopping early (break) closes the input. Errors are ArrowsmithErrors, as from `convert`.
 */
export async function* readRecordBatches(path: string | string[], options: ReadOptions = {}): AsyncGenerator<RecordBatch> {
  const opts = fileOptions(options);
  const inputs = expandInputs(Array.isArray(path) ? path : [path]);
  // an instance of its own: the caller may read several inputs at once in this thread (one
  // instance's allocator is a stack, and its memory growing would detach another reader's views)
  const k = new Kernels();
  const stems = new Map(inputs.map((i) => [i, outputStem(i)]));
  // one task per input: no cutting of large files, the batches come in file order
  const tasks = await planTasks(k, inputs, stems, { kind: opts.kind, ext: ".arrow", taskBytes: Number.MAX_SAFE_INTEGER });
  for (const task of tasks) yield* taskBatches(k, task, opts, options.onProblem);
}

async function* taskBatches(k: Kernels, task: Task, opts: FileOptions, onProblem?: (p: Problem) => void): AsyncGenerator<RecordBatch> {
  const queue: RecordBatch[] = [];
  let wake: (() => void) | undefined;
  let resume: { go: () => void; stop: (e: Error) => void } | undefined;
  let cancelled = false;
  let finished = false;
  let failure: unknown;
  const CANCELLED = new Error("the caller stopped reading");
  const open = (fileSchema: Schema): Sink => {
    const schema = opts.sink.tensorType === "plain" ? withoutExtensions(fileSchema) : fileSchema;
    let rows = 0;
    return {
      write(b: RecordBatch) {
        queue.push(new RecordBatch(schema, copyData(b.data) as Data<never>));
        rows += b.numRows;
        wake?.();
      },
      finish: (): SinkResult => ({ path: "", rows, bytes: 0 }),
      abort() {},
      ready: () => {
        if (cancelled) return Promise.reject(CANCELLED);
        if (queue.length < AHEAD) return undefined;
        return new Promise<void>((go, stop) => { resume = { go, stop }; });
      },
    };
  };
  const run = (async () => (await decodeTask(k, task, opts, open)).problems)().then((problems) => { problems.forEach((p) => onProblem?.(p)); }, (e) => { failure = e; })
    .finally(() => { finished = true; wake?.(); });
  try {
    for (;;) {
      if (queue.length) {
        const b = queue.shift()!;
        if (queue.length < AHEAD && resume) { const r = resume; resume = undefined; r.go(); }
        yield b;
        continue;
      }
      if (finished) break;
      await new Promise<void>((r) => { wake = r; });
      wake = undefined;
    }
    if (failure !== undefined) throw failure;
  } finally {
    if (!finished) {
      // the caller stopped early: let the reader fail at its next window, so it closes the input
      cancelled = true;
      resume?.stop(CANCELLED);
      await run;
    }
  }
}
