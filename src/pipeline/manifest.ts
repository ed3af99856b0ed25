// _manifest.json: written last, so its presence means the run finished. It records what was read
// (size, mtime, records) and written (rows, bytes), with the options, for --resume and for people.
// While a run goes on, each finished input is appended to a journal (.arrowsmith-journal.jsonl),
// so a run that is interrupted can be resumed too; the journal is removed with the manifest's write.
// A shard of a job array writes only its own files (scale/shard-run.ts); `merge` writes these.
import { appendFileSync, existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../sinks/atomic.js";
import { VERSION } from "../version.js";
import type { TaskResult } from "./convert-file.js";
import type { Problem } from "./policy.js";

export const MANIFEST = "_manifest.json";
export const ERRORS = "_errors.jsonl";
export const JOURNAL = ".arrowsmith-journal.jsonl";

const MANIFEST_NAME = /^_manifest(\.shard-\d+-of-\d+)?\.json$/;
const JOURNAL_NAME = /^\.arrowsmith-journal(\.shard-\d+-of-\d+)?\.jsonl$/;

/**
 * An output name a manifest may give: a plain file name inside the folder. Anything else (a path,
 * `..`, a hidden name) comes from an edited or foreign manifest and is not trusted.
 */
export function isPlainOutputName(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= 255 && !/[/\\\0]/.test(name) && !name.startsWith(".");
}

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
  /** Entries kept from earlier runs into the same folder (inputs this run was not given). */
  earlier?: number;
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

export interface ManifestWrite {
  options: Record<string, unknown>;
  entries: ManifestEntry[];
  problems: Problem[];
  resumed: number;
  earlier?: number;
  wallSeconds: number;
}

export function writeManifest(dir: string, w: ManifestWrite): Manifest {
  const { options, entries, problems, resumed, earlier, wallSeconds } = w;
  const files = { manifest: MANIFEST, errors: ERRORS, journal: JOURNAL };
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
    earlier: earlier ?? 0,
    wall_seconds: wallSeconds,
  };
  if (problems.length) writeFileAtomic(join(dir, files.errors), problems.map((p) => JSON.stringify(p)).join("\n") + "\n");
  else rmSync(join(dir, files.errors), { force: true });
  writeFileAtomic(join(dir, files.manifest), JSON.stringify(m, null, 2) + "\n");
  rmSync(join(dir, files.journal), { force: true });
  return m;
}

/**
 * Appends a finished input to the journal. Not fsynced: the outputs it names are (before their
 * rename), and a line lost in a crash only makes --resume convert that input again.
 */
export function journal(dir: string, entry: ManifestEntry, problems: Problem[]): void {
  appendFileSync(join(dir, JOURNAL), JSON.stringify({ entry, problems }) + "\n");
}

/**
 * Journals, before any task starts, which input each planned output belongs to: a worker renames
 * an output to its final name before this thread journals the input, so a kill in between would
 * leave a complete output that nothing lists, which `--resume` would then refuse to replace.
 */
export function journalIntents(dir: string, tasks: readonly { input: string; outName: string }[]): void {
  if (!tasks.length) return;
  appendFileSync(join(dir, JOURNAL), tasks.map((t) => JSON.stringify({ intent: { input: t.input, file: t.outName } }) + "\n").join(""));
}

/**
 * After a run that ended on an error (not a kill): every output it finished is journaled by then,
 * so the intents go; a journal left with no entry is removed.
 */
export function dropIntents(dir: string): void {
  const path = join(dir, JOURNAL);
  if (!existsSync(path)) return;
  // each line is parsed: how a line is spelled (spacing, key order) says nothing about what it is
  const kept = readFileSync(path, "utf8").split("\n").filter((l) => {
    if (!l.trim()) return false;
    try {
      const j = JSON.parse(l) as unknown;
      return !(j !== null && typeof j === "object" && "intent" in j);
    } catch {
      return false; // a line cut by a crash: every reader skips it anyway (readLines)
    }
  });
  if (!kept.length) { rmSync(path, { force: true }); return; }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, kept.map((l) => l + "\n").join(""));
  renameSync(tmp, path);
}

export interface Finished {
  entry: ManifestEntry;
  problems: Problem[];
}

/** An entry whose output names are all plain names inside the folder (else: the reason it is not trusted). */
function untrusted(e: ManifestEntry): string | undefined {
  if (!e || typeof e.input !== "string" || !Array.isArray(e.outputs)) return "not a manifest entry";
  const badName = e.outputs.find((o) => !isPlainOutputName(o?.file));
  return badName ? `output name ${JSON.stringify(badName?.file)} is not a plain file name inside the folder` : undefined;
}

/**
 * What earlier runs finished in `dir`: the manifest's entries and then the journal's. Entries
 * naming outputs outside the folder are left out (with a warning).
 */
export function finishedEntries(dir: string, onWarning?: (m: string) => void): Map<string, Finished> {
  const out = new Map<string, Finished>();
  const files = { manifest: MANIFEST, errors: ERRORS, journal: JOURNAL };
  const add = (e: ManifestEntry, problems: Problem[], from: string) => {
    const why = untrusted(e);
    if (why) { onWarning?.(`ignored an entry of ${from}${typeof e?.input === "string" ? ` for ${e.input}` : ""}: ${why}`); return; }
    out.set(e.input, { entry: e, problems });
  };
  const m = readJson<Manifest>(join(dir, files.manifest));
  if (Array.isArray(m?.inputs)) {
    const errs = existsSync(join(dir, files.errors)) ? readLines<Problem>(join(dir, files.errors)) : [];
    for (const e of m.inputs) add(e, errs.filter((p) => p.file === e?.input), files.manifest);
  }
  if (existsSync(join(dir, files.journal))) {
    for (const j of readLines<Finished>(join(dir, files.journal))) if (j?.entry) add(j.entry, j.problems ?? [], files.journal);
  }
  return out;
}

/**
 * Every output name that a manifest or journal of any writer in `dir` lists, with the input that
 * wrote it and where it is listed: the files earlier runs own.
 */
export function ownedOutputs(dir: string): Map<string, { input: string; listedIn: string }> {
  const owned = new Map<string, { input: string; listedIn: string }>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return owned;
  }
  const add = (e: ManifestEntry | undefined, from: string) => {
    if (!e || untrusted(e)) return;
    for (const o of e.outputs) if (!owned.has(o.file)) owned.set(o.file, { input: e.input, listedIn: from });
  };
  // a shard's files list tasks: { input, output: { path } }
  type ShardTask = { input: string; output: { path: string; bytes: number; rows: number } };
  const addTask = (t: ShardTask | undefined, from: string) => {
    if (t?.output) add({ input: t.input, outputs: [{ file: t.output.path, rows: t.output.rows, bytes: t.output.bytes }] } as ManifestEntry, from);
  };
  for (const name of names.sort()) {
    if (MANIFEST_NAME.test(name)) {
      const m = readJson<Manifest & { tasks?: ShardTask[] }>(join(dir, name));
      if (Array.isArray(m?.inputs)) for (const e of m.inputs) add(e, name);
      if (Array.isArray(m?.tasks)) for (const t of m.tasks) addTask(t, name);
    } else if (JOURNAL_NAME.test(name)) {
      for (const j of readLines<Finished & { task?: ShardTask; intent?: { input: string; file: string } }>(join(dir, name))) {
        add(j?.entry, name);
        addTask(j?.task, name);
        // an output about to be written (see journalIntents): its input's, should it exist
        const it = j?.intent;
        if (it && typeof it.input === "string") add({ input: it.input, outputs: [{ file: it.file, rows: 0, bytes: 0 }] } as unknown as ManifestEntry, name);
      }
    }
  }
  return owned;
}

function readLines<T>(p: string): T[] {
  const out: T[] = [];
  let text: string;
  try {
    text = readFileSync(p, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch { /* a line cut by a crash: that input is redone */ }
  }
  return out;
}

/** True when `entry` describes `input` as it is now, with the same options, and its outputs are all there. */
export function upToDate(dir: string, input: string, entry: ManifestEntry, optionsKey: string): boolean {
  if (entry.options_key !== optionsKey || untrusted(entry)) return false;
  try {
    const st = statSync(input);
    if (st.size !== entry.size || st.mtimeMs !== entry.mtime_ms) return false;
    return entry.outputs.every((o) => {
      // a link or a folder under an output's name is not the output we wrote
      const s = lstatSync(join(dir, o.file), { throwIfNoEntry: false });
      return s !== undefined && s.isFile() && s.size === o.bytes;
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
