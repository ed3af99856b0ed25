// _manifest.json: written last, so its presence means the run finished. It records what was read
// (size, mtime, records) and written (rows, bytes), with the options, for --resume and for people.
// While a run goes on, each finished input is appended to a journal (.arrowsmith-journal.jsonl),
// so a run that is interrupted can be resumed too; the journal is removed with the manifest's write.
import { appendFileSync, existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../sinks/atomic.js";
import { VERSION } from "../version.js";
import type { TaskResult } from "./convert-file.js";
import type { Problem } from "./policy.js";

export const MANIFEST = "_manifest.json";
export const ERRORS = "_errors.jsonl";
export const JOURNAL = ".arrowsmith-journal.jsonl";

export interface ManifestEntry {
  input: string;
  size: number;
  mtime_ms: number;
  kind: string;
  compression: string;
  records: number;
  skipped: number;
  nonfinite_events: number;
  outputs: { file: string; rows: number; bytes: number }[];
  options_key: string;
}

export interface Manifest {
  tool: string;
  version: string;
  created: string;
  options: Record<string, unknown>;
  inputs: ManifestEntry[];
  totals: { inputs: number; outputs: number; records: number; rows: number; skipped: number; input_bytes: number; output_bytes: number };
  problems: number;
  resumed: number;
  wall_seconds: number;
}

/** One entry per input from its tasks' results (parts in order). */
export function manifestEntry(results: TaskResult[], optionsKey: string): ManifestEntry {
  const r = results[0];
  return {
    input: r.input, size: r.inputBytes, mtime_ms: r.mtimeMs, kind: r.kind, compression: r.compression,
    records: results.reduce((a, x) => a + x.records, 0),
    skipped: results.reduce((a, x) => a + x.skipped, 0),
    nonfinite_events: results.reduce((a, x) => a + x.nonfiniteEvents, 0),
    // an input refused as a whole (skip mode) has no output file
    outputs: results.flatMap((x) => (x.output && !(x as { refused?: true }).refused ? [{ file: x.output.path.split("/").pop()!, rows: x.output.rows, bytes: x.output.bytes }] : [])),
    options_key: optionsKey,
  };
}

export function writeManifest(dir: string, options: Record<string, unknown>, entries: ManifestEntry[], problems: Problem[],
                              resumed: number, wallSeconds: number): Manifest {
  const sum = (f: (e: ManifestEntry) => number) => entries.reduce((a, e) => a + f(e), 0);
  const m: Manifest = {
    tool: "arrowsmith",
    version: VERSION,
    created: new Date().toISOString(),
    options,
    inputs: entries,
    totals: {
      inputs: entries.length,
      outputs: sum((e) => e.outputs.length),
      records: sum((e) => e.records),
      rows: sum((e) => e.outputs.reduce((b, o) => b + o.rows, 0)),
      skipped: sum((e) => e.skipped),
      input_bytes: sum((e) => e.size),
      output_bytes: sum((e) => e.outputs.reduce((b, o) => b + o.bytes, 0)),
    },
    problems: problems.length,
    resumed,
    wall_seconds: wallSeconds,
  };
  if (problems.length) writeFileAtomic(join(dir, ERRORS), problems.map((p) => JSON.stringify(p)).join("\n") + "\n");
  else rmSync(join(dir, ERRORS), { force: true });
  writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 2) + "\n");
  rmSync(join(dir, JOURNAL), { force: true });
  return m;
}

/**
 * Appends a finished input to the journal. Not fsynced: the outputs it names are (before their
 * rename), and a line lost in a crash only makes --resume convert that input again.
 */
export function journal(dir: string, entry: ManifestEntry, problems: Problem[]): void {
  appendFileSync(join(dir, JOURNAL), JSON.stringify({ entry, problems }) + "\n");
}

/** What earlier runs finished in `dir`: the manifest's entries and then the journal's. */
export function finishedEntries(dir: string): Map<string, { entry: ManifestEntry; problems: Problem[] }> {
  const out = new Map<string, { entry: ManifestEntry; problems: Problem[] }>();
  const m = readJson<Manifest>(join(dir, MANIFEST));
  if (m?.inputs) {
    const errs = existsSync(join(dir, ERRORS)) ? readFileSync(join(dir, ERRORS), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Problem) : [];
    for (const e of m.inputs) out.set(e.input, { entry: e, problems: errs.filter((p) => p.file === e.input) });
  }
  if (existsSync(join(dir, JOURNAL))) {
    for (const line of readFileSync(join(dir, JOURNAL), "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const j = JSON.parse(line) as { entry: ManifestEntry; problems: Problem[] };
        out.set(j.entry.input, j);
      } catch { /* a line cut by a crash: that input is redone */ }
    }
  }
  return out;
}

/** True when `entry` describes `input` as it is now, with the same options, and its outputs are all there. */
export function upToDate(dir: string, input: string, entry: ManifestEntry, optionsKey: string): boolean {
  if (entry.options_key !== optionsKey) return false;
  try {
    const st = statSync(input);
    if (st.size !== entry.size || st.mtimeMs !== entry.mtime_ms) return false;
    return entry.outputs.every((o) => {
      const p = join(dir, o.file);
      return existsSync(p) && statSync(p).size === o.bytes;
    });
  } catch {
    return false;
  }
}

function readJson<T>(p: string): T | undefined {
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as T;
  } catch {
    return undefined;
  }
}
