// What every subcommand provides, and the small parsers and formatters they share. A command is its
// declaration for commander (name, arguments, options: declarations.ts, loaded at start so that
// `--help` lists them all) and, loaded only when it runs, its implementation in <name>.ts: a typed
// function (options in, result out), its outcome, and its text and JSON renderers. cli.ts registers
// them and turns outcomes into exit codes. This module is loaded at every start: it imports nothing
// heavy (no apache-arrow, no pipeline), only light constants.
import { availableParallelism } from "node:os";
import { type Command, InvalidArgumentError, Option } from "commander";
import { SCONE_DEFAULTS, type SconeExtra, type SconeOptions } from "../datasets/scone-options.js";
import { DEFAULT_MAX_RECORD_BYTES } from "../formats/tfrecord.js";
import { BYTES_PER_THREAD } from "../pipeline/threads.js";
import { formatRate, MiB } from "../units.js";

/** How a command ended, mapped to an exit code by cli.ts. */
export type Outcome = "ok" | "failure" | "skipped";

/** A subcommand as `--help` sees it: its name, declaration, and where its implementation is. */
export interface CommandSpec {
  name: string;
  /** Kept out of `--help`. */
  hidden?: boolean;
  /** Adds the description, arguments and options to the subcommand. */
  declare(cmd: Command): Command;
  /** Loads the implementation (a dynamic import: only the command that runs is loaded). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  load(): Promise<CommandRun<any>>;
}

/** What a subcommand does once commander has parsed its command line. */
export interface CommandRun<R> {
  /**
   * Calls the command with what commander parsed (positional arguments in order, then options;
   * `given`: the options the user gave, as opposed to defaults; `cmd`: the parsed subcommand).
   */
  run(args: unknown[], opts: Record<string, unknown>, given: ReadonlySet<string>, cmd: Command): Promise<R>;
  outcome(result: R): Outcome;
  /** The text printed on stdout; null when the command already wrote its output as it went. */
  text(result: R): string | null;
  json(result: R): unknown;
}

/** Whether the command's options asked for JSON on stdout. */
export const wantsJson = (opts: Record<string, unknown>): boolean => opts.json === true;

export function positiveInt(name: string, min = 0) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

export function range(v: string): [number, number] {
  const parts = v.split(",").map((x) => Number(x.trim()));
  if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x)) || parts[0] >= parts[1]) {
    throw new InvalidArgumentError("expected two increasing numbers, e.g. -30,150");
  }
  return [parts[0], parts[1]];
}

export function bins(v: string): [number, number] {
  const parts = v.split(/[,x]/).map((x) => Number(x.trim()));
  if (parts.length !== 2 || parts.some((x) => !Number.isInteger(x) || x < 1)) throw new InvalidArgumentError("expected two positive integers, e.g. 32,180");
  return [parts[0], parts[1]];
}

/** `--id 1009,1521`: int64 SNIDs. */
export function snids(v: string): bigint[] {
  const parts = v.split(",").map((x) => x.trim()).filter((x) => x !== "");
  if (!parts.length) throw new InvalidArgumentError("expected SNIDs separated by commas, e.g. 1009,1521");
  return parts.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new InvalidArgumentError(`"${p}" is not an integer SNID`);
    const n = BigInt(p);
    if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new InvalidArgumentError(`SNID ${p} does not fit in int64`);
    return n;
  });
}

/** A warning on stderr: an option that has no effect, or data a format leaves out. */
export function warn(msg: string): void {
  process.stderr.write(`arrowsmith: warning: ${msg}\n`);
}

export const log = (quiet: boolean) => (msg: string) => { if (!quiet) process.stderr.write(msg + "\n"); };

export function fmtRate(bytes: number, events: number, seconds: number): string {
  return `${(events / seconds).toFixed(0)} events/s, ${formatRate(bytes / seconds)}`;
}

export function sconeOptions(o: { precision: "f32" | "f64"; timeRange?: [number, number]; bins?: [number, number]; extras?: SconeExtra[]; csvDialect?: "default" | "scone-tools"; metrics?: boolean }): SconeOptions {
  return {
    ...SCONE_DEFAULTS, precision: o.precision, timeRange: o.timeRange ?? SCONE_DEFAULTS.timeRange, bins: o.bins ?? SCONE_DEFAULTS.bins,
    ...(o.metrics === false ? { metrics: false } : {}), ...(o.extras?.length ? { extras: o.extras } : {}), ...(o.csvDialect && o.csvDialect !== "default" ? { csvDialect: o.csvDialect } : {}),
  };
}

/** `--extras lightcurves,spectra`. */
export function extras(v: string): SconeExtra[] {
  const parts = v.split(",").map((x) => x.trim()).filter(Boolean);
  for (const p of parts) if (p !== "lightcurves" && p !== "spectra") throw new InvalidArgumentError(`unknown extra "${p}": expected lightcurves, spectra or both`);
  return [...new Set(parts)] as SconeExtra[];
}

/** JSON with BigInts (int64 ids) as decimal strings. */
export function toJson(obj: unknown): string {
  return JSON.stringify(obj, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** A size in bytes: an integer, or with a binary suffix (64M, 1G, 512K; KiB/MiB/GiB also read). */
export function byteSize(name: string) {
  return (v: string) => {
    const m = /^(\d+)\s*(?:([kmg])(?:i?b)?)?$/i.exec(v.trim());
    const n = m ? Number(m[1]) * 1024 ** " kmg".indexOf((m[2] ?? " ").toLowerCase()) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive size in bytes, e.g. 67108864 or 64M`);
    return n;
  };
}

/** `--max-record-bytes`: larger TFRecord records are refused before any memory is taken for them. */
export const maxRecordBytesOption = () => new Option("--max-record-bytes <B>", "largest TFRecord record accepted; larger ones are skipped unread as bad records (64M, 1G, or bytes)")
  .argParser(byteSize("--max-record-bytes")).default(DEFAULT_MAX_RECORD_BYTES, "64M");

/** `--time-range`, its default shown as the library's. */
export const timeRangeOption = () => new Option("--time-range <t0,t1>", "SCONE time axis in days from peak")
  .argParser(range).default(SCONE_DEFAULTS.timeRange, SCONE_DEFAULTS.timeRange.join(","));

/** `--bins`, its default shown as the library's. */
export const binsOption = () => new Option("--bins <w,t>", "SCONE bins (wavelength, time), checked against each image's size")
  .argParser(bins).default(SCONE_DEFAULTS.bins, SCONE_DEFAULTS.bins.join(","));

/** `--threads`, with the default as the library chooses it. */
export const threadsOption = () => new Option("--threads <n>",
  `most worker threads (default: one per ${BYTES_PER_THREAD / MiB} MiB of input); never more than the tasks or the ${availableParallelism()} cores of this machine`)
  .argParser(positiveInt("--threads", 1));
