// Whole-dataset statistics, accumulated per event during the conversion: per-pixel sums and sums
// of squares of SCONE flux maps (read from the source float64 image, so the means and standard
// deviations are numpy's over the values in the file, not over float32 copies), and per-pixel sums
// of cluster images. The JS side keeps one pair of regions per class or plane and merges them
// across tasks.

/**
 * Adds the flux channel of one interleaved (n pixels × 2) float64 image at `src` (any alignment)
 * to `sum` and its squares to `sumSq` (n f64 each, 16-byte aligned), pixel by pixel in order.
 */
export function sconeAccumulate(src: usize, n: i32, sum: usize, sumSq: usize): void {
  const pairs = n >> 1;
  for (let i: i32 = 0; i < pairs; i++) {
    const at = src + (<usize>i << 5);
    const f = v128.shuffle<f64>(v128.load(at), v128.load(at, 16), 0, 2);  // flux of pixels 2i, 2i+1
    const o = <usize>i << 4;
    v128.store(sum + o, f64x2.add(v128.load(sum + o), f));
    v128.store(sumSq + o, f64x2.add(v128.load(sumSq + o), f64x2.mul(f, f)));
  }
  if (n & 1) {
    const f = load<f64>(src + (<usize>(n - 1) << 4));
    const o = <usize>(n - 1) << 3;
    store<f64>(sum + o, load<f64>(sum + o) + f);
    store<f64>(sumSq + o, load<f64>(sumSq + o) + f * f);
  }
}

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
