// The random-damage property checks (test/fuzz.test.ts runs a few hundred cases; `npm run fuzz`,
// scripts/fuzz.ts, runs as many as asked): valid TFRecord files (written by Google protobuf +
// crc32c, plain, GZIP and ZLIB) and NPZ cluster batches (written by numpy) are damaged at random and
// converted in this thread through the library (the conversion the CLI calls: the record loop,
// inflate, the error policy, the sinks), then checked by `verify`, and judged against the
// undamaged source:
// - never an exception other than ours, never more peak memory (RSS) than the bound;
// - with checksums verified: every row written equals the source row it came from (all columns);
//   fail mode writes the source's rows or a record-boundary prefix of them, or nothing and an error
//   that says how many good records precede the damage; skip mode writes exactly the source's rows
//   minus the records it reports;
// - every record that lies wholly before the first damaged byte is kept (for GZIP/ZLIB: every
//   record that zlib can decode from the undamaged bytes before it), in skip mode and by verify;
// - verify reports what the conversion reports: the same count of good records, the same problems.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { constants, deflateSync, gunzipSync, inflateSync } from "node:zlib";
import { tableFromIPC } from "apache-arrow";
import fc from "fast-check";
import { SCONE_DEFAULTS, type SconeOptions } from "../src/datasets/scone.js";
import { ArrowsmithError } from "../src/errors.js";
import { verifyNpz, verifyTFRecord, type VerifyResult } from "../src/inspect.js";
import { convert } from "../src/pipeline/convert.js";
import { FILE_DEFAULTS, type FileOptions, type TaskResult } from "../src/pipeline/convert-file.js";
import { runTask } from "../src/pipeline/tasks.js";
import { dropKernels, kernels } from "../src/wasm.js";

/** Peak RSS one case may add (inputs are 1-4 KB; a 16 MiB read window is allowed). */
export const PEAK_BYTES = 96 << 20;
const RECORDS = 8;

export type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: number[] }
  | { op: "delete"; at: number; n: number }
  | { op: "length"; record: number; value: number }
  // damage inside one record (its header or data), so the records before it share its window
  | { op: "hit"; record: number; at: number; bit: number }
  | { op: "cut"; record: number; at: number }
  // the end of the file: junk appended, or its last bytes lost (for gzip: the trailer)
  | { op: "append"; bytes: number[] }
  | { op: "tail"; back: number };

const byte = fc.integer({ min: 0, max: 255 });
const record = fc.integer({ min: 0, max: RECORDS - 1 });
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: byte }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.array(byte, { minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant("length" as const), record, value: fc.nat() }),
  fc.record({ op: fc.constant("hit" as const), record, at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("cut" as const), record, at: fc.nat() }),
  fc.record({ op: fc.constant("append" as const), bytes: fc.array(byte, { minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("tail" as const), back: fc.integer({ min: 1, max: 8 }) }),
);

export interface CaseInput {
  muts: Mutation[];
  verify: boolean;
  onError: "fail" | "skip";
  windowBytes?: number;
}
/** One case: 1-4 mutations, checksums on or off, the policy, and the read window (default 16 MiB, or a few hundred bytes). */
export const caseInput: fc.Arbitrary<CaseInput> = fc.record({
  muts: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  verify: fc.boolean(),
  onError: fc.constantFrom("fail" as const, "skip" as const),
  windowBytes: fc.constantFrom(undefined, 300, 1000, 4096),
});

/** Byte offset of record `r` following the framing of `b` (b.length when it runs out). */
function recordAt(b: Uint8Array, r: number): { pos: number; len: number } {
  let pos = 0;
  const len = (p: number) => 16 + (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 2 ** 24;
  for (let i = 0; i < r && pos + 12 <= b.length; i++) pos += len(pos);
  return pos + 12 <= b.length ? { pos, len: Math.min(len(pos), b.length - pos) } : { pos: b.length, len: 0 };
}

/**
 * Applies the mutations; also returns the first byte position they may have changed. Positions are
 * in the buffer as it is when each one applies, so bytes before the smallest are the original ones.
 */
export function apply(src: Uint8Array, muts: Mutation[]): { bytes: Uint8Array; first: number } {
  let b = src.slice();
  let first = Infinity;
  const touch = (p: number) => { first = Math.min(first, p); };
  for (const m of muts) {
    if (!b.length) break;
    const at = "at" in m ? m.at % b.length : 0;
    switch (m.op) {
      case "flip": b[at] ^= 1 << m.bit; touch(at); break;
      case "set": b[at] = m.value; touch(at); break;
      case "truncate": b = b.slice(0, at); touch(at); break;
      case "insert": b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]); touch(at); break;
      case "delete": b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.n)]); touch(at); break;
      case "length": {
        const { pos } = recordAt(b, m.record);
        if (pos + 8 <= b.length) { new DataView(b.buffer).setUint32(pos, m.value, true); touch(pos); }
        break;
      }
      case "hit": {
        const { pos, len } = recordAt(b, m.record);
        if (len) { const p = pos + (m.at % len); b[p] ^= 1 << m.bit; touch(p); }
        break;
      }
      case "cut": {
        const { pos, len } = recordAt(b, m.record);
        if (len) { const p = pos + (m.at % len); b = b.slice(0, p); touch(p); }
        break;
      }
      case "append": touch(b.length); b = Uint8Array.from([...b, ...m.bytes]); break;
      case "tail": { const p = Math.max(0, b.length - m.back); b = b.slice(0, p); touch(p); break; }
    }
  }
  return { bytes: b, first };
}

/** End offsets of the records of an uncompressed TFRecord file. */
function recordEnds(b: Uint8Array): number[] {
  const ends: number[] = [];
  for (let i = 0; i < RECORDS; i++) { const { pos, len } = recordAt(b, i); ends.push(pos + len); }
  return ends;
}

export interface FileKind {
  name: string;
  base: Uint8Array;
  /** The name the damaged file is written under. */
  file: string;
  opts: Record<string, unknown>;
  /** The column holding a row's index in the source. */
  key: "record" | "row";
  /** Prefix of its outcome counts. */
  tag: string;
  framing: "plain" | "gzip" | "zlib" | "npz";
}

/** The four kinds of input, from the committed fixtures under `fixtures` (test/fixtures/). */
export function fileKinds(fixtures: string): FileKind[] {
  const read = (p: string) => new Uint8Array(readFileSync(join(fixtures, p)));
  const plain = read("small/small_0000.tfrecord");
  // batches of 3 rows: batch boundaries inside the file (the default ~32 MiB batch would also cost
  // each case tens of ms of allocation)
  const sconeSmall = { kind: "scone", scone: { ...SCONE_DEFAULTS, bins: [4, 6], batchRows: 3 } };
  return [
    { name: "tfrecord plain", base: plain, file: "case.tfrecord", opts: sconeSmall, key: "record", tag: "", framing: "plain" },
    { name: "tfrecord gzip", base: read("small/small_0001.tfrecord.gz"), file: "case.tfrecord.gz", opts: sconeSmall, key: "record", tag: "gzip:", framing: "gzip" },
    // the same records as a ZLIB stream (TensorFlow's other compression)
    { name: "tfrecord zlib", base: new Uint8Array(deflateSync(plain)), file: "case.tfrecord.zz", opts: sconeSmall, key: "record", tag: "zlib:", framing: "zlib" },
    // a deflate batch (numpy's savez_compressed) and a small stored one
    { name: "npz deflate", base: read("clusters/dataset/clusters_planeV_batch0000.npz"), file: "clusters_planeV_batch0000.npz", opts: {}, key: "row", tag: "npz:", framing: "npz" },
    { name: "npz stored", base: read("clusters/variants/clusters_planeX_batch0150.npz"), file: "clusters_planeX_batch0150.npz", opts: {}, key: "row", tag: "npz:", framing: "npz" },
  ];
}

/**
 * Records of the source that must survive damage starting at byte `first` of the file: those lying
 * wholly before it (plain), or that zlib decodes from the undamaged compressed bytes before it
 * (GZIP/ZLIB, flushed at the cut), or all of them when only the 8-byte GZIP trailer (or what
 * follows the stream) is touched.
 */
export function intactBefore(c: FileKind, first: number, total: number): number {
  if (c.framing === "npz") return 0;
  if (c.framing === "plain") return recordEnds(c.base).filter((end) => end <= first).length;
  // only the checksum trailer (GZIP: CRC-32 and size; ZLIB: Adler-32), or what follows, is touched
  if (first >= c.base.length - (c.framing === "gzip" ? 8 : 4)) return total;
  let decoded: Uint8Array;
  try {
    const head = c.base.subarray(0, Math.min(first, c.base.length));
    const o = { finishFlush: constants.Z_SYNC_FLUSH };
    decoded = c.framing === "gzip" ? gunzipSync(head, o) : inflateSync(head, o);
  } catch {
    return 0; // the cut is inside the header
  }
  return completeRecords(decoded);
}

/** Complete records (by their length fields) at the start of `b`. */
function completeRecords(b: Uint8Array): number {
  let n = 0;
  for (let pos = 0; pos + 12 <= b.length; n++) {
    const end = pos + 16 + (b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16)) + b[pos + 3] * 2 ** 24 + (b[pos + 4] | b[pos + 5] | b[pos + 6] | b[pos + 7]) * 2 ** 32;
    if (end > b.length) break;
    pos = end;
  }
  return n;
}

function plainValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : Number.isFinite(v) ? v : String(v);
  if (typeof v === "object" && typeof (v as { toArray?: unknown }).toArray === "function") return Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), plainValue);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, plainValue);
  return v;
}

/** [source index, hash of every column's value] per output row. */
function fingerprints(path: string, key: string): [number, string][] {
  const t = tableFromIPC(readFileSync(path));
  const names = t.schema.fields.map((f) => f.name);
  const cols = names.map((n) => t.getChild(n)!);
  const keyCol = t.getChild(key)!;
  const out: [number, string][] = [];
  for (let i = 0; i < t.numRows; i++) {
    const h = createHash("sha1");
    cols.forEach((col, j) => h.update(`${names[j]}=${JSON.stringify(plainValue(col.get(i)))};`));
    out.push([Number(keyCol.get(i)), h.digest("hex")]);
  }
  return out;
}

function status(): { rss: number; hwm: number } {
  const s = readFileSync("/proc/self/status", "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}
let canReset = true;
/** Resets the kernel's peak-RSS counter to the current RSS (/proc/self/clear_refs "5"); returns the RSS. */
function resetPeak(): number {
  try {
    if (canReset) writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    canReset = false;
  }
  return status().rss;
}

export interface Problem { record?: number; code: string; message: string; skipped: string; file?: string }
export interface CaseResult {
  ok?: boolean; crash?: string; peak: number;
  problems?: Problem[];
  skipped?: number; rows?: number; keys?: [number, string][];
  error?: { code: string; file?: string; offset?: number; record?: number; message: string };
  left?: string[];
  verify?: VerifyResult | { crash: string };
}

let cases = 0;
/**
 * Converts `file` in this thread, then runs verify on it (with `verifyToo`). With `full`, through
 * `convert` (the plan, the folder lock, the manifest, what fail mode leaves behind); otherwise as
 * one of the CLI's workers runs a task (runTask: the record loop, inflate, the error policy, the
 * sink writing the output file), which costs a fraction. Every 100th case starts from a fresh wasm
 * instance and a full GC; the peak is measured from each case's start.
 */
export async function runCase(file: string, out: string, key: string, opts: Record<string, unknown>, verifyToo = true, full = true): Promise<CaseResult> {
  if (cases++ % 100 === 0) {
    dropKernels();
    (globalThis as { gc?: () => void }).gc?.();
  }
  rmSync(out, { recursive: true, force: true });
  const before = resetPeak();
  const peak = () => (canReset ? status().hwm - before : NaN);
  let r: CaseResult;
  try {
    const fo = { ...FILE_DEFAULTS, ...opts, report: false } as FileOptions;
    let t: TaskResult;
    let problems: Problem[];
    if (full) {
      const s = await convert([file], { ...fo, output: out, threads: 1, inThread: true } as Parameters<typeof convert>[1]);
      t = s.results[0];
      problems = s.problems as Problem[];
    } else {
      mkdirSync(out, { recursive: true });
      const npz = file.endsWith(".npz");
      const kind = npz ? "clusters" : (fo.kind === "auto" ? "scone" : fo.kind);
      t = await runTask(kernels(), { input: file, outName: `${basename(file).replace(/\.(tfrecord|npz).*$/, "")}.arrow`, kind, container: npz ? "npz" : "tfrecord" }, out, fo);
      problems = t.problems as Problem[];
    }
    const used = peak();
    // an input of which nothing could be kept (skip mode) has no output file: no rows
    if (!t.output && (t.rows !== 0 || !problems.length || existsSync(join(out, t.outName)))) return { crash: "no output, yet rows or no problem or a file", peak: used };
    r = { ok: true, peak: used, problems, skipped: t.skipped, rows: t.rows, keys: t.output ? fingerprints(t.output.path, key) : [] };
  } catch (e) {
    const used = peak();
    if (!(e instanceof ArrowsmithError)) return { crash: String((e as Error)?.stack ?? e), peak: used };
    let left: string[] = [];
    try { left = readdirSync(out); } catch { /* never made */ }
    r = { ok: false, peak: used, error: { code: e.code, file: e.file, offset: e.offset, record: e.record, message: e.message }, left };
  }
  if (verifyToo) {
    try {
      r.verify = file.endsWith(".npz") ? verifyNpz(file)
        : await verifyTFRecord(file, { windowBytes: opts.windowBytes as number | undefined, kind: opts.kind as "scone" | undefined, scone: opts.scone as SconeOptions | undefined });
    } catch (e) {
      r.verify = { crash: String((e as Error)?.stack ?? e) };
    }
  }
  return r;
}

/** A failed check: what went wrong with one case. */
export class CaseFailure extends Error {}
function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new CaseFailure(what);
}
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Judges one case against the source's rows (`source`: index → hash); throws a CaseFailure, or
 * returns the outcome's name for the counts (ok, skipped, or the error code, with the kind's tag).
 */
export function judge(c: FileKind, r: CaseResult, path: string, source: Map<number, string>, x: CaseInput, intact: number): string {
  check(r.crash === undefined, `an exception that is not an ArrowsmithError: ${r.crash}`);
  if (Number.isFinite(r.peak)) check(r.peak <= PEAK_BYTES, `peak RSS added by one case: ${r.peak} bytes`);
  const v = r.verify;
  if (v && "crash" in v) throw new CaseFailure(`verify threw: ${v.crash}`);
  if (!r.ok) {
    const e = r.error!;
    check(e.code !== "internal", `internal error: ${e.message}`);
    check(e.file === path, `the error names ${e.file}, not the input`);
    // fail mode: nothing written, not even a temporary file; skip mode reports instead of throwing
    check(x.onError === "fail", `skip mode threw ${e.code}: ${e.message}`);
    const left = r.left!.filter((n) => !n.startsWith("_"));
    check(left.length === 0, `fail mode left ${left.join(", ")}`);
    if (c.framing !== "npz" && x.verify) {
      check(typeof e.record === "number", `the error names no record: ${e.message}`);
      // the damage is at or after the first damaged byte, and the message says how many good records precede it
      check(e.record! >= intact, `error at record ${e.record}, but records 0-${intact - 1} lie before the damage: ${e.message}`);
      check(e.message.includes(`${e.record} good record${e.record === 1 ? "" : "s"} before it`), `the message does not count the good records before it: ${e.message}`);
    }
    if (v && x.verify) {
      // verify finds the same first problem
      check(!v.ok, `convert failed (${e.code}) but verify says ok`);
      const p = v.problems[0];
      check(p.code === e.code && p.record === e.record, `verify's first problem (${p.code} at record ${p.record}) differs from convert's (${e.code} at record ${e.record})`);
      if (c.framing !== "npz") check(v.records >= intact, `verify counts ${v.records} records, ${intact} lie before the damage`);
    }
    return c.tag + e.code;
  }
  const keys = r.keys!.map(([k]) => k);
  check(keys.length === r.rows, `${keys.length} rows in the file, ${r.rows} counted`);
  check(new Set(keys).size === keys.length, "a source row written twice");
  const problems = r.problems!;
  const outcome = c.tag + (problems.length ? `skipped ${[...new Set(problems.map((p) => p.code))].sort().join("+")}` : "ok");
  if (!x.verify) return outcome; // without checksums, damaged values can pass unseen
  for (const [k, h] of r.keys!) check(h === source.get(k), `row ${k} differs from the source's row ${k}`);
  const kept = new Set(keys);
  if (v) {
    // verify counts what the conversion keeps and reports the same problems
    check(v.records === r.rows, `verify counts ${v.records} records, convert kept ${r.rows}`);
    check(v.ok === (problems.length === 0), `verify ${v.ok ? "ok" : "failed"}, convert reported ${problems.length} problems`);
    if (x.onError === "skip") {
      check(same(v.problems.map((p) => [p.code, p.record]), problems.map((p) => [p.code, p.record])),
        `verify's problems ${JSON.stringify(v.problems)} differ from convert's ${JSON.stringify(problems)}`);
    }
  }
  if (x.onError === "fail") {
    check(problems.length === 0, "fail mode reported problems without failing");
    // the source's rows, or a prefix cut at a record boundary (which no reader can tell apart)
    check(keys.every((k, i) => k === i), `fail mode wrote rows ${keys.join(",")}, not a prefix`);
    check(keys.length >= intact, `fail mode kept ${keys.length} rows, ${intact} lie before the damage`);
    return outcome;
  }
  // skip mode: the source minus the reported records; after "rest of file", nothing more
  check(problems.length === r.skipped, `${problems.length} problems, ${r.skipped} counted skipped`);
  for (const p of problems) {
    check(p.file === path, `a problem names ${p.file}`);
    if (c.framing !== "npz") check(typeof p.record === "number", `a TFRecord problem names no record: ${p.message}`);
  }
  const dropped = new Set(problems.filter((p) => p.skipped === "record").map((p) => p.record!));
  const rest = problems.filter((p) => p.skipped !== "record").map((p) => (p.skipped === "file" ? 0 : p.record!));
  check(rest.length <= 1, "more than one end-of-reading problem");
  const end = rest.length ? rest[0] : Math.max(-1, ...keys) + 1;
  for (let i = 0; i < source.size; i++) {
    const want = i < end && !dropped.has(i);
    check(want === kept.has(i), `source row ${i}: ${kept.has(i) ? "written" : "missing"}, but the problems reported (${JSON.stringify(problems)}) say it should ${want ? "be there" : "not"}`);
  }
  for (let i = 0; i < intact; i++) check(kept.has(i), `record ${i} lies before the damage and must be kept`);
  return outcome;
}
