// SCONE heatmaps: image_raw is float64 little-endian in C order with shape (nw, nt, 2), element
// (w, t, c) at byte 8 * ((w * nt + t) * 2 + c); channel 0 is flux, channel 1 its error.
// One pass reads each pixel once, writes the planar flux and flux_err tensors and accumulates the
// quality metrics on the float64 values; afterwards only the row holding the peak is read again
// (and the whole image only when it holds non-finite values or its maximum is zero).

/** Slots of the metrics record (f64 each) that `sconeEvent` writes at `metrics`. */
export const M_COVERAGE: i32 = 0;   // count(flux > 0) / (nw * nt)
export const M_TEMPORAL: i32 = 1;   // fraction of time bins with any flux > 0
export const M_SPECTRAL: i32 = 2;   // fraction of wavelength bins with any flux > 0
export const M_MEAN_SNR: i32 = 3;   // mean of flux/err over pixels where err > 0 and flux/err > 0; NaN when none
export const M_MAX_FLUX: i32 = 4;   // max(flux), NaN if any flux is NaN (as numpy)
export const M_TOTAL_FLUX: i32 = 5; // sum(flux)
export const M_PEAK_W: i32 = 6;     // wavelength bin of the first maximum of flux (NaN ignored; 0 when no flux > -Inf)
export const M_PEAK_T: i32 = 7;     // time bin of the first maximum of flux (likewise)
export const M_NONFINITE: i32 = 8;  // count of NaN or infinite values in flux and err together
export const M_SLOTS: i32 = 9;

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
 * `flux` and `err` of nw*nt elements (float32 rounded when `f64out` is 0, float64 bits otherwise),
 * writes the metrics at `metrics` (M_SLOTS f64) and uses `scratch` (nt bytes) for the time flags.
 *
 * The results are exactly those of the plain loop over pixels in C order (the definitions above,
 * with `max` as f64.max and the peak as the first `flux > peak` from -Infinity). How:
 * - Two pixels (t, t+1 of one row) per step in f64x2 lanes; an odd last pixel of a row is done
 *   alone. No data-dependent branches in the pixel loop.
 * - Total flux and the snr sum share one f64x2 and are advanced one pixel at a time in pixel
 *   order, so both sums are bit-identical to the sequential loop.
 * - Counts and flags are order-independent. Time flags: byte t/2 of `scratch` collects the
 *   2-bit positivity mask of pixel pair (t, t+1) over the rows; byte nt-1 the odd last column.
 * - The peak: per row a lane-wise pmax (ignores NaN, keeps the first of equal values) finds the
 *   row maximum; the first row whose maximum beats all earlier rows holds the first maximum,
 *   which a scan of that row then locates. max(flux) is that value, except NaN when some flux is
 *   NaN and +0 when the maximum is zero and some flux is +0 (f64.max semantics); both are
 *   settled by a scan that runs only when some flux is non-finite or the maximum is zero.
 * - Non-finite values are counted by a separate scan, run only when the flux sum or a (lane-wise,
 *   any-order) err sum comes out non-finite.
 */
export function sconeEvent(src: usize, nw: i32, nt: i32, flux: usize, err: usize, f64out: i32,
                           metrics: usize, scratch: usize): void {
  if (f64out) split<f64>(src, nw, nt, flux, err, metrics, scratch);
  else split<f32>(src, nw, nt, flux, err, metrics, scratch);
}

/** sconeEvent with the output element type `T` (f32 or f64) fixed at compile time. */
function split<T>(src: usize, nw: i32, nt: i32, flux: usize, err: usize, metrics: usize, scratch: usize): void {
  const f64out = sizeof<T>() == 8;
  memory.fill(scratch, 0, <usize>nt);
  const zero = f64x2.splat(0);
  let posAcc = i64x2.splat(0);          // each lane counts down by one per pixel with flux > 0
  let snrCount = i64x2.splat(0);        // likewise for pixels with err > 0 and flux/err > 0
  let errSum = f64x2.splat(0);          // any order; finite unless some err is NaN or infinite
  let sums = f64x2.splat(0);            // lane 0: total flux, lane 1: snr sum, in pixel order
  let positive: i32 = 0, snrN: i32 = 0;  // odd pixels
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
    let flag = scratch;
    let peak = f64x2.splat(-Infinity);
    let fo = flux + (<usize>i0 << (f64out ? 3 : 2));
    let eo = err + (<usize>i0 << (f64out ? 3 : 2));
    while (at < rowEnd) {
      const a = v128.load(at);          // f0 e0
      const b = v128.load(at, 16);      // f1 e1
      const f = v128.shuffle<f64>(a, b, 0, 2);
      const e = v128.shuffle<f64>(a, b, 1, 3);
      if (f64out) {
        v128.store(fo, f);
        v128.store(eo, e);
        fo += 16;
        eo += 16;
      } else {
        v128.store64_lane(fo, f32x4.demote_f64x2_zero(f), 0);
        v128.store64_lane(eo, f32x4.demote_f64x2_zero(e), 0);
        fo += 8;
        eo += 8;
      }
      const pos = f64x2.gt(f, zero);
      posAcc = i64x2.add(posAcc, pos);
      store<u8>(flag, load<u8>(flag) | <u8>i64x2.bitmask(pos));
      const q = f64x2.div(f, e);
      const take = v128.and(f64x2.gt(e, zero), f64x2.gt(q, zero));
      snrCount = i64x2.add(snrCount, take);
      const snr = v128.and(q, take);    // +0 where not taken
      sums = f64x2.add(sums, v128.shuffle<f64>(f, snr, 0, 2));
      sums = f64x2.add(sums, v128.shuffle<f64>(f, snr, 1, 3));
      peak = f64x2.pmax(peak, f);       // peak < f ? f : peak
      errSum = f64x2.add(errSum, e);
      at += 32;
      flag++;
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
      rowPos = <i32>(fv > 0);
      positive += rowPos;
      store<u8>(scratch + <usize>t, load<u8>(scratch + <usize>t) | <u8>rowPos);
      const s = select<f64>(fv / ev, 0, ev > 0);
      const sp = <i32>(s > 0);
      snrN += sp;
      sums = f64x2.add(sums, f64x2.replace_lane(f64x2.splat(fv), 1, select<f64>(s, 0, sp)));
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
  snrN -= <i32>(i64x2.extract_lane(snrCount, 0) + i64x2.extract_lane(snrCount, 1));
  const total = f64x2.extract_lane(sums, 0);
  const n = nw * nt;
  // Non-finite values are rare: a sum that stays finite proves there are none (a NaN or infinity
  // makes every later partial sum non-finite); otherwise (or on overflow) count them.
  const errTotal = f64x2.extract_lane(errSum, 0) + f64x2.extract_lane(errSum, 1);
  const fluxFinite = total - total == 0;
  const nonfiniteFlux = fluxFinite ? 0 : countNonfinite(src, n);
  const nonfiniteErr = errTotal - errTotal == 0 ? 0 : countNonfinite(src + 8, n);
  const snrSum = f64x2.extract_lane(sums, 1);

  let colsWithFlux: i32 = 0;
  for (let p: i32 = 0; p < (nt >> 1); p++) colsWithFlux += popcnt<i32>(<i32>load<u8>(scratch + <usize>p));
  if (odd) colsWithFlux += <i32>(load<u8>(scratch + <usize>(nt - 1)) != 0);

  // the first maximum: the first pixel of bestRow equal to best (-0 == +0, as `>` treats them)
  let peakAt: i32 = 0;
  if (bestRow >= 0) {
    const row = src + (<usize>(bestRow * nt) << 4);
    let t: i32 = 0;
    while (load<f64>(row + (<usize>t << 4)) != best) t++;
    peakAt = bestRow * nt + t;
  }
  let mx = best;
  if (nonfiniteFlux || best == 0) {
    let nan = false, plusZero = false;
    for (let i: i32 = 0; i < n; i++) {
      const f = load<f64>(src + (<usize>i << 4));
      nan |= f != f;
      plusZero |= reinterpret<u64>(f) == 0;
    }
    if (nan) mx = NaN;
    else if (best == 0 && plusZero) mx = 0;
  }

  store<f64>(metrics, n ? <f64>positive / <f64>n : 0, M_COVERAGE << 3);
  store<f64>(metrics, nt ? <f64>colsWithFlux / <f64>nt : 0, M_TEMPORAL << 3);
  store<f64>(metrics, nw ? <f64>rowsWithFlux / <f64>nw : 0, M_SPECTRAL << 3);
  store<f64>(metrics, snrN ? snrSum / <f64>snrN : NaN, M_MEAN_SNR << 3);
  store<f64>(metrics, n ? mx : NaN, M_MAX_FLUX << 3);
  store<f64>(metrics, total, M_TOTAL_FLUX << 3);
  store<f64>(metrics, nt ? <f64>(peakAt / nt) : 0, M_PEAK_W << 3);
  store<f64>(metrics, nt ? <f64>(peakAt % nt) : 0, M_PEAK_T << 3);
  store<f64>(metrics, <f64>(nonfiniteFlux + nonfiniteErr), M_NONFINITE << 3);
}
