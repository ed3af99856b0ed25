// Whole-dataset statistics, accumulated per event during the conversion: per-pixel sums of cluster
// images. (The per-pixel sums and sums of squares of SCONE flux maps are taken by the SCONE
// kernel's pixel pass, assembly/scone.ts, from the source float64 values.) The JS side keeps one
// region per plane and merges them across tasks.

/** Adds `n` float32 values at `src` (any alignment), as float64, to `sum` (n f64, 16-byte aligned). */
export function addF32(src: usize, n: i32, sum: usize): void {
  // eight values a step: two 16-byte loads, the high pairs moved down for the promotion; eight
  // zeros (±0) are skipped: adding a zero leaves a sum as it is (a sum that starts at +0 is
  // never -0), and cluster images are mostly zeros
  const eights = n >> 3;
  const noSign = i32x4.splat(0x7fffffff);
  for (let i: i32 = 0; i < eights; i++) {
    const s = src + (<usize>i << 5), o = sum + (<usize>i << 6);
    const a = v128.load(s), b = v128.load(s, 16);
    if (!v128.any_true(v128.and(v128.or(a, b), noSign))) continue;
    v128.store(o, f64x2.add(v128.load(o), f64x2.promote_low_f32x4(a)));
    v128.store(o, f64x2.add(v128.load(o, 16), f64x2.promote_low_f32x4(v128.shuffle<i64>(a, a, 1, 0))), 16);
    v128.store(o, f64x2.add(v128.load(o, 32), f64x2.promote_low_f32x4(b)), 32);
    v128.store(o, f64x2.add(v128.load(o, 48), f64x2.promote_low_f32x4(v128.shuffle<i64>(b, b, 1, 0))), 48);
  }
  for (let i = eights << 3; i < n; i++) {
    const o = sum + (<usize>i << 3);
    store<f64>(o, load<f64>(o) + <f64>load<f32>(src + (<usize>i << 2)));
  }
}
