// Converts one input file into one output file in the calling thread: read into wasm memory,
// frame and check, decode, run the kernels, write record batches as they fill. This is what a
// worker runs for each task; nothing here holds more than one window and one batch.
import { join } from "node:path";
import type { RecordBatch } from "apache-arrow";
import { SCONE_DEFAULTS, type SconeOptions, SconeBatcher, isSconeRecord } from "../datasets/scone.js";
import { ExampleSchemaInference, GenericBatcher, featureKinds } from "../datasets/generic-tfrecord.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import type { Frame } from "../formats/tfrecord.js";
import { WireError } from "../formats/example.js";
import { openSink, type OutputFormat, type Sink, type SinkResult } from "../sinks/sink.js";
import { maskedCrcOf, openStream, tfrecordWindows } from "../sources.js";
import { type Kernels } from "../wasm.js";
import { ErrorPolicy, type OnError } from "./policy.js";

export type Kind = "auto" | "scone" | "clusters" | "generic";

export interface FileOptions {
  format: OutputFormat;
  kind: Kind;
  verify: boolean;
  onError: OnError;
  scone: SconeOptions;
  windowBytes?: number;
}

export const FILE_DEFAULTS: FileOptions = {
  format: "arrow",
  kind: "auto",
  verify: true,
  onError: "fail",
  scone: SCONE_DEFAULTS,
};

export interface FileResult {
  input: string;
  kind: Exclude<Kind, "auto">;
  compression: string;
  inputBytes: number;
  mtimeMs: number;
  /** Records read from the input (good ones), rows written, records skipped. */
  records: number;
  rows: number;
  skipped: number;
  nonfiniteEvents: number;
  output: SinkResult;
  seconds: number;
}

/**
 * The feature kinds of the first record that decodes among the first few, or undefined (an empty
 * or unreadable start: the conversion itself then reports what is wrong, at the right record).
 */
export async function firstRecordKinds(k: Kernels, path: string): Promise<Map<string, string> | undefined> {
  const mark = k.mark();
  const input = openStream(path, undefined, (b) => maskedCrcOf(k, b));
  try {
    for await (const w of tfrecordWindows(k, input, { verify: true, windowBytes: 1 << 20, maxRecords: 8 })) {
      for (const f of w.frames) {
        if (f.error) continue;
        try {
          return featureKinds(w.bytes, f);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
        }
      }
    }
    return undefined;
  } catch (e) {
    if (isArrowsmithError(e)) return undefined;
    throw e;
  } finally {
    input.stream.close();
    k.release(mark);
  }
}

type Batcher = { add(b: Uint8Array, ptr: number, f: Frame, file: string): void; flush(): void; events: number; nonfiniteEvents?: number };

/** Converts one TFRecord file to `outDir/outName`. */
export async function convertTFRecordFile(k: Kernels, path: string, outDir: string, outName: string,
                                          opts: FileOptions, policy: ErrorPolicy): Promise<FileResult> {
  const t0 = performance.now();
  const crcOf = (b: Uint8Array) => maskedCrcOf(k, b);
  let kind = opts.kind;
  if (kind === "auto") {
    const kinds = await firstRecordKinds(k, path);
    kind = !kinds || isSconeRecord(kinds) ? "scone" : "generic";
  }
  if (kind === "clusters") throw new ArrowsmithError("usage", "--kind clusters reads NPZ batches, not TFRecord files", { file: path });

  const mark = k.mark();
  let sink: Sink | undefined;
  let skipped = 0;
  try {
    let batcher: Batcher;
    const emit = (b: RecordBatch) => sink!.write(b);
    if (kind === "scone") {
      const b = new SconeBatcher(k, opts.scone, outName ? basenameOf(path) : path, emit);
      sink = openSink(opts.format, join(outDir, outName), b.schema);
      batcher = { add: (w, p, f, file) => b.add(w, p, f, file), flush: () => b.flush(), get events() { return b.events; }, get nonfiniteEvents() { return b.nonfiniteEvents; } };
    } else {
      const inference = new ExampleSchemaInference();
      const pass1 = openStream(path, undefined, crcOf);
      for await (const w of tfrecordWindows(k, pass1, { verify: opts.verify, windowBytes: opts.windowBytes })) {
        for (const f of w.frames) if (!f.error) {
          try { inference.add(w.bytes, f, path); } catch (e) { if (!isArrowsmithError(e)) throw e; /* reported in pass 2 */ }
        }
      }
      const schema = inference.schema(path);
      const g = new GenericBatcher(schema, basenameOf(path), emit);
      sink = openSink(opts.format, join(outDir, outName), schema);
      batcher = { add: (w, _p, f, file) => g.add(w, f, file), flush: () => g.flush(), get events() { return g.events; } };
    }
    const input = openStream(path, undefined, crcOf);
    let records = 0;
    try {
      for await (const w of tfrecordWindows(k, input, { verify: opts.verify, windowBytes: opts.windowBytes })) {
        for (const f of w.frames) {
          if (f.error) { policy.record(f.error); skipped++; continue; }
          try {
            batcher.add(w.bytes, w.ptr, f, path);
            records++;
          } catch (e) {
            if (!isArrowsmithError(e)) throw e;
            policy.record(e);
            skipped++;
          }
        }
      }
    } catch (e) {
      if (!isArrowsmithError(e) || e.code === "io" || e.code === "internal") throw e;
      policy.restOfFile(e);
      skipped++;
    }
    batcher.flush();
    const output = sink.finish();
    return {
      input: path, kind, compression: input.compression, inputBytes: input.fileSize, mtimeMs: input.mtimeMs,
      records, rows: output.rows, skipped, nonfiniteEvents: batcher.nonfiniteEvents ?? 0, output,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    sink?.abort();
    throw e;
  } finally {
    k.release(mark);
  }
}

function basenameOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}
