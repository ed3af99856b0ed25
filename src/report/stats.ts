// Dataset statistics of any kind: the JSON a task returns, merging many into one, and the numbers
// of _report.json (derived quantities: means, standard deviations, class curves).
import { jnum } from "./accumulators.js";
import { ClusterStats, type ClusterStatsJson } from "./cluster-stats.js";
import { linspace, peakWindow } from "./figures/scone.js";
import { SconeStats, type SconeStatsJson } from "./scone-stats.js";

export type StatsJson = SconeStatsJson | ClusterStatsJson;
export type Stats = SconeStats | ClusterStats;

export function statsFromJSON(j: StatsJson): Stats {
  return j.kind === "scone" ? SconeStats.fromJSON(j) : ClusterStats.fromJSON(j);
}

/** Merges the statistics of tasks (in the given order) into one per kind. */
export function mergeStats(parts: (StatsJson | undefined)[]): { scone?: SconeStats; clusters?: ClusterStats } {
  const out: { scone?: SconeStats; clusters?: ClusterStats } = {};
  for (const p of parts) {
    if (!p) continue;
    const s = statsFromJSON(p);
    if (s instanceof SconeStats) { if (out.scone) out.scone.merge(s); else out.scone = s; }
    else if (out.clusters) out.clusters.merge(s); else out.clusters = s;
  }
  return out;
}

/** rows × cols nested arrays of a C-order array (NaN and infinities as null). */
function nested(a: ArrayLike<number>, rows: number, cols: number): (number | null)[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => jnum(a[r * cols + c])));
}

/** The numbers behind the SCONE statistics figure (the `_report.json` keys). */
export function sconeReportNumbers(s: SconeStats) {
  const [nw, nt] = s.opts.bins;
  const n = nw * nt;
  const sum = new Float64Array(n), sq = new Float64Array(n);
  let events = 0;
  const lc: Record<string, (number | null)[]> = {}, spec: Record<string, (number | null)[]> = {};
  const meanByClass: Record<string, (number | null)[][]> = {};
  const times = linspace(s.opts.timeRange[0], s.opts.timeRange[1], nt);
  const [i0, i1] = peakWindow(times);
  for (const [label, a] of [...s.flux].sort((x, y) => +x[0] - +y[0])) {
    events += a.n;
    for (let i = 0; i < n; i++) { sum[i] += a.sum[i]; sq[i] += a.sumSq![i]; }
    // mean over events of the sum over wavelengths = the sum over wavelengths of the class mean
    lc[label] = Array.from({ length: nt }, (_, t) => { let v = 0; for (let w = 0; w < nw; w++) v += a.sum[w * nt + t]; return jnum(v / a.n); });
    spec[label] = Array.from({ length: nw }, (_, w) => { let v = 0; for (let t = i0; t < i1; t++) v += a.sum[w * nt + t]; return jnum(v / a.n / (i1 - i0)); });
    meanByClass[label] = nested(a.mean(), nw, nt);
  }
  const mean = sum.map((v) => v / events);
  // population standard deviation (numpy's np.std, ddof=0) from the sums
  const std = mean.map((m, i) => Math.sqrt(Math.max(0, sq[i] / events - m * m)));
  return {
    events: s.events,
    class_counts: s.classes.toJSON(),
    redshift_mean: jnum(s.redshift.mean),
    redshift_missing: s.redshift.missing,
    mean_flux: nested(mean, nw, nt),
    std_flux: nested(std, nw, nt),
    mean_flux_by_class: meanByClass,
    mean_light_curve_by_class: lc,
    mean_spectrum_by_class: spec,
    axes: {
      wavelength: linspace(s.opts.wavelengthRange[0], s.opts.wavelengthRange[1], nw),
      time: times,
      peak_window: { first_bin: i0, end_bin: i1, days: [times[i0], times[i1 - 1]] },
    },
    histograms: { redshift: s.redshiftHist.toJSON(), ...Object.fromEntries([...s.metrics].map(([k, h]) => [k, h.toJSON()])) },
    lowest: Object.fromEntries([...s.lowest].map(([k, l]) => [k, l.toJSON()])),
    files: Object.fromEntries([...s.files].sort().map(([k, f]) => [k, {
      events: f.events, class_counts: f.classes.toJSON(), coverage_mean: jnum(f.coverage.mean), snr_mean: jnum(f.snr.mean),
    }])),
  };
}
