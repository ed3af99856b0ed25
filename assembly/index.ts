// The one wasm module: every kernel shares one linear memory, laid out by src/wasm.ts above __heap_base.
export { crc32c, maskedCrc32c } from "./crc32c";
export { crc32 } from "./crc32";
export {
  sconeEvent, sconeAddKept, sconeScratchBytes, M_SLOTS, P_SLOTS,
  M_TOTAL_FLUX, M_MAX_FLUX, M_MEAN_FLUX, M_MEDIAN_FLUX, M_STD_FLUX, M_PEAK_W, M_PEAK_T, M_LC_MAX, M_LC_MEAN, M_LC_PEAK_T,
  M_FLUX_BEFORE_PEAK, M_FLUX_AFTER_PEAK, M_HALF_FIRST, M_HALF_LAST, M_SPECTRUM_MAX, M_SPECTRUM_MEAN, M_SPECTRUM_PEAK_W,
  M_BLUE_FLUX, M_RED_FLUX, M_COLOR_RATIO, M_SNR_MEAN, M_SNR_MEDIAN, M_SNR_MAX, M_SNR_PEAK, M_NONZERO, M_COVERAGE,
  M_EPOCHS, M_TEMPORAL, M_WAVELENGTHS, M_SPECTRAL, M_NONFINITE,
  sconeProbeRead, sconeProbeSplitSums, sconeProbeMedian,
} from "./scone";
export { npyToF32, npyToF64, npyItemSize, byteSwap, fortranToC } from "./npy";
export { clusterImages, sumF32 } from "./clusters";
export { addF32 } from "./report";

/** First byte past the kernels' static data; the JS side owns memory from here up. */
export function heapBase(): usize {
  return __heap_base;
}
