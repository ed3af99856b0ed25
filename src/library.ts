// The library's entry points with a default for every option, so that plain JavaScript can call
// `convert(["heatmaps_0000.tfrecord"], { output: "out" })`: what is left out takes the CLI's defaults.
import { SCONE_DEFAULTS, type SconeOptions } from "./datasets/scone.js";
import { ArrowsmithError } from "./errors.js";
import { convert as convertJob, type ConvertOptions, type ConvertSummary } from "./pipeline/convert.js";
import { FILE_DEFAULTS } from "./pipeline/convert-file.js";
import type { SinkOptions } from "./sinks/sink.js";

/** What a caller gives `convert`: `output`, and any other option (the rest take their defaults). */
export type ConvertInput = { output: string } & Partial<Omit<ConvertOptions, "output" | "scone" | "sink">> & {
  scone?: Partial<SconeOptions>;
  sink?: Partial<SinkOptions>;
};

const defined = <T extends object>(o: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The options with FILE_DEFAULTS and SCONE_DEFAULTS filled in where `o` leaves them out (or undefined). */
export function withDefaults(o: ConvertInput): ConvertOptions {
  if (o === null || typeof o !== "object" || typeof o.output !== "string" || !o.output) {
    throw new ArrowsmithError("usage", "options.output must name the output folder");
  }
  return {
    ...FILE_DEFAULTS,
    ...defined(o),
    scone: { ...SCONE_DEFAULTS, ...defined(o.scone) },
    sink: { ...FILE_DEFAULTS.sink, ...defined(o.sink) },
  } as ConvertOptions;
}

/**
 * Converts inputs (files, folders, globs) into one output file per input in `options.output`, as
 * `arrowsmith convert` does; every option but `output` has the CLI's default.
 */
export async function convert(inputs: string | string[], options: ConvertInput): Promise<ConvertSummary> {
  return convertJob(Array.isArray(inputs) ? inputs : [inputs], withDefaults(options));
}
