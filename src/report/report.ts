// _report.json and _report.html: the numbers behind every figure of the dataset report, and the page
// that shows them. Written by `convert` beside its manifest (from the statistics its tasks
// accumulated) and by `arrowsmith report` (from a saved _report.json, or by reading the inputs).
import { join } from "node:path";
import { writeFileAtomic } from "../sinks/atomic.js";
import type { Manifest } from "../pipeline/manifest.js";
import type { Problem } from "../pipeline/policy.js";
import { VERSION } from "../version.js";
import { type ClusterStats, clusterReportNumbers } from "./cluster-stats.js";
import type { SconeStats } from "./scone-stats.js";
import { reportHtml } from "./html.js";
import { sconeReportNumbers, type StatsJson } from "./stats.js";

export const REPORT_JSON = "_report.json";
export const REPORT_HTML = "_report.html";

export interface ReportContext {
  /** The run's manifest (what was converted, how long it took), when there was one. */
  manifest?: Manifest;
  /** Skipped records, from _errors.jsonl. */
  problems: Problem[];
  /** False when some inputs' statistics are missing (inputs left alone by --resume). */
  complete: boolean;
  note?: string;
}

export interface ReportStats {
  scone?: SconeStats;
  clusters?: ClusterStats;
}

/** The content of _report.json. */
export function reportJson(stats: ReportStats, ctx: ReportContext) {
  const m = ctx.manifest;
  const events = (stats.scone?.events ?? 0) + (stats.clusters?.clusters ?? 0);
  const state: Record<string, StatsJson> = {};
  if (stats.scone) state.scone = stats.scone.toJSON();
  if (stats.clusters) state.clusters = stats.clusters.toJSON();
  return {
    tool: "arrowsmith",
    version: VERSION,
    created: new Date().toISOString(),
    kind: stats.scone && stats.clusters ? "mixed" : stats.scone ? "scone" : stats.clusters ? "clusters" : "empty",
    complete: ctx.complete,
    ...(ctx.note ? { note: ctx.note } : {}),
    overview: {
      files: m?.totals.inputs ?? Object.keys(state.scone?.files ?? {}).length + Object.keys(state.clusters?.files ?? {}).length,
      events,
      input_bytes: m?.totals.input_bytes ?? null,
      output_bytes: m?.totals.output_bytes ?? null,
      skipped: ctx.problems.length,
      wall_seconds: m?.wall_seconds ?? null,
      mb_per_second: m && m.wall_seconds > 0 ? m.totals.input_bytes / m.wall_seconds / 1e6 : null,
    },
    ...(stats.scone ? sconeReportNumbers(stats.scone) : { events }),
    ...(stats.clusters ? { clusters: clusterReportNumbers(stats.clusters) } : {}),
    problems: ctx.problems.slice(0, 1000),
    /** The accumulators themselves, so that reports merge and re-render without reading the data again. */
    state,
  };
}

export type ReportJson = ReturnType<typeof reportJson>;

/**
 * Writes _report.json and _report.html into `dir`; returns their paths. `inputs`: where the events
 * the page shows can be read again (the manifest's inputs by default).
 */
export async function writeReport(dir: string, stats: ReportStats, ctx: ReportContext, inputs = ctx.manifest?.inputs.map((i) => i.input) ?? []): Promise<{ json: string; html: string }> {
  const j = reportJson(stats, ctx);
  const json = join(dir, REPORT_JSON);
  writeFileAtomic(json, JSON.stringify(j) + "\n");
  const html = join(dir, REPORT_HTML);
  writeFileAtomic(html, await reportHtml(j, inputs));
  return { json, html };
}
