// What every sink is: the interface, its options and results. The factory that picks an
// implementation is src/sinks/open.ts, so this file imports none of them.
import type { RecordBatch } from "apache-arrow";

export type OutputFormat = "arrow" | "arrow-stream" | "parquet" | "csv";

export const EXTENSIONS: Record<OutputFormat, string> = {
  arrow: ".arrow",
  "arrow-stream": ".arrows",
  parquet: ".parquet",
  csv: ".csv",
};

export interface SinkResult {
  path: string;
  rows: number;
  bytes: number;
  /** Columns of the schema the format left out (CSV: tensors and lists). */
  dropped?: string[];
  /** Files written beside the output from the same rows (SCONE's light-curve and spectrum CSVs). */
  beside?: string[];
}

/** Where a converter's batches go: written as they come, committed atomically at the end. */
export interface Sink {
  /**
   * Writes a batch synchronously: its buffers may be reused as soon as this returns (unless
   * `writeBehind()` was called).
   */
  write(batch: RecordBatch): void;
  finish(): SinkResult;
  abort(): void;
  /**
   * A promise when the reading should wait before the next window (a consumer in this thread that
   * is behind, Parquet pages still compressing, an Arrow file writing behind: see writeBehind).
   */
  ready?(): Promise<void> | undefined;
  /**
   * Asks the sink to write batches in the background (Arrow IPC files do; others return false or
   * lack it). After a true answer, a batch's buffers are read after write() returns: the caller
   * keeps those of the last two batches written unchanged, awaits `ready()` (true then: resolved
   * when at most the last batch is still being written) before reusing the older, and `drain()`
   * before `finish()`. Write errors come from ready() or drain().
   */
  writeBehind?(): boolean;
  /**
   * Awaited once before `finish()`: a sink with work still in flight (Parquet pages compressing on
   * the thread pool) completes it, so `finish()` has only the footer left.
   */
  drain?(): Promise<void>;
}

/** How tensor columns are typed: Arrow's fixed_shape_tensor extension, or the bare FixedSizeList. */
export type TensorType = "extension" | "plain";

export interface SinkOptions {
  /** Parquet compression. */
  compression: "zstd" | "snappy" | "none";
  /** Default "extension"; "plain" leaves out the `ARROW:extension:*` keys (Arrow and Parquet). */
  tensorType?: TensorType;
  /** Parquet row group target size in bytes. */
  rowGroupBytes?: number;
}
