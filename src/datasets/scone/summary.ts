// What `arrowsmith stats` says about SCONE shards, as mergeable accumulators (src/report/
// accumulators.ts): each task builds one in its worker from the batches it decodes, returns it as
// JSON with its result, and the main thread merges them in task order. Memory is fixed by the bin
// edges below, whatever the number of events.
//
// Quantiles come from histograms that keep each bin's smallest and largest value (Histogram with
// `extremes`):
// - coverage_fraction, temporal_coverage_fraction, spectral_coverage_fraction are k / n (n = the
//   image's pixels, time bins, wavelength bins): one bin per value they can take, edges at
//   (k - 1/2) / n, so their quantiles are exact: the values at the ranks are the data's own,
//   interpolated as numpy.quantile does.
// - redshift: 4,000 bins of 0.001 over [0, 4]; snr_mean: 200 bins a decade over [1e-3, 1e6]
//   (bins 1.2% wide). A quantile is exact when the values around its rank are the first or last of
//   their bin (always in small sets), otherwise within that bin: off by less than 0.001 in
//   redshift and 1.2% in snr_mean. Values outside the edges are counted with their own extremes.
// count, min, max are exact; mean is the sum over the count (summed per task, tasks added in order).
import type { RecordBatch } from "apache-arrow";
import { column } from "../../arrow.js";
import { Counts, Histogram, jnum, linearEdges, Moments } from "../../report/accumulators.js";

/** The metrics `stats` summarizes, besides the redshift. */
export const SUMMARY_METRICS = ["coverage_fraction", "temporal_coverage_fraction", "spectral_coverage_fraction", "snr_mean"] as const;
type Summarized = (typeof SUMMARY_METRICS)[number] | "redshift";

/** One bin per value k / n (k = 0..n): edges at (k - 1/2) / n. */
function latticeEdges(n: number): number[] {
  return Array.from({ length: n + 2 }, (_, k) => (k - 0.5) / n);
}

/** `per` bins a decade from 10^a to 10^b. */
function logEdges(a: number, b: number, per: number): number[] {
  const n = (b - a) * per;
  return Array.from({ length: n + 1 }, (_, i) => 10 ** (a + ((b - a) * i) / n));
}

/** The fixed bin edges of each summarized value, for images of `bins` = [wavelength, time] bins. */
export function summaryEdges(name: Summarized, bins: readonly [number, number]): number[] {
  const [nw, nt] = bins;
  switch (name) {
    case "coverage_fraction": return latticeEdges(nw * nt);
    case "temporal_coverage_fraction": return latticeEdges(nt);
    case "spectral_coverage_fraction": return latticeEdges(nw);
    case "snr_mean": return logEdges(-3, 6, 200);
    case "redshift": return linearEdges(0, 4, 4000);
  }
}

/** Count, quartiles (numpy.quantile, linear), extremes and mean of the finite values. */
export interface Summary {
  count: number;
  min: number | null;
  q1: number | null;
  median: number | null;
  q3: number | null;
  max: number | null;
  mean: number | null;
}

/** One value's moments (count, sum, extremes) and histogram (quantiles). */
class Summarizer {
  readonly m: Moments;
  readonly h: Histogram;
  constructor(edges: readonly number[], m = new Moments(), h = new Histogram(edges, { extremes: true })) {
    this.m = m;
    this.h = h;
  }
  /** A finite value (the callers count nulls and zeros apart; NaN and ±inf are left out, as numpy's finite selection). */
  add(v: number): void {
    if (v - v !== 0) return;
    this.m.add(v);
    this.h.add(v);
  }
  merge(o: Summarizer): void {
    this.m.merge(o.m);
    this.h.merge(o.h);
  }
  summary(): Summary {
    const n = this.m.n;
    const q = (p: number) => (n ? this.h.quantile(p) : null);
    return { count: n, min: n ? this.m.min : null, q1: q(0.25), median: q(0.5), q3: q(0.75), max: n ? this.m.max : null, mean: n ? jnum(this.m.mean) : null };
  }
  toJSON() {
    return { moments: this.m.toJSON(), histogram: this.h.toJSON() };
  }
  static fromJSON(j: ReturnType<Summarizer["toJSON"]>): Summarizer {
    const h = Histogram.fromJSON(j.histogram);
    return new Summarizer(h.edges, Moments.fromJSON(j.moments), h);
  }
}

export interface SconeSummaryJson {
  bins: [number, number];
  events: number;
  labels: Record<string, number>;
  redshift_missing: number;
  snr_missing: number;
  nonfinite_events: number;
  values: Record<Summarized, ReturnType<Summarizer["toJSON"]>>;
}

/** The SCONE summary of the batches of one task, or of many merged. */
export class SconeSummary {
  events = 0;
  labels = new Counts();
  redshiftMissing = 0;
  snrMissing = 0;
  nonfiniteEvents = 0;
  readonly values = new Map<Summarized, Summarizer>();

  constructor(readonly bins: [number, number]) {
    for (const name of ["redshift", ...SUMMARY_METRICS] as const) this.values.set(name, new Summarizer(summaryEdges(name, bins)));
  }

  /** Adds a batch of the SCONE schema (label, z, the metrics, nonfinite_values). */
  add(b: RecordBatch): void {
    const n = b.numRows;
    const labels = column(b, "label")!.values as Int32Array;
    const z = column(b, "z")!;
    const nonfinite = column(b, "nonfinite_values")!.values;
    const redshift = this.values.get("redshift")!;
    for (let r = 0; r < n; r++) {
      this.labels.add(String(labels[r]));
      if (z.valid(r)) redshift.add(z.values[r] as number); else this.redshiftMissing++;
      if (Number(nonfinite[r]) > 0) this.nonfiniteEvents++;
    }
    for (const name of SUMMARY_METRICS) {
      const s = this.values.get(name)!;
      const c = column(b, name)!;
      const v = c.values as Float64Array;
      if (name === "snr_mean") {
        // scone_tools' 0 for an event without a positive S/N: counted apart, not a value
        for (let r = 0; r < n; r++) if (c.valid(r)) { if (v[r] === 0) this.snrMissing++; else s.add(v[r]); }
      } else {
        for (let r = 0; r < n; r++) if (c.valid(r)) s.add(v[r]);
      }
    }
    this.events += n;
  }

  merge(o: SconeSummary): void {
    this.events += o.events;
    this.labels.merge(o.labels);
    this.redshiftMissing += o.redshiftMissing;
    this.snrMissing += o.snrMissing;
    this.nonfiniteEvents += o.nonfiniteEvents;
    for (const [k, s] of o.values) this.values.get(k)!.merge(s);
  }

  summary(name: Summarized): Summary {
    return this.values.get(name)!.summary();
  }

  toJSON(): SconeSummaryJson {
    return {
      bins: this.bins, events: this.events, labels: this.labels.toJSON(), redshift_missing: this.redshiftMissing, snr_missing: this.snrMissing,
      nonfinite_events: this.nonfiniteEvents,
      values: Object.fromEntries([...this.values].map(([k, s]) => [k, s.toJSON()])) as SconeSummaryJson["values"],
    };
  }

  static fromJSON(j: SconeSummaryJson): SconeSummary {
    const s = new SconeSummary(j.bins);
    s.events = j.events;
    s.labels = Counts.fromJSON(j.labels);
    s.redshiftMissing = j.redshift_missing;
    s.snrMissing = j.snr_missing;
    s.nonfiniteEvents = j.nonfinite_events;
    for (const [k, v] of Object.entries(j.values)) s.values.set(k as Summarized, Summarizer.fromJSON(v));
    return s;
  }
}
