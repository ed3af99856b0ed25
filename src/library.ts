// The library's entry points with a default for every option, so that plain JavaScript can call
// `convert(["heatmaps_0000.tfrecord"], { output: "out" })`: what is left out takes the CLI's defaults.
import { convert as convertJob, type ConvertSummary } from "./pipeline/convert.js";
import { type ConvertInput, type ConvertOptions, resolveConvertOptions } from "./pipeline/options.js";

export type { ConvertInput } from "./pipeline/options.js";

/** The options with every default filled in where `o` leaves them out (or undefined), checked (pipeline/options.ts). */
export function withDefaults(o: ConvertInput): ConvertOptions {
  return resolveConvertOptions(o);
}

/**
 * Converts inputs (files, folders, globs) into one output file per input in `options.output`, as
 * `arrowsmith convert` does; every option but `output` has the CLI's default.
 */
export async function convert(inputs: string | string[], options: ConvertInput): Promise<ConvertSummary> {
  return convertJob(Array.isArray(inputs) ? inputs : [inputs], withDefaults(options));
}
