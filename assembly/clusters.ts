// DUNE cluster images: n images of h x w float32 in C order (row = time tick, column = channel),
// raw ADC counts with 0 meaning empty. One kernel copies each image to an aligned region and
// computes its metrics on the way, so the (unaligned) source is read exactly once; the sum then
// re-reads the image from L1 (8 KiB for 128 x 16).
//
// pixel_sum reproduces numpy's `image.sum(dtype=np.float64)` bit for bit, not just closely: numpy
// casts float32 to float64 in buffers of 8192 elements and adds each buffer with its pairwise
// summation (8 accumulators over blocks of at most 128, halves split on multiples of 8). A plain
// running sum differs in the last bits once magnitudes vary, and exact values are the point here.

import { addF32 } from "./report";

const PW_BLOCKSIZE: i32 = 128;
const NPY_BUFSIZE: i32 = 8192;

@inline function promote2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

// numpy's DOUBLE_pairwise_sum over float32 input cast to float64 (loops_utils.h.src).
function pairwise(a: usize, n: i32): f64 {
  if (n < 8) {
    let res: f64 = 0;
    for (let i = 0; i < n; i++) res += <f64>load<f32>(a + (<usize>i << 2));
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    // r[0..7] as four f64x2: lanes hold r0 r1 | r2 r3 | r4 r5 | r6 r7, each summed on its own as in C.
    let r01 = promote2(a);
    let r23 = promote2(a + 8);
    let r45 = promote2(a + 16);
    let r67 = promote2(a + 24);
    const stop = n - (n & 7);
    let i = 8;
    for (; i < stop; i += 8) {
      const p = a + (<usize>i << 2);
      r01 = f64x2.add(r01, promote2(p));
      r23 = f64x2.add(r23, promote2(p + 8));
      r45 = f64x2.add(r45, promote2(p + 16));
      r67 = f64x2.add(r67, promote2(p + 24));
    }
    let res = ((f64x2.extract_lane(r01, 0) + f64x2.extract_lane(r01, 1)) +
               (f64x2.extract_lane(r23, 0) + f64x2.extract_lane(r23, 1))) +
              ((f64x2.extract_lane(r45, 0) + f64x2.extract_lane(r45, 1)) +
               (f64x2.extract_lane(r67, 0) + f64x2.extract_lane(r67, 1)));
    for (; i < n; i++) res += <f64>load<f32>(a + (<usize>i << 2));
    return res;
  }
  let n2 = n >> 1;
  n2 -= n2 & 7;
  return pairwise(a, n2) + pairwise(a + (<usize>n2 << 2), n - n2);
}

/** Sum of `n` float32 at `src` (any alignment) in float64, bit-identical to numpy's `a.sum(dtype=np.float64)` for a contiguous array. */
export function sumF32(src: usize, n: i32): f64 {
  let res: f64 = 0;
  for (let at = 0; at < n; at += NPY_BUFSIZE) {
    res += pairwise(src + (<usize>at << 2), min<i32>(NPY_BUFSIZE, n - at));
  }
  return res;
}

/**
 * Per-image metrics of `n` float32 images of `h` rows (time ticks) by `w` columns (channels) at
 * `src`, C order, any alignment. When `dst` is not 0 the images are copied there (same layout;
 * `dst` may equal `src`). Writes, for image i:
 *   sum[i]      f64  sum of all pixels (as numpy's image.sum(dtype=float64))
 *   maxv[i]     f32  largest pixel (NaN if any pixel is NaN, or if h*w is 0)
 *   nonzero[i]  i32  pixels != 0 (NaN counts as non-zero, -0 as zero)
 *   extent      i32  four columns of n: first row, last row, first column, last column holding a
 *                    non-zero pixel, at extent + 4*(k*n + i) for k = 0..3; -1 for an empty image.
 * When `acc` is not 0, images 0 .. accRows-1 are also added (as float64) to the sums of their
 * plane: h*w f64 at acc + planes[i] * h*w*8, planes being i32 per image (an image of another
 * plane than 0, 1 or 2 is not added). The dataset report's mean image per plane, taken in the
 * pass that reads the image, and only where it has non-zero pixels: adding a zero (±0) leaves a
 * sum as it is (a sum that starts at +0 is never -0), so the sums are those of adding every
 * pixel, and a cluster image is mostly zeros (re-reading each image from its record batch to add
 * all of it cost ~0.5 µs a 128 × 16 image here, 6% of its conversion).
 */
export function clusterImages(src: usize, n: i32, h: i32, w: i32, dst: usize,
                              sum: usize, maxv: usize, nonzero: usize, extent: usize,
                              acc: usize, planes: usize, accRows: i32): void {
  const pixels = h * w;
  const imageBytes = <usize>pixels << 2;
  const stride = <usize>n << 2;
  for (let i = 0; i < n; i++) {
    const img = src + <usize>i * imageBytes;
    const out = dst ? dst + <usize>i * imageBytes : 0;
    const e = extent + (<usize>i << 2);
    // this image's plane sums, when it is added to them
    let accAt: usize = 0;
    if (acc && i < accRows) {
      const plane = load<u32>(planes + (<usize>i << 2));
      if (plane < 3) accAt = acc + <usize>plane * (<usize>pixels << 3);
    }
    const mx = w <= 64 ? narrowImage(img, h, w, out, nonzero + (<usize>i << 2), e, stride, accAt)
                       : wideImage(img, h, w, out, nonzero + (<usize>i << 2), e, stride);
    if (accAt && w > 64) addF32(out ? out : img, pixels, accAt);
    store<f64>(sum + (<usize>i << 3), sumF32(out ? out : img, pixels));
    store<f32>(maxv + (<usize>i << 2), pixels ? mx : NaN);
  }
}

/** Adds the pixels of a row of `w` float32 (at most 64) whose bit is set in `bits` to the row's float64 sums, four columns at a time. */
function addRow(row: usize, w: i32, bits: u64, acc: usize): void {
  const groups = w >> 2;
  for (let g = 0; g < groups; g++) {
    if (((bits >> (<u64>g << 2)) & 0xf) == 0) continue;
    const v = v128.load(row + (<usize>g << 4));
    const o = acc + (<usize>g << 5);
    v128.store(o, f64x2.add(v128.load(o), f64x2.promote_low_f32x4(v)));
    v128.store(o, f64x2.add(v128.load(o, 16), f64x2.promote_low_f32x4(v128.shuffle<i64>(v, v, 1, 0))), 16);
  }
  for (let c = groups << 2; c < w; c++) {
    if (((bits >> <u64>c) & 1) == 0) continue;
    const o = acc + (<usize>c << 3);
    store<f64>(o, load<f64>(o) + <f64>load<f32>(row + (<usize>c << 2)));
  }
}

@inline function hmax(v: v128): f32 {
  return max<f32>(max<f32>(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
                  max<f32>(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// Up to 64 channels (16 and 32 in DUNE productions): each row's non-zero pixels become one u64 of
// column bits, so counting is a popcnt and the extents come from ctz/clz with no per-pixel branch.
function narrowImage(img: usize, h: i32, w: i32, out: usize, nonzero: usize, e: usize, stride: usize, acc: usize): f32 {
  const zero = f32x4.splat(0);
  const groups = w >> 2;
  let mx = f32x4.splat(-Infinity);
  let smx: f32 = -Infinity;
  let count: i64 = 0;
  let cols: u64 = 0;
  let rowFirst: i32 = -1;
  let rowLast: i32 = -1;
  for (let r = 0; r < h; r++) {
    const row = img + (<usize>(r * w) << 2);
    const orow = out + (<usize>(r * w) << 2);
    let bits: u64 = 0;
    for (let g = 0; g < groups; g++) {
      const off = <usize>g << 4;
      const v = v128.load(row + off);
      if (out) v128.store(orow + off, v);
      mx = f32x4.max(mx, v);
      bits |= <u64>i32x4.bitmask(f32x4.ne(v, zero)) << (<u64>g << 2);
    }
    for (let c = groups << 2; c < w; c++) {
      const x = load<f32>(row + (<usize>c << 2));
      if (out) store<f32>(orow + (<usize>c << 2), x);
      smx = max<f32>(smx, x);
      bits |= <u64>(x != 0) << <u64>c;
    }
    count += popcnt<i64>(bits);
    cols |= bits;
    if (acc && bits) addRow(row, w, bits, acc + (<usize>(r * w) << 3));
    const any = bits != 0;
    rowFirst = select<i32>(r, rowFirst, any && rowFirst < 0);
    rowLast = select<i32>(r, rowLast, any);
  }
  store<i32>(nonzero, <i32>count);
  store<i32>(e, rowFirst);
  store<i32>(e + stride, rowLast);
  store<i32>(e + 2 * stride, cols ? <i32>ctz<u64>(cols) : -1);
  store<i32>(e + 3 * stride, cols ? 63 - <i32>clz<u64>(cols) : -1);
  return max<f32>(hmax(mx), smx);
}

// Any width: per row, the first and last non-zero column from the groups' masks.
function wideImage(img: usize, h: i32, w: i32, out: usize, nonzero: usize, e: usize, stride: usize): f32 {
  const zero = f32x4.splat(0);
  const groups = w >> 2;
  let mx = f32x4.splat(-Infinity);
  let smx: f32 = -Infinity;
  let cnt = i32x4.splat(0);
  let scnt: i32 = 0;
  let rowFirst: i32 = -1;
  let rowLast: i32 = -1;
  let colFirst: i32 = 0x7fffffff;
  let colLast: i32 = -1;
  for (let r = 0; r < h; r++) {
    const row = img + (<usize>(r * w) << 2);
    const orow = out + (<usize>(r * w) << 2);
    let lo: i32 = -1;
    let hi: i32 = -1;
    for (let g = 0; g < groups; g++) {
      const off = <usize>g << 4;
      const v = v128.load(row + off);
      if (out) v128.store(orow + off, v);
      mx = f32x4.max(mx, v);
      const nz = f32x4.ne(v, zero);
      cnt = i32x4.sub(cnt, nz);
      const m = i32x4.bitmask(nz);
      if (m) {
        if (lo < 0) lo = (g << 2) + ctz<i32>(m);
        hi = (g << 2) + 31 - clz<i32>(m);
      }
    }
    for (let c = groups << 2; c < w; c++) {
      const x = load<f32>(row + (<usize>c << 2));
      if (out) store<f32>(orow + (<usize>c << 2), x);
      smx = max<f32>(smx, x);
      if (x != 0) {
        scnt++;
        if (lo < 0) lo = c;
        hi = c;
      }
    }
    if (lo >= 0) {
      if (rowFirst < 0) rowFirst = r;
      rowLast = r;
      colFirst = min<i32>(colFirst, lo);
      colLast = max<i32>(colLast, hi);
    }
  }
  store<i32>(nonzero, i32x4.extract_lane(cnt, 0) + i32x4.extract_lane(cnt, 1) +
                      i32x4.extract_lane(cnt, 2) + i32x4.extract_lane(cnt, 3) + scnt);
  store<i32>(e, rowFirst);
  store<i32>(e + stride, rowLast);
  store<i32>(e + 2 * stride, rowLast < 0 ? -1 : colFirst);
  store<i32>(e + 3 * stride, colLast);
  return max<f32>(hmax(mx), smx);
}
