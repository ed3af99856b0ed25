// The dataset statistics of _report.json against numpy's over every event of the SCONE fixtures
// (test/fixtures/make_report_expected.py reads the files itself), on one thread and on two with
// split shards; the accumulators' merge; --no-report.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { convert } from "../src/pipeline/convert.ts";
import { Field, Float32, Float64, Int32, makeData, RecordBatch, Schema, Struct } from "apache-arrow";
import { columnBuffers, columnData } from "../src/arrow.ts";
import { Counts, Histogram, linearEdges, Lowest, Moments, SumArray } from "../src/report/accumulators.ts";
import { decodeTask } from "../src/pipeline/tasks.ts";
import type { SconeEvent } from "../src/report/figures/scone.ts";
import { LOWEST_K, LowestBounds, sconeEdges } from "../src/report/scone-stats.ts";
import { mergeStats, type StatsJson } from "../src/report/stats.ts";
import { NullSink } from "../src/sinks/null.ts";
import { kernels } from "../src/wasm.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const SCONE = join(FIXTURES, "scone");
const want = JSON.parse(readFileSync(join(FIXTURES, "report", "scone_expected.json"), "utf8"));
const scone = { ...SCONE_DEFAULTS, timeRange: want.time_range as [number, number] };

function closeTo(a: number | null, b: number | null, scale: number): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)) + 1e-13 * scale;
}

function expectArray(got: (number | null)[], exp: (number | null)[], what: string): void {
  expect(got.length, what).toBe(exp.length);
  const scale = Math.max(...exp.map((x) => Math.abs(x ?? 0)));
  const bad = got.map((g, i) => [i, g, exp[i]] as const).filter(([, g, e]) => !closeTo(g, e, scale));
  expect(bad.slice(0, 5), `${what}: ${bad.length} values differ`).toEqual([]);
}

function checkReport(r: Record<string, any>): void {
  expect(r.events).toBe(want.events);
  expect(r.class_counts).toEqual(want.class_counts);
  expect(closeTo(r.redshift_mean, want.redshift_mean, 1)).toBe(true);
  expect(r.redshift_missing).toBe(want.redshift_missing);
  expect(r.mean_flux.length).toBe(32);
  expect(r.mean_flux[0].length).toBe(180);
  expectArray(r.mean_flux.flat(), want.mean_flux, "mean_flux");
  // population std from sums of squares: numpy's two-pass std agrees to ~1e-15 of the flux scale here
  const stdScale = Math.max(...want.std_flux.map((x: number | null) => Math.abs(x ?? 0)));
  const std = r.std_flux.flat() as (number | null)[];
  const far = std.map((g, i) => [i, g, want.std_flux[i]] as const)
    .filter(([, g, e]) => (g === null || e === null ? g !== e : Math.abs(g - e) > 1e-9 * stdScale));
  expect(far.slice(0, 5)).toEqual([]);
  for (const c of Object.keys(want.class_counts)) {
    expectArray(r.mean_light_curve_by_class[c], want.mean_light_curve_by_class[c], `light curve ${c}`);
    expectArray(r.mean_spectrum_by_class[c], want.mean_spectrum_by_class[c], `spectrum ${c}`);
  }
  expect([r.axes.peak_window.first_bin, r.axes.peak_window.end_bin]).toEqual(want.peak_window);
  for (const [name, h] of Object.entries(want.histograms) as [string, any][]) {
    const got = r.histograms[name];
    expect(got, name).toBeDefined();
    // the documented edges (10 ** x may differ from numpy's power in the last bit)
    expect(got.edges.length, name).toBe(h.edges.length);
    got.edges.forEach((e: number, i: number) => expect(Math.abs(e - h.edges[i]) <= 1e-14 * Math.abs(h.edges[i]), `${name} edge ${i}`).toBe(true));
    expect({ counts: got.counts, underflow: got.underflow, overflow: got.overflow, missing: got.missing }, name)
      .toEqual({ counts: h.counts, underflow: h.underflow, overflow: h.overflow, missing: h.missing });
  }
}

describe("_report.json", () => {
  it("equals numpy over every event of the fixtures (one thread)", async () => {
    const out = tmp();
    const s = await convert([SCONE], { ...FILE_DEFAULTS, scone, output: out, threads: 1 });
    expect(s.report?.json).toBe(join(out, "_report.json"));
    const r = JSON.parse(readFileSync(join(out, "_report.json"), "utf8"));
    checkReport(r);
    expect(r.complete).toBe(true);
    expect(r.overview.events).toBe(want.events);
    // the lowest-coverage events are the fixtures' lowest, in order
    const cov = r.lowest.coverage_fraction.map((x: { value: number }) => x.value);
    expect(cov).toEqual([...cov].sort((a, b) => a - b));
    expect(cov[0]).toBe(0);
  });

  it("is the same after two threads and split shards (partial sums merged)", async () => {
    const out = tmp();
    const seen: unknown[] = [];
    const s = await convert([SCONE], { ...FILE_DEFAULTS, scone, output: out, threads: 2, taskBytes: 200_000, onTask: (r) => seen.push(r.stats) });
    expect(s.results.some((x) => x.part !== undefined && x.part > 0)).toBe(true);
    checkReport(JSON.parse(readFileSync(join(out, "_report.json"), "utf8")));
    // a caller sees each task's statistics as JSON (the sums move from the workers as float64
    // arrays): what it writes out reads back the same
    expect(seen.length).toBe(s.results.length);
    for (const stats of [...seen, ...s.results.map((x) => x.stats)]) {
      expect(Object.values((stats as { flux: Record<string, { sum: unknown }> }).flux).every((f) => Array.isArray(f.sum))).toBe(true);
      expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
    }
  });

  it("is not written with report: false (--no-report)", async () => {
    const out = tmp();
    const s = await convert([SCONE], { ...FILE_DEFAULTS, scone, output: out, threads: 1, report: false });
    expect(s.report).toBeUndefined();
    expect(s.results.every((x) => x.stats === undefined)).toBe(true);
    expect(existsSync(join(out, "_report.json"))).toBe(false);
  });

  it("holds the cluster dataset's counts and histograms", async () => {
    const out = tmp();
    const s = await convert([join(FIXTURES, "clusters", "dataset")], { ...FILE_DEFAULTS, output: out, threads: 2 });
    const r = JSON.parse(readFileSync(join(out, "_report.json"), "utf8"));
    const withStats = s.results.filter((x) => x.stats);
    expect(withStats.length).toBeGreaterThan(0);
    for (const x of withStats) {
      expect(Object.values((x.stats as { images: Record<string, { sum: unknown }> }).images).every((f) => Array.isArray(f.sum))).toBe(true);
      expect(JSON.parse(JSON.stringify(x.stats))).toEqual(x.stats);
    }
    const exp = JSON.parse(readFileSync(join(FIXTURES, "clusters", "expected.json"), "utf8"));
    const clusters = Object.entries(exp.files as Record<string, { clusters: any[] }>).filter(([k]) => k.startsWith("dataset/")).flatMap(([, f]) => f.clusters);
    expect(r.clusters.clusters).toBe(clusters.length);
    const count = (f: (c: any) => string) => clusters.reduce((m: Record<string, number>, c) => ({ ...m, [f(c)]: (m[f(c)] ?? 0) + 1 }), {});
    expect(r.clusters.plane_counts).toEqual(count((c) => c.plane));
    expect(r.clusters.marley_counts).toEqual(count((c) => String(c.is_marley)));
    expect(r.clusters.interaction_counts).toEqual(count((c) => c.interaction ?? "unknown"));
    const nz = r.clusters.histograms.nonzero_pixels;
    expect(nz.counts.reduce((a: number, b: number) => a + b, 0) + nz.underflow + nz.overflow + nz.missing).toBe(clusters.length);
    expect(Object.keys(r.clusters.mean_image_by_plane).sort()).toEqual(Object.keys(count((c) => c.plane)).sort());
    // the mean image of each plane is the per-pixel mean of the images written (runs of rows of a
    // plane are added in one kernel call: each row must count once, at its own offset)
    const sums = new Map<string, { sum: Float64Array; n: number }>();
    for (const f of readdirSync(out).filter((n) => n.endsWith(".arrow")).sort()) {
      const t = readArrow(join(out, f));
      const img = t.getChild("image")!, plane = t.getChild("plane")!;
      for (let i = 0; i < t.numRows; i++) {
        const px = img.get(i)!.toArray() as Float32Array;
        const p = String(plane.get(i));
        const e = sums.get(p) ?? { sum: new Float64Array(px.length), n: 0 };
        sums.set(p, e);
        for (let q = 0; q < px.length; q++) e.sum[q] += px[q];
        e.n++;
      }
    }
    for (const [p, { sum, n }] of sums) {
      const got = (r.clusters.mean_image_by_plane[p] as number[][]).flat();
      expect(got.length, p).toBe(sum.length);
      expect(got.every((v, q) => Math.abs(v - sum[q] / n) <= 1e-9 * Math.max(1, Math.abs(sum[q] / n))), p).toBe(true);
      expect(got.some((v) => v !== 0), p).toBe(true);
    }
  });
});

describe("lowest lists", () => {
  it("tasks bounded by the lists of tasks finished before them merge to the same lists and keep the same events", async () => {
    const k = kernels();
    const files = readdirSync(SCONE).filter((n) => /^heatmaps_/.test(n)).sort().map((n) => join(SCONE, n));
    const run = async (bounded: boolean) => {
      const bounds = new LowestBounds();
      const parts: StatsJson[] = [];
      const done: { stats: StatsJson; events: SconeEvent[] }[] = [];
      let made = 0;
      for (const input of files) {
        const r = await decodeTask(k, { input, outName: "x", kind: "scone" }, { ...FILE_DEFAULTS, scone, lowestBelow: bounded ? bounds.get() : undefined }, () => new NullSink());
        bounds.add(r.stats);
        parts.push(r.stats!);
        done.push({ stats: r.stats!, events: r.lowestEvents! });
        made += r.lowestEvents!.length;
        // as the pool does: finished tasks' events that can be in no list any more go
        if (bounded) for (const d of done) d.events = bounds.stillListed(d.stats, d.events);
      }
      const kept = done.flatMap((d) => d.events);
      const lowest = mergeStats(parts).scone!.toJSON().lowest;
      const listed = new Set(Object.values(lowest).flat().map((x) => `${x.source}:${x.record}`));
      return { lowest, kept, made, figures: kept.filter((e) => listed.has(`${e.source}:${e.record}`)).sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.record - b.record)) };
    };
    const free = await run(false), bounded = await run(true);
    expect(bounded.lowest).toEqual(free.lowest);
    expect(Object.values(bounded.lowest).every((l) => l.length === LOWEST_K)).toBe(true);
    expect(bounded.figures.map((e) => [e.source, e.record])).toEqual(free.figures.map((e) => [e.source, e.record]));
    bounded.figures.forEach((e, i) => {
      expect(Array.from(e.flux)).toEqual(Array.from(free.figures[i].flux));
      expect(Array.from(e.err)).toEqual(Array.from(free.figures[i].err));
    });
    // the bounds did leave events out, and events kept by a task were let go later (else this compares nothing)
    expect(bounded.made).toBeLessThan(free.made);
    expect(bounded.kept.length).toBeLessThan(bounded.made);
    expect(bounded.kept.length).toBe(bounded.figures.length);
  });
});

describe("accumulators", () => {
  it("a whole column counts as its values one by one (histograms, moments; invalid and NaN missing)", () => {
    const n = 1000;
    const values = new Float64Array(n).map((_, i) => (i % 37 === 0 ? NaN : i % 53 === 0 ? Infinity : i % 59 === 0 ? -Infinity : Math.sin(i) * 10 ** ((i % 13) - 4)));
    values[5] = 0.25; values[6] = 1; values[7] = 0; values[8] = 1e6; values[9] = -1e-3;
    const bits = new Uint8Array(Math.ceil((n + 3) / 8)).map((_, i) => (i % 5 === 0 ? 0b10110111 : 0xff));
    const valid = (r: number) => ((bits[(3 + r) >> 3] >> ((3 + r) & 7)) & 1) === 1;
    for (const edges of [linearEdges(0, 1, 20), linearEdges(-50, 50, 36), [-1e6, -1e3, -1, -1e-3, 1e-3, 1, 1e3, 1e6]]) {
      for (const withBits of [false, true]) {
        const one = new Histogram(edges), col = new Histogram(edges), m1 = new Moments(), mc = new Moments();
        values.forEach((v, r) => { const x = withBits && !valid(r) ? null : v; one.add(x); m1.add(x); });
        col.addColumn(values, n, withBits ? bits : null, 3);
        mc.addColumn(values, n, withBits ? bits : null, 3);
        expect(col.toJSON()).toEqual(one.toJSON());
        expect(mc.toJSON()).toEqual(m1.toJSON());
        const ints = Int32Array.from(values, (v) => (Number.isFinite(v) ? Math.round(v) : 0));
        const i1 = new Histogram(edges), ic = new Histogram(edges);
        ints.forEach((v) => i1.add(v));
        ic.addColumn(ints, n);
        expect(ic.toJSON()).toEqual(i1.toJSON());
      }
    }
  });

  it("a column's bins are numpy.histogram's for every metric's edges, at and beside each edge and binade", () => {
    // the reference: a scan of the edges, as numpy.histogram defines the bins
    const reference = (edges: readonly number[], v: number) => {
      const last = edges.length - 1;
      if (v !== v) return "missing";
      if (v < edges[0]) return "underflow";
      if (v > edges[last]) return "overflow";
      if (v === edges[last]) return last - 1;
      let i = 0;
      while (!(edges[i] <= v && v < edges[i + 1])) i++;
      return i;
    };
    const f = new Float64Array(1), w = new BigInt64Array(f.buffer);
    const step = (x: number, d: number) => { f[0] = x; if (x === 0) return d * 5e-324; w[0] += BigInt(x > 0 ? d : -d); return f[0]; };
    const sets: (readonly number[])[] = [
      ...["total_flux", "mean_flux", "snr_mean", "coverage_fraction", "peak_flux_wavelength", "nonfinite_values", "redshift"].map((m) => sconeEdges(m, SCONE_DEFAULTS)),
      [-8, -4, -3.5, -2, -1, -0.75, 0, 1e-300, 1, 1.1, 1.2, 1.5, 1.9, 2, 3, 1e300],
      [-1e6, -1e3, -1, -1e-3], [0, Infinity], [-Infinity, -1, 0, 1],
    ];
    for (const edges of sets) {
      const values: number[] = [0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, -2.2250738585072014e-308, NaN, Infinity, -Infinity];
      for (const e of edges) for (const d of [-2, -1, 0, 1, 2]) values.push(step(e, d));
      for (let k = -1074; k <= 1023; k += 7) for (const s of [1, -1]) for (const d of [-1, 0, 1]) values.push(step(s * 2 ** k, d));
      for (let i = 0; i < 2000; i++) values.push((Math.sin(i * 12.9898) * 43758.5453 % 1) * 10 ** ((i % 19) - 6));
      const expected = new Histogram(edges);
      for (const v of values) {
        const r = reference(edges, v);
        if (typeof r === "number") expected.counts[r]++; else expected[r]++;
      }
      const f64 = new Histogram(edges), one = new Histogram(edges), f32 = new Histogram(edges), f32one = new Histogram(edges);
      f64.addColumn(Float64Array.from(values), values.length);
      values.forEach((v) => one.add(v));
      expect(f64.toJSON()).toEqual(expected.toJSON());
      expect(one.toJSON()).toEqual(expected.toJSON());
      // other column types take their values' bits one by one
      const floats = Float32Array.from(values);
      f32.addColumn(floats, floats.length);
      floats.forEach((v) => f32one.add(v));
      expect(f32.toJSON()).toEqual(f32one.toJSON());
    }
  });

  it("a batch's columns are read by name as getChild reads them (whole batches and slices, a missing name, a repeated one)", () => {
    const n = 10;
    const schema = new Schema([new Field("a", new Float64()), new Field("b", new Int32()), new Field("a", new Float32())]);
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: [
      makeData({ type: new Float64(), data: Float64Array.from({ length: n }, (_, i) => i / 2) }),
      makeData({ type: new Int32(), data: Int32Array.from({ length: n }, (_, i) => -i) }),
      makeData({ type: new Float32(), data: Float32Array.from({ length: n }, (_, i) => i * 3) }),
    ] }));
    for (const b of [batch, batch.slice(3, 8)]) {
      for (const name of ["a", "b"]) expect(columnData(b, name)).toBe(b.getChild(name)!.data[0]);
      expect(columnData(b, "c")).toBeUndefined();
      expect(Array.from(columnBuffers(b, "a")!.values)).toEqual(Array.from(b.getChild("a")!.data[0].values));
    }
  });

  it("histograms bin as numpy.histogram does, with the tails apart", () => {
    const h = new Histogram(linearEdges(0, 1, 4));
    for (const v of [-0.1, 0, 0.25, 0.2499999, 0.5, 0.99, 1, 1.01, NaN, null]) h.add(v);
    expect(h.toJSON()).toEqual({ edges: [0, 0.25, 0.5, 0.75, 1], counts: [2, 1, 1, 2], underflow: 1, overflow: 1, missing: 2 });
    const log = new Histogram([1, 10, 100, 1000]);
    for (const v of [1, 9.99, 10, 999, 1000, 0]) log.add(v);
    expect(log.counts).toEqual([2, 1, 2]);
    expect(() => h.merge(log)).toThrow(/different edges/);
  });

  it("the lowest events keep infinite values through JSON (as null they came back as 0 and sorted first)", () => {
    const l = new Lowest(3);
    [Infinity, 2, -Infinity].forEach((v, i) => l.add(v, { id: String(i), source: "f", record: i }));
    const back = Lowest.fromJSON(3, JSON.parse(JSON.stringify(l)));
    expect(back.items.map((x) => x.value)).toEqual([-Infinity, 2, Infinity]);
    back.add(0, { id: "3", source: "f", record: 3 });
    expect(back.items.map((x) => x.value)).toEqual([-Infinity, 0, 2]);
  });

  it("merge in any split gives what one accumulator gives", () => {
    const values = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3 + (i % 7 === 0 ? NaN : 0));
    const whole = { h: new Histogram(linearEdges(-3, 3, 12)), m: new Moments(), c: new Counts(), l: new Lowest(5), s: new SumArray(4, true) };
    const parts = [0, 1, 2].map(() => ({ h: new Histogram(linearEdges(-3, 3, 12)), m: new Moments(), c: new Counts(), l: new Lowest(5), s: new SumArray(4, true) }));
    values.forEach((v, i) => {
      for (const a of [whole, parts[i % 3]]) {
        a.h.add(v); a.m.add(v); a.c.add(v < 0 ? "neg" : "pos");
        a.l.add(v, { id: String(i), source: "f", record: i });
        a.s.n++; a.s.sum[i % 4] += i; a.s.sumSq![i % 4] += i * i;
      }
    });
    const merged = parts[0];
    for (const p of parts.slice(1)) {
      // through JSON, as results cross threads
      merged.h.merge(Histogram.fromJSON(JSON.parse(JSON.stringify(p.h))));
      merged.m.merge(Moments.fromJSON(JSON.parse(JSON.stringify(p.m))));
      merged.c.merge(Counts.fromJSON(JSON.parse(JSON.stringify(p.c))));
      merged.l.merge(Lowest.fromJSON(5, JSON.parse(JSON.stringify(p.l))));
      merged.s.merge(SumArray.fromJSON(JSON.parse(JSON.stringify(p.s))));
    }
    expect(merged.h.toJSON()).toEqual(whole.h.toJSON());
    expect(merged.c.toJSON()).toEqual(whole.c.toJSON());
    expect(merged.l.toJSON()).toEqual(whole.l.toJSON());
    expect(merged.s.toJSON()).toEqual(whole.s.toJSON());
    expect(merged.m.n).toBe(whole.m.n);
    expect(merged.m.missing).toBe(whole.m.missing);
    expect(merged.m.sum).toBeCloseTo(whole.m.sum, 10);
    expect([merged.m.min, merged.m.max]).toEqual([whole.m.min, whole.m.max]);
  });
});
