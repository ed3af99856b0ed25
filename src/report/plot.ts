// `plot`: draws the selected events of the inputs, one figure file each, on every core. Each task
// reads one input file (or a share of its sample) in a worker, picks its events and renders them
// there; only file names come back. Figures are written under a temporary name and renamed.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import { Piscina } from "piscina";
import { SCONE_DEFAULTS, type SconeOptions } from "../datasets/scone.js";
import { ArrowsmithError } from "../errors.js";
import { outputStem } from "../pipeline/inputs.js";
import { kernels } from "../wasm.js";
import { type EventSource, eventSources, type PlotEvent, readEvents, type ReadOptions, type Selection } from "./events.js";
import { clusterFigureData, clusterTemplate, type ClusterEvent } from "./figures/clusters.js";
import { sconeFigureData, sconeTemplate, type SconeEvent } from "./figures/scone.js";
import type { FigureFormat } from "./render.js";

export interface PlotOptions {
  output: string;
  selection: Selection;
  format: FigureFormat;
  /** Threads (default: all cores, no more than there is work for). */
  threads?: number;
  scone?: SconeOptions;
  metadataLayout?: ReadOptions["metadataLayout"];
  /** Replace figures already in the output folder (by default they are left and reported). */
  overwrite?: boolean;
}

export interface PlotResult {
  figures: string[];
  /** Selected SNIDs or rows found nowhere. */
  missing: string[];
  problems: string[];
  seconds: number;
  threads: number;
}

export interface PlotTask {
  source: EventSource;
  selection: Selection;
  read: ReadOptions;
  output: string;
  format: FigureFormat;
  overwrite: boolean;
}

export interface PlotTaskResult {
  figures: string[];
  found: string[];
  problems: string[];
}

/** File name of an event's figure: `<input stem>_snid_<SNID>` or `<input stem>_row<row>`. */
export function figureName(e: PlotEvent, format: FigureFormat): string {
  return "id" in e ? `${outputStem(e.source)}_snid_${e.id}.${format}` : `${outputStem(e.source)}_row${e.row}.${format}`;
}

/** Renders one event to bytes. */
export async function renderEvent(e: PlotEvent, format: FigureFormat, size = 1): Promise<Buffer> {
  if ("id" in e) return sconeTemplate(e as SconeEvent, size).render(sconeFigureData(e as SconeEvent), format);
  return clusterTemplate(e as ClusterEvent, size).render(clusterFigureData(e as ClusterEvent), format);
}

/** Runs one plot task in this thread. */
export async function runPlotTask(t: PlotTask): Promise<PlotTaskResult> {
  const r = await readEvents(kernels(), t.source, t.selection, t.read);
  const figures: string[] = [];
  const problems = [...r.problems];
  for (const e of r.events) {
    const path = join(t.output, figureName(e, t.format));
    if (!t.overwrite && existsSync(path)) { problems.push(`${path} exists: left as it is (--overwrite replaces it)`); continue; }
    const bytes = await renderEvent(e, t.format);
    const tmp = join(t.output, `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new ArrowsmithError("io", `cannot write figure: ${(err as Error).message}`, { file: path });
    }
    figures.push(path);
  }
  return { figures, found: r.found, problems };
}

function workerFile(): { filename: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith(".ts");
  return { filename: new URL(ts ? "./plot-worker.ts" : "./plot-worker.js", import.meta.url).href, execArgv: ts ? ["--import", "tsx"] : [] };
}

export async function plot(inputs: string[], o: PlotOptions): Promise<PlotResult> {
  const t0 = performance.now();
  const sel = o.selection;
  if (!sel.ids && !sel.rows && sel.sample === undefined && !sel.where) {
    throw new ArrowsmithError("usage", "nothing selected", { hint: "give --id, --sample or --where" });
  }
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) throw new ArrowsmithError("usage", "threads must be a positive integer");
  const sources = eventSources(inputs);
  if (!sources.length) throw new ArrowsmithError("usage", "no input files found", { hint: "give .tfrecord/.npz files, folders holding them, or a converted folder" });
  const output = resolve(o.output);
  mkdirSync(output, { recursive: true });
  const cores = o.threads ?? availableParallelism();
  // a sample of few files is shared out between workers by stride; scans (--id, --where) are not
  const stride = sel.sample !== undefined && !sel.ids && !sel.rows ? Math.max(1, Math.min(sel.sample, Math.floor(cores / sources.length))) : 1;
  const tasks: PlotTask[] = [];
  for (const source of sources) {
    for (let offset = 0; offset < stride; offset++) {
      tasks.push({
        source, selection: sel, output, format: o.format, overwrite: !!o.overwrite,
        read: { scone: o.scone ?? SCONE_DEFAULTS, metadataLayout: o.metadataLayout ?? "auto", stride, offset },
      });
    }
  }
  const threads = Math.max(1, Math.min(cores, tasks.length));
  let results: PlotTaskResult[];
  if (threads === 1) {
    results = [];
    for (const t of tasks) results.push(await runPlotTask(t));
  } else {
    const { filename, execArgv } = workerFile();
    const pool = new Piscina<PlotTask, unknown>({ filename, execArgv, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
    try {
      results = await Promise.all(tasks.map(async (t) => {
        const r = await pool.run(t) as PlotTaskResult | { error: { code: string; message: string; file?: string; hint?: string } };
        if ("error" in r) throw new ArrowsmithError(r.error.code as never, r.error.message, { file: r.error.file, hint: r.error.hint });
        return r;
      }));
    } finally {
      await pool.destroy();
    }
  }
  const found = new Set(results.flatMap((r) => r.found));
  const wanted = [...(sel.ids ?? []), ...(sel.rows ?? []).map((r) => `${basename(r.file)}:${r.row}`)];
  return {
    figures: results.flatMap((r) => r.figures).sort(),
    missing: wanted.filter((w) => !found.has(w)),
    problems: results.flatMap((r) => r.problems),
    seconds: (performance.now() - t0) / 1000,
    threads,
  };
}
