// Puts together the SNID index of a folder when a run (or `merge`) ends. Every output a manifest
// lists gets its rows, from where they are cheapest:
//   1. this run's tasks (collected in the workers, sent back with each task's summary);
//   2. an index file already in the folder (`_index.parquet`, or a shard's), for outputs kept from
//      an earlier run by --resume, when its rows for that output are all there;
//   3. the input itself, read again without decoding images (a kept output of a run that was
//      killed before it wrote its index): the same record loop and the same checks as convert,
//      so the same records are kept.
// An output none of these can give (its input moved or changed) is left out with a warning.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { SconeScalars } from "../datasets/scone-scalars.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import { readRecords } from "../io/records.js";
import { type IndexPart, IndexBuilder, INDEX_FILE, indexFilesIn, isOurIndex, readIndex, SHARD_INDEX, writeIndex } from "../sinks/snid-index.js";
import { kernels } from "../wasm.js";
import { outputStem } from "./inputs.js";
import type { ManifestEntry } from "./manifest.js";
import { planTasks } from "./plan.js";
import { ErrorPolicy } from "./policy.js";

/** One output file the index must cover. */
export interface IndexedOutput {
  input: string;
  file: string;
  rows: number;
  /** Size and mtime of the input when it was converted (a changed input is not read again). */
  size: number;
  mtimeMs: number;
}

export interface RescanOptions {
  verify: boolean;
  maxRecordBytes?: number;
  /** SCONE bins: the image byte length a record must have (as convert checks it). */
  bins: [number, number];
  taskBytes: number;
  /** The output file extension (part names). */
  ext: string;
}

/**
 * The index parts of `wanted`, in its order. `fresh`: parts of this run by output name;
 * `reuse`: index files of the folder whose rows may be taken for the outputs not in `fresh`.
 */
export async function collectIndex(dir: string, wanted: IndexedOutput[], fresh: Map<string, IndexPart>, o: RescanOptions,
                                   warn: (m: string) => void, reuse = indexFilesIn(dir, safeNames(dir))): Promise<IndexPart[]> {
  const found = new Map<string, IndexPart>();
  const fits = (p: IndexPart | undefined, w: IndexedOutput) => p !== undefined && p.n === w.rows && p.source === w.input;
  for (const w of wanted) if (fits(fresh.get(w.file), w)) found.set(w.file, fresh.get(w.file)!);
  let missing = wanted.filter((w) => !found.has(w.file));
  for (const file of reuse) {
    if (!missing.length) break;
    let parts: IndexPart[];
    try {
      parts = await readIndex(file);
    } catch (e) {
      if (!isArrowsmithError(e)) throw e;
      warn(`${file} could not be read (${e.detail}); the events it held are read from the inputs again`);
      continue;
    }
    const byOutput = new Map(parts.map((p) => [p.output, p]));
    for (const w of missing) if (fits(byOutput.get(w.file), w)) found.set(w.file, byOutput.get(w.file)!);
    missing = missing.filter((w) => !found.has(w.file));
  }
  // what is left is read again from the inputs, task by task as the plan cuts them
  const byInput = new Map<string, IndexedOutput[]>();
  for (const w of missing) byInput.set(w.input, [...(byInput.get(w.input) ?? []), w]);
  for (const [input, outs] of byInput) {
    const st = statSync(input, { throwIfNoEntry: false });
    if (!st || st.size !== outs[0].size || st.mtimeMs !== outs[0].mtimeMs) {
      warn(`the index leaves out the ${outs.reduce((a, w) => a + w.rows, 0)} events of ${outs.map((w) => w.file).join(", ")}: ${input} is ${st ? "not as it was when converted" : "gone"}; convert it again (--overwrite) to index them`);
      continue;
    }
    const parts = await rescanInput(input, new Set(outs.map((w) => w.file)), o);
    for (const w of outs) {
      const p = parts.get(w.file);
      if (fits(p, w)) found.set(w.file, p!);
      else warn(`the index leaves out the ${w.rows} events of ${w.file}: reading ${input} again gave ${p?.n ?? 0} events, not ${w.rows}; convert it again (--overwrite) to index them`);
    }
  }
  return wanted.filter((w) => found.has(w.file)).map((w) => found.get(w.file)!);
}

function safeNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The index rows of the SCONE outputs named in `outputs` that the input's tasks write, read from the input. */
async function rescanInput(input: string, outputs: Set<string>, o: RescanOptions): Promise<Map<string, IndexPart>> {
  const k = kernels();
  const out = new Map<string, IndexPart>();
  const tasks = await planTasks(k, [input], new Map([[input, outputStem(input)]]), { kind: "scone", ext: o.ext, taskBytes: o.taskBytes });
  const scalars = new SconeScalars({ imageBytes: o.bins[0] * o.bins[1] * 16 });
  for (const t of tasks) {
    if (!outputs.has(t.outName)) continue;
    const b = new IndexBuilder(input, t.outName);
    const mark = k.mark();
    try {
      // skip mode: a kept output was written with every good record, in either mode
      await readRecords(k, input, {
        verify: o.verify, maxRecordBytes: o.maxRecordBytes, policy: new ErrorPolicy("skip"),
        startOffset: t.range?.start, endOffset: t.range?.end, startIndex: t.range?.index,
      }, (w, _ptr, f) => {
        scalars.read(w, f, input);
        const r = b.next();
        const p = b.current;
        p.ids[r] = BigInt(scalars.id);
        p.labels[r] = Number(scalars.label);
        p.z[r] = scalars.z;
        p.zValid[r] = scalars.hasZ ? 1 : 0;
        p.zErr[r] = scalars.zErr;
        p.zErrValid[r] = scalars.hasZErr ? 1 : 0;
        p.records[r] = f.index;
        p.offsets[r] = f.offset;
      });
    } finally {
      k.release(mark);
    }
    out.set(t.outName, b.finish());
  }
  return out;
}

/**
 * Refuses, before a run writes anything, an index file in the folder that arrowsmith did not
 * write (unless --overwrite): the index is replaced when the run ends.
 */
export async function checkIndexFile(dir: string, name: string, overwrite: boolean): Promise<void> {
  const p = join(dir, name);
  if (overwrite || !existsSync(p) || await isOurIndex(p)) return;
  throw new ArrowsmithError("usage", "the file exists and is not an index written by arrowsmith", {
    file: p, hint: "move it away, choose another output folder, or use --overwrite to replace it",
  });
}

/** Writes the index file `name` of `dir` from `parts`; with none, removes an earlier one of ours (it would be stale). */
export async function writeFolderIndex(dir: string, name: string, parts: IndexPart[]): Promise<{ file: string; rows: number } | undefined> {
  const p = join(dir, name);
  if (!parts.length) {
    if (existsSync(p) && await isOurIndex(p)) rmSync(p, { force: true });
    return undefined;
  }
  const r = await writeIndex(p, parts);
  return { file: name, rows: r.rows };
}

/** The SCONE outputs with rows that the manifest entries list, in their order. */
export function indexedOutputs(entries: ManifestEntry[]): IndexedOutput[] {
  return entries.filter((e) => e.kind === "scone")
    .flatMap((e) => e.outputs.filter((o) => o.rows > 0).map((o) => ({ input: e.input, file: o.file, rows: o.rows, size: e.size, mtimeMs: e.mtime_ms })));
}

/** What a shard's task record (scale/merge.ts) says of its output. */
interface TaskOutput {
  input: string;
  kind: string;
  inputBytes: number;
  mtimeMs: number;
  refused?: true;
  output: { path: string; rows: number };
}

/** The same for a shard's (or merge's) task records. */
export function indexedTasks(tasks: TaskOutput[]): IndexedOutput[] {
  return tasks.filter((t) => t.kind === "scone" && !t.refused && t.output.rows > 0)
    .map((t) => ({ input: t.input, file: t.output.path, rows: t.output.rows, size: t.inputBytes, mtimeMs: t.mtimeMs }));
}

export { INDEX_FILE, SHARD_INDEX };
