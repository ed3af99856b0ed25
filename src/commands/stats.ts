// `arrowsmith stats`: dataset statistics of a folder or files (clusters for NPZ batches, SCONE for
// TFRecord shards, both when mixed).
import { type DatasetKind, detectInput, noInputsError } from "../datasets/kinds.js";
import { ArrowsmithError } from "../errors.js";
import { expandInputs } from "../pipeline/inputs.js";
import { kernels } from "../wasm.js";
import { sconeStats, type SconeStats } from "../datasets/scone/stats.js";
import { type ClusterStats, clusterStats, renderClusterStats } from "../stats-clusters.js";
import { formatBytes } from "../units.js";
import { type CommandRun, warn } from "./command.js";

export interface StatsCommandResult {
  /** What the inputs were called on the command line (the cluster report's title). */
  label: string;
  clusters?: ClusterStats;
  scone?: SconeStats;
}

export interface StatsCommandOptions {
  /** auto: each input's kind from its content (src/datasets/kinds.ts); scone or clusters: read all as that. */
  kind?: "auto" | "scone" | "clusters";
  maxRecordBytes?: number;
  /** Most worker threads for SCONE shards (default: as convert chooses). */
  threads?: number;
}

/**
 * Statistics of each kind present: cluster batches get the script's figures, SCONE shards theirs.
 * An input that is neither (a generic TFRecord or NPZ, an output of ours) is an error naming it,
 * not a report of zeros or of thousands of "problems". A folder with no file at all gives the empty
 * cluster report, as the script would.
 */
export async function runStats(inputs: string[], o: StatsCommandOptions = {}): Promise<StatsCommandResult> {
  const files = expandInputs(inputs, { onWarning: warn });
  if (!files.length) {
    const err = noInputsError(inputs, "stats");
    if (err) throw err;
  }
  const k = kernels();
  const byKind = new Map<DatasetKind, string[]>();
  for (const f of files) {
    const { kind } = await detectInput(k, f, o.kind ?? "auto");
    byKind.set(kind, [...(byKind.get(kind) ?? []), f]);
  }
  const generic = byKind.get("generic") ?? [];
  if (generic.length) {
    throw new ArrowsmithError("unknown_kind",
      `stats has figures for SCONE shards and DUNE cluster batches; ${generic.length} input(s) are neither (generic: ${generic.slice(0, 3).join(", ")}${generic.length > 3 ? ", …" : ""})`,
      { hint: "use arrowsmith inspect on them, or --kind scone|clusters to read them as that kind" });
  }
  const npz = byKind.get("clusters") ?? [];
  const tfrecord = byKind.get("scone") ?? [];
  const clusters = npz.length || !tfrecord.length ? clusterStats(npz) : undefined;
  const scone = tfrecord.length ? await sconeStats(tfrecord, { maxRecordBytes: o.maxRecordBytes, threads: o.threads }) : undefined;
  return { label: inputs.join(" "), clusters, scone };
}

/**
 * One rule for every kind: statistics with inputs or records left out because of a problem
 * finish with exit 3 (as convert --on-error skip does), and say which in their report.
 */
export function statsOutcome(r: StatsCommandResult): "ok" | "skipped" {
  return r.clusters?.problems.length || r.scone?.problems.length ? "skipped" : "ok";
}

export function renderSconeStats(s: SconeStats): string {
  const f = (x: number | null, d = 3) => (x === null ? "—" : x.toFixed(d));
  const sum = (name: string, v: SconeStats["coverage_fraction"]) =>
    `  ${name.padEnd(26)} min ${f(v.min)}  q1 ${f(v.q1)}  median ${f(v.median)}  q3 ${f(v.q3)}  max ${f(v.max)}  mean ${f(v.mean)}`;
  const labels = Object.entries(s.labels).sort().map(([l, n]) => `${l}: ${n} (${((100 * n) / Math.max(1, s.events)).toFixed(1)}%)`).join(", ");
  return [
    `SCONE dataset: ${s.files} file(s), ${s.events} events, ${formatBytes(s.bytes)}`,
    `  labels                     ${labels || "—"}`,
    sum("redshift", s.redshift) + (s.redshift.missing ? `  (missing in ${s.redshift.missing})` : ""),
    sum("coverage_fraction", s.coverage_fraction),
    sum("temporal_coverage_fraction", s.temporal_coverage_fraction),
    sum("spectral_coverage_fraction", s.spectral_coverage_fraction),
    sum("snr_mean", s.snr_mean) + (s.snr_mean.missing ? `  (no positive S/N in ${s.snr_mean.missing})` : ""),
    `  events with NaN/inf        ${s.nonfinite_events}`,
    ...(s.problems.length ? [`  problems: ${s.problems.length}`, ...s.problems.slice(0, 5).map((p) => `    ${p.message}`)] : []),
  ].join("\n");
}

export function renderStats(r: StatsCommandResult): string {
  const parts: string[] = [];
  if (r.clusters) parts.push(renderClusterStats(r.clusters, r.label));
  if (r.scone) parts.push(renderSconeStats(r.scone));
  return parts.join("\n\n");
}

export function statsJson(r: StatsCommandResult): unknown {
  return r.clusters && r.scone ? { kind: "mixed", clusters: r.clusters, scone: r.scone } : (r.clusters ?? r.scone);
}

export const statsCommand: CommandRun<StatsCommandResult> = {
  run: ([inputs], o) => runStats(inputs as string[], o as StatsCommandOptions),
  outcome: statsOutcome,
  text: renderStats,
  json: statsJson,
};
