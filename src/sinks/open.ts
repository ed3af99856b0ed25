// Picks the sink for an output format (kept apart from sink.ts, the interface the sinks import).
// Each sink's module is imported when a task first asks for its format: a worker writing Arrow
// never loads the Parquet writer and its codecs, nor the CSV writer (part of a worker's start).
import type { Schema } from "apache-arrow";
import { withoutExtensions } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import type { CsvColumn, CsvSpec } from "./csv.js";
import type { OutputFormat, Sink, SinkOptions } from "./sink.js";

/** Opens a sink of one format; `csv` gives the CSV layout (default: every scalar column by name). */
export type SinkFactory = (path: string, schema: Schema, opts: SinkOptions, csv?: CsvSpec | CsvColumn[]) => Sink;

/** The sink modules a factory needs (only its format's). */
export interface SinkModules {
  ipc?: typeof import("./ipc.js");
  csv?: typeof import("./csv.js");
  parquet?: typeof import("./parquet.js");
}

/** The factory of `format`'s sink from its loaded module. */
export function factoryOf(format: OutputFormat, m: SinkModules): SinkFactory {
  const plain = (opts: SinkOptions) => opts.tensorType === "plain";
  switch (format) {
    // the writer takes the schema message from here; the batches' own fields compare equal
    case "arrow": case "arrow-stream": {
      const { IpcSink } = m.ipc!;
      return (path, schema, opts) => new IpcSink(path, plain(opts) ? withoutExtensions(schema) : schema, format === "arrow-stream");
    }
    case "csv": {
      const { CsvSink, listColumns, scalarColumns } = m.csv!;
      return (path, schema, _opts, csv) => new CsvSink(path, csv ?? scalarColumns(schema), listColumns(schema));
    }
    case "parquet": {
      const { ParquetSink } = m.parquet!;
      return (path, schema, opts) => new ParquetSink(path, schema, { compression: opts.compression, rowGroupBytes: opts.rowGroupBytes, extensionMetadata: !plain(opts) });
    }
    default: throw new ArrowsmithError("usage", `unknown output format ${format as string}`, { hint: "use arrow, arrow-stream, parquet or csv" });
  }
}

/** The factory of `format`'s sink, its module loaded now. */
export async function sinkFactory(format: OutputFormat): Promise<SinkFactory> {
  const m: SinkModules = {};
  if (format === "arrow" || format === "arrow-stream") m.ipc = await import("./ipc.js");
  else if (format === "csv") m.csv = await import("./csv.js");
  else if (format === "parquet") m.parquet = await import("./parquet.js");
  return factoryOf(format, m);
}
