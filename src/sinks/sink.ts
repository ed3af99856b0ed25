import type { RecordBatch, Schema } from "apache-arrow";
import { ArrowsmithError } from "../errors.js";
import { CsvSink, type CsvColumn, listColumns, scalarColumns } from "./csv.js";
export type { CsvColumn };
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
}

/** Where a converter's batches go: written as they come, committed atomically at the end. */
export interface Sink {
  /** Writes a batch synchronously: its buffers may be reused as soon as this returns. */
  write(batch: RecordBatch): void;
  finish(): SinkResult;
  abort(): void;
}

export interface SinkOptions {
  /** Parquet compression. */
  compression: "zstd" | "snappy" | "none";
  /** Parquet row group target size in bytes. */
  rowGroupBytes?: number;
}

/** Opens the sink for `format`; `csv` gives the CSV columns (default: every scalar column by name). */
export function openSink(format: OutputFormat, path: string, schema: Schema, opts: SinkOptions, csv?: CsvColumn[]): Sink {
  switch (format) {
    case "arrow": return new IpcSink(path, schema, false);
    case "arrow-stream": return new IpcSink(path, schema, true);
    case "csv": return new CsvSink(path, csv ?? scalarColumns(schema), listColumns(schema));
    case "parquet": return new ParquetSink(path, schema, { compression: opts.compression, rowGroupBytes: opts.rowGroupBytes });
    default: throw new ArrowsmithError("usage", `unknown output format ${format as string}`, { hint: "use arrow, arrow-stream, parquet or csv" });
  }
}
