// The content of _report.json: the numbers behind every figure of the dataset report, and the
// accumulators themselves so that reports merge and re-render. Apart from report.ts, which writes it
// and the page, so that the page (html.ts) can take its type without an import cycle.
import type { Manifest } from "../pipeline/manifest.js";
import type { Problem } from "../pipeline/policy.js";
import { VERSION } from "../version.js";
import { type ClusterStats, clusterReportNumbers } from "./cluster-stats.js";
import type { SconeStats } from "./scone-stats.js";
import type { SconeEvent } from "./figures/scone.js";
import { sconeReportNumbers, type StatsJson } from "./stats.js";

export interface ReportContext {
  /** The run's manifest (what was converted, how long it took), when there was one. */
  manifest?: Manifest;
  /** Skipped records, from _errors.jsonl. */
  problems: Problem[];
  /** False when some inputs' statistics are missing (inputs left alone by --resume). */
  complete: boolean;
  note?: string;
  /** The events of the lowest lists with their maps, as the conversion kept them (else read again from the inputs). */
  lowestEvents?: SconeEvent[];
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
