// .npy array data to native numbers. Arrays inside an NPZ member start wherever numpy's header
// ends (rarely 8-byte aligned in the file, and the caller may read them anywhere), so every kernel
// here reads its source at any alignment; wasm loads and stores do not trap when unaligned.
//
// Source dtype codes (mirrored by NPY_CODES in src/formats/npy.ts; keep the two in step):
//   0 <f4   1 >f4   2 <f8   3 >f8   4 |i1   5 |u1   6 |b1
//   7 <i2   8 >i2   9 <u2  10 >u2  11 <i4  12 >i4  13 <u4  14 >u4
//  15 <i8  16 >i8  17 <u8  18 >u8
// Conversions round once, to nearest even, exactly like numpy's astype (f8 -> f4 demotes, i8 -> f4
// converts straight from the integer, never through f64, which would round twice).

// bswap on a v128: byte order within each 4-byte lane reversed.
@inline function swap32x4(v: v128): v128 {
  return i8x16.shuffle(v, v, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
}

@inline function bswap16(x: u16): u16 {
  return <u16>((x << 8) | (x >>> 8));
}

@inline function bswap32(x: u32): u32 {
  return bswap<u32>(x);
}

@inline function bswap64(x: u64): u64 {
  return bswap<u64>(x);
}

// Reads element `i` of a source of dtype `code` as f64 (exact for every code but the 64-bit
// integers, which the f32 path converts separately to keep single rounding).
@inline function readF64(src: usize, i: usize, code: i32): f64 {
  switch (code) {
    case 0: return <f64>load<f32>(src + (i << 2));
    case 1: return <f64>reinterpret<f32>(bswap32(load<u32>(src + (i << 2))));
    case 2: return load<f64>(src + (i << 3));
    case 3: return reinterpret<f64>(bswap64(load<u64>(src + (i << 3))));
    case 4: return <f64>load<i8>(src + i);
    case 5: return <f64>load<u8>(src + i);
    case 6: return load<u8>(src + i) != 0 ? 1.0 : 0.0;
    case 7: return <f64>load<i16>(src + (i << 1));
    case 8: return <f64><i16>bswap16(load<u16>(src + (i << 1)));
    case 9: return <f64>load<u16>(src + (i << 1));
    case 10: return <f64>bswap16(load<u16>(src + (i << 1)));
    case 11: return <f64>load<i32>(src + (i << 2));
    case 12: return <f64><i32>bswap32(load<u32>(src + (i << 2)));
    case 13: return <f64>load<u32>(src + (i << 2));
    case 14: return <f64>bswap32(load<u32>(src + (i << 2)));
    case 15: return <f64>load<i64>(src + (i << 3));
    case 16: return <f64><i64>bswap64(load<u64>(src + (i << 3)));
    case 17: return <f64>load<u64>(src + (i << 3));
    case 18: return <f64>bswap64(load<u64>(src + (i << 3)));
  }
  return NaN;
}

/** Source bytes per element of dtype `code`, 0 for an unknown code. */
export function npyItemSize(code: i32): i32 {
  if (code < 0 || code > 18) return 0;
  if (code <= 1) return 4;
  if (code <= 3) return 8;
  if (code <= 6) return 1;
  if (code <= 10) return 2;
  if (code <= 14) return 4;
  return 8;
}

/**
 * Converts `n` elements of dtype `code` at `src` (any alignment) to native float32 at `dst`.
 * `dst` may equal `src` for the 4-byte codes (in-place swap). Returns 0, or -1 for an unknown code.
 */
export function npyToF32(src: usize, n: i32, code: i32, dst: usize): i32 {
  if (npyItemSize(code) == 0) return -1;
  const count = <usize>max<i32>(n, 0);
  let i: usize = 0;
  if (code == 0) {
    memory.copy(dst, src, count << 2);
    return 0;
  }
  if (code == 1) {
    for (; i + 4 <= count; i += 4) v128.store(dst + (i << 2), swap32x4(v128.load(src + (i << 2))));
    for (; i < count; i++) store<u32>(dst + (i << 2), bswap32(load<u32>(src + (i << 2))));
    return 0;
  }
  if (code == 2) {
    // Two f64x2 demotes make one f32x4.
    for (; i + 4 <= count; i += 4) {
      const lo = f32x4.demote_f64x2_zero(v128.load(src + (i << 3)));
      const hi = f32x4.demote_f64x2_zero(v128.load(src + (i << 3), 16));
      v128.store(dst + (i << 2), i64x2.shuffle(lo, hi, 0, 2));
    }
    for (; i < count; i++) store<f32>(dst + (i << 2), <f32>load<f64>(src + (i << 3)));
    return 0;
  }
  if (code == 5) {
    for (; i < count; i++) store<f32>(dst + (i << 2), <f32>load<u8>(src + i));
    return 0;
  }
  if (code == 15) {
    for (; i < count; i++) store<f32>(dst + (i << 2), <f32>load<i64>(src + (i << 3)));
    return 0;
  }
  if (code == 16) {
    for (; i < count; i++) store<f32>(dst + (i << 2), <f32><i64>bswap64(load<u64>(src + (i << 3))));
    return 0;
  }
  if (code == 17) {
    for (; i < count; i++) store<f32>(dst + (i << 2), <f32>load<u64>(src + (i << 3)));
    return 0;
  }
  if (code == 18) {
    for (; i < count; i++) store<f32>(dst + (i << 2), <f32>bswap64(load<u64>(src + (i << 3))));
    return 0;
  }
  // Everything left (f8 big-endian, 8/16/32-bit integers, bools) is exact in f64, so one rounding.
  for (; i < count; i++) store<f32>(dst + (i << 2), <f32>readF64(src, i, code));
  return 0;
}

/**
 * Converts `n` elements of dtype `code` at `src` (any alignment) to native float64 at `dst`
 * (exact except for 64-bit integers beyond 2^53, which round to nearest even).
 * `dst` may equal `src` for the 8-byte codes. Returns 0, or -1 for an unknown code.
 */
export function npyToF64(src: usize, n: i32, code: i32, dst: usize): i32 {
  if (npyItemSize(code) == 0) return -1;
  const count = <usize>max<i32>(n, 0);
  let i: usize = 0;
  if (code == 2) {
    memory.copy(dst, src, count << 3);
    return 0;
  }
  if (code == 0) {
    // Walk backwards so that dst may overlap src from the same start (widening in place).
    for (i = count; i > 0; i--) store<f64>(dst + ((i - 1) << 3), <f64>load<f32>(src + ((i - 1) << 2)));
    return 0;
  }
  if (code == 3) {
    for (; i < count; i++) store<u64>(dst + (i << 3), bswap64(load<u64>(src + (i << 3))));
    return 0;
  }
  for (i = count; i > 0; i--) store<f64>(dst + ((i - 1) << 3), readF64(src, i - 1, code));
  return 0;
}

/**
 * Byte-swaps `n` elements of `itemSize` bytes (2, 4 or 8) from `src` (any alignment) to `dst`,
 * which may equal `src`. For big-endian integers read as native typed arrays. Returns 0, or -1.
 */
export function byteSwap(src: usize, n: i32, itemSize: i32, dst: usize): i32 {
  const count = <usize>max<i32>(n, 0);
  if (itemSize == 2) {
    for (let i: usize = 0; i < count; i++) store<u16>(dst + (i << 1), bswap16(load<u16>(src + (i << 1))));
  } else if (itemSize == 4) {
    let i: usize = 0;
    for (; i + 4 <= count; i += 4) v128.store(dst + (i << 2), swap32x4(v128.load(src + (i << 2))));
    for (; i < count; i++) store<u32>(dst + (i << 2), bswap32(load<u32>(src + (i << 2))));
  } else if (itemSize == 8) {
    for (let i: usize = 0; i < count; i++) store<u64>(dst + (i << 3), bswap64(load<u64>(src + (i << 3))));
  } else if (itemSize != 1) {
    return -1;
  }
  if (itemSize == 1 && dst != src) memory.copy(dst, src, count);
  return 0;
}

// numpy allows up to 64 dimensions; the odometer below keeps strides and counters here.
const MAX_DIMS: i32 = 64;
const ODOMETER: usize = memory.data(MAX_DIMS * 16, 16);

/**
 * Rewrites a Fortran-order array at `src` (any alignment) as C order at `dst` (must not overlap).
 * `shape` points to `ndim` i32 extents (the logical shape, as in the .npy header); items are
 * `itemSize` bytes (1, 2, 4 or 8). Returns 0, or -1 for a bad itemSize or ndim > 64.
 */
export function fortranToC(src: usize, dst: usize, shape: usize, ndim: i32, itemSize: i32): i32 {
  if (ndim < 0 || ndim > MAX_DIMS) return -1;
  if (itemSize != 1 && itemSize != 2 && itemSize != 4 && itemSize != 8) return -1;
  let total: usize = 1;
  for (let j = 0; j < ndim; j++) total *= <usize>load<i32>(shape + (<usize>j << 2));
  if (total == 0) return 0;
  const size = <usize>itemSize;
  if (ndim <= 1) {
    memory.copy(dst, src, total * size);
    return 0;
  }
  // Fortran strides (bytes): axis 0 varies fastest. Counters start at zero.
  let stride: usize = size;
  for (let j = 0; j < ndim; j++) {
    store<usize>(ODOMETER + (<usize>j << 3), stride);
    store<usize>(ODOMETER + (<usize>j << 3), 0, 4);
    stride *= <usize>load<i32>(shape + (<usize>j << 2));
  }
  const last = ndim - 1;
  const inner = <usize>load<i32>(shape + (<usize>last << 2));
  const innerStride = load<usize>(ODOMETER + (<usize>last << 3));
  const rows = total / inner;
  let base: usize = src;
  let out: usize = dst;
  for (let r: usize = 0; r < rows; r++) {
    let p = base;
    if (size == 4) {
      for (let k: usize = 0; k < inner; k++, p += innerStride, out += 4) store<u32>(out, load<u32>(p));
    } else if (size == 8) {
      for (let k: usize = 0; k < inner; k++, p += innerStride, out += 8) store<u64>(out, load<u64>(p));
    } else if (size == 2) {
      for (let k: usize = 0; k < inner; k++, p += innerStride, out += 2) store<u16>(out, load<u16>(p));
    } else {
      for (let k: usize = 0; k < inner; k++, p += innerStride, out += 1) store<u8>(out, load<u8>(p));
    }
    // Advance the odometer over axes last-1 .. 0 (C order: the later axis turns faster).
    for (let j = last - 1; j >= 0; j--) {
      const at = ODOMETER + (<usize>j << 3);
      const s = load<usize>(at);
      const c = load<usize>(at, 4) + 1;
      base += s;
      const extent = <usize>load<i32>(shape + (<usize>j << 2));
      if (c < extent) {
        store<usize>(at, c, 4);
        break;
      }
      store<usize>(at, 0, 4);
      base -= s * extent;
    }
  }
  return 0;
}
