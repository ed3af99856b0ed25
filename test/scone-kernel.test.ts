// sconeEvent (assembly/scone.ts) against a plain TS reference of the same definitions, on random
// images full of awkward values, at unaligned source addresses and odd shapes, for float32 and
// float64 output. The reference is a straight sequential loop over the pixels in C order.
import { describe, expect, it } from "vitest";
import { Kernels } from "../src/wasm.ts";

// Metric slots, as documented in assembly/scone.ts.
const M_COVERAGE = 0, M_TEMPORAL = 1, M_SPECTRAL = 2, M_MEAN_SNR = 3, M_MAX_FLUX = 4, M_TOTAL_FLUX = 5,
  M_PEAK_W = 6, M_PEAK_T = 7, M_NONFINITE = 8;
const NAMES = ["coverage", "temporal", "spectral", "mean_snr", "max_flux", "total_flux", "peak_w", "peak_t", "nonfinite"];

interface Image { nw: number; nt: number; flux: Float64Array; err: Float64Array; raw: Uint8Array }

/**
 * The definitions, one pixel at a time in C order (w outer, t inner):
 * coverage = count(flux > 0) / (nw*nt) (0 when empty); temporal / spectral = fraction of time /
 * wavelength bins with any flux > 0 (0 when there are none); snr = flux/err where err > 0 else 0,
 * mean_snr = mean of snr over snr > 0 (NaN when none); max_flux = max(flux), NaN if any flux is
 * NaN or the image is empty; total_flux = sum(flux); (peak_w, peak_t) = position of the first
 * pixel whose flux is strictly greater than all before it and than -Infinity, i.e. the first
 * maximum ignoring NaN ((0, 0) when there is none); nonfinite = count of NaN/±Inf in flux and err.
 */
function reference(img: Image): number[] {
  const { nw, nt, flux, err } = img;
  const n = nw * nt;
  let positive = 0, snrSum = 0, snrCount = 0, total = 0, mx = -Infinity, peak = -Infinity, peakAt = 0, nonfinite = 0;
  const rowAny = new Array<boolean>(nw).fill(false);
  const colAny = new Array<boolean>(nt).fill(false);
  for (let w = 0; w < nw; w++) {
    for (let t = 0; t < nt; t++) {
      const i = w * nt + t;
      const f = flux[i], e = err[i];
      if (f > 0) { positive++; rowAny[w] = true; colAny[t] = true; }
      const snr = e > 0 ? f / e : 0;
      if (snr > 0) { snrSum += snr; snrCount++; }
      total += f;
      mx = Math.max(mx, f);
      if (f > peak) { peak = f; peakAt = i; }
      if (!Number.isFinite(f)) nonfinite++;
      if (!Number.isFinite(e)) nonfinite++;
    }
  }
  const m = new Array<number>(9);
  m[M_COVERAGE] = n ? positive / n : 0;
  m[M_TEMPORAL] = nt ? colAny.filter(Boolean).length / nt : 0;
  m[M_SPECTRAL] = nw ? rowAny.filter(Boolean).length / nw : 0;
  m[M_MEAN_SNR] = snrCount ? snrSum / snrCount : NaN;
  m[M_MAX_FLUX] = n ? mx : NaN;
  m[M_TOTAL_FLUX] = total;
  m[M_PEAK_W] = nt ? Math.floor(peakAt / nt) : 0;
  m[M_PEAK_T] = nt ? peakAt % nt : 0;
  m[M_NONFINITE] = nonfinite;
  return m;
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

interface Run { flux: Uint8Array; err: Uint8Array; metrics: number[] }

const GUARD = 64;
const SENTINEL = 0xa5;

/** Runs the kernel with `raw` at `offset` mod 64, checking it writes nothing outside its outputs. */
function runKernel(k: Kernels, img: Image, f64out: boolean, offset: number): Run {
  const mark = k.mark();
  const n = img.nw * img.nt;
  const bpe = f64out ? 8 : 4;
  const SLOTS = k.exports.M_SLOTS.value as number;
  const src = k.alloc(img.raw.length + 64) + offset;
  const flux = k.alloc(n * bpe + 2 * GUARD) + GUARD;
  const err = k.alloc(n * bpe + 2 * GUARD) + GUARD;
  const metrics = k.alloc(SLOTS * 8 + 2 * GUARD) + GUARD;
  const scratch = k.alloc(img.nt + 2 * GUARD) + GUARD;
  let b = k.bytes();
  b.set(img.raw, src);
  b.fill(SENTINEL, flux - GUARD, flux + n * bpe + GUARD);
  b.fill(SENTINEL, err - GUARD, err + n * bpe + GUARD);
  b.fill(SENTINEL, metrics - GUARD, metrics + SLOTS * 8 + GUARD);
  b.fill(SENTINEL, scratch - GUARD, scratch + img.nt + GUARD); // stale flags must not leak in
  k.exports.sconeEvent(src, img.nw, img.nt, flux, err, f64out ? 1 : 0, metrics, scratch);
  b = k.bytes();
  const untouched = (from: number, to: number) => b.subarray(from, to).every((x) => x === SENTINEL);
  expect(untouched(flux - GUARD, flux) && untouched(flux + n * bpe, flux + n * bpe + GUARD)).toBe(true);
  expect(untouched(err - GUARD, err) && untouched(err + n * bpe, err + n * bpe + GUARD)).toBe(true);
  expect(untouched(metrics - GUARD, metrics) && untouched(metrics + SLOTS * 8, metrics + SLOTS * 8 + GUARD)).toBe(true);
  expect(untouched(scratch - GUARD, scratch) && untouched(scratch + img.nt, scratch + img.nt + GUARD)).toBe(true);
  expect(Buffer.from(b.subarray(src, src + img.raw.length)).equals(Buffer.from(img.raw))).toBe(true);
  const mview = new DataView(b.buffer, metrics, SLOTS * 8);
  const out: Run = {
    flux: b.slice(flux, flux + n * bpe),
    err: b.slice(err, err + n * bpe),
    metrics: Array.from({ length: SLOTS }, (_, j) => mview.getFloat64(j * 8, true)),
  };
  k.release(mark);
  return out;
}

/** Checks one run against the reference; returns a list of differences (empty when all match). */
function compare(img: Image, run: Run, f64out: boolean, label: string): string[] {
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
  const want = reference(img);
  for (let j = 0; j < want.length; j++) {
    const got = run.metrics[j], exp = want[j];
    if (j === M_TOTAL_FLUX || j === M_MEAN_SNR) {
      // sums: order-dependent by definition; within 1e-12 relative (NaN and infinities exact)
      const ok = Object.is(got, exp) || (Number.isFinite(exp) && Math.abs(got - exp) <= 1e-12 * Math.abs(exp));
      if (!ok) bad.push(`${label} ${NAMES[j]} = ${got}, want ${exp}`);
    } else if (!Object.is(got, exp)) {
      bad.push(`${label} ${NAMES[j]} = ${got}, want ${exp}`);
    }
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

  it("gives the same metrics for f32 and f64 output, with sums bit-identical to a sequential loop", () => {
    for (let seed = 0; seed < 20; seed++) {
      const img = makeImage(32, 180, 1000 + seed, seed % 2 ? 0.2 : 0);
      const a = runKernel(k, img, false, 5);
      const b = runKernel(k, img, true, 9);
      expect(a.metrics.map(String)).toEqual(b.metrics.map(String));
      // the kernel promises pixel-order summation: exact, not merely close
      const want = reference(img);
      expect(a.metrics[M_TOTAL_FLUX]).toBe(want[M_TOTAL_FLUX]);
      expect(a.metrics[M_MEAN_SNR]).toBe(want[M_MEAN_SNR]);
    }
  });

  it("handles SCONE-like images and clean edge cases exactly", () => {
    // all zeros: no coverage, no snr
    const zeros = makeImage(32, 180, 1, 0);
    zeros.raw.fill(0); zeros.flux.fill(0); zeros.err.fill(0);
    const z = runKernel(k, zeros, false, 0).metrics;
    expect(z.slice(0, 3)).toEqual([0, 0, 0]);
    expect(z[M_MEAN_SNR]).toBeNaN();
    expect(z[M_MAX_FLUX]).toBe(0);
    expect([z[M_PEAK_W], z[M_PEAK_T], z[M_NONFINITE]]).toEqual([0, 0, 0]);

    // one bright pixel, repeated later: the first one is the peak
    const img = makeImage(32, 180, 2, 0);
    const view = new DataView(img.raw.buffer);
    for (const i of [7 * 180 + 33, 20 * 180 + 5]) {
      view.setFloat64(i * 16, 1e6, true); img.flux[i] = 1e6;
      view.setFloat64(i * 16 + 8, 2, true); img.err[i] = 2;
    }
    const m = runKernel(k, img, true, 3).metrics;
    expect([m[M_PEAK_W], m[M_PEAK_T], m[M_MAX_FLUX]]).toEqual([7, 33, 1e6]);
    expect(compare(img, runKernel(k, img, false, 11), false, "bright")).toEqual([]);

    // all NaN flux: max NaN, no peak, every pixel counted non-finite
    const nan = makeImage(3, 5, 3, 0);
    const nv = new DataView(nan.raw.buffer);
    for (let i = 0; i < 15; i++) { nv.setFloat64(i * 16, NaN, true); nan.flux[i] = NaN; }
    const q = runKernel(k, nan, true, 1).metrics;
    expect(q[M_MAX_FLUX]).toBeNaN();
    expect([q[M_PEAK_W], q[M_PEAK_T], q[M_COVERAGE]]).toEqual([0, 0, 0]);
    expect(q[M_NONFINITE]).toBe(reference(nan)[M_NONFINITE]);
    expect(q[M_NONFINITE]).toBeGreaterThanOrEqual(15);
    expect(compare(nan, runKernel(k, nan, false, 2), false, "nan")).toEqual([]);
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
      expect(Object.is(ra.metrics[M_MAX_FLUX], -0)).toBe(true);
      expect([ra.metrics[M_PEAK_W], ra.metrics[M_PEAK_T]]).toEqual([0, 0]);
      expect(compare(a, ra, true, "negzero")).toEqual([]);
      // one +0 late in the image among -0s: max is +0, the peak still the first zero (-0 == +0)
      const b = makeImage(nw, nt, 6, 0);
      for (let i = 0; i < n; i++) set(b, i, i === n - 1 ? 0 : i % 2 ? -0 : -5, 1);
      const rb = runKernel(k, b, false, 2);
      expect(Object.is(rb.metrics[M_MAX_FLUX], 0)).toBe(true);
      expect(rb.metrics[M_PEAK_W] * nt + rb.metrics[M_PEAK_T]).toBe(n > 1 ? 1 : 0);
      expect(compare(b, rb, false, "poszero")).toEqual([]);
      // finite values whose sum overflows: total is Infinity but nothing is non-finite
      const c = makeImage(nw, nt, 7, 0);
      for (let i = 0; i < n; i++) set(c, i, 1e308, 1e308);
      const rc = runKernel(k, c, true, 3);
      expect(rc.metrics[M_TOTAL_FLUX]).toBe(Infinity);
      expect(rc.metrics[M_NONFINITE]).toBe(0);
      expect(compare(c, rc, true, "overflow")).toEqual([]);
    }
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
