// The bulk pipeline: identical outputs whatever the thread count, large files split at record
// boundaries, --resume, CSV.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const SCONE = join(FIXTURES, "scone");
const digest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const outputs = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".arrow")).sort();

describe("worker pool", () => {
  it("1 and 2 threads write byte-identical files, splits included", async () => {
    const runs = [];
    for (const threads of [1, 2]) {
      const out = tmp();
      // 200 KB tasks: heatmaps_0000 (553 KB, 6 records) is cut into parts at record boundaries
      const s = await convert([SCONE], { ...FILE_DEFAULTS, output: out, threads, taskBytes: 200_000 });
      expect(s.threads).toBe(threads);
      runs.push(out);
    }
    const names = outputs(runs[0]);
    expect(names).toContain("heatmaps_0000-part0000.arrow");
    expect(names).toContain("heatmaps_0000-part0001.arrow");
    expect(outputs(runs[1])).toEqual(names);
    for (const n of names) expect(digest(join(runs[1], n)), n).toBe(digest(join(runs[0], n)));
  });

  it("the parts of a split file hold exactly the records of the whole, in order", async () => {
    const whole = tmp();
    const split = tmp();
    await convert([join(SCONE, "heatmaps_0000.tfrecord")], { ...FILE_DEFAULTS, output: whole, threads: 1 });
    const s = await convert([join(SCONE, "heatmaps_0000.tfrecord")], { ...FILE_DEFAULTS, output: split, threads: 2, taskBytes: 100_000 });
    const a = readArrow(join(whole, "heatmaps_0000.arrow"));
    const parts = outputs(split).map((n) => readArrow(join(split, n)));
    expect(parts.length).toBeGreaterThan(2);
    const ids = parts.flatMap((t) => Array.from({ length: t.numRows }, (_, i) => [t.getChild("id")!.get(i), t.getChild("record")!.get(i)]));
    expect(ids).toEqual(Array.from({ length: a.numRows }, (_, i) => [a.getChild("id")!.get(i), a.getChild("record")!.get(i)]));
    const m = s.manifest.inputs[0];
    expect(m.outputs.map((o) => o.file)).toEqual(outputs(split));
    expect(m.records).toBe(a.numRows);
  });
});

describe("--resume", () => {
  it("does nothing on a converted folder, and redoes only a deleted output", async () => {
    const out = tmp();
    const first = await convert([SCONE], { ...FILE_DEFAULTS, output: out, threads: 1 });
    expect(first.results).toHaveLength(5);
    const again = await convert([SCONE], { ...FILE_DEFAULTS, output: out, threads: 1, resume: true });
    expect(again.results).toHaveLength(0);
    expect(again.resumed).toHaveLength(5);
    expect(again.manifest.totals.rows).toBe(first.manifest.totals.rows);
    const before = statSync(join(out, "heatmaps_0000.arrow")).mtimeMs;
    rmSync(join(out, "heatmaps_0001.arrow"));
    const third = await convert([SCONE], { ...FILE_DEFAULTS, output: out, threads: 1, resume: true });
    expect(third.results.map((r) => r.output.path.split("/").pop())).toEqual(["heatmaps_0001.arrow"]);
    expect(statSync(join(out, "heatmaps_0000.arrow")).mtimeMs).toBe(before);
    expect(third.manifest.inputs).toHaveLength(5);
  });

  it("other options redo everything", async () => {
    const out = tmp();
    await convert([SCONE], { ...FILE_DEFAULTS, output: out, threads: 1 });
    const f64 = await convert([SCONE], { ...FILE_DEFAULTS, output: out, threads: 1, resume: true, scone: { ...FILE_DEFAULTS.scone, precision: "f64" } });
    expect(f64.results).toHaveLength(5);
  });
});

describe("CSV", () => {
  it("writes the scalar and metric columns, one row per event", async () => {
    const out = tmp();
    await convert([join(SCONE, "legacy_0000.tfrecord"), join(SCONE, "heatmaps_0001.tfrecord")], { ...FILE_DEFAULTS, output: out, format: "csv", threads: 1 });
    const arrowOut = tmp();
    await convert([join(SCONE, "heatmaps_0001.tfrecord")], { ...FILE_DEFAULTS, output: arrowOut, threads: 1 });
    const t = readArrow(join(arrowOut, "heatmaps_0001.arrow"));
    const lines = readFileSync(join(out, "heatmaps_0001.csv"), "utf8").trim().split("\n");
    const header = lines[0].split(",");
    expect(header).not.toContain("flux");
    expect(lines).toHaveLength(1 + t.numRows);
    for (let r = 0; r < t.numRows; r++) {
      const row = Object.fromEntries(lines[r + 1].split(",").map((v, i) => [header[i], v]));
      expect(BigInt(row.snid)).toBe(t.getChild("id")!.get(r));
      expect(Number(row.redshift)).toBe(t.getChild("z")!.get(r));
      expect(Number(row.coverage_fraction)).toBe(t.getChild("coverage_fraction")!.get(r));
      expect(Number(row.total_flux)).toBe(t.getChild("total_flux")!.get(r));
    }
    const legacy = readFileSync(join(out, "legacy_0000.csv"), "utf8").trim().split("\n");
    const h = legacy[0].split(",");
    expect(legacy[1].split(",")[h.indexOf("redshift")]).toBe("");
  });
});
