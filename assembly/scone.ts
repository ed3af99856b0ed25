// SCONE heatmaps: image_raw is float64 little-endian in C order with shape (nw, nt, 2), element
// (w, t, c) at byte 8 * ((w * nt + t) * 2 + c); channel 0 is flux, channel 1 its error.
// One pass reads each pixel once, writes the planar flux and flux_err tensors, keeps a float64
// copy of the flux and the positive S/N values in scratch and accumulates the light curve and the
// counts; the summary statistics of scone_tools' extract_tfrecord_info.py (numpy on the float64
// image) then come from those small arrays and the copy, never from the source again (except the
// peak pixel, the spectrum errors and the rare non-finite scans).

/**
 * Slots of the metrics record (f64 each) that `sconeEvent` writes at `metrics`. The order and
 * meaning follow the tool's summary columns; src/datasets/scone/metrics.ts maps slots to columns
 * (a test checks both agree). Indices are bins; the axes are applied in JS.
 */
export const M_TOTAL_FLUX: i32 = 0;        // sum(flux)
export const M_MAX_FLUX: i32 = 1;          // max(flux), NaN if any flux is NaN
export const M_MEAN_FLUX: i32 = 2;         // sum(flux) / n
export const M_MEDIAN_FLUX: i32 = 3;       // median(flux): NaN if any NaN; even n: mean of the middle two
export const M_STD_FLUX: i32 = 4;          // population std, two-pass as numpy
export const M_PEAK_W: i32 = 5;            // wavelength bin of argmax(flux) (first NaN if any, else first maximum)
export const M_PEAK_T: i32 = 6;            // time bin of argmax(flux)
export const M_LC_MAX: i32 = 7;            // max of the light curve lc[t] = sum over w of flux[w, t]
export const M_LC_MEAN: i32 = 8;           // mean of lc
export const M_LC_PEAK_T: i32 = 9;         // argmax(lc)
export const M_FLUX_BEFORE_PEAK: i32 = 10; // sum(lc[:p]), 0 when p == 0
export const M_FLUX_AFTER_PEAK: i32 = 11;  // sum(lc[p:])
export const M_HALF_FIRST: i32 = 12;       // first t with lc[t] > lc_max / 2; -1 when none
export const M_HALF_LAST: i32 = 13;        // last such t; -1 when none
export const M_SPECTRUM_MAX: i32 = 14;     // max of spec[w] = mean(flux[w, s0:s1])
export const M_SPECTRUM_MEAN: i32 = 15;    // mean of spec
export const M_SPECTRUM_PEAK_W: i32 = 16;  // argmax(spec)
export const M_BLUE_FLUX: i32 = 17;        // sum over t of lc[t] * sum over blue rows w of flux[w, t]
export const M_RED_FLUX: i32 = 18;         // likewise over the red rows
export const M_COLOR_RATIO: i32 = 19;      // blue / red when red > 0, else NaN
export const M_SNR_MEAN: i32 = 20;         // snr = flux/err where err > 0 else 0; mean over snr > 0, 0 when none
export const M_SNR_MEDIAN: i32 = 21;       // median over snr > 0, 0 when none
export const M_SNR_MAX: i32 = 22;          // max(snr), NaN if any snr is NaN
export const M_SNR_PEAK: i32 = 23;         // snr at argmax(flux)
export const M_NONZERO: i32 = 24;          // count(flux > 0)
export const M_COVERAGE: i32 = 25;         // count(flux > 0) / n
export const M_EPOCHS: i32 = 26;           // time bins with any flux > 0
export const M_TEMPORAL: i32 = 27;         // that / nt
export const M_WAVELENGTHS: i32 = 28;      // wavelength bins with any flux > 0
export const M_SPECTRAL: i32 = 29;         // that / nw
export const M_NONFINITE: i32 = 30;        // count of NaN or infinite values in flux and err together
export const M_SLOTS: i32 = 31;

/** Parameters (i32 each) at `params`: the peak-spectrum columns [s0, s1) and the band rows. */
export const P_S0: i32 = 0;
export const P_S1: i32 = 1;
export const P_BLUE0: i32 = 2;
export const P_BLUE1: i32 = 3;
export const P_RED0: i32 = 4;
export const P_RED1: i32 = 5;
export const P_SLOTS: i32 = 6;

// scratch: per pair of time bins the pixel pass's column sums, maxima and squared-error sums
// (48 bytes), light curve and squared-error light curve (nt f64 each), the
// flux copy and the positive S/N values (n f64 each), the spectrum (nw f64), a temporary (max(nt, nw) f64),
// the selection's second buffer (n f64) and its sample (64 f64)
function colsBytes(nt: i32): usize { return <usize>((nt + 1) >> 1) * 48; }
function lcBytes(nt: i32): usize { return ((<usize>nt << 3) + 15) & ~15; }
/** Where the pixel pass leaves its float64 copy of the flux in `scratch` (as split and summarize place it). */
function fluxCopy(scratch: usize, nt: i32): usize { return scratch + colsBytes(nt) + 2 * lcBytes(nt); }

/** Bytes of scratch that `sconeEvent` needs for an (nw, nt) image (16-byte aligned base). */
export function sconeScratchBytes(nw: i32, nt: i32): i32 {
  return <i32>(colsBytes(nt) + 2 * lcBytes(nt) + 3 * (<usize>(nw * nt) << 3) + lcBytes(nw) + lcBytes(nt > nw ? nt : nw) + 64 * 8);
}

/** Count of NaN or infinite f64 values at `p`, `p + 16`, ... (`n` of them). */
function countNonfinite(p: usize, n: i32): i32 {
  let c: i32 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const v = load<f64>(p + (<usize>i << 4));
    c += <i32>(v - v != 0);
  }
  return c;
}

/**
 * Splits one interleaved (nw, nt, 2) float64 image at `src` (any alignment) into planar tensors
 * `flux` and `err` of nw*nt elements (float32 rounded when `f64out` is 0, float64 bits otherwise)
 * and writes the metrics at `metrics` (M_SLOTS f64; 0: tensors only, nothing else), with the parameters at `params` (P_SLOTS
 * i32) and `scratch` (sconeScratchBytes, 16-byte aligned). When not 0, `lc` and `lcErr` receive
 * the light curve and its quadrature error (nt f64), `spec` and `specErr` the peak spectrum and
 * its error sqrt(mean(err[w, s0:s1]^2)) (nw f64).
 *
 * The dataset report's per-class sums, taken in the same call instead of reading the image again
 * (nw*nt f64 each at `sum` and `sumSq`, same order as `flux`):
 * - `keep` not 0: the event's float64 flux map is left at `keep` (nw*nt f64), for a later event of
 *   its class to add as `prev` (or sconeAddKept); `sum` is not touched.
 * - else, `sum` not 0: the map at `prev` (when not 0) and then this event's are added to `sum`,
 *   their squares to `sumSq`. Adding two events in one pass halves the stores to the sums, which
 *   bound that loop (5,760 float64 pairs an event, ~2 µs); each sum still gets its events one
 *   after the other in event order, so the sums are those of adding them one by one.
 *
 * Results are bit-identical to numpy's (1.24 to 2.x) on the float64 values: sums follow its
 * pairwise summation, reductions over an axis its row order, and medians are exact. How:
 * - Two pixels (t, t+1 of one row) per f64x2, two such pairs a loop step; a lone last pair and an
 *   odd last pixel of a row are done alone. The only data-dependent work in the pixel loop is
 *   where a positive S/N is stored.
 * - Counts and column maxima are order-independent. Per pair of time bins (t, t+1) one 48-byte
 *   slot holds the two light-curve sums, the two column maxima (a time bin has data when its
 *   maximum is > 0) and the two squared-error sums, so one pointer serves all three; the light
 *   curves are copied out of the slots after the pass.
 * - The peak: per row a lane-wise pmax (ignores NaN, keeps the first of equal values) finds the
 *   row maximum; the first row whose maximum beats all earlier rows holds the first maximum,
 *   which a scan of that row then locates. NaN (argmax's first NaN, max's NaN) and the sign of a
 *   zero maximum are settled by a scan that runs only when some flux is non-finite or the
 *   maximum is zero.
 * - Medians by selection (quickselect) on the copy and on the positive S/N values, after
 *   everything else that reads the copy; a median inside the block of zeros needs none.
 */
export function sconeEvent(src: usize, nw: i32, nt: i32, flux: usize, err: usize, f64out: i32,
                           metrics: usize, scratch: usize, params: usize,
                           lc: usize, lcErr: usize, spec: usize, specErr: usize, sum: usize, sumSq: usize,
                           prev: usize, keep: usize): void {
  const n = nw * nt;
  if (!metrics) {
    // tensors only (no metric columns wanted)
    if (prev) addSums(prev, 0, n, sum, sumSq);
    if (f64out) splitOnly<f64>(src, n, flux, err, sum, sumSq, keep);
    else splitOnly<f32>(src, n, flux, err, sum, sumSq, keep);
    return;
  }
  const copy = keep ? keep : fluxCopy(scratch, nt);
  if (f64out) split<f64>(src, nw, nt, flux, err, metrics, scratch, lcErr != 0, copy);
  else split<f32>(src, nw, nt, flux, err, metrics, scratch, lcErr != 0, copy);
  // the sums from the pass's float64 copy of the flux (contiguous, still in cache), before the
  // medians reorder it: adding them inside the pixel pass's loop made that loop slower than this
  if (sum && !keep) addSums(prev ? prev : copy, prev ? copy : 0, n, sum, sumSq);
  summarize(src, nw, nt, metrics, scratch, params, lc, lcErr, spec, specErr, copy);
}

/** Splits pixel pair `i` (pixels 2i, 2i+1) into the tensors as T; returns its flux (f64x2). */
// @ts-ignore: decorator
@inline function splitPair<T>(src: usize, i: i32, flux: usize, err: usize): v128 {
  const a = v128.load(src + (<usize>i << 5));
  const b = v128.load(src + (<usize>i << 5), 16);
  const f = v128.shuffle<f64>(a, b, 0, 2);
  const e = v128.shuffle<f64>(a, b, 1, 3);
  if (sizeof<T>() == 8) {
    v128.store(flux + (<usize>i << 4), f);
    v128.store(err + (<usize>i << 4), e);
  } else {
    v128.store64_lane(flux + (<usize>i << 3), f32x4.demote_f64x2_zero(f), 0);
    v128.store64_lane(err + (<usize>i << 3), f32x4.demote_f64x2_zero(e), 0);
  }
  return f;
}

/**
 * Planar flux and err (element type T) from `n` interleaved pixels, and the flux sums when `sum` is
 * not 0, or the float64 flux at `keep` when that is not 0.
 */
function splitOnly<T>(src: usize, n: i32, flux: usize, err: usize, sum: usize, sumSq: usize, keep: usize): void {
  const pairs = n >> 1;
  // the tests on `sum` and `keep` outside the loops: inside, they cost the plain split ~40% more
  if (keep) {
    for (let i: i32 = 0; i < pairs; i++) v128.store(keep + (<usize>i << 4), splitPair<T>(src, i, flux, err));
  } else if (sum) {
    for (let i: i32 = 0; i < pairs; i++) {
      const f = splitPair<T>(src, i, flux, err);
      const o = <usize>i << 4;
      v128.store(sum + o, f64x2.add(v128.load(sum + o), f));
      v128.store(sumSq + o, f64x2.add(v128.load(sumSq + o), f64x2.mul(f, f)));
    }
  } else {
    for (let i: i32 = 0; i < pairs; i++) splitPair<T>(src, i, flux, err);
  }
  if (n & 1) {
    const at = src + (<usize>(n - 1) << 4);
    if (keep) store<f64>(keep + (<usize>(n - 1) << 3), load<f64>(at));
    else if (sum) addSquared(sum + (<usize>(n - 1) << 3), sumSq + (<usize>(n - 1) << 3), load<f64>(at));
    if (sizeof<T>() == 8) {
      store<u64>(flux + (<usize>(n - 1) << 3), load<u64>(at));
      store<u64>(err + (<usize>(n - 1) << 3), load<u64>(at, 8));
    } else {
      store<f32>(flux + (<usize>(n - 1) << 2), <f32>load<f64>(at));
      store<f32>(err + (<usize>(n - 1) << 2), <f32>load<f64>(at, 8));
    }
  }
}

/** Adds `f` at `sum` and its square at `sumSq`. */
// @ts-ignore: decorator
@inline function addSquared(sum: usize, sumSq: usize, f: f64): void {
  store<f64>(sum, load<f64>(sum) + f);
  store<f64>(sumSq, load<f64>(sumSq) + f * f);
}

/**
 * Adds the `n` f64 at `p` to the `n` f64 at `sum` and their squares to those at `sumSq`, then, when
 * `q` is not 0, the `n` f64 at `q` likewise: each sum gets (s + p[i]) + q[i], as two calls would
 * give, but is read and written once for both (the stores bound this loop).
 */
function addSums(p: usize, q: usize, n: i32, sum: usize, sumSq: usize): void {
  const end = <usize>(n & ~3) << 3;
  if (q) {
    for (let o: usize = 0; o < end; o += 32) {
      const f = v128.load(p + o), g = v128.load(p + o, 16);
      const u = v128.load(q + o), v = v128.load(q + o, 16);
      v128.store(sum + o, f64x2.add(f64x2.add(v128.load(sum + o), f), u));
      v128.store(sum + o, f64x2.add(f64x2.add(v128.load(sum + o, 16), g), v), 16);
      v128.store(sumSq + o, f64x2.add(f64x2.add(v128.load(sumSq + o), f64x2.mul(f, f)), f64x2.mul(u, u)));
      v128.store(sumSq + o, f64x2.add(f64x2.add(v128.load(sumSq + o, 16), f64x2.mul(g, g)), f64x2.mul(v, v)), 16);
    }
  } else {
    for (let o: usize = 0; o < end; o += 32) {
      const f = v128.load(p + o), g = v128.load(p + o, 16);
      v128.store(sum + o, f64x2.add(v128.load(sum + o), f));
      v128.store(sum + o, f64x2.add(v128.load(sum + o, 16), g), 16);
      v128.store(sumSq + o, f64x2.add(v128.load(sumSq + o), f64x2.mul(f, f)));
      v128.store(sumSq + o, f64x2.add(v128.load(sumSq + o, 16), f64x2.mul(g, g)), 16);
    }
  }
  for (let i = n & ~3; i < n; i++) {
    const o = <usize>i << 3;
    addSquared(sum + o, sumSq + o, load<f64>(p + o));
    if (q) addSquared(sum + o, sumSq + o, load<f64>(q + o));
  }
}

/**
 * Adds the float64 flux map that `sconeEvent` left at `kept` (n f64) to the `n` sums at `sum` and
 * its squares to those at `sumSq`: a kept map that no later event of its class came to pair.
 */
export function sconeAddKept(kept: usize, n: i32, sum: usize, sumSq: usize): void {
  addSums(kept, 0, n, sum, sumSq);
}

/** Stores a pair's flux and error (f64x2 each) to the tensors as T. */
// @ts-ignore: decorator
@inline function storeTensors<T>(fo: usize, eo: usize, f: v128, e: v128): void {
  if (sizeof<T>() == 8) {
    v128.store(fo, f);
    v128.store(eo, e);
  } else {
    v128.store64_lane(fo, f32x4.demote_f64x2_zero(f), 0);
    v128.store64_lane(eo, f32x4.demote_f64x2_zero(e), 0);
  }
}

/** Adds a pair to its time bins' slot: light-curve sums, column maxima and squared-error sums. */
// @ts-ignore: decorator
@inline function addColumns(lp: usize, f: v128, e: v128, wantErr2: bool): void {
  v128.store(lp, f64x2.add(v128.load(lp), f));
  v128.store(lp, f64x2.pmax(v128.load(lp, 16), f), 16);
  if (wantErr2) v128.store(lp, f64x2.add(v128.load(lp, 32), f64x2.mul(e, e)), 32);
}

/**
 * Packs the S/N lanes of `q` kept by `take` (bit j: lane j) at `sp` and returns the new end: lane
 * 1 goes after lane 0 when that is kept, else over it; the end moves by the kept count.
 */
// @ts-ignore: decorator
@inline function packSnr(sp: usize, q: v128, take: i32): usize {
  v128.store64_lane(sp, q, 0);
  v128.store64_lane(sp + (<usize>(take & 1) << 3), q, 1);
  return sp + (<usize>popcnt<i32>(take) << 3);
}

/** The pixel pass of sconeEvent with the output element type `T` (f32 or f64) fixed at compile time. */
function split<T>(src: usize, nw: i32, nt: i32, flux: usize, err: usize, metrics: usize, scratch: usize, wantErr2: bool, copyAt: usize): void {
  const f64out = sizeof<T>() == 8;
  const cols = scratch;
  const lcAcc = scratch + colsBytes(nt);
  const err2 = lcAcc + lcBytes(nt);
  let cp = copyAt;                            // the float64 copy of flux, in C order
  const snrBase = fluxCopy(scratch, nt) + (<usize>(nw * nt) << 3);
  let sp = snrBase;                           // positive S/N values, packed
  const zero = f64x2.splat(0);
  // numpy's sum over axis 0: 0 + flux[0, t] + flux[1, t] + ... in row order
  for (let j: i32 = 0; j < ((nt + 1) >> 1); j++) {
    const slot = cols + <usize>j * 48;
    v128.store(slot, zero);
    v128.store(slot, f64x2.splat(-Infinity), 16);
    v128.store(slot, zero, 32);
  }
  let posAcc = i64x2.splat(0);          // each lane counts down by one per pixel with flux > 0
  let zeroAcc = i64x2.splat(0);         // likewise for flux == 0
  // the sum of the errors is non-finite when any error is (or, rarely, when the sum overflows: the
  // count is then taken and finds none); for flux the light curve shows it: a non-finite value
  // makes its column's sum non-finite
  let errSum = f64x2.splat(0);
  let snrMax = f64x2.splat(-Infinity);  // max of snr ignoring NaN (a NaN snr needs a NaN or infinite value: rescanned then)
  let positive: i32 = 0, zeros: i32 = 0;  // odd pixels
  let rowsWithFlux: i32 = 0;
  let best: f64 = -Infinity;            // the maximum so far (NaN ignored) and the row holding it
  let bestRow: i32 = -1;
  let countedPos: i64 = 0;
  const even = nt & ~1;
  const odd = nt & 1;
  for (let w: i32 = 0; w < nw; w++) {
    const i0 = w * nt;
    let at = src + (<usize>i0 << 4);
    const rowEnd = at + (<usize>even << 4);
    let peak = f64x2.splat(-Infinity);
    let fo = flux + (<usize>i0 << (f64out ? 3 : 2));
    let eo = err + (<usize>i0 << (f64out ? 3 : 2));
    let lp = cols;
    const step: usize = f64out ? 16 : 8;    // output bytes of a pair
    // two pairs a step (the loop's pointer steps and branch shared), then a last lone pair
    const quadEnd = at + (<usize>(even & ~3) << 4);
    while (at < quadEnd) {
      const a0 = v128.load(at), b0 = v128.load(at, 16);       // f0 e0, f1 e1
      const a1 = v128.load(at, 32), b1 = v128.load(at, 48);   // f2 e2, f3 e3
      const f0 = v128.shuffle<f64>(a0, b0, 0, 2), e0 = v128.shuffle<f64>(a0, b0, 1, 3);
      const f1 = v128.shuffle<f64>(a1, b1, 0, 2), e1 = v128.shuffle<f64>(a1, b1, 1, 3);
      storeTensors<T>(fo, eo, f0, e0);
      storeTensors<T>(fo + step, eo + step, f1, e1);
      v128.store(cp, f0);
      v128.store(cp, f1, 16);
      addColumns(lp, f0, e0, wantErr2);
      addColumns(lp + 48, f1, e1, wantErr2);
      posAcc = i64x2.add(posAcc, i64x2.add(f64x2.gt(f0, zero), f64x2.gt(f1, zero)));
      zeroAcc = i64x2.add(zeroAcc, i64x2.add(f64x2.eq(f0, zero), f64x2.eq(f1, zero)));
      const q0 = f64x2.div(f0, e0), q1 = f64x2.div(f1, e1);
      const p0 = f64x2.gt(e0, zero), p1 = f64x2.gt(e1, zero);
      snrMax = f64x2.pmax(f64x2.pmax(snrMax, v128.and(q0, p0)), v128.and(q1, p1));
      sp = packSnr(sp, q0, i64x2.bitmask(v128.and(p0, f64x2.gt(q0, zero))));
      sp = packSnr(sp, q1, i64x2.bitmask(v128.and(p1, f64x2.gt(q1, zero))));
      peak = f64x2.pmax(f64x2.pmax(peak, f0), f1);        // peak < f ? f : peak, in pixel order
      errSum = f64x2.add(errSum, f64x2.add(e0, e1));
      at += 64;
      fo += step << 1;
      eo += step << 1;
      cp += 32;
      lp += 96;
    }
    if (at < rowEnd) {
      const a = v128.load(at), b = v128.load(at, 16);
      const f = v128.shuffle<f64>(a, b, 0, 2), e = v128.shuffle<f64>(a, b, 1, 3);
      storeTensors<T>(fo, eo, f, e);
      v128.store(cp, f);
      addColumns(lp, f, e, wantErr2);
      posAcc = i64x2.add(posAcc, f64x2.gt(f, zero));
      zeroAcc = i64x2.add(zeroAcc, f64x2.eq(f, zero));
      const q = f64x2.div(f, e);
      const errPos = f64x2.gt(e, zero);
      snrMax = f64x2.pmax(snrMax, v128.and(q, errPos));
      sp = packSnr(sp, q, i64x2.bitmask(v128.and(errPos, f64x2.gt(q, zero))));
      peak = f64x2.pmax(peak, f);
      errSum = f64x2.add(errSum, e);
      at += 32;
      fo += step;
      eo += step;
      cp += 16;
      lp += 48;
    }
    let rowMax = f64x2.extract_lane(peak, 0);
    const m1 = f64x2.extract_lane(peak, 1);
    if (m1 > rowMax) rowMax = m1;
    let rowPos: i32 = 0;
    if (odd) {
      const t = nt - 1;
      const fb = load<u64>(at);
      const eb = load<u64>(at, 8);
      const fv = reinterpret<f64>(fb);
      const ev = reinterpret<f64>(eb);
      if (f64out) {
        store<u64>(fo, fb);
        store<u64>(eo, eb);
      } else {
        store<f32>(fo, <f32>fv);
        store<f32>(eo, <f32>ev);
      }
      store<f64>(cp, fv);
      cp += 8;
      store<f64>(lp, load<f64>(lp) + fv);
      const cm = load<f64>(lp, 16);
      store<f64>(lp, fv > cm ? fv : cm, 16);
      if (wantErr2) store<f64>(lp, load<f64>(lp, 32) + ev * ev, 32);
      rowPos = <i32>(fv > 0);
      positive += rowPos;
      zeros += <i32>(fv == 0);
      const q = fv / ev;
      const s = select<f64>(q, 0, ev > 0);
      snrMax = f64x2.pmax(snrMax, f64x2.splat(s));
      const spos = <i32>(s > 0);
      store<f64>(sp, s);
      sp += <usize>(spos << 3);
      if (fv > rowMax) rowMax = fv;
      errSum = f64x2.add(errSum, f64x2.splat(ev));
    }
    const pos = i64x2.extract_lane(posAcc, 0) + i64x2.extract_lane(posAcc, 1);
    rowPos |= <i32>(pos != countedPos);
    countedPos = pos;
    rowsWithFlux += rowPos;
    if (rowMax > best) { best = rowMax; bestRow = w; }
  }
  positive -= <i32>countedPos;
  zeros -= <i32>(i64x2.extract_lane(zeroAcc, 0) + i64x2.extract_lane(zeroAcc, 1));
  const snrN = <i32>((sp - snrBase) >> 3);
  const n = nw * nt;
  const copy = copyAt;
  // the light curves out of the slots, and the time bins with data
  let colsWithFlux: i32 = 0;
  for (let j: i32 = 0; j < (nt >> 1); j++) {
    const slot = cols + <usize>j * 48;
    v128.store(lcAcc + (<usize>j << 4), v128.load(slot));
    if (wantErr2) v128.store(err2 + (<usize>j << 4), v128.load(slot, 32));
    colsWithFlux += popcnt<i32>(i64x2.bitmask(f64x2.gt(v128.load(slot, 16), zero)));
  }
  if (odd) {
    const slot = cols + <usize>(nt >> 1) * 48;
    store<f64>(lcAcc + (<usize>(nt - 1) << 3), load<f64>(slot));
    if (wantErr2) store<f64>(err2 + (<usize>(nt - 1) << 3), load<f64>(slot, 32));
    colsWithFlux += <i32>(load<f64>(slot, 16) > 0);
  }
  const total = n ? 0 + pairwiseSum(copy, n) : 0;  // numpy's np.sum: 0 + pairwise sum
  // non-finite values are rare: counted only when there are some
  let lcBad = f64x2.splat(0);
  for (let t: i32 = 0; t < (nt & ~1); t += 2) { const v = v128.load(lcAcc + (<usize>t << 3)); lcBad = v128.or(lcBad, f64x2.sub(v, v)); }
  if (odd) { const v = load<f64>(lcAcc + (<usize>(nt - 1) << 3)); lcBad = v128.or(lcBad, f64x2.splat(v - v)); }
  const nonfiniteFlux = v128.any_true(lcBad) ? countNonfinite(src, n) : 0;
  const nonfiniteErr = v128.any_true(f64x2.sub(errSum, errSum)) ? countNonfinite(src + 8, n) : 0;

  // the first maximum: the first pixel of bestRow equal to best (-0 == +0, as `>` treats them)
  let peakAt: i32 = 0;
  if (bestRow >= 0) {
    const row = src + (<usize>(bestRow * nt) << 4);
    let t: i32 = 0;
    while (load<f64>(row + (<usize>t << 4)) != best) t++;
    peakAt = bestRow * nt + t;
  }
  let mx = best;
  let nan = false;
  if (nonfiniteFlux || best == 0) {
    let plusZero = false;
    for (let i: i32 = n - 1; i >= 0; i--) {
      const f = load<f64>(src + (<usize>i << 4));
      if (f != f) { nan = true; peakAt = i; }   // argmax: the first NaN
      plusZero |= reinterpret<u64>(f) == 0;
    }
    if (nan) mx = NaN;
    else if (best == 0 && plusZero) mx = 0;
  }
  let snrTop = max(f64x2.extract_lane(snrMax, 0), f64x2.extract_lane(snrMax, 1));
  if (nonfiniteFlux || nonfiniteErr) {
    // numpy's max propagates a NaN snr (NaN flux, or infinite flux over infinite err, where err > 0)
    for (let i: i32 = 0; i < n; i++) {
      const f = load<f64>(src + (<usize>i << 4)), e = load<f64>(src + (<usize>i << 4), 8);
      if (e > 0 && f / e != f / e) { snrTop = NaN; break; }
    }
  }

  store<f64>(metrics, <f64>positive, M_NONZERO << 3);
  store<f64>(metrics, n ? <f64>positive / <f64>n : NaN, M_COVERAGE << 3);
  store<f64>(metrics, <f64>colsWithFlux, M_EPOCHS << 3);
  store<f64>(metrics, nt ? <f64>colsWithFlux / <f64>nt : NaN, M_TEMPORAL << 3);
  store<f64>(metrics, <f64>rowsWithFlux, M_WAVELENGTHS << 3);
  store<f64>(metrics, nw ? <f64>rowsWithFlux / <f64>nw : NaN, M_SPECTRAL << 3);
  store<f64>(metrics, snrN ? (0 + pairwiseSum(snrBase, snrN)) / <f64>snrN : 0, M_SNR_MEAN << 3);
  store<f64>(metrics, n ? snrTop : NaN, M_SNR_MAX << 3);
  store<f64>(metrics, n ? mx : NaN, M_MAX_FLUX << 3);
  store<f64>(metrics, total, M_TOTAL_FLUX << 3);
  store<f64>(metrics, n ? total / <f64>n : NaN, M_MEAN_FLUX << 3);
  store<f64>(metrics, nt ? <f64>(peakAt / nt) : 0, M_PEAK_W << 3);
  store<f64>(metrics, nt ? <f64>(peakAt % nt) : 0, M_PEAK_T << 3);
  store<f64>(metrics, <f64>(nonfiniteFlux + nonfiniteErr), M_NONFINITE << 3);
  if (n) {
    const e = load<f64>(src + (<usize>peakAt << 4), 8);
    store<f64>(metrics, e > 0 ? load<f64>(src + (<usize>peakAt << 4)) / e : 0, M_SNR_PEAK << 3);
  } else {
    store<f64>(metrics, NaN, M_SNR_PEAK << 3);
  }
  // what summarize needs: the counts for the median shortcut and the S/N count (as f64 bits)
  store<f64>(metrics, nan ? -1 : <f64>zeros, M_MEDIAN_FLUX << 3);
  store<f64>(metrics, <f64>snrN, M_SNR_MEDIAN << 3);
}

/** numpy's max over `n` f64 at `p` (stride 8): NaN if any is NaN. */
function maxOf(p: usize, n: i32): f64 {
  let m: f64 = -Infinity;
  for (let i: i32 = 0; i < n; i++) {
    const v = load<f64>(p + (<usize>i << 3));
    if (v != v) return NaN;
    if (v > m) m = v;
  }
  return n ? m : NaN;
}

/** numpy's argmax over `n` f64 at `p`: the first NaN if any, else the first maximum. */
function argmaxOf(p: usize, n: i32): i32 {
  if (n == 0) return 0;
  let m = load<f64>(p);
  if (m != m) return 0;
  let at: i32 = 0;
  for (let i: i32 = 1; i < n; i++) {
    const v = load<f64>(p + (<usize>i << 3));
    if (!(v <= m)) {
      m = v;
      at = i;
      if (v != v) break;
    }
  }
  return at;
}

/**
 * numpy's pairwise summation of `n` f64 at `p` (stride 8), as its add reduction runs over a
 * contiguous array: under 8 values in order; up to 128 in 8 interleaved partial sums (here four
 * f64x2) combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the tail in order; above that the
 * two halves (the first a multiple of 8 long) separately. np.sum adds this to its identity 0.
 */
function pairwiseSum(p: usize, n: i32): f64 {
  if (n < 8) {
    let r: f64 = 0;
    for (let i: i32 = 0; i < n; i++) r += load<f64>(p + (<usize>i << 3));
    return r;
  }
  if (n <= 128) {
    let r01 = v128.load(p), r23 = v128.load(p, 16), r45 = v128.load(p, 32), r67 = v128.load(p, 48);
    let i: i32 = 8;
    const end = n - (n & 7);
    for (; i < end; i += 8) {
      const q = p + (<usize>i << 3);
      r01 = f64x2.add(r01, v128.load(q));
      r23 = f64x2.add(r23, v128.load(q, 16));
      r45 = f64x2.add(r45, v128.load(q, 32));
      r67 = f64x2.add(r67, v128.load(q, 48));
    }
    let res = ((f64x2.extract_lane(r01, 0) + f64x2.extract_lane(r01, 1)) + (f64x2.extract_lane(r23, 0) + f64x2.extract_lane(r23, 1)))
      + ((f64x2.extract_lane(r45, 0) + f64x2.extract_lane(r45, 1)) + (f64x2.extract_lane(r67, 0) + f64x2.extract_lane(r67, 1)));
    for (; i < n; i++) res += load<f64>(p + (<usize>i << 3));
    return res;
  }
  let n2 = n >> 1;
  n2 -= n2 & 7;
  return pairwiseSum(p, n2) + pairwiseSum(p + (<usize>n2 << 3), n - n2);
}

/** pairwiseSum of (x - mean)^2 over the same values: numpy's variance numerator. */
function pairwiseSqDev(p: usize, n: i32, mean: f64): f64 {
  if (n < 8) {
    let r: f64 = 0;
    for (let i: i32 = 0; i < n; i++) { const d = load<f64>(p + (<usize>i << 3)) - mean; r += d * d; }
    return r;
  }
  if (n <= 128) {
    const m = f64x2.splat(mean);
    let d01 = f64x2.sub(v128.load(p), m), d23 = f64x2.sub(v128.load(p, 16), m);
    let d45 = f64x2.sub(v128.load(p, 32), m), d67 = f64x2.sub(v128.load(p, 48), m);
    let r01 = f64x2.mul(d01, d01), r23 = f64x2.mul(d23, d23), r45 = f64x2.mul(d45, d45), r67 = f64x2.mul(d67, d67);
    let i: i32 = 8;
    const end = n - (n & 7);
    for (; i < end; i += 8) {
      const q = p + (<usize>i << 3);
      d01 = f64x2.sub(v128.load(q), m); d23 = f64x2.sub(v128.load(q, 16), m);
      d45 = f64x2.sub(v128.load(q, 32), m); d67 = f64x2.sub(v128.load(q, 48), m);
      r01 = f64x2.add(r01, f64x2.mul(d01, d01));
      r23 = f64x2.add(r23, f64x2.mul(d23, d23));
      r45 = f64x2.add(r45, f64x2.mul(d45, d45));
      r67 = f64x2.add(r67, f64x2.mul(d67, d67));
    }
    let res = ((f64x2.extract_lane(r01, 0) + f64x2.extract_lane(r01, 1)) + (f64x2.extract_lane(r23, 0) + f64x2.extract_lane(r23, 1)))
      + ((f64x2.extract_lane(r45, 0) + f64x2.extract_lane(r45, 1)) + (f64x2.extract_lane(r67, 0) + f64x2.extract_lane(r67, 1)));
    for (; i < n; i++) { const d = load<f64>(p + (<usize>i << 3)) - mean; res += d * d; }
    return res;
  }
  let n2 = n >> 1;
  n2 -= n2 & 7;
  return pairwiseSqDev(p, n2, mean) + pairwiseSqDev(p + (<usize>n2 << 3), n - n2, mean);
}

/** np.sum of `n` contiguous f64. */
function npSum(p: usize, n: i32): f64 {
  return 0 + pairwiseSum(p, n);
}

/**
 * The middle of `n` f64 at `p` (ranks k1 <= k2, k2 at most k1 + 1) by Hoare's quickselect around
 * the median of three: the fallback for values that sampling cannot split (many equal ones).
 */
function quickMedian(p: usize, n: i32, k1: i32, k2: i32): f64 {
  let lo: i32 = 0, hi: i32 = n - 1;
  while (hi - lo > 24) {
    const mid = lo + ((hi - lo) >> 1);
    const pl = p + (<usize>lo << 3), pm = p + (<usize>mid << 3), ph = p + (<usize>hi << 3);
    let a = load<f64>(pl), b = load<f64>(pm), c = load<f64>(ph);
    if (b < a) { const x = a; a = b; b = x; }
    if (c < b) { const x = b; b = c; c = x; if (b < a) { const y = a; a = b; b = y; } }
    store<f64>(pl, a); store<f64>(pm, b); store<f64>(ph, c);
    const pivot = b;
    let i = lo - 1, j = hi + 1;
    while (true) {
      do i++; while (load<f64>(p + (<usize>i << 3)) < pivot);
      do j--; while (load<f64>(p + (<usize>j << 3)) > pivot);
      if (i >= j) break;
      const pi = p + (<usize>i << 3), pj = p + (<usize>j << 3);
      const x = load<f64>(pi);
      store<f64>(pi, load<f64>(pj));
      store<f64>(pj, x);
    }
    if (k1 <= j) hi = j;
    else lo = j + 1;
  }
  sortShort(p + (<usize>lo << 3), hi - lo + 1);
  const x = load<f64>(p + (<usize>k1 << 3));
  if (k1 == k2) return x;
  // the next order statistic: the smallest value after k1 (everything there is >= x)
  let y: f64 = Infinity;
  for (let i = k1 + 1; i < n; i++) y = min(y, load<f64>(p + (<usize>i << 3)));
  return (x + y) / 2;
}

/** Sorts `n` f64 at `p` (insertion sort: for the short runs selection ends with). */
function sortShort(p: usize, n: i32): void {
  for (let i: i32 = 1; i < n; i++) {
    const v = load<f64>(p + (<usize>i << 3));
    let j = i - 1;
    while (j >= 0 && load<f64>(p + (<usize>j << 3)) > v) {
      store<f64>(p + (<usize>(j + 1) << 3), load<f64>(p + (<usize>j << 3)));
      j--;
    }
    store<f64>(p + (<usize>(j + 1) << 3), v);
  }
}

/** Compare-exchange of the two f64 in `q` (ascending; no NaN). */
// @ts-ignore: decorator
@inline function sortPair(q: usize): void {
  const v = v128.load(q);
  const w = v128.shuffle<f64>(v, v, 1, 0);
  v128.store(q, v128.shuffle<f64>(f64x2.pmin(v, w), f64x2.pmax(v, w), 0, 3));
}

/**
 * Sorts 64 f64 at `p` (no NaN) with a bitonic network, every comparator ascending: each merge of
 * blocks of k starts with the mirror step (i with k-1-i) and halves down to neighbours; two
 * comparators per f64x2 pmin/pmax and no branch on the values (insertion sort mispredicts once
 * per value, ~4x slower here).
 */
function sort64(p: usize): void {
  for (let i: i32 = 0; i < 64; i += 2) sortPair(p + (<usize>i << 3));
  for (let k: i32 = 4; k <= 64; k <<= 1) {
    const half = k >> 1;
    for (let b: i32 = 0; b < 64; b += k) {
      for (let i: i32 = 0; i < half; i += 2) {
        const pa = p + (<usize>(b + i) << 3), pb = p + (<usize>(b + k - 2 - i) << 3);
        const a = v128.load(pa), c0 = v128.load(pb);
        const c = v128.shuffle<f64>(c0, c0, 1, 0);
        const hi = f64x2.pmax(a, c);
        v128.store(pa, f64x2.pmin(a, c));
        v128.store(pb, v128.shuffle<f64>(hi, hi, 1, 0));
      }
    }
    for (let j: i32 = k >> 2; j >= 2; j >>= 1) {
      for (let b: i32 = 0; b < 64; b += j << 1) {
        for (let i: i32 = 0; i < j; i += 2) {
          const pa = p + (<usize>(b + i) << 3), pb = pa + (<usize>j << 3);
          const a = v128.load(pa), c = v128.load(pb);
          v128.store(pa, f64x2.pmin(a, c));
          v128.store(pb, f64x2.pmax(a, c));
        }
      }
    }
    for (let i: i32 = 0; i < 64; i += 2) sortPair(p + (<usize>i << 3));
  }
}

/**
 * One selection round over `n` f64 at `src`: packs the values within [lo, hi] at `dst` and
 * returns (count below lo) << 32 | (count packed). Four values a step; the store position is the
 * only dependency between steps.
 */
function bracket(src: usize, n: i32, dst: usize, lo: f64, hi: f64): i64 {
  const lov = f64x2.splat(lo), hiv = f64x2.splat(hi);
  let below0 = i64x2.splat(0), below1 = i64x2.splat(0);
  let q = dst;
  const end = src + (<usize>(n & ~3) << 3);
  let at = src;
  while (at < end) {
    const v = v128.load(at), u = v128.load(at, 16);
    const lv = f64x2.lt(v, lov), lu = f64x2.lt(u, lov);
    const iv = i64x2.bitmask(v128.andnot(f64x2.le(v, hiv), lv));
    const iu = i64x2.bitmask(v128.andnot(f64x2.le(u, hiv), lu));
    below0 = i64x2.add(below0, lv);
    below1 = i64x2.add(below1, lu);
    v128.store64_lane(q, v, 0);
    v128.store64_lane(q + (<usize>(iv & 1) << 3), v, 1);
    q += <usize>popcnt<i32>(iv) << 3;
    v128.store64_lane(q, u, 0);
    v128.store64_lane(q + (<usize>(iu & 1) << 3), u, 1);
    q += <usize>popcnt<i32>(iu) << 3;
    at += 32;
  }
  const sum = i64x2.add(below0, below1);
  let nBelow = -(i64x2.extract_lane(sum, 0) + i64x2.extract_lane(sum, 1));
  for (let i = n & ~3; i < n; i++) {
    const v = load<f64>(src + (<usize>i << 3));
    nBelow += <i64>(v < lo);
    store<f64>(q, v);
    q += <usize>(<i32>(v >= lo && v <= hi) << 3);
  }
  return (nBelow << 32) | <i64>((q - dst) >> 3);
}

/**
 * numpy's median of `n` f64 at `p` (no NaN among them): the middle one, or the mean of the middle
 * two. `a` and `b` are buffers of n f64 (`p` may be one of them); the values are not kept;
 * `sample` holds 64 f64.
 *
 * Selection without data-dependent branches over the values: a sorted sample of 64 brackets the
 * middle ranks with [lo, hi] (two standard deviations of the sample rank either side); one pass
 * counts the values below lo and packs those within [lo, hi] into the other buffer; if the middle
 * ranks fell outside, the bracket opens on that side and the pass repeats. Each round keeps about
 * a quarter; 64 values or fewer are sorted by the network. Quickselect mispredicts about every other comparison and
 * took ~20x longer here: it only finishes rounds that keep over three quarters (many equal values).
 */
function medianOf(p: usize, n: i32, a: usize, b: usize, sample: usize): f64 {
  let k1 = (n - 1) >> 1, k2 = n >> 1;
  let src = p;
  let lo: f64 = -Infinity, hi: f64 = Infinity;
  let fresh = true;                      // lo/hi come from a new sample (else: widened after a miss)
  while (n > 64) {
    if (fresh) {
      const step = n / 64;
      for (let i: i32 = 0; i < 64; i++) store<f64>(sample + (<usize>i << 3), load<f64>(src + (<usize>(i * step + (step >> 1)) << 3)));
      sort64(sample);
      const r1 = <i32>((<i64>k1 * 64) / <i64>n) - 9, r2 = <i32>((<i64>k2 * 64) / <i64>n) + 10;
      lo = r1 < 0 ? -Infinity : load<f64>(sample + (<usize>r1 << 3));
      hi = r2 > 63 ? Infinity : load<f64>(sample + (<usize>r2 << 3));
    }
    const dst = src == a ? b : a;
    const r = bracket(src, n, dst, lo, hi);
    const nBelow = <i32>(r >> 32), m = <i32>r;
    if (nBelow <= k1 && k2 < nBelow + m) {
      // both middle ranks inside: keep the bracket's values
      if (lo == hi) return k1 == k2 ? lo : (lo + lo) / 2;  // all equal there (the sum may overflow, as numpy's)
      k1 -= nBelow;
      k2 -= nBelow;
      // values sampling cannot split (many equal ones): quickselect, which handles them well
      if (m > (n >> 1) + (n >> 2)) return quickMedian(dst, m, k1, k2);
      n = m;
      src = dst;
      fresh = true;
    } else {
      // a miss (the sample was unlucky): open the bracket on the side the ranks went
      if (nBelow > k1) lo = -Infinity;
      if (k2 >= nBelow + m) hi = Infinity;
      fresh = false;
    }
  }
  // the last 64 or fewer, padded with +Infinity (ranks k1, k2 < n are unaffected)
  memory.copy(sample, src, <usize>n << 3);
  for (let i = n; i < 64; i++) store<f64>(sample + (<usize>i << 3), Infinity);
  sort64(sample);
  const x = load<f64>(sample + (<usize>k1 << 3));
  return k1 == k2 ? x : (x + load<f64>(sample + (<usize>k2 << 3))) / 2;
}

/** The statistics of sconeEvent that read the light curve, the copy and the S/N values. */
function summarize(src: usize, nw: i32, nt: i32, metrics: usize, scratch: usize, params: usize,
                   lcOut: usize, lcErrOut: usize, specOut: usize, specErrOut: usize, copy: usize): void {
  const n = nw * nt;
  const lc = scratch + colsBytes(nt);
  const err2 = lc + lcBytes(nt);
  const own = fluxCopy(scratch, nt);          // the copy's place in scratch (free when the copy is elsewhere)
  const snrPos = own + (<usize>n << 3);
  const specTmp = snrPos + (<usize>n << 3);
  const tmp = specTmp + lcBytes(nw);
  const spare = tmp + lcBytes(nt > nw ? nt : nw);  // n f64, then the 64-value sample
  const sample = spare + (<usize>n << 3);

  // light curve
  const lcMax = maxOf(lc, nt);
  const p = argmaxOf(lc, nt);
  store<f64>(metrics, lcMax, M_LC_MAX << 3);
  store<f64>(metrics, nt ? npSum(lc, nt) / <f64>nt : NaN, M_LC_MEAN << 3);
  store<f64>(metrics, <f64>p, M_LC_PEAK_T << 3);
  store<f64>(metrics, p > 0 ? npSum(lc, p) : 0, M_FLUX_BEFORE_PEAK << 3);
  store<f64>(metrics, npSum(lc + (<usize>p << 3), nt - p), M_FLUX_AFTER_PEAK << 3);
  const half = lcMax / 2.0;
  let first: i32 = -1, last: i32 = -1;
  for (let t: i32 = 0; t < nt; t++) {
    if (load<f64>(lc + (<usize>t << 3)) > half) {
      if (first < 0) first = t;
      last = t;
    }
  }
  store<f64>(metrics, <f64>first, M_HALF_FIRST << 3);
  store<f64>(metrics, <f64>last, M_HALF_LAST << 3);
  if (lcOut) memory.copy(lcOut, lc, <usize>nt << 3);
  if (lcErrOut) for (let t: i32 = 0; t < nt; t++) store<f64>(lcErrOut + (<usize>t << 3), sqrt<f64>(load<f64>(err2 + (<usize>t << 3))));

  // peak spectrum: mean over the columns [s0, s1) of each row (NaN when there are none)
  let s0 = load<i32>(params, P_S0 << 2), s1 = load<i32>(params, P_S1 << 2);
  if (s0 < 0) s0 = 0;
  if (s1 > nt) s1 = nt;
  const cols = s1 - s0;
  const spec = specOut ? specOut : specTmp;
  for (let w: i32 = 0; w < nw; w++) {
    const row = copy + (<usize>(w * nt + s0) << 3);
    store<f64>(spec + (<usize>w << 3), cols > 0 ? npSum(row, cols) / <f64>cols : NaN);
    if (specErrOut) {
      const er = src + (<usize>(w * nt + s0) << 4) + 8;
      for (let t: i32 = 0; t < cols; t++) { const e = load<f64>(er + (<usize>t << 4)); store<f64>(tmp + (<usize>t << 3), e * e); }
      store<f64>(specErrOut + (<usize>w << 3), cols > 0 ? sqrt<f64>(npSum(tmp, cols) / <f64>cols) : NaN);
    }
  }
  const sw = argmaxOf(spec, nw);
  store<f64>(metrics, maxOf(spec, nw), M_SPECTRUM_MAX << 3);
  store<f64>(metrics, nw ? npSum(spec, nw) / <f64>nw : NaN, M_SPECTRUM_MEAN << 3);
  store<f64>(metrics, <f64>sw, M_SPECTRUM_PEAK_W << 3);

  // colour: the light curve weighted by each band's own light curve
  const b0 = max<i32>(load<i32>(params, P_BLUE0 << 2), 0), b1 = min<i32>(load<i32>(params, P_BLUE1 << 2), nw);
  const r0 = max<i32>(load<i32>(params, P_RED0 << 2), 0), r1 = min<i32>(load<i32>(params, P_RED1 << 2), nw);
  if (b0 < b1 && r0 < r1) {
    const blue = bandFlux(copy, lc, tmp, nt, b0, b1), red = bandFlux(copy, lc, tmp, nt, r0, r1);
    store<f64>(metrics, blue, M_BLUE_FLUX << 3);
    store<f64>(metrics, red, M_RED_FLUX << 3);
    store<f64>(metrics, red > 0 ? blue / red : NaN, M_COLOR_RATIO << 3);
  } else {
    store<f64>(metrics, NaN, M_BLUE_FLUX << 3);
    store<f64>(metrics, NaN, M_RED_FLUX << 3);
    store<f64>(metrics, NaN, M_COLOR_RATIO << 3);
  }

  // population std, two-pass on the copy (NaN and infinities propagate as in numpy)
  const mean = load<f64>(metrics, M_MEAN_FLUX << 3);
  store<f64>(metrics, n ? sqrt<f64>((0 + pairwiseSqDev(copy, n, mean)) / <f64>n) : NaN, M_STD_FLUX << 3);

  // medians last: selection reorders the copy when it lies in scratch; a copy elsewhere is kept
  // (the selection's rounds go to scratch's two buffers)
  const zeros = load<f64>(metrics, M_MEDIAN_FLUX << 3);
  let median: f64 = NaN;
  if (n && zeros >= 0) {
    const pos = <i32>load<f64>(metrics, M_NONZERO << 3);
    const neg = n - pos - <i32>zeros;
    // both middle ranks inside the block of zeros: no selection needed
    if (neg <= ((n - 1) >> 1) && (n >> 1) < neg + <i32>zeros) median = 0;
    else median = copy == own ? medianOf(copy, n, copy, spare, sample) : medianOf(copy, n, spare, own, sample);
  }
  store<f64>(metrics, median, M_MEDIAN_FLUX << 3);
  const snrN = <i32>load<f64>(metrics, M_SNR_MEDIAN << 3);
  store<f64>(metrics, snrN ? medianOf(snrPos, snrN, snrPos, spare, sample) : 0, M_SNR_MEDIAN << 3);
}

/**
 * np.sum(lc * np.sum(flux[w0:w1, :], axis=0)): the band's light curve summed in row order (from
 * 0, as numpy's reduction over axis 0), times the light curve, summed pairwise; `tmp` holds nt f64.
 */
function bandFlux(copy: usize, lc: usize, tmp: usize, nt: i32, w0: i32, w1: i32): f64 {
  let t: i32 = 0;
  for (; t + 1 < nt; t += 2) {
    let b = f64x2.splat(0);
    for (let w = w0; w < w1; w++) b = f64x2.add(b, v128.load(copy + (<usize>(w * nt + t) << 3)));
    v128.store(tmp + (<usize>t << 3), f64x2.mul(v128.load(lc + (<usize>t << 3)), b));
  }
  if (t < nt) {
    let b: f64 = 0;
    for (let w = w0; w < w1; w++) b += load<f64>(copy + (<usize>(w * nt + t) << 3));
    store<f64>(tmp + (<usize>t << 3), load<f64>(lc + (<usize>t << 3)) * b);
  }
  return npSum(tmp, nt);
}

// --- floor probes for bench/kernels.ts: the least work the summary columns need, timed apart ---

/**
 * One read pass over both planes of `n` interleaved pixels at `src`, summing flux and error
 * (four f64x2 accumulators, no stores): what reading the image once for the metrics costs.
 * Writes the two sums at `out`.
 */
export function sconeProbeRead(src: usize, n: i32, out: usize): void {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  const end = src + (<usize>(n & ~3) << 4);
  let at = src;
  while (at < end) {
    a0 = f64x2.add(a0, v128.load(at));
    a1 = f64x2.add(a1, v128.load(at, 16));
    a2 = f64x2.add(a2, v128.load(at, 32));
    a3 = f64x2.add(a3, v128.load(at, 48));
    at += 64;
  }
  for (let i = n & ~3; i < n; i++) a0 = f64x2.add(a0, v128.load(src + (<usize>i << 4)));
  v128.store(out, f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)));
}

/**
 * The tensor split (as sconeEvent without metrics, float32 out) with the flux and error sums in the
 * same pass: the split plus the least fused metric work. Writes the two sums at `out`.
 */
export function sconeProbeSplitSums(src: usize, n: i32, flux: usize, err: usize, out: usize): void {
  let sf0 = f64x2.splat(0), se0 = f64x2.splat(0), sf1 = f64x2.splat(0), se1 = f64x2.splat(0);
  const pairs = n >> 1;
  let i: i32 = 0;
  for (; i + 1 < pairs; i += 2) {
    const p = src + (<usize>i << 5);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    const f = v128.shuffle<f64>(a, b, 0, 2), e = v128.shuffle<f64>(a, b, 1, 3);
    const g = v128.shuffle<f64>(c, d, 0, 2), h = v128.shuffle<f64>(c, d, 1, 3);
    v128.store(flux + (<usize>i << 3), v128.shuffle<f32>(f32x4.demote_f64x2_zero(f), f32x4.demote_f64x2_zero(g), 0, 1, 4, 5));
    v128.store(err + (<usize>i << 3), v128.shuffle<f32>(f32x4.demote_f64x2_zero(e), f32x4.demote_f64x2_zero(h), 0, 1, 4, 5));
    sf0 = f64x2.add(sf0, f); se0 = f64x2.add(se0, e);
    sf1 = f64x2.add(sf1, g); se1 = f64x2.add(se1, h);
  }
  for (; i < pairs; i++) {
    const p = src + (<usize>i << 5);
    const a = v128.load(p), b = v128.load(p, 16);
    const f = v128.shuffle<f64>(a, b, 0, 2), e = v128.shuffle<f64>(a, b, 1, 3);
    v128.store64_lane(flux + (<usize>i << 3), f32x4.demote_f64x2_zero(f), 0);
    v128.store64_lane(err + (<usize>i << 3), f32x4.demote_f64x2_zero(e), 0);
    sf0 = f64x2.add(sf0, f); se0 = f64x2.add(se0, e);
  }
  if (n & 1) {
    const p = src + (<usize>(n - 1) << 4);
    store<f32>(flux + (<usize>(n - 1) << 2), <f32>load<f64>(p));
    store<f32>(err + (<usize>(n - 1) << 2), <f32>load<f64>(p, 8));
  }
  const sf = f64x2.add(sf0, sf1), se = f64x2.add(se0, se1);
  store<f64>(out, f64x2.extract_lane(sf, 0) + f64x2.extract_lane(sf, 1));
  store<f64>(out + 8, f64x2.extract_lane(se, 0) + f64x2.extract_lane(se, 1));
}

/**
 * The median selection alone, as sconeEvent runs it: numpy's median of `n` f64 at `p` (no NaN),
 * with `a` and `b` two buffers of n f64 (neither is `p`, which stays as it was) and `sample` 64 f64.
 */
export function sconeProbeMedian(p: usize, n: i32, a: usize, b: usize, sample: usize): f64 {
  return n ? medianOf(p, n, a, b, sample) : NaN;
}
