// Property tests: random damage to valid TFRecord files (written by Google protobuf + crc32c) and
// NPZ cluster batches (written by numpy), converted in a child process (test/fuzz-child.mjs) with a
// deadline per case, and judged against the undamaged source:
// - never an exception other than ours, never a hang, never more peak memory (RSS, measured per
//   case from a fresh state) than the bound;
// - with checksums verified: every row written equals the source row it came from (all columns);
//   fail mode writes the source's rows or a record-boundary prefix of them, or nothing and an error
//   that says how many good records precede the damage; skip mode writes exactly the source's
//   rows minus the records it reports, and every record that lies wholly before the first damaged
//   byte is kept.
// A fixed seed and budget run in `npm test`; the larger scripted run is `npm run fuzz`
// (FUZZ_RUNS cases per file kind, FUZZ_SEED to vary).
import { type ChildProcess, fork } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { FIXTURES, tmp } from "./helpers.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const CASE_MS = Number(process.env.FUZZ_CASE_MS ?? 20_000);
/** Peak RSS a case may add to the process (inputs are 4-50 KB; a 16 MiB read window is allowed). */
const PEAK_BYTES = 96 << 20;

const plain = new Uint8Array(readFileSync(join(FIXTURES, "small/small_0000.tfrecord")));
const gz = new Uint8Array(readFileSync(join(FIXTURES, "small/small_0001.tfrecord.gz")));
const RECORDS = 8;
// a deflate batch (numpy's savez_compressed) and a small stored one
const npzDeflate = new Uint8Array(readFileSync(join(FIXTURES, "clusters/dataset/clusters_planeV_batch0000.npz")));
const npzStored = new Uint8Array(readFileSync(join(FIXTURES, "clusters/variants/clusters_planeX_batch0150.npz")));

type Mutation =
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
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
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
function apply(src: Uint8Array, muts: Mutation[]): { bytes: Uint8Array; first: number } {
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

// The child process that runs each case, restarted after a hang or a crash.
const CHILD = new URL("./fuzz-child.mjs", import.meta.url).pathname;
interface CaseResult {
  ok?: boolean; crash?: string; hang?: boolean; peak: number;
  problems?: { record?: number; code: string; message: string; skipped: string; file?: string }[];
  skipped?: number; rows?: number; keys?: [number, string][];
  error?: { code: string; file?: string; offset?: number; record?: number; message: string };
  left?: string[];
}
class Runner {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private next = 0;
  private waiting = new Map<number, (r: CaseResult) => void>();

  private start(): Promise<void> {
    const child = fork(CHILD, [], { execArgv: ["--expose-gc"], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child = child;
    return new Promise((resolve, reject) => {
      child.on("message", (m: { id?: number; ready?: boolean } & CaseResult) => {
        if (m.ready) return resolve();
        this.waiting.get(m.id!)?.(m);
        this.waiting.delete(m.id!);
      });
      child.on("exit", (code, signal) => {
        if (this.child === child) { this.child = undefined; this.ready = undefined; }
        for (const done of this.waiting.values()) done({ crash: `case process exited (${code ?? signal})`, peak: NaN });
        this.waiting.clear();
        reject(new Error(`case process exited (${code ?? signal}) before it was ready`));
      });
    });
  }

  /** Runs one case; a case not done within `ms` is a hang (the process is killed and restarted). */
  async run(msg: Record<string, unknown>, ms = CASE_MS): Promise<CaseResult> {
    this.ready ??= this.start();
    await this.ready;
    const child = this.child!;
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ hang: true, peak: NaN });
        child.kill("SIGKILL");
      }, ms);
      this.waiting.set(id, (r) => { clearTimeout(timer); resolve(r); });
      child.send({ id, ...msg });
    });
  }

  stop(): void {
    this.child?.kill("SIGKILL");
  }
}

const seen = new Map<string, number>();
const count = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);
// a long run says how far it is (FUZZ_LOG names a file to append to every 1000 cases)
let done = 0;
const tick = (name: string) => {
  if (++done % 1000 === 0 && process.env.FUZZ_LOG) appendFileSync(process.env.FUZZ_LOG, `${new Date().toISOString()} ${name}: ${done} cases ${JSON.stringify(Object.fromEntries(seen))}\n`);
};
let peakMax = 0;

const sconeSmall = { kind: "scone", scone: { ...SCONE_DEFAULTS, bins: [4, 6] } };
// each kind of file, the name it is written under, the options its conversion gets, and which
// column holds a row's index in the source
const CASES = [
  { name: "tfrecord plain", base: plain, file: "case.tfrecord", opts: sconeSmall, key: "record", tag: "", framing: "plain" },
  { name: "tfrecord gzip", base: gz, file: "case.tfrecord.gz", opts: sconeSmall, key: "record", tag: "", framing: "gzip" },
  { name: "npz deflate", base: npzDeflate, file: "clusters_planeV_batch0000.npz", opts: {}, key: "row", tag: "npz:", framing: "npz" },
  { name: "npz stored", base: npzStored, file: "clusters_planeX_batch0150.npz", opts: {}, key: "row", tag: "npz:", framing: "npz" },
] as const;

/** Records (or rows) of the source that lie wholly before byte `first` of the damaged file. */
function intactBefore(c: (typeof CASES)[number], first: number, total: number): number {
  if (c.framing === "plain") return recordEnds(c.base).filter((end) => end <= first).length;
  // gzip: damage that only touches the 8-byte trailer (or comes after it) leaves all the data
  if (c.framing === "gzip") return first >= c.base.length - 8 ? total : 0;
  return 0;
}

/** Judges one case against the source's rows (`source`: index → hash). */
function judge(c: (typeof CASES)[number], r: CaseResult, path: string, source: Map<number, string>, verify: boolean,
               onError: string, intact: number): void {
  expect(r.hang, "no result within the deadline: a hang").toBeUndefined();
  expect(r.crash, "an exception that is not an ArrowsmithError").toBeUndefined();
  if (Number.isFinite(r.peak)) {
    peakMax = Math.max(peakMax, r.peak);
    expect(r.peak, "peak RSS added by one case").toBeLessThanOrEqual(PEAK_BYTES);
  }
  if (!r.ok) {
    const e = r.error!;
    count(c.tag + e.code);
    expect(e.code).not.toBe("internal");
    expect(e.file).toBe(path);
    // fail mode: nothing written, not even a temporary file; skip mode reports instead of throwing
    expect(onError).toBe("fail");
    expect(r.left!.filter((n) => !n.startsWith("_"))).toEqual([]);
    if (c.framing !== "npz" && verify) {
      expect(e.record, `the error names its record: ${e.message}`).toBeTypeOf("number");
      // the damage is at or after the first damaged byte, and the message says how many good records precede it
      expect(e.record!).toBeGreaterThanOrEqual(intact);
      expect(e.message).toContain(`${e.record} good record${e.record === 1 ? "" : "s"} before it`);
    }
    return;
  }
  count("ok");
  const keys = r.keys!.map(([k]) => k);
  expect(keys.length).toBe(r.rows);
  expect(new Set(keys).size, "no source row written twice").toBe(keys.length);
  if (!verify) return; // without checksums, damaged values can pass unseen
  for (const [k, h] of r.keys!) expect(h, `row ${k} equals the source's row ${k}`).toBe(source.get(k));
  const kept = new Set(keys);
  if (onError === "fail") {
    expect(r.problems).toEqual([]);
    // the source's rows, or a prefix cut at a record boundary (which no reader can tell apart)
    expect(keys).toEqual(keys.map((_, i) => i));
    expect(keys.length).toBeGreaterThanOrEqual(intact);
    return;
  }
  // skip mode: the source minus the reported records; after "rest of file", nothing more
  const problems = r.problems!;
  expect(problems.length).toBe(r.skipped);
  for (const p of problems) {
    expect(p.file).toBe(path);
    if (c.framing !== "npz") expect(p.record, `a TFRecord problem names its record: ${p.message}`).toBeTypeOf("number");
  }
  const dropped = new Set(problems.filter((p) => p.skipped === "record").map((p) => p.record!));
  const rest = problems.filter((p) => p.skipped !== "record").map((p) => (p.skipped === "file" ? 0 : p.record!));
  expect(rest.length, "at most one end-of-reading problem").toBeLessThanOrEqual(1);
  const end = rest.length ? rest[0] : Math.max(-1, ...keys) + 1;
  for (let i = 0; i < source.size; i++) {
    const want = i < end && !dropped.has(i);
    if (want !== kept.has(i)) {
      throw new Error(`source row ${i}: ${kept.has(i) ? "written" : "missing"}, but the problems reported (${JSON.stringify(problems)}) say it should ${want ? "be there" : "not"}`);
    }
    if (dropped.has(i)) expect(kept.has(i)).toBe(false);
  }
  for (let i = 0; i < intact; i++) expect(kept.has(i), `record ${i} lies before the damage and must be kept`).toBe(true);
}

describe("random damage to TFRecord and NPZ files", () => {
  const runner = new Runner();
  afterAll(() => runner.stop());

  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: the source's rows or a clean ArrowsmithError (${RUNS} cases, seed ${SEED + i})`, async () => {
      const dir = tmp();
      const p = join(dir, c.file);
      const out = join(dir, "out");
      writeFileSync(p, c.base);
      const base = await runner.run({ file: p, out, key: c.key, opts: { ...c.opts, verify: true, onError: "fail" } });
      expect(base.ok, JSON.stringify(base)).toBe(true);
      const source = new Map(base.keys!);
      expect(source.size).toBeGreaterThan(0);
      await fc.assert(fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.constantFrom("fail", "skip"),
        fc.constantFrom(undefined, 300, 1000, 4096),
        async (muts, verify, onError, windowBytes) => {
          const { bytes, first } = apply(c.base, muts);
          writeFileSync(p, bytes);
          const r = await runner.run({ file: p, out, key: c.key, opts: { ...c.opts, verify, onError, windowBytes } });
          judge(c, r, p, source, verify, onError, intactBefore(c, first, source.size));
          tick(c.name);
        }), { numRuns: RUNS, seed: SEED + i });
    }, Math.max(600_000, RUNS * 2_000));
  }

  it("the outcomes cover success and several error codes", () => {
    expect(seen.get("ok")).toBeGreaterThan(0);
    expect([...seen.keys()].length).toBeGreaterThanOrEqual(4);
    process.stderr.write(`fuzz: ${4 * RUNS} cases, outcomes ${JSON.stringify(Object.fromEntries(seen))}, largest peak RSS of a case ${(peakMax / 2 ** 20).toFixed(1)} MiB\n`);
  });
});
