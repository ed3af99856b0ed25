// Whole-dataset statistics, accumulated per event during the conversion: per-pixel sums of cluster
// images. (The per-pixel sums and sums of squares of SCONE flux maps are taken by the SCONE
// kernel's pixel pass, assembly/scone.ts, from the source float64 values.) The JS side keeps one
// region per plane and merges them across tasks.

/** Adds `n` float32 values at `src` (any alignment), as float64, to `sum` (n f64, 16-byte aligned). */
export function addF32(src: usize, n: i32, sum: usize): void {
  // eight values a step: two 16-byte loads, the high pairs moved down for the promotion; eight
  // zeros (±0) are skipped, as addFourF32 does
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

/**
 * Adds `rows` float32 images of `n` values each, consecutive at `src` (any alignment), as float64
 * to `sum` (n f64, 16-byte aligned), each pixel's sum in row order as addF32 per image would (the
 * same additions, bit for bit), four images a pass over the sums: the sums are loaded and stored
 * once per four images, where a pass per image was bound by those stores.
 */
export function addImagesF32(src: usize, rows: i32, n: i32, sum: usize): void {
  const bytes = <usize>n << 2;
  let r: i32 = 0;
  for (; r + 4 <= rows; r += 4) addFourF32(src + <usize>r * bytes, bytes, n, sum);
  for (; r < rows; r++) addF32(src + <usize>r * bytes, n, sum);
}

// @ts-ignore: decorator
@inline function addPromoted(x: v128, v: v128): v128 {
  return f64x2.add(x, f64x2.promote_low_f32x4(v));
}

// @ts-ignore: decorator
@inline function high(v: v128): v128 {
  return v128.shuffle<i64>(v, v, 1, 0);
}

/**
 * Four images `stride` bytes apart at `src` added to `sum`, in order, pixel by pixel. Eight pixels
 * that are zero (±0) in all four images are skipped: adding zeros leaves a sum as it is (a sum
 * that starts at +0 is never -0), and cluster images are mostly zeros (real ones 99.9%).
 */
function addFourF32(src: usize, stride: usize, n: i32, sum: usize): void {
  const eights = n >> 3;
  const noSign = i32x4.splat(0x7fffffff);
  for (let i: i32 = 0; i < eights; i++) {
    const o = sum + (<usize>i << 6);
    let s = src + (<usize>i << 5);
    const any = v128.or(v128.or(v128.or(v128.load(s), v128.load(s, 16)), v128.or(v128.load(s + stride), v128.load(s + stride, 16))),
                        v128.or(v128.or(v128.load(s + 2 * stride), v128.load(s + 2 * stride, 16)), v128.or(v128.load(s + 3 * stride), v128.load(s + 3 * stride, 16))));
    if (!v128.any_true(v128.and(any, noSign))) continue;
    let x0 = v128.load(o), x1 = v128.load(o, 16), x2 = v128.load(o, 32), x3 = v128.load(o, 48);
    for (let k = 0; k < 4; k++, s += stride) {
      const a = v128.load(s), b = v128.load(s, 16);
      x0 = addPromoted(x0, a);
      x1 = addPromoted(x1, high(a));
      x2 = addPromoted(x2, b);
      x3 = addPromoted(x3, high(b));
    }
    v128.store(o, x0);
    v128.store(o, x1, 16);
    v128.store(o, x2, 32);
    v128.store(o, x3, 48);
  }
  for (let i = eights << 3; i < n; i++) {
    const o = sum + (<usize>i << 3), s = src + (<usize>i << 2);
    store<f64>(o, (((load<f64>(o) + <f64>load<f32>(s)) + <f64>load<f32>(s + stride)) + <f64>load<f32>(s + 2 * stride)) + <f64>load<f32>(s + 3 * stride));
  }
}
