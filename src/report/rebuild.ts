// `arrowsmith report`: _report.json and _report.html again, without converting. From a converted
// folder's saved statistics (_report.json's `state`, with its manifest and _errors.jsonl), or, when
// the folder has none (converted with --no-report) or inputs are given, by reading the inputs once
// with every check of the conversion and nothing written.
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { SCONE_DEFAULTS, type SconeOptions } from "../datasets/scone.js";
import { ArrowsmithError } from "../errors.js";
import { detectTFRecordKind, FILE_DEFAULTS } from "../pipeline/convert-file.js";
import { expandInputs } from "../pipeline/inputs.js";
import { ERRORS, MANIFEST, type Manifest } from "../pipeline/manifest.js";
import { isNpz } from "../pipeline/plan.js";
import type { Problem } from "../pipeline/policy.js";
import { decodeTask } from "../pipeline/tasks.js";
import { countingSink } from "../sinks/counting.js";
import { kernels } from "../wasm.js";
import { REPORT_JSON, writeReport } from "./report.js";
import { mergeStats, type StatsJson } from "./stats.js";

export interface RebuildOptions {
  /** Where to write (default: the converted folder, or the current folder for inputs). */
  output?: string;
  scone?: SconeOptions;
}

export interface RebuildResult {
  json: string;
  html: string;
  /** "saved": from _report.json's accumulators; "inputs": by reading the inputs. */
  from: "saved" | "inputs";
  events: number;
}

function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as T) : undefined;
}

function readProblems(dir: string): Problem[] {
  const p = join(dir, ERRORS);
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Problem);
}

/** The statistics of the inputs, read in this thread with every check of the conversion (problems skipped and listed). */
async function statsOfInputs(inputs: string[], scone: SconeOptions): Promise<{ parts: StatsJson[]; problems: Problem[] }> {
  const k = kernels();
  const parts: StatsJson[] = [], problems: Problem[] = [];
  const opts = { ...FILE_DEFAULTS, scone, onError: "skip" as const, report: true };
  for (const file of inputs) {
    const npz = isNpz(file);
    const kind = npz ? "clusters" : await detectTFRecordKind(k, file);
    if (kind === "generic") continue;
    try {
      // NPZ: the archive decides its kind (a generic one has no statistics)
      const r = await decodeTask(k, { input: file, outName: "", kind, container: npz ? "npz" : "tfrecord" }, npz ? { ...opts, scone: { ...scone, precision: "f32" } } : opts, countingSink);
      if (r.stats) parts.push(r.stats);
      problems.push(...r.problems);
    } catch (e) {
      // an NPZ that cannot be read at all is listed too, as the report lists what it left out
      if (!npz || !(e instanceof ArrowsmithError)) throw e;
      problems.push({ file, offset: e.offset, record: e.record, code: e.code, message: e.detail, skipped: "file" });
    }
  }
  return { parts, problems };
}

export async function rebuildReport(args: string[], o: RebuildOptions = {}): Promise<RebuildResult> {
  const scone = o.scone ?? SCONE_DEFAULTS;
  const folder = args.length === 1 && existsSync(args[0]) && statSync(args[0]).isDirectory() && existsSync(join(args[0], MANIFEST)) ? resolve(args[0]) : undefined;
  const out = resolve(o.output ?? folder ?? ".");
  mkdirSync(out, { recursive: true });
  if (folder) {
    const manifest = readJson<Manifest>(join(folder, MANIFEST));
    const saved = readJson<{ state?: Record<string, StatsJson>; complete?: boolean; note?: string }>(join(folder, REPORT_JSON));
    const problems = readProblems(folder);
    const inputs = manifest?.inputs.map((i) => i.input) ?? [];
    if (saved?.state && saved.complete !== false) {
      const stats = mergeStats(Object.values(saved.state));
      const w = await writeReport(out, stats, { manifest, problems, complete: true }, inputs);
      return { ...w, from: "saved", events: (stats.scone?.events ?? 0) + (stats.clusters?.clusters ?? 0) };
    }
    // no saved statistics, or partial ones (--resume): read the inputs the manifest names
    const present = inputs.filter((p) => existsSync(p));
    if (present.length < inputs.length) {
      throw new ArrowsmithError("usage", `${folder} has no complete statistics and ${inputs.length - present.length} of its inputs are gone`, { hint: "pass the input files instead" });
    }
    const axes = (manifest?.options ?? {}) as { time_range?: [number, number]; bins?: [number, number] };
    const { parts, problems: more } = await statsOfInputs(present, { ...scone, ...(axes.time_range ? { timeRange: axes.time_range } : {}), ...(axes.bins ? { bins: axes.bins } : {}) });
    const stats = mergeStats(parts);
    const w = await writeReport(out, stats, { manifest, problems: problems.length ? problems : more, complete: true }, present);
    return { ...w, from: "inputs", events: (stats.scone?.events ?? 0) + (stats.clusters?.clusters ?? 0) };
  }
  const inputs = expandInputs(args);
  if (!inputs.length) throw new ArrowsmithError("usage", "no input files found", { hint: "give a converted folder, or .tfrecord/.npz files or folders" });
  const { parts, problems } = await statsOfInputs(inputs, scone);
  const stats = mergeStats(parts);
  const w = await writeReport(out, stats, { problems, complete: true }, inputs);
  return { ...w, from: "inputs", events: (stats.scone?.events ?? 0) + (stats.clusters?.clusters ?? 0) };
}
