// `stats` of SCONE shards, read straight from the inputs (nothing written): events, labels, the
// redshift distribution and coverage / S/N summaries. The inputs are read as `convert` reads them,
// in worker threads with a sink that keeps nothing (pipeline/scan.ts); each task accumulates a
// SconeSummary (./summary.ts: how exact each figure is) and this thread merges them in task order,
// so the figures do not depend on the thread count and memory does not grow with the events.
import { SCONE_DEFAULTS, type SconeOptions } from "../scone.js";
import { ArrowsmithError, type ErrorCode } from "../../errors.js";
import { DEFAULT_MAX_RECORD_BYTES } from "../../io/records.js";
import { scan } from "../../pipeline/scan.js";
import { FILE_DEFAULTS } from "../../pipeline/task.js";
import { SconeSummary, type Summary } from "./summary.js";

export type { Summary } from "./summary.js";

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

export interface SconeStatsOptions {
  /** Image axes and bins (default SCONE_DEFAULTS). */
  scone?: SconeOptions;
  /** Check CRCs (default true). */
  verify?: boolean;
  maxRecordBytes?: number;
  /** Most worker threads (default: as convert chooses). */
  threads?: number;
  /** Large uncompressed files are read as tasks of about this many bytes (default as convert's). */
  taskBytes?: number;
  signal?: AbortSignal;
}

/** Statistics of SCONE TFRecord files; damaged records are skipped and listed in `problems`. */
export async function sconeStats(files: string[], o: SconeStatsOptions = {}): Promise<SconeStats> {
  const scone = o.scone ?? SCONE_DEFAULTS;
  const { results } = await scan(files, {
    opts: {
      ...FILE_DEFAULTS, kind: "scone", onError: "skip", verify: o.verify ?? true, maxRecordBytes: o.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      // the images are decoded as for a conversion, but only the metrics are summarized: f32 is enough
      scone: { ...scone, precision: "f32" }, report: false, summary: true,
    },
    threads: o.threads, taskBytes: o.taskBytes, signal: o.signal,
  });
  const s = new SconeSummary(scone.bins);
  for (const r of results) if (r.summary) s.merge(SconeSummary.fromJSON(r.summary));
  return {
    kind: "scone", files: files.length, events: s.events, bytes: results.reduce((a, r) => a + r.taskBytes, 0), labels: s.labels.toJSON(),
    redshift: { ...s.summary("redshift"), missing: s.redshiftMissing },
    coverage_fraction: s.summary("coverage_fraction"),
    temporal_coverage_fraction: s.summary("temporal_coverage_fraction"),
    spectral_coverage_fraction: s.summary("spectral_coverage_fraction"),
    snr_mean: { ...s.summary("snr_mean"), missing: s.snrMissing },
    nonfinite_events: s.nonfiniteEvents,
    problems: results.flatMap((r) => r.problems.map((p) => ({
      file: p.file, offset: p.offset, record: p.record, code: p.code, message: new ArrowsmithError(p.code as ErrorCode, p.message, p).message,
    }))),
  };
}
