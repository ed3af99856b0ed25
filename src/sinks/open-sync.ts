// The library's synchronous `openSink`: every sink's module loaded up front. The pipeline uses
// `sinkFactory` (open.ts), which loads only the format a task writes.
import type { Schema } from "apache-arrow";
import * as csv from "./csv.js";
import * as ipc from "./ipc.js";
import { factoryOf } from "./open.js";
import * as parquet from "./parquet.js";
import type { OutputFormat, Sink, SinkOptions } from "./sink.js";

/** Opens the sink for `format`; `csvSpec` gives the CSV layout (default: every scalar column by name). */
export function openSink(format: OutputFormat, path: string, schema: Schema, opts: SinkOptions, csvSpec?: csv.CsvSpec | csv.CsvColumn[]): Sink {
  return factoryOf(format, { ipc, csv, parquet })(path, schema, opts, csvSpec);
}
