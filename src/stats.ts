// Dataset statistics read straight from the inputs (no output written): for SCONE shards the
// events, labels, redshift distribution and coverage/SNR summaries.
import type { RecordBatch } from "apache-arrow";
import { SCONE_DEFAULTS, type SconeOptions } from "./datasets/scone.js";
import { ArrowsmithError, type ErrorCode } from "./errors.js";
import { decodeTFRecordTask, FILE_DEFAULTS } from "./pipeline/convert-file.js";
import type { Sink } from "./sinks/sink.js";
import { kernels } from "./wasm.js";

export interface Summary {
  count: number;
  min: number | null;
  q1: number | null;
  median: number | null;
  q3: number | null;
  max: number | null;
  mean: number | null;
}

/** Quantiles by linear interpolation (numpy's default), over non-null finite values. */
export function summarize(values: number[]): Summary {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const q = (p: number) => {
    if (!v.length) return null;
    const h = (v.length - 1) * p;
    const lo = Math.floor(h);
    return v[lo] + (h - lo) * ((v[Math.min(lo + 1, v.length - 1)]) - v[lo]);
  };
  return {
    count: v.length, min: v.length ? v[0] : null, q1: q(0.25), median: q(0.5), q3: q(0.75),
    max: v.length ? v[v.length - 1] : null, mean: v.length ? v.reduce((a, b) => a + b, 0) / v.length : null,
  };
}

export interface SconeStats {
  kind: "scone";
  files: number;
  events: number;
  bytes: number;
  labels: Record<string, number>;
  redshift: Summary & { missing: number };
  coverage_fraction: Summary;
  temporal_coverage_fraction: Summary;
  spectral_coverage_fraction: Summary;
  /** snr_mean over the events (scone_tools' 0 when an event has no positive S/N; those are counted in `missing`). */
  snr_mean: Summary & { missing: number };
  nonfinite_events: number;
  problems: { file?: string; offset?: number; record?: number; code: string; message: string }[];
}

export async function sconeStats(files: string[], opts: SconeOptions = SCONE_DEFAULTS, verify = true, maxRecordBytes?: number): Promise<SconeStats> {
  const k = kernels();
  const labels: Record<string, number> = {};
  const z: number[] = [], cov: number[] = [], tcov: number[] = [], scov: number[] = [], snr: number[] = [];
  let zMissing = 0, snrMissing = 0, events = 0, bytes = 0, nonfinite = 0;
  const problems: SconeStats["problems"] = [];
  const fileOpts = { ...FILE_DEFAULTS, onError: "skip" as const, verify, maxRecordBytes, scone: { ...opts, precision: "f32" as const }, report: false };
  for (const file of files) {
    const collect = (b: RecordBatch) => {
      const col = (name: string) => b.getChild(name)!;
      const lab = col("label"), zc = col("z"), c = col("coverage_fraction"), t = col("temporal_coverage_fraction"), s = col("spectral_coverage_fraction"), m = col("snr_mean"), nf = col("nonfinite_values");
      for (let i = 0; i < b.numRows; i++) {
        const l = String(lab.get(i));
        labels[l] = (labels[l] ?? 0) + 1;
        const zv = zc.get(i);
        if (zv === null) zMissing++; else z.push(zv);
        cov.push(c.get(i)); tcov.push(t.get(i)); scov.push(s.get(i));
        const mv = m.get(i);
        if (mv === 0) snrMissing++; else snr.push(mv);
        if (nf.get(i) > 0) nonfinite++;
      }
      events += b.numRows;
    };
    // the conversion's task with a sink that keeps the columns summarized here
    const sink: Sink = { write: collect, finish: () => ({ path: "", rows: events, bytes: 0 }), abort: () => undefined };
    const read = await decodeTFRecordTask(k, { input: file, outName: "", kind: "scone" }, fileOpts, () => sink);
    bytes += read.inputBytes;
    for (const p of read.problems) problems.push({ file: p.file, offset: p.offset, record: p.record, code: p.code, message: new ArrowsmithError(p.code as ErrorCode, p.message, p).message });
  }
  return {
    kind: "scone", files: files.length, events, bytes, labels,
    redshift: { ...summarize(z), missing: zMissing },
    coverage_fraction: summarize(cov), temporal_coverage_fraction: summarize(tcov), spectral_coverage_fraction: summarize(scov),
    snr_mean: { ...summarize(snr), missing: snrMissing },
    nonfinite_events: nonfinite, problems,
  };
}
