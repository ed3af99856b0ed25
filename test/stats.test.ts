// `arrowsmith stats` on SCONE shards: the conversion's tasks in worker threads with a sink that keeps
// nothing, each returning mergeable accumulators that this thread merges. Its figures are checked
// against numpy (test/fixtures/make_report_expected.py, "stats": np.quantile over the same events),
// against itself on any thread count and any cut of the files into tasks, and it is shown to run in
// workers. The quantile accumulator is checked against sorted arrays on larger sets.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sconeStats, type SconeStats } from "../src/datasets/scone/stats.ts";
import { summaryEdges } from "../src/datasets/scone/summary.ts";
import { Histogram, linearEdges } from "../src/report/accumulators.ts";
import { FIXTURES } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const SCONE = join(FIXTURES, "scone");
const FILES = readdirSync(SCONE).filter((n) => n.includes(".tfrecord")).sort().map((n) => join(SCONE, n));
const want = JSON.parse(readFileSync(join(FIXTURES, "report", "scone_expected.json"), "utf8")).stats;
type Figures = SconeStats["coverage_fraction"];
const KEYS = ["min", "q1", "median", "q3", "max", "mean"] as const;

/** Sorted-array quantile, numpy's linear method (the old implementation of stats). */
function exactQuantile(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]);
}

describe("stats of the SCONE fixtures", () => {
  it("equal numpy's figures: counts exact, coverage quartiles exact, redshift and snr_mean within their histogram bin", async () => {
    const s = await sconeStats(FILES, { threads: 1 });
    expect(s.events).toBe(want.events);
    expect(s.labels).toEqual(want.labels);
    expect(s.nonfinite_events).toBe(want.nonfinite_events);
    expect(s.redshift.missing).toBe(want.redshift.missing);
    expect(s.snr_mean.missing).toBe(want.snr_mean.missing);
    expect(s.problems).toEqual([]);
    const close = (got: number | null, exp: number, tol: number, what: string) => {
      expect(got, what).not.toBeNull();
      if (Math.abs(got! - exp) > tol) expect(`${what} = ${got}`).toBe(`${what} = ${exp} (± ${tol})`);
    };
    for (const name of ["coverage_fraction", "temporal_coverage_fraction", "spectral_coverage_fraction", "redshift", "snr_mean"] as const) {
      const got: Figures = s[name], exp = want[name];
      expect(got.count, name).toBe(exp.count);
      for (const k of KEYS) {
        // one bin per value the coverages can take: exact (up to numpy's own rounding of the
        // interpolation); redshift's bins are 0.001 wide, snr_mean's 1.2% (documented bounds)
        const bin = name === "redshift" ? 1e-3 : name === "snr_mean" ? 0.012 * exp[k] : 0;
        close(got[k], exp[k], k === "mean" || k === "min" || k === "max" ? 1e-12 * Math.max(1, Math.abs(exp[k])) : bin + 1e-15, `${name}.${k}`);
      }
    }
  });

  it("--threads 2 prints exactly what --threads 1 prints, as text and as JSON", () => {
    for (const json of [[], ["--json"]]) {
      const one = run(["stats", SCONE, "--threads", "1", ...json]);
      const two = run(["stats", SCONE, "--threads", "2", ...json]);
      expect(one.code, one.stderr).toBe(0);
      expect(two.code, two.stderr).toBe(0);
      expect(two.stdout).toBe(one.stdout);
    }
    expect(JSON.parse(run(["stats", SCONE, "--json", "--threads", "2"]).stdout).events).toBe(want.events);
  });

  it("the same figures for files cut into several tasks, on 1 or 2 threads; only the mean's last bits may differ from the uncut run", async () => {
    const whole = await sconeStats(FILES, { threads: 1 });
    // heatmaps_0000 and _0001 (uncompressed, 550 and 370 kB) are cut into tasks of about 100 kB
    const one = await sconeStats(FILES, { threads: 1, taskBytes: 100_000 });
    const two = await sconeStats(FILES, { threads: 2, taskBytes: 100_000 });
    expect(two).toEqual(one);
    for (const name of ["coverage_fraction", "temporal_coverage_fraction", "spectral_coverage_fraction", "redshift", "snr_mean"] as const) {
      const { mean, ...rest } = one[name];
      const { mean: wholeMean, ...wholeRest } = whole[name];
      expect(rest, name).toEqual(wholeRest);
      expect(mean!, name).toBeCloseTo(wholeMean!, 12);
    }
    expect({ ...one, redshift: 0, coverage_fraction: 0, temporal_coverage_fraction: 0, spectral_coverage_fraction: 0, snr_mean: 0 })
      .toEqual({ ...whole, redshift: 0, coverage_fraction: 0, temporal_coverage_fraction: 0, spectral_coverage_fraction: 0, snr_mean: 0 });
  });

  // before, stats read every file in the main thread: the fault injection (a worker that exits as it
  // starts a task on heatmaps_0001) had nothing to stop, and stats printed its figures with exit 0
  it("reads in worker threads: a worker that dies mid-task fails the run, naming its input", () => {
    const r = run(["stats", SCONE, "--threads", "2"], { ARROWSMITH_TEST_KILL_WORKER: "heatmaps_0001" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/worker converting \S*heatmaps_0001\.tfrecord died/);
    expect(r.stdout).toBe("");
  });

  it("--help says how exact the quartiles are", () => {
    const r = run(["stats", "--help"]);
    expect(r.stdout).toMatch(/--threads/);
    expect(r.stdout).toMatch(/one bin per value\s+k\/n they can take: exact/);
    expect(r.stdout).toMatch(/redshift: 4000 bins of 0\.001 over \[0, 4\]; snr_mean: 200 bins a decade/);
  });
});

describe("quartiles from a histogram that keeps each bin's extremes", () => {
  /** A seeded uniform generator (xorshift32), so a failure can be replayed. */
  function random(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
  }
  const QS = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1];

  it("are exact on values that sit one to a bin (coverage: k/5760 over 5761 bins), whole or merged from parts", () => {
    const r = random(7);
    const edges = summaryEdges("coverage_fraction", [32, 180]);
    const values = Array.from({ length: 20_000 }, () => Math.floor(r() * r() * 5761) / 5760);
    const whole = new Histogram(edges, { extremes: true });
    const parts = [0, 1, 2].map(() => new Histogram(edges, { extremes: true }));
    values.forEach((v, i) => { whole.add(v); parts[i % 3].add(v); });
    const merged = Histogram.fromJSON(JSON.parse(JSON.stringify(parts[0])));
    for (const p of parts.slice(1)) merged.merge(Histogram.fromJSON(JSON.parse(JSON.stringify(p))));
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QS) {
      expect(whole.quantile(q), `q=${q}`).toBe(exactQuantile(sorted, q));
      expect(merged.quantile(q), `merged q=${q}`).toBe(exactQuantile(sorted, q));
    }
  });

  it("are within the bin's width elsewhere, with the tails outside the edges kept too", () => {
    const r = random(11);
    for (const [name, gen] of [
      ["redshift", () => 1.6 * r() ** 2 - 0.01],
      ["snr_mean", () => Math.exp(6 * r() - 1)],
    ] as const) {
      const edges = summaryEdges(name, [32, 180]);
      const h = new Histogram(edges, { extremes: true });
      const values = Array.from({ length: 30_000 }, gen);
      for (const v of values) h.add(v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of QS) {
        const exact = exactQuantile(sorted, q);
        const width = name === "redshift" ? 1e-3 : 0.012 * Math.abs(exact);
        expect(Math.abs(h.quantile(q) - exact), `${name} q=${q}: ${h.quantile(q)} vs ${exact}`).toBeLessThanOrEqual(width);
      }
      expect(h.quantile(0)).toBe(sorted[0]);
      expect(h.quantile(1)).toBe(sorted[sorted.length - 1]);
    }
  });

  it("refuse to merge a histogram without extremes, and need extremes to answer", () => {
    const plain = new Histogram(linearEdges(0, 1, 4));
    expect(() => plain.quantile(0.5)).toThrow(/extremes/);
    expect(() => new Histogram(linearEdges(0, 1, 4), { extremes: true }).merge(plain)).toThrow(/extremes/);
    expect(new Histogram(linearEdges(0, 1, 4), { extremes: true }).quantile(0.5)).toBeNaN();
  });
});
