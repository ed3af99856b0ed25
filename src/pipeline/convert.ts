// A conversion job: inputs → one output per input in the output folder, then _errors.jsonl and
// _manifest.json. Files are converted one after another in this thread here; the worker pool
// runs the same per-file function in parallel.
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { EXTENSIONS } from "../sinks/sink.js";
import { TMP_MARK } from "../sinks/atomic.js";
import { kernels } from "../wasm.js";
import { convertTFRecordFile, type FileOptions, type FileResult } from "./convert-file.js";
import { expandInputs, outputNames } from "./inputs.js";
import { type Manifest, manifestEntry, writeManifest } from "./manifest.js";
import { ErrorPolicy, type Problem } from "./policy.js";

export interface ConvertOptions extends FileOptions {
  output: string;
  /** Called after each file. */
  onFile?: (r: FileResult, done: number, total: number) => void;
}

export interface ConvertSummary {
  files: FileResult[];
  problems: Problem[];
  manifest: Manifest;
  events: number;
  inputBytes: number;
  outputBytes: number;
  seconds: number;
}

/** The options that decide an output's contents (for the manifest and --resume). */
export function optionsKey(o: FileOptions): string {
  return JSON.stringify({ format: o.format, kind: o.kind, scone: o.scone, verify: o.verify });
}

export async function convert(inputArgs: string[], opts: ConvertOptions): Promise<ConvertSummary> {
  const t0 = performance.now();
  const inputs = expandInputs(inputArgs);
  if (!inputs.length) throw new ArrowsmithError("usage", "no input files found", { hint: "give .tfrecord/.npz files or folders holding them" });
  const outDir = resolve(opts.output);
  for (const i of inputs) {
    if (statSync(i).isFile() && resolve(i).startsWith(outDir + "/") && /\.(arrows?|parquet|csv)$/.test(i)) {
      throw new ArrowsmithError("usage", `input ${i} lies in the output folder`, { hint: "choose another output folder" });
    }
  }
  mkdirSync(outDir, { recursive: true });
  removeStaleTemporaries(outDir);
  const names = outputNames(inputs, EXTENSIONS[opts.format]);
  for (const [input, name] of names) {
    if (resolve(outDir, name) === input) throw new ArrowsmithError("usage", `output ${name} would overwrite its input`, { file: input });
  }
  const policy = new ErrorPolicy(opts.onError);
  const k = kernels();
  const files: FileResult[] = [];
  for (const input of inputs) {
    const r = await convertTFRecordFile(k, input, outDir, names.get(input)!, opts, policy);
    files.push(r);
    opts.onFile?.(r, files.length, inputs.length);
  }
  const key = optionsKey(opts);
  const seconds = (performance.now() - t0) / 1000;
  const manifest = writeManifest(outDir, { ...publicOptions(opts) }, files.map((f) => manifestEntry(f, key)), policy.problems, seconds);
  return {
    files, problems: policy.problems, manifest,
    events: files.reduce((a, f) => a + f.rows, 0),
    inputBytes: files.reduce((a, f) => a + f.inputBytes, 0),
    outputBytes: files.reduce((a, f) => a + f.output.bytes, 0),
    seconds,
  };
}

function publicOptions(o: ConvertOptions): Record<string, unknown> {
  return { format: o.format, kind: o.kind, verify: o.verify, on_error: o.onError, precision: o.scone.precision, time_range: o.scone.timeRange, bins: o.scone.bins };
}

/** Temporary files of an interrupted run (never a final name) are removed before a new run. */
function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) if (name.startsWith(".") && name.includes(TMP_MARK)) rmSync(join(dir, name), { force: true });
}
