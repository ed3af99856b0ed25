// The SCONE metric table: every per-event summary column is defined here once (name, type,
// description, how its value comes from the kernel's slots and the axes), and the schema, the
// batcher, CSV, inspect and stats read this table. The kernel that fills the slots is
// assembly/scone.ts; a test checks its M_* constants against SLOTS and the batcher checks the
// exported M_SLOTS when it starts.
//
// The first columns are scone_tools' extract_tfrecord_info.py summary columns under its names and
// in its order, with numpy's arithmetic (quirks included); `ours` marks the ones it lacks.

/** The kernel's metric slots (assembly/scone.ts `M_<name>`), in slot order. */
export const SLOTS = [
  "TOTAL_FLUX", "MAX_FLUX", "MEAN_FLUX", "MEDIAN_FLUX", "STD_FLUX", "PEAK_W", "PEAK_T", "LC_MAX", "LC_MEAN", "LC_PEAK_T",
  "FLUX_BEFORE_PEAK", "FLUX_AFTER_PEAK", "HALF_FIRST", "HALF_LAST", "SPECTRUM_MAX", "SPECTRUM_MEAN", "SPECTRUM_PEAK_W",
  "BLUE_FLUX", "RED_FLUX", "COLOR_RATIO", "SNR_MEAN", "SNR_MEDIAN", "SNR_MAX", "SNR_PEAK", "NONZERO", "COVERAGE",
  "EPOCHS", "TEMPORAL", "WAVELENGTHS", "SPECTRAL", "NONFINITE",
] as const;
export type SlotName = (typeof SLOTS)[number];
const S = Object.fromEntries(SLOTS.map((name, i) => [name, i])) as Record<SlotName, number>;

/** Bin → axis value (numpy's linspace, exactly). */
export interface Axes {
  wave(bin: number): number;
  time(bin: number): number;
}

export interface SconeMetric {
  /** Column name in Arrow, Parquet and CSV. */
  name: string;
  type: "f64" | "i32";
  description: string;
  /** Not one of scone_tools' columns. */
  ours?: boolean;
  /** The value from the metrics record `m` of one event at `at`. */
  value(m: Float64Array, at: number, axes: Axes): number;
}

const slot = (s: SlotName) => { const i = S[s]; return (m: Float64Array, at: number) => m[at + i]; };
const wave = (s: SlotName) => (m: Float64Array, at: number, ax: Axes) => ax.wave(m[at + S[s]]);
const time = (s: SlotName) => (m: Float64Array, at: number, ax: Axes) => ax.time(m[at + S[s]]);
/** mjds[a] - mjds[b] when some light-curve bin is above half maximum, else NaN. */
const span = (a: SlotName, b: SlotName) => (m: Float64Array, at: number, ax: Axes) =>
  m[at + S.HALF_FIRST] < 0 ? NaN : ax.time(m[at + S[a]]) - ax.time(m[at + S[b]]);

const f64 = (name: string, description: string, value: SconeMetric["value"]): SconeMetric => ({ name, type: "f64", description, value });
const i32 = (name: string, description: string, value: SconeMetric["value"]): SconeMetric => ({ name, type: "i32", description, value });

/**
 * The metric columns, in CSV and schema order. lc = light curve, the flux summed over
 * wavelength per time bin; spectrum = the mean flux per wavelength bin over the time bins
 * argmin|t+10| .. argmin|t-20| (end excluded); snr = flux/flux_err where flux_err > 0, else 0.
 * All on the float64 source values, NaN propagating as in numpy.
 */
export const METRICS: SconeMetric[] = [
  f64("total_flux", "sum(flux)", slot("TOTAL_FLUX")),
  f64("max_flux", "max(flux); NaN when any flux is NaN", slot("MAX_FLUX")),
  f64("mean_flux", "mean(flux)", slot("MEAN_FLUX")),
  f64("median_flux", "median(flux) (mean of the middle two of an even count); NaN when any flux is NaN", slot("MEDIAN_FLUX")),
  f64("std_flux", "population standard deviation of flux", slot("STD_FLUX")),
  i32("peak_flux_wavelength_idx", "wavelength bin of argmax(flux) (the first NaN if any, else the first maximum)", slot("PEAK_W")),
  i32("peak_flux_mjd_idx", "time bin of argmax(flux)", slot("PEAK_T")),
  f64("peak_flux_wavelength", "wavelength (Å) of argmax(flux)", wave("PEAK_W")),
  f64("peak_flux_mjd", "time (days from peak) of argmax(flux)", time("PEAK_T")),
  f64("lc_max", "max(lc), lc = flux summed over wavelength per time bin", slot("LC_MAX")),
  f64("lc_mean", "mean(lc)", slot("LC_MEAN")),
  i32("lc_peak_mjd_idx", "time bin of argmax(lc)", slot("LC_PEAK_T")),
  f64("lc_peak_mjd", "time (days from peak) of argmax(lc)", time("LC_PEAK_T")),
  f64("flux_before_peak", "sum(lc) before the lc peak bin; 0 when the peak is the first bin", slot("FLUX_BEFORE_PEAK")),
  f64("flux_after_peak", "sum(lc) from the lc peak bin on", slot("FLUX_AFTER_PEAK")),
  f64("rise_time_days", "time of the lc peak minus time of the first bin with lc > max(lc)/2; NaN when none", span("LC_PEAK_T", "HALF_FIRST")),
  f64("decline_time_days", "time of the last bin with lc > max(lc)/2 minus time of the lc peak; NaN when none", span("HALF_LAST", "LC_PEAK_T")),
  f64("duration_days", "time between the first and the last bin with lc > max(lc)/2; NaN when none", span("HALF_LAST", "HALF_FIRST")),
  f64("spectrum_max", "max of the peak spectrum (mean flux per wavelength bin over the bins nearest -10 to 20 days, end excluded)", slot("SPECTRUM_MAX")),
  f64("spectrum_mean", "mean of the peak spectrum", slot("SPECTRUM_MEAN")),
  i32("spectrum_peak_wavelength_idx", "wavelength bin of argmax(peak spectrum)", slot("SPECTRUM_PEAK_W")),
  f64("spectrum_peak_wavelength", "wavelength (Å) of argmax(peak spectrum)", wave("SPECTRUM_PEAK_W")),
  f64("blue_flux", "sum over time of lc × (flux summed over the 3000-5000 Å bins)", slot("BLUE_FLUX")),
  f64("red_flux", "sum over time of lc × (flux summed over the 6000-10000 Å bins)", slot("RED_FLUX")),
  f64("color_ratio", "blue_flux / red_flux; NaN when red_flux <= 0", slot("COLOR_RATIO")),
  f64("snr_mean", "mean of snr over snr > 0 (snr = flux/flux_err where flux_err > 0, else 0); 0 when none", slot("SNR_MEAN")),
  f64("snr_median", "median of snr over snr > 0; 0 when none", slot("SNR_MEDIAN")),
  f64("snr_max", "max(snr); NaN when any snr is NaN", slot("SNR_MAX")),
  f64("snr_peak", "snr at argmax(flux)", slot("SNR_PEAK")),
  i32("num_nonzero_bins", "count(flux > 0)", slot("NONZERO")),
  f64("coverage_fraction", "count(flux > 0) / (wavelength bins × time bins)", slot("COVERAGE")),
  i32("num_epochs_with_data", "time bins with any flux > 0", slot("EPOCHS")),
  f64("temporal_coverage_fraction", "fraction of time bins with any flux > 0", slot("TEMPORAL")),
  i32("num_wavelengths_with_data", "wavelength bins with any flux > 0", slot("WAVELENGTHS")),
  f64("spectral_coverage_fraction", "fraction of wavelength bins with any flux > 0", slot("SPECTRAL")),
  { ...i32("nonfinite_values", "count of NaN or infinite values in flux and flux_err (kept as they are)", slot("NONFINITE")), ours: true },
];

/** The label_name column: scone_tools' mapping (1 → SNIa, anything else → Non-Ia). */
export const LABEL_NAMES = ["Non-Ia", "SNIa"] as const;
export function labelNameIndex(label: number): number {
  return label === 1 ? 1 : 0;
}

/** Slot of the non-finite count (the batcher counts events with any). */
export const NONFINITE_SLOT = S.NONFINITE;

/** numpy.linspace(start, stop, num)[i], bit for bit: i * ((stop - start) / (num - 1)) + start, the last one stop. */
export function linspace(start: number, stop: number, num: number): (i: number) => number {
  if (num <= 1) return () => start;
  const step = (stop - start) / (num - 1);
  return (i) => (i === num - 1 ? stop : i * step + start);
}

/** argmin over the bins of |axis(i) - target| (the first on a tie), as numpy's argmin(abs(...)). */
export function nearestBin(axis: (i: number) => number, n: number, target: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (Math.abs(axis(i) - target) < Math.abs(axis(best) - target)) best = i;
  return best;
}

/** Bins [from, to) whose axis values lie in [lo, hi] (the axis increases), [0, 0) when none. */
export function binsWithin(axis: (i: number) => number, n: number, lo: number, hi: number): [number, number] {
  let from = -1, to = -1;
  for (let i = 0; i < n; i++) {
    const v = axis(i);
    if (v >= lo && v <= hi) { if (from < 0) from = i; to = i + 1; }
  }
  return from < 0 ? [0, 0] : [from, to];
}
