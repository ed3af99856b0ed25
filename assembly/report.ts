// Whole-dataset statistics, accumulated per event during the conversion: per-pixel sums of cluster
// images. (The per-pixel sums and sums of squares of SCONE flux maps are taken by the SCONE
// kernel's pixel pass, assembly/scone.ts, from the source float64 values.) The JS side keeps one
// region per plane and merges them across tasks.

/** Adds `n` float32 values at `src` (any alignment), as float64, to `sum` (n f64, 16-byte aligned). */
export function addF32(src: usize, n: i32, sum: usize): void {
  const pairs = n >> 1;
  for (let i: i32 = 0; i < pairs; i++) {
    const o = <usize>i << 4;
    const v = f64x2.promote_low_f32x4(v128.load64_zero(src + (<usize>i << 3)));
    v128.store(sum + o, f64x2.add(v128.load(sum + o), v));
  }
  if (n & 1) {
    const o = <usize>(n - 1) << 3;
    store<f64>(sum + o, load<f64>(sum + o) + <f64>load<f32>(src + (<usize>(n - 1) << 2)));
  }
}

/**
 * Adds `rows` float32 images of `n` values each, consecutive at `src` (any alignment), as float64
 * to `sum` (n f64, 16-byte aligned): addF32 per image, in row order, in one call.
 */
export function addImagesF32(src: usize, rows: i32, n: i32, sum: usize): void {
  const bytes = <usize>n << 2;
  for (let r: i32 = 0; r < rows; r++) addF32(src + <usize>r * bytes, n, sum);
}
