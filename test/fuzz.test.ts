// Property tests: random damage to valid TFRecord files (written by Google protobuf + crc32c) and
// NPZ cluster batches (written by numpy)
// must end in correct output or a clean error of ours: never another exception, never a hang,
// never memory far beyond what the file justifies. A fixed seed and budget run in CI; set
// FUZZ_RUNS (and FUZZ_SEED) for a larger run: `FUZZ_RUNS=20000 npx vitest run test/fuzz.test.ts`.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArrowsmithError } from "../src/errors.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { kernels } from "../src/wasm.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const CASE_MS = 5000;

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
  | { op: "length"; record: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant("length" as const), record: fc.integer({ min: 0, max: RECORDS - 1 }), value: fc.nat() }),
);

function apply(src: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = src.slice();
  for (const m of muts) {
    if (!b.length) break;
    const at = "at" in m ? m.at % b.length : 0;
    switch (m.op) {
      case "flip": b[at] ^= 1 << m.bit; break;
      case "set": b[at] = m.value; break;
      case "truncate": b = b.slice(0, at); break;
      case "insert": b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]); break;
      case "delete": b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.n)]); break;
      case "length": {
        // overwrite a record's length field (the first record header is at 0; others follow the framing)
        let pos = 0;
        for (let r = 0; r < m.record && pos + 12 <= b.length; r++) pos += 16 + (b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16));
        if (pos + 8 <= b.length) new DataView(b.buffer).setUint32(pos, m.value, true);
        break;
      }
    }
  }
  return b;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`hang: no result in ${ms} ms`)), ms); });
  try { return await Promise.race([p, t]); } finally { clearTimeout(timer); }
}

const seen = new Map<string, number>();

// each kind of file, the name it is written under, and the options its conversion gets
const CASES = [
  { name: "tfrecord plain", base: plain, file: "case.tfrecord", opts: { kind: "scone" as const, scone: { ...SCONE_DEFAULTS, bins: [4, 6] as [number, number] } }, tag: "" },
  { name: "tfrecord gzip", base: gz, file: "case.tfrecord.gz", opts: { kind: "scone" as const, scone: { ...SCONE_DEFAULTS, bins: [4, 6] as [number, number] } }, tag: "" },
  { name: "npz deflate", base: npzDeflate, file: "clusters_planeV_batch0000.npz", opts: {}, tag: "npz:" },
  { name: "npz stored", base: npzStored, file: "clusters_planeX_batch0150.npz", opts: {}, tag: "npz:" },
];

describe("random damage to TFRecord and NPZ files", () => {
  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: correct output or a clean ArrowsmithError (${RUNS} cases, seed ${SEED + i})`, async () => {
      const dir = tmp();
      const k = kernels();
      const p = join(dir, c.file);
      await fc.assert(fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.constantFrom("fail", "skip"),
        async (muts, verify, onError) => {
          writeFileSync(p, apply(c.base, muts));
          const memBefore = k.memory.buffer.byteLength;
          try {
            const s = await withTimeout(convert([p], {
              ...FILE_DEFAULTS, ...c.opts, output: join(dir, "out"), threads: 1, verify, onError: onError as "fail" | "skip",
            }), CASE_MS);
            // the output holds exactly the rows reported, and fail mode reports no skipped problem
            const t = readArrow(s.results[0].output.path);
            expect(t.numRows).toBe(s.results[0].rows);
            if (onError === "fail") expect(s.problems).toEqual([]);
            seen.set("ok", (seen.get("ok") ?? 0) + 1);
          } catch (e) {
            if (!(e instanceof ArrowsmithError) || e.code === "internal") throw e;
            expect(e.file).toBe(p);
            seen.set(c.tag + e.code, (seen.get(c.tag + e.code) ?? 0) + 1);
          }
          // memory grows with what the file holds, never with what a damaged length claims
          expect(k.memory.buffer.byteLength - memBefore).toBeLessThanOrEqual(64 << 20);
        }), { numRuns: RUNS, seed: SEED + i });
    }, 600_000);
  }

  it("the outcomes cover success and several error codes", () => {
    expect(seen.get("ok")).toBeGreaterThan(0);
    expect([...seen.keys()].length).toBeGreaterThanOrEqual(4);
    process.stderr.write(`fuzz outcomes: ${JSON.stringify(Object.fromEntries(seen))}\n`);
  });
});
