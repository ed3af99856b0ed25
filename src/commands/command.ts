// What every subcommand module provides, and the small parsers and formatters they share. A command
// is a typed function (options in, result out) plus its declaration for commander, its outcome, and
// its text and JSON renderers; cli.ts registers them and turns outcomes into exit codes.
import { type Command, InvalidArgumentError } from "commander";
import { SCONE_DEFAULTS, type SconeOptions } from "../datasets/scone.js";

/** How a command ended, mapped to an exit code by cli.ts. */
export type Outcome = "ok" | "failure" | "skipped";

export interface CommandSpec<R> {
  name: string;
  /** Kept out of `--help`. */
  hidden?: boolean;
  /** Adds the description, arguments and options to the subcommand. */
  declare(cmd: Command): Command;
  /** Calls the command with what commander parsed (positional arguments in order, then options). */
  run(args: unknown[], opts: Record<string, unknown>): Promise<R>;
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

export const log = (quiet: boolean) => (msg: string) => { if (!quiet) process.stderr.write(msg + "\n"); };

export function fmtRate(bytes: number, events: number, seconds: number): string {
  return `${(events / seconds).toFixed(0)} events/s, ${(bytes / seconds / 1e6).toFixed(0)} MB/s`;
}

export function sconeOptions(o: { precision: "f32" | "f64"; timeRange?: [number, number]; bins?: [number, number] }): SconeOptions {
  return { ...SCONE_DEFAULTS, precision: o.precision, timeRange: o.timeRange ?? SCONE_DEFAULTS.timeRange, bins: o.bins ?? SCONE_DEFAULTS.bins };
}

/** JSON with BigInts (int64 ids) as decimal strings. */
export function toJson(obj: unknown): string {
  return JSON.stringify(obj, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}
