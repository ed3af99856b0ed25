// Picks the sink for an output format (kept apart from sink.ts, the interface the sinks import).
import type { Schema } from "apache-arrow";
import { withoutExtensions } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import { CsvSink, type CsvColumn, type CsvSpec, listColumns, scalarColumns } from "./csv.js";
import { IpcSink } from "./ipc.js";
import { ParquetSink } from "./parquet.js";
import type { OutputFormat, Sink, SinkOptions } from "./sink.js";

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
