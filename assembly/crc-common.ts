// What crc32c.ts (Castagnoli) and crc32.ts (IEEE) share: slicing-by-8 tables for a reflected
// 32-bit CRC (eight 256-entry u32 tables at `tables`, 8 KiB), the table-driven loop both use for
// short inputs and for what their reductions leave over, and two helpers of the reductions. Callers pass a constant `tables`, so the
// inlined loop addresses its tables with constant offsets.

/** Fills the eight tables at `tables` for the reflected polynomial `poly`. */
export function buildTables(tables: usize, poly: u32): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    store<u32>(tables + (n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(tables + (n << 2));
    for (let t: u32 = 1; t < 8; t++) {
      c = load<u32>(tables + ((c & 0xff) << 2)) ^ (c >>> 8);
      store<u32>(tables + (t << 10) + (n << 2), c);
    }
  }
}

// Byte k of x, times 4 (a byte offset into a 256-entry u32 table).
@inline function b0(x: u32): usize { return <usize>((x << 2) & 0x3fc); }
@inline function b1(x: u32): usize { return <usize>((x >>> 6) & 0x3fc); }
@inline function b2(x: u32): usize { return <usize>((x >>> 14) & 0x3fc); }
@inline function b3(x: u32): usize { return <usize>((x >>> 22) & 0x3fc); }

/**
 * Table-driven CRC with the tables at `tables`: raw (non-inverted) state `c` over `len` bytes at
 * `p`. The eight lookups are XORed as a balanced tree (V8 keeps the order it is given).
 */
@inline export function tableCrc(tables: usize, c: u32, p: usize, len: usize): u32 {
  const end = p + len;
  while (end - p >= 8) {
    const lo = load<u32>(p) ^ c;
    const hi = load<u32>(p, 4);
    c = ((load<u32>(tables + 7 * 1024 + b0(lo)) ^ load<u32>(tables + 6 * 1024 + b1(lo))) ^
         (load<u32>(tables + 5 * 1024 + b2(lo)) ^ load<u32>(tables + 4 * 1024 + b3(lo)))) ^
        ((load<u32>(tables + 3 * 1024 + b0(hi)) ^ load<u32>(tables + 2 * 1024 + b1(hi))) ^
         (load<u32>(tables + 1 * 1024 + b2(hi)) ^ load<u32>(tables + b3(hi))));
    p += 8;
  }
  while (p < end) {
    c = load<u32>(tables + b0(c ^ <u32>load<u8>(p))) ^ (c >>> 8);
    p++;
  }
  return c;
}

/** dst[0..n) ^= src[0..n) (no overlap). */
export function xorInto(dst: usize, src: usize, n: usize): void {
  let j: usize = 0;
  for (; j + 16 <= n; j += 16) v128.store(dst + j, v128.xor(v128.load(dst + j), v128.load(src + j)));
  for (; j + 4 <= n; j += 4) store<u32>(dst + j, load<u32>(dst + j) ^ load<u32>(src + j));
  for (; j < n; j++) store<u8>(dst + j, load<u8>(dst + j) ^ load<u8>(src + j));
}

/** The 16 bytes at `p` with the crc state XORed into the first four. */
@inline export function firstVector(p: usize, c: u32): v128 {
  return v128.xor(v128.load(p), i32x4.replace_lane(i32x4.splat(0), 0, c));
}
