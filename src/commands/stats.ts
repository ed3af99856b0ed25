// `arrowsmith stats`: dataset statistics of a folder or files (clusters for NPZ batches, SCONE for
// TFRecord shards, both when mixed).
import type { Command } from "commander";
import { isNpzFile } from "../inspect-npz.js";
import { expandInputs } from "../pipeline/inputs.js";
import { sconeStats, type SconeStats } from "../stats.js";
import { type ClusterStats, clusterStats, renderClusterStats } from "../stats-clusters.js";
import { formatBytes } from "../units.js";
import { type CommandSpec, maxRecordBytesOption } from "./command.js";

export interface StatsCommandResult {
  /** What the inputs were called on the command line (the cluster report's title). */
  label: string;
  clusters?: ClusterStats;
  scone?: SconeStats;
}

export async function runStats(inputs: string[], o: { maxRecordBytes?: number } = {}): Promise<StatsCommandResult> {
  const files = expandInputs(inputs);
  const npz = files.filter((f) => isNpzFile(f));
  const tfrecord = files.filter((f) => !npz.includes(f));
  const clusters = npz.length || !tfrecord.length ? clusterStats(npz) : undefined;
  const scone = tfrecord.length ? await sconeStats(tfrecord, undefined, true, o.maxRecordBytes) : undefined;
  return { label: inputs.join(" "), clusters, scone };
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

export const statsCommand: CommandSpec<StatsCommandResult> = {
  name: "stats",
  declare: (cmd: Command) => cmd
    .description("dataset statistics of a folder or files")
    .argument("<inputs...>")
    .addOption(maxRecordBytesOption())
    .option("--json", "print JSON", false),
  run: ([inputs], o) => runStats(inputs as string[], o as { maxRecordBytes?: number }),
  outcome: (r) => (r.clusters?.problems.length ? "failure" : "ok"),
  text: renderStats,
  json: statsJson,
};
