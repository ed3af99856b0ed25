// The report's per-class flux sums, taken by the SCONE kernel in its pixel pass: every class (the
// first ones in wasm memory, any beyond them in JS) holds exactly the sums and sums of squares of
// its events' float64 flux values added in record order, with the metric columns and without
// them (the kernel's split-only path), for float32 and float64 tensors.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { encodeExample, frameRecord, heatmap, NT, NW, Rng } from "../src/generate.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { convert } from "../src/pipeline/convert.ts";
import { tmp } from "./helpers.ts";

/** 11 classes (more than the kernel's wasm regions hold), events of a class spread over the file. */
const LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 42, 1, 0, 9, 42, 3, 3, 8, 7, 0, 42, 5, 6, 2, 1];

function writeInput(): { path: string; want: Map<string, { n: number; sum: Float64Array; sq: Float64Array }> } {
  const rng = new Rng(17);
  const image = new Float64Array(NW * NT * 2);
  const want = new Map<string, { n: number; sum: Float64Array; sq: Float64Array }>();
  const records: Uint8Array[] = [];
  LABELS.forEach((label, e) => {
    heatmap(rng, label % 2, image);
    // a few values the sums must carry through exactly: negative zero, tiny and huge ones
    image[2 * (e * 37)] = [-0, 1e-300, -3.5e150, 7][e % 4];
    let w = want.get(String(label));
    if (!w) want.set(String(label), (w = { n: 0, sum: new Float64Array(NW * NT), sq: new Float64Array(NW * NT) }));
    for (let i = 0; i < NW * NT; i++) { const f = image[2 * i]; w.sum[i] += f; w.sq[i] += f * f; }
    w.n++;
    records.push(frameRecord(encodeExample([
      ["id", ["int64", [100 + e]]], ["label", ["int64", [label]]], ["z", ["float", [0.5]]], ["z_err", ["float", [0.01]]],
      ["image_raw", ["bytes", [new Uint8Array(image.buffer.slice(0))]]],
    ])));
  });
  const path = join(tmp(), "classes.tfrecord");
  writeFileSync(path, Buffer.concat(records));
  return { path, want };
}

describe("report flux sums", () => {
  const { path, want } = writeInput();
  const cases = [
    { name: "metrics, float32", metrics: true, precision: "f32" },
    { name: "no metrics (split only), float32", metrics: false, precision: "f32" },
    { name: "metrics, float64", metrics: true, precision: "f64" },
    { name: "no metrics, float64, batches of 4", metrics: false, precision: "f64", batchRows: 4 },
  ] as const;
  for (const c of cases) {
    it(`are exact per class: ${c.name}`, async () => {
      const out = tmp();
      const scone = { ...SCONE_DEFAULTS, metrics: c.metrics, precision: c.precision, ...("batchRows" in c ? { batchRows: c.batchRows } : {}) };
      await convert([path], { ...FILE_DEFAULTS, scone, output: out, threads: 1 });
      const r = JSON.parse(readFileSync(join(out, "_report.json"), "utf8"));
      const flux = r.state.scone.flux as Record<string, { n: number; sum: (number | null)[]; sum_sq: (number | null)[] }>;
      expect(Object.keys(flux).sort()).toEqual([...want.keys()].sort());
      for (const [label, w] of want) {
        expect(flux[label].n, label).toBe(w.n);
        const bad = [...w.sum.keys()].filter((i) => !Object.is(flux[label].sum[i], w.sum[i]) || !Object.is(flux[label].sum_sq[i], w.sq[i]));
        expect(bad.slice(0, 5), `class ${label}: ${bad.length} pixels differ`).toEqual([]);
      }
      expect(r.class_counts).toEqual(Object.fromEntries([...want].map(([k, w]) => [k, w.n])));
    });
  }
});
