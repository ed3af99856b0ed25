// SCONE heatmaps: image_raw is float64 little-endian in C order with shape (nw, nt, 2), element
// (w, t, c) at byte 8 * ((w * nt + t) * 2 + c); channel 0 is flux, channel 1 its error.
// One pass reads each pixel once, writes the planar flux and flux_err tensors and accumulates the
// quality metrics on the float64 values, so the image is touched exactly once.

/** Slots of the metrics record (f64 each) that `sconeEvent` writes at `metrics`. */
export const M_COVERAGE: i32 = 0;   // count(flux > 0) / (nw * nt)
export const M_TEMPORAL: i32 = 1;   // fraction of time bins with any flux > 0
export const M_SPECTRAL: i32 = 2;   // fraction of wavelength bins with any flux > 0
export const M_MEAN_SNR: i32 = 3;   // mean of flux/err over pixels where err > 0 and flux/err > 0; NaN when none
export const M_MAX_FLUX: i32 = 4;   // max(flux), NaN if any flux is NaN (as numpy)
export const M_TOTAL_FLUX: i32 = 5; // sum(flux)
export const M_PEAK_W: i32 = 6;     // wavelength bin of the first maximum of flux
export const M_PEAK_T: i32 = 7;     // time bin of the first maximum of flux
export const M_NONFINITE: i32 = 8;  // count of NaN or infinite values in flux and err together
export const M_SLOTS: i32 = 9;

/**
 * Splits one interleaved (nw, nt, 2) float64 image at `src` (any alignment) into planar tensors
 * `flux` and `err` of nw*nt elements (float32 rounded when `f64out` is 0, float64 bits otherwise),
 * writes the metrics at `metrics` (M_SLOTS f64) and uses `scratch` (nt bytes) for the time flags.
 */
export function sconeEvent(src: usize, nw: i32, nt: i32, flux: usize, err: usize, f64out: i32,
                           metrics: usize, scratch: usize): void {
  memory.fill(scratch, 0, <usize>nt);
  let positive: i32 = 0;
  let rowsWithFlux: i32 = 0;
  let snrSum: f64 = 0;
  let snrCount: i32 = 0;
  let total: f64 = 0;
  let mx: f64 = -Infinity;
  let peak: f64 = -Infinity;
  let peakAt: i32 = 0;
  let nonfinite: i32 = 0;
  let i: i32 = 0;
  for (let w: i32 = 0; w < nw; w++) {
    let rowAny: i32 = 0;
    for (let t: i32 = 0; t < nt; t++, i++) {
      const at = src + (<usize>i << 4);
      const f = load<f64>(at);
      const e = load<f64>(at, 8);
      if (f64out) {
        store<f64>(flux + (<usize>i << 3), f);
        store<f64>(err + (<usize>i << 3), e);
      } else {
        store<f32>(flux + (<usize>i << 2), <f32>f);
        store<f32>(err + (<usize>i << 2), <f32>e);
      }
      const pos = <i32>(f > 0);
      positive += pos;
      rowAny |= pos;
      store<u8>(scratch + <usize>t, load<u8>(scratch + <usize>t) | <u8>pos);
      const s = select<f64>(f / e, 0, e > 0);
      const sp = <i32>(s > 0);
      snrSum += select<f64>(s, 0, sp);
      snrCount += sp;
      total += f;
      mx = max<f64>(mx, f);
      if (f > peak) { peak = f; peakAt = i; }
      nonfinite += <i32>(f - f != 0) + <i32>(e - e != 0);
    }
    rowsWithFlux += rowAny;
  }
  let colsWithFlux: i32 = 0;
  for (let t: i32 = 0; t < nt; t++) colsWithFlux += <i32>load<u8>(scratch + <usize>t);
  const n = nw * nt;
  store<f64>(metrics, n ? <f64>positive / <f64>n : 0, M_COVERAGE << 3);
  store<f64>(metrics, nt ? <f64>colsWithFlux / <f64>nt : 0, M_TEMPORAL << 3);
  store<f64>(metrics, nw ? <f64>rowsWithFlux / <f64>nw : 0, M_SPECTRAL << 3);
  store<f64>(metrics, snrCount ? snrSum / <f64>snrCount : NaN, M_MEAN_SNR << 3);
  store<f64>(metrics, n ? mx : NaN, M_MAX_FLUX << 3);
  store<f64>(metrics, total, M_TOTAL_FLUX << 3);
  store<f64>(metrics, nt ? <f64>(peakAt / nt) : 0, M_PEAK_W << 3);
  store<f64>(metrics, nt ? <f64>(peakAt % nt) : 0, M_PEAK_T << 3);
  store<f64>(metrics, <f64>nonfinite, M_NONFINITE << 3);
}
