// sconeEvent (assembly/scone.ts) against a plain TS reference of the same definitions, on random
// images full of awkward values, at unaligned source addresses and odd shapes, for float32 and
// float64 output. The reference is a straight sequential loop over the pixels in C order.
import { describe, expect, it } from "vitest";
import { SLOTS } from "../src/datasets/scone/metrics.ts";
import { Kernels } from "../src/wasm.ts";

// Metric slots, from the metric table (test/parity.test.ts checks them against the kernel's exports).
const M = Object.fromEntries(SLOTS.map((name, i) => [name, i])) as Record<(typeof SLOTS)[number], number>;

interface Image { nw: number; nt: number; flux: Float64Array; err: Float64Array; raw: Uint8Array }

/** The kernel's parameters: peak-spectrum columns [s0, s1) and the blue and red rows (clamped by the kernel). */
interface Params { s0: number; s1: number; b0: number; b1: number; r0: number; r1: number }
const DEFAULT_PARAMS: Params = { s0: 40, s1: 70, b0: 0, b1: 9, r0: 14, r1: 31 };

/** numpy's pairwise summation of a contiguous float64 array, plus its identity 0 (np.sum). */
function npSum(a: ArrayLike<number>, from = 0, to = a.length): number {
  const pw = (s: number, n: number): number => {
    if (n < 8) { let r = 0; for (let i = 0; i < n; i++) r += a[s + i]; return r; }
    if (n <= 128) {
      const r = Array.from({ length: 8 }, (_, j) => a[s + j]);
      let i = 8;
      for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[s + i + j];
      let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) res += a[s + i];
      return res;
    }
    let n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return pw(s, n2) + pw(s + n2, n - n2);
  };
  return 0 + pw(from, Math.max(0, to - from));
}
/** numpy's max (NaN if any) and argmax (the first NaN, else the first maximum). */
function npMax(a: number[]): number {
  let m = -Infinity;
  for (const v of a) { if (v !== v) return NaN; if (v > m) m = v; }
  return a.length ? m : NaN;
}
function npArgmax(a: number[]): number {
  if (!a.length || a[0] !== a[0]) return 0;
  let m = a[0], at = 0;
  for (let i = 1; i < a.length; i++) if (!(a[i] <= m)) { m = a[i]; at = i; if (m !== m) break; }
  return at;
}
function npMedian(a: number[]): number {
  if (!a.length || a.some((v) => v !== v)) return NaN;
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * The definitions, straight from scone_tools' numpy arithmetic, one plain loop each (pixels in C
 * order, w outer, t inner); max_flux keeps the kernel's f64.max semantics for signed zeros.
 * Returns the metric slots and the extras (light curve and error, spectrum and error).
 */
function reference(img: Image, par: Params = DEFAULT_PARAMS): { m: number[]; lc: number[]; lcErr: number[]; spec: number[]; specErr: number[] } {
  const { nw, nt, flux, err } = img;
  const n = nw * nt;
  const fl = Array.from(flux), er = Array.from(err);
  const m = new Array<number>(SLOTS.length).fill(NaN);
  let positive = 0, nonfinite = 0, mx = -Infinity, peak = -Infinity, peakAt = 0, firstNaN = -1;
  const rowAny = new Array<boolean>(nw).fill(false), colAny = new Array<boolean>(nt).fill(false);
  const snr: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = fl[i], e = er[i];
    if (f > 0) { positive++; rowAny[Math.floor(i / nt)] = true; colAny[i % nt] = true; }
    snr.push(e > 0 ? f / e : 0);
    mx = Math.max(mx, f);
    if (f > peak) { peak = f; peakAt = i; }
    if (f !== f && firstNaN < 0) firstNaN = i;
    if (!Number.isFinite(f)) nonfinite++;
    if (!Number.isFinite(e)) nonfinite++;
  }
  if (firstNaN >= 0) peakAt = firstNaN;
  const total = npSum(fl);
  const mean = n ? total / n : NaN;
  m[M.TOTAL_FLUX] = total;
  m[M.MAX_FLUX] = n ? mx : NaN;
  m[M.MEAN_FLUX] = mean;
  m[M.MEDIAN_FLUX] = n ? npMedian(fl) : NaN;
  m[M.STD_FLUX] = n ? Math.sqrt(npSum(fl.map((x) => (x - mean) * (x - mean))) / n) : NaN;
  m[M.PEAK_W] = nt ? Math.floor(peakAt / nt) : 0;
  m[M.PEAK_T] = nt ? peakAt % nt : 0;
  const lc = Array.from({ length: nt }, (_, t) => { let s = 0; for (let w = 0; w < nw; w++) s += fl[w * nt + t]; return s; });
  const lcErr = Array.from({ length: nt }, (_, t) => { let s = 0; for (let w = 0; w < nw; w++) s += er[w * nt + t] * er[w * nt + t]; return Math.sqrt(s); });
  const lcMax = npMax(lc), p = npArgmax(lc);
  m[M.LC_MAX] = lcMax;
  m[M.LC_MEAN] = nt ? npSum(lc) / nt : NaN;
  m[M.LC_PEAK_T] = p;
  m[M.FLUX_BEFORE_PEAK] = p > 0 ? npSum(lc, 0, p) : 0;
  m[M.FLUX_AFTER_PEAK] = npSum(lc, p);
  const above = lc.map((v, t) => (v > lcMax / 2 ? t : -1)).filter((t) => t >= 0);
  m[M.HALF_FIRST] = above.length ? above[0] : -1;
  m[M.HALF_LAST] = above.length ? above[above.length - 1] : -1;
  const s0 = Math.max(0, par.s0), s1 = Math.min(nt, par.s1), cols = s1 - s0;
  const spec = Array.from({ length: nw }, (_, w) => (cols > 0 ? npSum(fl.slice(w * nt + s0, w * nt + s1)) / cols : NaN));
  const specErr = Array.from({ length: nw }, (_, w) => (cols > 0 ? Math.sqrt(npSum(er.slice(w * nt + s0, w * nt + s1).map((e) => e * e)) / cols) : NaN));
  m[M.SPECTRUM_MAX] = npMax(spec);
  m[M.SPECTRUM_MEAN] = nw ? npSum(spec) / nw : NaN;
  m[M.SPECTRUM_PEAK_W] = npArgmax(spec);
  const b0 = Math.max(0, par.b0), b1 = Math.min(nw, par.b1), r0 = Math.max(0, par.r0), r1 = Math.min(nw, par.r1);
  if (b0 < b1 && r0 < r1) {
    const band = (w0: number, w1: number) => npSum(lc.map((v, t) => { let s = 0; for (let w = w0; w < w1; w++) s += fl[w * nt + t]; return v * s; }));
    const blue = band(b0, b1), red = band(r0, r1);
    m[M.BLUE_FLUX] = blue; m[M.RED_FLUX] = red; m[M.COLOR_RATIO] = red > 0 ? blue / red : NaN;
  }
  const pos = snr.filter((v) => v > 0);
  m[M.SNR_MEAN] = pos.length ? npSum(pos) / pos.length : 0;
  m[M.SNR_MEDIAN] = pos.length ? npMedian(pos) : 0;
  m[M.SNR_MAX] = n ? npMax(snr) : NaN;
  m[M.SNR_PEAK] = n ? snr[peakAt] : NaN;
  const epochs = colAny.filter(Boolean).length, waves = rowAny.filter(Boolean).length;
  m[M.NONZERO] = positive;
  m[M.COVERAGE] = n ? positive / n : NaN;
  m[M.EPOCHS] = epochs;
  m[M.TEMPORAL] = nt ? epochs / nt : NaN;
  m[M.WAVELENGTHS] = waves;
  m[M.SPECTRAL] = nw ? waves / nw : NaN;
  m[M.NONFINITE] = nonfinite;
  return { m, lc, lcErr, spec, specErr };
}

/** Deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** NaNs with payloads and sign, as bit patterns: the f64 output must keep them exactly. */
const ODD_NANS = [0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff8000000000123n, 0x7ff0000000000001n, 0xfff4000000abcdefn];

/**
 * An image whose values are drawn from a mix: zeros of both signs, SCONE-like positive flux,
 * negatives, tiny and huge magnitudes (f32 underflow/overflow, snr underflow), subnormals,
 * NaN (with payloads), ±Infinity; errors positive, zero, negative, tiny, infinite or NaN.
 */
function makeImage(nw: number, nt: number, seed: number, nastiness = 1): Image {
  const r = rng(seed);
  const n = nw * nt;
  const raw = new Uint8Array(n * 16);
  const view = new DataView(raw.buffer);
  const pick = (forErr: boolean): number | bigint => {
    const u = r();
    if (u < 0.25) return forErr ? 0 : r() < 0.5 ? 0 : -0;
    if (u < 0.75 || r() > nastiness) return forErr ? 0.5 + 3 * r() : (r() - 0.2) * 200;
    const v = r();
    if (v < 0.1) return NaN;
    if (v < 0.15) return ODD_NANS[Math.floor(r() * ODD_NANS.length)];
    if (v < 0.25) return r() < 0.5 ? Infinity : -Infinity;
    if (v < 0.35) return (r() < 0.5 ? 1 : -1) * 1e300 * r();
    if (v < 0.45) return (r() < 0.5 ? 1 : -1) * 1e-310 * r(); // subnormal
    if (v < 0.55) return 1e-200 * r();                        // tiny: f/e can underflow to 0
    if (v < 0.65) return (r() < 0.5 ? 1 : -1) * 3.5e38 * (0.9 + 0.2 * r()); // around f32 max
    if (v < 0.75) return forErr ? -r() : 1.4e-45 * (r() * 3);  // negative err / f32 subnormal range
    return (r() - 0.5) * 1e6;
  };
  for (let i = 0; i < n; i++) {
    for (const c of [0, 1]) {
      const x = pick(c === 1);
      if (typeof x === "bigint") view.setBigUint64(i * 16 + c * 8, x, true);
      else view.setFloat64(i * 16 + c * 8, x, true);
    }
  }
  const flux = new Float64Array(n), err = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    flux[i] = view.getFloat64(i * 16, true);
    err[i] = view.getFloat64(i * 16 + 8, true);
  }
  return { nw, nt, flux, err, raw };
}

interface Run { flux: Uint8Array; err: Uint8Array; metrics: number[]; lc: number[]; lcErr: number[]; spec: number[]; specErr: number[]; kept?: Uint8Array }

const GUARD = 64;
const SENTINEL = 0xa5;

/**
 * Runs the kernel with `raw` at `offset` mod 64, checking it writes nothing outside its outputs;
 * with `keep`, the event's float64 flux map is kept (for the report's sums) and returned as `kept`.
 */
function runKernel(k: Kernels, img: Image, f64out: boolean, offset: number, par: Params = DEFAULT_PARAMS, keep = false): Run {
  const mark = k.mark();
  const n = img.nw * img.nt;
  const bpe = f64out ? 8 : 4;
  const SLOTS = k.metricSlots;
  const scratchBytes = k.sconeScratchBytes(img.nw, img.nt);
  const src = k.alloc(img.raw.length + 64) + offset;
  const region = (bytes: number) => k.alloc(bytes + 2 * GUARD) + GUARD;
  const flux = region(n * bpe), err = region(n * bpe), metrics = region(SLOTS * 8), scratch = region(scratchBytes);
  const params = region(24);
  const lc = region(img.nt * 8), lcErr = region(img.nt * 8), spec = region(img.nw * 8), specErr = region(img.nw * 8);
  let b = k.bytes();
  b.set(img.raw, src);
  const kept = keep ? region(n * 8) : 0;
  const outputs: [number, number][] = [[flux, n * bpe], [err, n * bpe], [metrics, SLOTS * 8], [lc, img.nt * 8], [lcErr, img.nt * 8], [spec, img.nw * 8], [specErr, img.nw * 8]];
  if (keep) outputs.push([kept, n * 8]);
  for (const [p, len] of outputs) b.fill(SENTINEL, p - GUARD, p + len + GUARD);
  b.fill(SENTINEL, scratch - GUARD, scratch + scratchBytes + GUARD); // stale scratch must not leak in
  new Int32Array(b.buffer, params, 6).set([par.s0, par.s1, par.b0, par.b1, par.r0, par.r1]);
  k.sconeEvent(src, img.nw, img.nt, flux, err, f64out, metrics, scratch, params, lc, lcErr, spec, specErr, 0, 0, 0, kept);
  b = k.bytes();
  const untouched = (from: number, to: number) => b.subarray(from, to).every((x) => x === SENTINEL);
  for (const [p, len] of [...outputs, [scratch, scratchBytes]]) {
    expect(untouched(p - GUARD, p) && untouched(p + len, p + len + GUARD)).toBe(true);
  }
  expect(Buffer.from(b.subarray(src, src + img.raw.length)).equals(Buffer.from(img.raw))).toBe(true);
  const f64 = (p: number, len: number) => Array.from(new Float64Array(b.slice(p, p + len * 8).buffer));
  const out: Run = {
    flux: b.slice(flux, flux + n * bpe),
    err: b.slice(err, err + n * bpe),
    metrics: f64(metrics, SLOTS),
    lc: f64(lc, img.nt), lcErr: f64(lcErr, img.nt), spec: f64(spec, img.nw), specErr: f64(specErr, img.nw),
    ...(keep ? { kept: b.slice(kept, kept + n * 8) } : {}),
  };
  k.release(mark);
  return out;
}

/** Checks one run against the reference; returns a list of differences (empty when all match). */
function compare(img: Image, run: Run, f64out: boolean, label: string, par: Params = DEFAULT_PARAMS): string[] {
  const bad: string[] = [];
  const n = img.nw * img.nt;
  if (f64out) {
    // bit-exact, NaN payloads included
    const fl = new DataView(run.flux.buffer), er = new DataView(run.err.buffer), raw = new DataView(img.raw.buffer);
    for (let i = 0; i < n && bad.length < 5; i++) {
      if (fl.getBigUint64(i * 8, true) !== raw.getBigUint64(i * 16, true)) bad.push(`${label} flux[${i}] bits`);
      if (er.getBigUint64(i * 8, true) !== raw.getBigUint64(i * 16 + 8, true)) bad.push(`${label} err[${i}] bits`);
    }
  } else {
    const fl = new Float32Array(run.flux.buffer), er = new Float32Array(run.err.buffer);
    for (let i = 0; i < n && bad.length < 5; i++) {
      if (!Object.is(fl[i], Math.fround(img.flux[i]))) bad.push(`${label} flux[${i}] = ${fl[i]}, want ${Math.fround(img.flux[i])} (from ${img.flux[i]})`);
      if (!Object.is(er[i], Math.fround(img.err[i]))) bad.push(`${label} err[${i}] = ${er[i]}, want ${Math.fround(img.err[i])} (from ${img.err[i]})`);
    }
  }
  const want = reference(img, par);
  const eq = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
  for (let j = 0; j < want.m.length; j++) {
    const got = run.metrics[j], exp = want.m[j];
    // max_flux keeps the sign of a zero maximum; elsewhere -0 and +0 are the same number
    const ok = j === M.MAX_FLUX ? Object.is(got, exp) : eq(got, exp);
    if (!ok) bad.push(`${label} ${SLOTS[j]} = ${got}, want ${exp}`);
  }
  for (const name of ["lc", "lcErr", "spec", "specErr"] as const) {
    const i = want[name].findIndex((v, t) => !eq(run[name][t], v));
    if (i >= 0) bad.push(`${label} ${name}[${i}] = ${run[name][i]}, want ${want[name][i]}`);
  }
  return bad;
}

describe("sconeEvent kernel", () => {
  const k = new Kernels();
  const shapes: [number, number][] = [[32, 180], [1, 1], [3, 5], [0, 7], [0, 180], [4, 0], [1, 2], [2, 1], [5, 3], [7, 9], [32, 181], [2, 17]];

  for (const [nw, nt] of shapes) {
    it(`matches the reference for (${nw}, ${nt}) at every source alignment, f32 and f64`, () => {
      const bad: string[] = [];
      for (let seed = 1; seed <= (nw * nt > 100 ? 3 : 40); seed++) {
        const img = makeImage(nw, nt, seed * 7919 + nw * 31 + nt);
        for (const offset of nw * nt > 100 ? [0, 1, 7, 8, 12, 15] : [0, 3, 8, 13]) {
          for (const f64out of [false, true]) {
            const run = runKernel(k, img, f64out, offset);
            bad.push(...compare(img, run, f64out, `seed ${seed} off ${offset} ${f64out ? "f64" : "f32"}`));
          }
        }
      }
      expect(bad.slice(0, 10)).toEqual([]);
    });
  }

  it("gives the same metrics for f32 and f64 output, with sums bit-identical to numpy's pairwise order", () => {
    for (let seed = 0; seed < 20; seed++) {
      const img = makeImage(32, 180, 1000 + seed, seed % 2 ? 0.2 : 0);
      const a = runKernel(k, img, false, 5);
      const b = runKernel(k, img, true, 9);
      expect(a.metrics.map(String)).toEqual(b.metrics.map(String));
      // the kernel promises numpy's summation order: exact, not merely close
      const want = reference(img).m;
      for (const slot of [M.TOTAL_FLUX, M.SNR_MEAN, M.STD_FLUX, M.LC_MEAN, M.BLUE_FLUX]) expect(a.metrics[slot]).toBe(want[slot]);
    }
  });

  it("handles SCONE-like images and clean edge cases exactly", () => {
    // all zeros: no coverage, no snr (0, as scone_tools has it), median 0, no half-maximum bins
    const zeros = makeImage(32, 180, 1, 0);
    zeros.raw.fill(0); zeros.flux.fill(0); zeros.err.fill(0);
    const z = runKernel(k, zeros, false, 0).metrics;
    expect([z[M.COVERAGE], z[M.TEMPORAL], z[M.SPECTRAL], z[M.SNR_MEAN], z[M.SNR_MEDIAN], z[M.MEDIAN_FLUX]]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([z[M.HALF_FIRST], z[M.HALF_LAST]]).toEqual([-1, -1]);
    expect(z[M.COLOR_RATIO]).toBeNaN();
    expect(z[M.MAX_FLUX]).toBe(0);
    expect([z[M.PEAK_W], z[M.PEAK_T], z[M.NONFINITE]]).toEqual([0, 0, 0]);

    // one bright pixel, repeated later: the first one is the peak
    const img = makeImage(32, 180, 2, 0);
    const view = new DataView(img.raw.buffer);
    for (const i of [7 * 180 + 33, 20 * 180 + 5]) {
      view.setFloat64(i * 16, 1e6, true); img.flux[i] = 1e6;
      view.setFloat64(i * 16 + 8, 2, true); img.err[i] = 2;
    }
    const m = runKernel(k, img, true, 3).metrics;
    expect([m[M.PEAK_W], m[M.PEAK_T], m[M.MAX_FLUX]]).toEqual([7, 33, 1e6]);
    expect(compare(img, runKernel(k, img, false, 11), false, "bright")).toEqual([]);

    // all NaN flux: max NaN, no peak, every pixel counted non-finite
    const nan = makeImage(3, 5, 3, 0);
    const nv = new DataView(nan.raw.buffer);
    for (let i = 0; i < 15; i++) { nv.setFloat64(i * 16, NaN, true); nan.flux[i] = NaN; }
    const q = runKernel(k, nan, true, 1).metrics;
    expect(q[M.MAX_FLUX]).toBeNaN();
    expect([q[M.PEAK_W], q[M.PEAK_T], q[M.COVERAGE]]).toEqual([0, 0, 0]);
    expect(q[M.NONFINITE]).toBe(reference(nan).m[M.NONFINITE]);
    expect(q[M.NONFINITE]).toBeGreaterThanOrEqual(15);
    expect(compare(nan, runKernel(k, nan, false, 2), false, "nan")).toEqual([]);

    // argmax stops at the first NaN (numpy), even after a larger value
    const late = makeImage(32, 180, 4, 0);
    const lv = new DataView(late.raw.buffer);
    for (const [i, v] of [[3, 1e9], [500, NaN], [900, NaN]] as [number, number][]) { lv.setFloat64(i * 16, v, true); late.flux[i] = v; }
    const r = runKernel(k, late, false, 0).metrics;
    expect([r[M.PEAK_W], r[M.PEAK_T]]).toEqual([Math.floor(500 / 180), 500 % 180]);
    expect(compare(late, runKernel(k, late, true, 7), true, "late NaN")).toEqual([]);
  });

  it("adds each pixel's flux and its square to the report's sums in the same pass, with and without metrics", () => {
    const bad: string[] = [];
    for (const [nw, nt] of [[32, 180], [32, 181], [3, 5], [1, 1], [2, 17], [0, 7]] as [number, number][]) {
      const n = nw * nt;
      for (const metricsOn of [true, false]) {
        for (const f64out of [false, true]) {
          for (const offset of [0, 3, 8]) {
            const mark = k.mark();
            const img = makeImage(nw, nt, 31 * nw + nt + offset);
            const src = k.alloc(img.raw.length + 64) + offset;
            const region = (bytes: number) => k.alloc(bytes + 2 * GUARD) + GUARD;
            const flux = region(n * 8), err = region(n * 8), metrics = region(k.metricSlots * 8);
            const scratch = region(k.sconeScratchBytes(nw, nt)), params = region(24);
            const sum = region(2 * n * 8), sq = sum + n * 8;
            const b = k.bytes();
            b.set(img.raw, src);
            b.fill(SENTINEL, sum - GUARD, sum + 2 * n * 8 + GUARD);
            // sums already holding earlier events' values
            const start = Float64Array.from({ length: 2 * n }, (_, i) => (i % 3) - 0.5 + i * 1e-3);
            new Float64Array(b.buffer, sum, 2 * n).set(start);
            const p = DEFAULT_PARAMS;
            new Int32Array(b.buffer, params, 6).set([p.s0, p.s1, p.b0, p.b1, p.r0, p.r1]);
            k.sconeEvent(src, nw, nt, flux, err, f64out, metricsOn ? metrics : 0, scratch, params, 0, 0, 0, 0, sum, sq);
            const got = new Float64Array(k.bytes().slice(sum, sum + 2 * n * 8).buffer);
            const label = `(${nw}, ${nt}) ${metricsOn ? "metrics" : "split"} ${f64out ? "f64" : "f32"} off ${offset}`;
            for (let i = 0; i < n && bad.length < 10; i++) {
              const f = img.flux[i];
              if (!Object.is(got[i], start[i] + f)) bad.push(`${label} sum[${i}] = ${got[i]}, want ${start[i] + f}`);
              if (!Object.is(got[n + i], start[n + i] + f * f)) bad.push(`${label} sumSq[${i}] = ${got[n + i]}, want ${start[n + i] + f * f}`);
            }
            const after = k.bytes();
            const untouched = (from: number, to: number) => after.subarray(from, to).every((x) => x === SENTINEL);
            if (!untouched(sum - GUARD, sum) || !untouched(sum + 2 * n * 8, sum + 2 * n * 8 + GUARD)) bad.push(`${label} wrote outside the sums`);
            k.release(mark);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it("keeps an event's float64 flux map for the next event of its class with the same outputs, and adds the pair in event order", () => {
    const bad: string[] = [];
    for (const [nw, nt] of [[32, 180], [32, 181], [3, 5], [1, 1], [0, 7]] as [number, number][]) {
      const n = nw * nt;
      for (const f64out of [false, true]) {
        // nastiness 0 and 1: medians that need selection (a kept map must survive it) and NaN/inf values
        for (const nasty of [0, 1]) {
          const a = makeImage(nw, nt, 7 * nw + nt + nasty, nasty), c = makeImage(nw, nt, 11 * nw + nt + nasty, nasty);
          const label = `(${nw}, ${nt}) ${f64out ? "f64" : "f32"} nastiness ${nasty}`;
          const plain = runKernel(k, a, f64out, 3), kept = runKernel(k, a, f64out, 3, DEFAULT_PARAMS, true);
          // the kept map is the source's float64 flux, bits and all, and nothing else differs
          const rawFlux = Buffer.alloc(n * 8);
          for (let i = 0; i < n; i++) Buffer.from(a.raw.buffer, a.raw.byteOffset + i * 16, 8).copy(rawFlux, i * 8);
          if (!Buffer.from(kept.kept!).equals(rawFlux)) bad.push(`${label}: the kept map is not the flux`);
          for (const key of ["flux", "err"] as const) if (!Buffer.from(kept[key]).equals(Buffer.from(plain[key]))) bad.push(`${label}: ${key} differs when kept`);
          for (const key of ["metrics", "lc", "lcErr", "spec", "specErr"] as const) {
            const i = plain[key].findIndex((v, j) => !Object.is(v, kept[key][j]));
            if (i >= 0) bad.push(`${label}: ${key}[${i}] = ${kept[key][i]} when kept, ${plain[key][i]} otherwise`);
          }
          // event a keeps its map; event c adds a's then its own, for both kernel paths
          for (const metricsOn of [true, false]) {
            const mark = k.mark();
            const region = (bytes: number) => k.alloc(bytes + 2 * GUARD) + GUARD;
            const flux = region(n * 8), err = region(n * 8), metrics = region(k.metricSlots * 8);
            const scratch = region(k.sconeScratchBytes(nw, nt)), params = region(24), keep = region(n * 8);
            const sum = region(2 * n * 8), sq = sum + n * 8;
            const src = k.alloc(a.raw.length + c.raw.length + 64);
            const b = k.bytes();
            b.set(a.raw, src);
            b.set(c.raw, src + a.raw.length);
            const start = Float64Array.from({ length: 2 * n }, (_, i) => (i % 5) - 1.5 + i * 1e-3);
            new Float64Array(b.buffer, sum, 2 * n).set(start);
            const p = DEFAULT_PARAMS;
            new Int32Array(b.buffer, params, 6).set([p.s0, p.s1, p.b0, p.b1, p.r0, p.r1]);
            const m = metricsOn ? metrics : 0;
            k.sconeEvent(src, nw, nt, flux, err, f64out, m, scratch, params, 0, 0, 0, 0, sum, sq, 0, keep);
            const mid = new Float64Array(k.bytes().slice(sum, sum + 2 * n * 8).buffer);
            if (mid.some((v, i) => !Object.is(v, start[i]))) bad.push(`${label} ${metricsOn ? "metrics" : "split"}: keeping added to the sums`);
            k.sconeEvent(src + a.raw.length, nw, nt, flux, err, f64out, m, scratch, params, 0, 0, 0, 0, sum, sq, keep, 0);
            const got = new Float64Array(k.bytes().slice(sum, sum + 2 * n * 8).buffer);
            for (let i = 0; i < n && bad.length < 10; i++) {
              const fa = a.flux[i], fc = c.flux[i];
              if (!Object.is(got[i], start[i] + fa + fc)) bad.push(`${label} sum[${i}] = ${got[i]}, want ${start[i] + fa + fc}`);
              if (!Object.is(got[n + i], start[n + i] + fa * fa + fc * fc)) bad.push(`${label} sumSq[${i}] = ${got[n + i]}, want ${start[n + i] + fa * fa + fc * fc}`);
            }
            // a map kept and never paired is added alone (the map still there is a's: c was added, not kept)
            k.sconeAddKept(keep, n, sum, sq);
            const last = new Float64Array(k.bytes().slice(sum, sum + 2 * n * 8).buffer);
            for (let i = 0; i < n && bad.length < 10; i++) {
              const fa = a.flux[i];
              if (!Object.is(last[i], got[i] + fa) || !Object.is(last[n + i], got[n + i] + fa * fa)) bad.push(`${label} sconeAddKept [${i}] = ${last[i]}, want ${got[i] + fa}`);
            }
            k.release(mark);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it("follows the parameters: spectrum columns and bands, empty or out of range", () => {
    const img = makeImage(32, 180, 77, 0);
    for (const par of [DEFAULT_PARAMS, { s0: 20, s1: 50, b0: 0, b1: 9, r0: 14, r1: 31 }, { s0: 70, s1: 40, b0: 0, b1: 0, r0: 3, r1: 5 },
      { s0: -5, s1: 500, b0: -3, b1: 40, r0: 31, r1: 99 }, { s0: 179, s1: 180, b0: 5, b1: 6, r0: 6, r1: 7 }]) {
      const bad = compare(img, runKernel(k, img, false, 3, par), false, JSON.stringify(par), par);
      expect(bad).toEqual([]);
    }
  });

  it("gets max and peak right when the maximum is zero (signed zeros) or the sum overflows", () => {
    const set = (img: Image, i: number, f: number, e: number) => {
      const v = new DataView(img.raw.buffer);
      v.setFloat64(i * 16, f, true); img.flux[i] = f;
      v.setFloat64(i * 16 + 8, e, true); img.err[i] = e;
    };
    for (const [nw, nt] of [[3, 5], [32, 180], [4, 7]] as [number, number][]) {
      const n = nw * nt;
      // negatives and -0 only: max is -0, the peak is the first -0
      const a = makeImage(nw, nt, 5, 0);
      for (let i = 0; i < n; i++) set(a, i, i % 3 === 0 ? -0 : -1 - i, 1);
      const ra = runKernel(k, a, true, 1);
      expect(Object.is(ra.metrics[M.MAX_FLUX], -0)).toBe(true);
      expect([ra.metrics[M.PEAK_W], ra.metrics[M.PEAK_T]]).toEqual([0, 0]);
      expect(compare(a, ra, true, "negzero")).toEqual([]);
      // one +0 late in the image among -0s: max is +0, the peak still the first zero (-0 == +0)
      const b = makeImage(nw, nt, 6, 0);
      for (let i = 0; i < n; i++) set(b, i, i === n - 1 ? 0 : i % 2 ? -0 : -5, 1);
      const rb = runKernel(k, b, false, 2);
      expect(Object.is(rb.metrics[M.MAX_FLUX], 0)).toBe(true);
      expect(rb.metrics[M.PEAK_W] * nt + rb.metrics[M.PEAK_T]).toBe(n > 1 ? 1 : 0);
      expect(compare(b, rb, false, "poszero")).toEqual([]);
      // finite values whose sum overflows: total is Infinity but nothing is non-finite
      const c = makeImage(nw, nt, 7, 0);
      for (let i = 0; i < n; i++) set(c, i, 1e308, 1e308);
      const rc = runKernel(k, c, true, 3);
      expect(rc.metrics[M.TOTAL_FLUX]).toBe(Infinity);
      expect(rc.metrics[M.NONFINITE]).toBe(0);
      expect(compare(c, rc, true, "overflow")).toEqual([]);
    }
  });

  it("selects exact medians around the sorting network's 64 values, with ties, infinities and ordered input", () => {
    const r = rng(4242);
    const fills: [string, (i: number, n: number) => number][] = [
      ["random", () => (r() - 0.3) * 100],
      ["few distinct", () => [1, 2, 2, 3, -0, 0][Math.floor(r() * 6)]],
      ["ascending", (i) => i * 0.5 - 7],
      ["descending", (i, n) => n - i],
      ["infinities", () => [Infinity, -Infinity, 1e300, -1e300, 4, 0][Math.floor(r() * 6)]],
      ["one value", () => 2.5],
      ["skewed", () => Math.exp(12 * r()) * (r() < 0.1 ? -1 : 1)],
    ];
    const bad: string[] = [];
    for (const nt of [1, 2, 63, 64, 65, 66, 127, 128, 129, 257, 1000, 5760]) {
      for (const [name, fill] of fills) {
        const img = makeImage(1, nt, nt + name.length, 0);
        const v = new DataView(img.raw.buffer);
        for (let i = 0; i < nt; i++) {
          const f = fill(i, nt), e = 0.25 + r();
          v.setFloat64(i * 16, f, true); img.flux[i] = f;
          v.setFloat64(i * 16 + 8, e, true); img.err[i] = e;
        }
        const want = reference(img, { s0: 0, s1: nt, b0: 0, b1: 1, r0: 0, r1: 1 }).m;
        const got = runKernel(k, img, nt % 2 === 0, nt % 16, { s0: 0, s1: nt, b0: 0, b1: 1, r0: 0, r1: 1 }).metrics;
        for (const slot of [M.MEDIAN_FLUX, M.SNR_MEDIAN]) {
          if (!Object.is(got[slot] === 0 ? 0 : got[slot], want[slot] === 0 ? 0 : want[slot])) bad.push(`${name} n=${nt} ${SLOTS[slot]} = ${got[slot]}, want ${want[slot]}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it("two instances give the same results", () => {
    const k2 = new Kernels();
    const img = makeImage(32, 180, 99);
    const a = runKernel(k, img, true, 4);
    const b = runKernel(k2, img, true, 4);
    expect(Buffer.from(a.flux).equals(Buffer.from(b.flux))).toBe(true);
    expect(a.metrics.map(String)).toEqual(b.metrics.map(String));
  });
});
