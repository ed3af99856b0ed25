import type { RecordBatch, Schema } from "apache-arrow";
import { withoutExtensions } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import { CsvSink, type CsvColumn, type CsvSpec, listColumns, scalarColumns } from "./csv.js";
export type { CsvColumn, CsvSpec };
import { IpcSink } from "./ipc.js";
import { ParquetSink } from "./parquet.js";

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
  /** Writes a batch synchronously: its buffers may be reused as soon as this returns. */
  write(batch: RecordBatch): void;
  finish(): SinkResult;
  abort(): void;
  /**
   * A promise when the reading should wait before the next window (a consumer in this thread that
   * is behind); file sinks never ask.
   */
  ready?(): Promise<void> | undefined;
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

/** Opens the sink for `format`; `csv` gives the CSV layout (default: every scalar column by name). */
export function openSink(format: OutputFormat, path: string, schema: Schema, opts: SinkOptions, csv?: CsvSpec | CsvColumn[]): Sink {
  const plain = opts.tensorType === "plain";
  switch (format) {
    // the writer takes the schema message from here; the batches' own fields compare equal
    case "arrow": return new IpcSink(path, plain ? withoutExtensions(schema) : schema, false);
    case "arrow-stream": return new IpcSink(path, plain ? withoutExtensions(schema) : schema, true);
    case "csv": return new CsvSink(path, csv ?? scalarColumns(schema), listColumns(schema));
    case "parquet": return new ParquetSink(path, schema, { compression: opts.compression, rowGroupBytes: opts.rowGroupBytes, extensionMetadata: !plain });
    default: throw new ArrowsmithError("usage", `unknown output format ${format as string}`, { hint: "use arrow, arrow-stream, parquet or csv" });
  }
}
