// The one wasm module: every kernel shares one linear memory, laid out by src/wasm.ts above __heap_base.
export { crc32c, maskedCrc32c } from "./crc32c";
export { crc32 } from "./crc32";
export { sconeEvent, M_SLOTS } from "./scone";
export { npyToF32, npyToF64, npyItemSize, byteSwap, fortranToC } from "./npy";
export { clusterImages, sumF32 } from "./clusters";
export { sconeAccumulate, addF32 } from "./report";

/** First byte past the kernels' static data; the JS side owns memory from here up. */
export function heapBase(): usize {
  return __heap_base;
}
