// `plot`: draws the selected events of the inputs, one figure file each, on every core. Each task
// reads one input file (or a share of its sample) in a worker, picks its events and renders them
// there; only file names come back. Figures are written under a temporary name and renamed.
import "./native-memory.js";
import { mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import { Piscina } from "piscina";
import { SCONE_DEFAULTS, type SconeOptions } from "../datasets/scone.js";
import { bundledOr } from "../bundled.js";
import { ArrowsmithError } from "../errors.js";
import { type EventSource, eventSources, type ReadOptions, type Selection } from "./events.js";
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

/**
 * The module a plot worker starts from: plot-worker.ts from the sources; from dist/ the bundle
 * (scripts/bundle-worker.mjs: ~0.27 s of CPU to load instead of ~1.1 s for vega's ES modules), or
 * plot-worker.js when there is no bundle or, in a checkout, it is older (a `tsc` without the
 * bundling step).
 */
function workerFile(): { filename: string; execArgv: string[] } {
  if (import.meta.url.endsWith(".ts")) return { filename: new URL("./plot-worker.ts", import.meta.url).href, execArgv: ["--import", "tsx"] };
  return { filename: bundledOr(new URL("./plot-worker.js", import.meta.url), new URL("../plot-worker.bundle.js", import.meta.url)).href, execArgv: [] };
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
    const { runPlotTask } = await import("./plot-task.js");
    results = [];
    for (const t of tasks) results.push(await runPlotTask(t));
  } else {
    const { filename, execArgv } = workerFile();
    const pool = new Piscina<PlotTask, unknown>({ filename, execArgv, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
    type Answer = PlotTaskResult | { error: { code: string; message: string; file?: string; hint?: string } };
    // every task settles before the pool goes: a pool destroyed while a worker is still answering
    // emits that answer as an unhandled 'error' and ends the process with a trace
    let settled: PromiseSettledResult<Answer>[];
    try {
      settled = await Promise.allSettled(tasks.map((t) => pool.run(t) as Promise<Answer>));
    } finally {
      await pool.destroy();
    }
    results = settled.map((s) => {
      if (s.status === "rejected") throw s.reason;
      const r = s.value;
      if ("error" in r) throw new ArrowsmithError(r.error.code as never, r.error.message, { file: r.error.file, hint: r.error.hint });
      return r;
    });
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
