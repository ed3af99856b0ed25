// The options of the scone kind and their defaults, in a module that imports nothing: the command
// line declares its options (and shows the defaults in --help) without loading the kind itself.

/** Optional per-event arrays (scone_tools' --full_lightcurves and --full_spectra). */
export type SconeExtra = "lightcurves" | "spectra";

export interface SconeOptions {
  precision: "f32" | "f64";
  /** Time axis (days from peak) of the first and last bin: scone_tools and the data-format document use -50..130, some SCONE writers -30..150. */
  timeRange: [number, number];
  /** Wavelength axis (Å) of the first and last bin. */
  wavelengthRange: [number, number];
  /** Bins: (wavelength, time). */
  bins: [number, number];
  /** light_curve/light_curve_err and peak_spectrum/peak_spectrum_err tensor columns (and CSV files). */
  extras?: SconeExtra[];
  /** CSV flavour: "default" (comma-separated, full precision) or "scone-tools" (as the tool writes it). */
  csvDialect?: "default" | "scone-tools";
  /** false: tensors and scalars only, no metric columns (the kernel then only splits the images). */
  metrics?: boolean;
  /** Rows per record batch (default: ~32 MiB of tensor data). */
  batchRows?: number;
}

export const SCONE_DEFAULTS: SconeOptions = {
  precision: "f32",
  timeRange: [-50, 130],
  wavelengthRange: [3000, 10100],
  bins: [32, 180],
};
