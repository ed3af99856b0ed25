// _manifest.json: written last, so its presence means the run finished. It records what was read
// (size, mtime, records) and written (rows, bytes), with the options, for --resume and for people.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../sinks/atomic.js";
import { VERSION } from "../version.js";
import type { FileResult } from "./convert-file.js";
import type { Problem } from "./policy.js";

export const MANIFEST = "_manifest.json";
export const ERRORS = "_errors.jsonl";

export interface ManifestEntry {
  input: string;
  size: number;
  mtimeMs: number;
  kind: string;
  compression: string;
  records: number;
  skipped: number;
  nonfinite_events: number;
  outputs: { path: string; rows: number; bytes: number }[];
  options_key: string;
}

export interface Manifest {
  tool: string;
  version: string;
  created: string;
  options: Record<string, unknown>;
  inputs: ManifestEntry[];
  totals: { inputs: number; records: number; rows: number; skipped: number; input_bytes: number; output_bytes: number };
  problems: number;
  wall_seconds: number;
}

export function manifestEntry(r: FileResult, optionsKey: string): ManifestEntry {
  return {
    input: r.input, size: r.inputBytes, mtimeMs: r.mtimeMs, kind: r.kind, compression: r.compression,
    records: r.records, skipped: r.skipped, nonfinite_events: r.nonfiniteEvents,
    outputs: [{ path: r.output.path.split("/").pop()!, rows: r.output.rows, bytes: r.output.bytes }],
    options_key: optionsKey,
  };
}

export function writeManifest(dir: string, options: Record<string, unknown>, entries: ManifestEntry[], problems: Problem[], wallSeconds: number): Manifest {
  const m: Manifest = {
    tool: "arrowsmith",
    version: VERSION,
    created: new Date().toISOString(),
    options,
    inputs: entries,
    totals: {
      inputs: entries.length,
      records: entries.reduce((a, e) => a + e.records, 0),
      rows: entries.reduce((a, e) => a + e.outputs.reduce((b, o) => b + o.rows, 0), 0),
      skipped: entries.reduce((a, e) => a + e.skipped, 0),
      input_bytes: entries.reduce((a, e) => a + e.size, 0),
      output_bytes: entries.reduce((a, e) => a + e.outputs.reduce((b, o) => b + o.bytes, 0), 0),
    },
    problems: problems.length,
    wall_seconds: wallSeconds,
  };
  if (problems.length) writeFileAtomic(join(dir, ERRORS), problems.map((p) => JSON.stringify(p)).join("\n") + "\n");
  writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 2) + "\n");
  return m;
}

export function readManifest(dir: string): Manifest | undefined {
  const p = join(dir, MANIFEST);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}
