// CRC-32 (IEEE 802.3 / zlib / ZIP, reflected polynomial 0xEDB88320), the checksum of ZIP members;
// zlib's crc32() semantics: 0 to start, a previous result to continue.
//
// Same method as crc32c.ts (its header explains it): slicing-by-8 tables for short inputs and
// leftovers; for long inputs a table-free reduction of the message modulo a sparse multiple
// Q(x) = sum_{k in K} x^(8k) of P(x), 16 bytes at a time, r_i = m_i ^ XOR_{d in D} r_{i-d} with
// D = {n - k : k in K, k < n}, v128 XORs into a ring buffer; only the last n bytes (the remainder)
// go on to a shorter reduction and in the end to the tables.
//
// The multiples were found the same way: x^(8k) mod P for every k up to N, then a meet-in-the-middle
// search (sorted sums of pairs or triples of residues) for t-term sums that vanish, smallest span
// first, for t = 3 (N = 10^6), 4 (N = 7000), 5 (1200), 6 (320), 7 (200), 8 (120). P is irreducible,
// with no factor x + 1, so unlike Castagnoli's it has multiples with an odd number of terms:
//   Q3: K = {0, 41678, 91639}, the smallest trinomial: 2 loads + 2 xors per 16 bytes; the
//       91,639-byte remainder is taken with Q4.
//   Q4: K = {0, 2215, 2866, 3006}, the smallest 4-term one: 3 loads + 3 xors; remainder with Q5.
//   Q5: K = {0, 89, 117, 155, 300}, the smallest 5-term one: 4 loads + 4 xors; remainder (300
//       bytes) with the tables.
//   Q8: K = {0, 29, 34, 47, 49, 60, 72, 109}: 7 loads + 7 xors, a 109-byte remainder, for short
//       inputs. (The 7-term {0, 37, 68, 69, 77, 93, 161} measured about the same; the 6-term ones
//       have spans >= 203 bytes and 5 loads, between the two. As a second stage on Q5's remainder
//       Q7 or Q8 cost more than the table bytes they save.)
// Which one runs depends on the length (measured on Node 20 / Zen 3): tables below Q8_MIN bytes, Q8
// up to Q5_MIN, Q5 up to Q4_MIN, Q4 up to Q3_MIN, Q3 above.
//
// Alignment. A 16-byte load at a distance that is not a multiple of 16 straddles two earlier
// 16-byte stores, which the CPU cannot forward from (it waits for both to reach the cache), and one
// in four such loads splits a cache line: loading the terms as they lie cost ~25% at 92 KB. So the
// input is first brought to a 16-byte boundary through the tables (at most 15 bytes), every load is
// aligned, and each term is assembled from two aligned ring vectors with a constant byte shuffle
// (`alignr`, palignr on x64), the upper one carried over as the next step's lower one.
//
// The starting crc state is folded in by XORing it into the first 4 bytes (the table algorithm
// depends on state ^ data only); the state after the reduced prefix is the CRC of the remainder
// from state 0; the bytes after the remainder (< 16) continue through the tables.
//
// Q4, Q5 and Q8 keep their history as crc32c.ts does (ring = history + chunk, the last `HIST` bytes
// copied to the front when the chunk is full). Q3's history (91,639 bytes) is too long to copy
// around, so its ring is circular: 128 KiB (a power of two >= n + 16) and a 16-byte mirror of its
// first vector after it, so that the upper vector of a pair may be read past the end; the loop
// runs in segments in which no pointer passes the end. (A circular ring for Q4 was slower than the
// copied one: one pointer per term instead of constant offsets from one.)
//
// All scratch (about 290 KB: tables, rings, remainder buffers) is static data of this instance,
// apart from crc32c.ts's; none of it is live between calls, and each `Kernels` instance (one per
// thread) has its own.

import { buildTables, firstVector, tableCrc as tableCrcAt, xorInto } from "./crc-common";

const POLY: u32 = 0xedb88320;
const TABLES: usize = memory.data(8 * 256 * 4, 64);

buildTables(TABLES, POLY);

/** Table-driven CRC over this polynomial's tables (see crc-common.ts). */
@inline function tableCrc(c: u32, p: usize, len: usize): u32 {
  return tableCrcAt(TABLES, c, p, len);
}



/** Bytes r .. r + 15 of the 32 bytes `lo` then `hi` (r a constant: the switch folds away when inlined). */
@inline function alignr(lo: v128, hi: v128, r: u8): v128 {
  switch (r) {
    case 0: return i8x16.shuffle(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    case 1: return i8x16.shuffle(lo, hi, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    case 2: return i8x16.shuffle(lo, hi, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
    case 3: return i8x16.shuffle(lo, hi, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18);
    case 4: return i8x16.shuffle(lo, hi, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
    case 5: return i8x16.shuffle(lo, hi, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20);
    case 6: return i8x16.shuffle(lo, hi, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21);
    case 7: return i8x16.shuffle(lo, hi, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22);
    case 8: return i8x16.shuffle(lo, hi, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
    case 9: return i8x16.shuffle(lo, hi, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24);
    case 10: return i8x16.shuffle(lo, hi, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25);
    case 11: return i8x16.shuffle(lo, hi, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26);
    case 12: return i8x16.shuffle(lo, hi, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27);
    case 13: return i8x16.shuffle(lo, hi, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28);
    case 14: return i8x16.shuffle(lo, hi, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
    case 15: return i8x16.shuffle(lo, hi, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
    default: return unreachable();
  }
}

/** Bytes of a `len`-byte input that a reduction with an `rest`-byte remainder consumes. */
@inline function consumed(len: usize, rest: usize): usize {
  return (((len - rest) >> 4) << 4) + rest;
}

// Ring offsets: the vector being computed is stored at q + HIST (q and HIST multiples of 16); the
// term at distance D is the 16 bytes at q + HIST - D, i.e. bytes R.. of the aligned pair at q + F,
// q + F + 16, with F = HIST - ceil16(D) and R = ceil16(D) - D.

// ---- Q5: K = {0, 89, 117, 155, 300} in 1-byte units. ----
const Q5_REST: usize = 300;
const Q5_D0: usize = 300;
const Q5_D1: usize = 300 - 89;
const Q5_D2: usize = 300 - 117;
const Q5_D3: usize = 300 - 155;
const Q5_HIST: usize = 304;                   // >= Q5_REST, multiple of 16
const Q5_F0: usize = Q5_HIST - ((Q5_D0 + 15) & ~15);
const Q5_F1: usize = Q5_HIST - ((Q5_D1 + 15) & ~15);
const Q5_F2: usize = Q5_HIST - ((Q5_D2 + 15) & ~15);
const Q5_F3: usize = Q5_HIST - ((Q5_D3 + 15) & ~15);
const Q5_R0: u8 = <u8>((0 - Q5_D0) & 15);
const Q5_R1: u8 = <u8>((0 - Q5_D1) & 15);
const Q5_R2: u8 = <u8>((0 - Q5_D2) & 15);
const Q5_R3: u8 = <u8>((0 - Q5_D3) & 15);
const Q5_CHUNK: usize = 16384;
const Q5_RING: usize = memory.data(<i32>(Q5_HIST + Q5_CHUNK), 16);
const Q5_TAIL: usize = memory.data(<i32>Q5_HIST, 16);
/** Shortest input reduced with Q5. */
const Q5_MIN: usize = 2048;

/**
 * Raw crc state after the first consumed(len, Q5_REST) bytes at `src` (16-byte aligned), from
 * state `c`; len >= Q5_REST + 16.
 */
function reduceQ5(c: u32, src: usize, len: usize): u32 {
  const pend = src + (((len - Q5_REST) >> 4) << 4);
  memory.fill(Q5_RING, 0, Q5_HIST);
  let p = src;
  let q = Q5_RING;
  v128.store(q, firstVector(p, c), Q5_HIST);
  p += 16;
  q += 16;
  for (;;) {
    let lim = p + (Q5_RING + Q5_CHUNK - q);
    if (lim > pend) lim = pend;
    let a0 = v128.load(q, Q5_F0);
    let a1 = v128.load(q, Q5_F1);
    let a2 = v128.load(q, Q5_F2);
    let a3 = v128.load(q, Q5_F3);
    while (p < lim) {
      const b0 = v128.load(q, Q5_F0 + 16);
      const b1 = v128.load(q, Q5_F1 + 16);
      const b2 = v128.load(q, Q5_F2 + 16);
      const b3 = v128.load(q, Q5_F3 + 16);
      const v = v128.xor(
        v128.xor(v128.load(p), alignr(a0, b0, Q5_R0)),
        v128.xor(v128.xor(alignr(a1, b1, Q5_R1), alignr(a2, b2, Q5_R2)), alignr(a3, b3, Q5_R3)));
      v128.store(q, v, Q5_HIST);
      a0 = b0;
      a1 = b1;
      a2 = b2;
      a3 = b3;
      p += 16;
      q += 16;
    }
    if (p >= pend) break;
    memory.copy(Q5_RING, q, Q5_HIST);
    q = Q5_RING;
  }
  // Remainder byte j receives r at distance d when j < d: ring bytes [q + HIST - d, q + HIST).
  memory.copy(Q5_TAIL, pend, Q5_REST);
  xorInto(Q5_TAIL, q + Q5_HIST - Q5_D0, Q5_D0);
  xorInto(Q5_TAIL, q + Q5_HIST - Q5_D1, Q5_D1);
  xorInto(Q5_TAIL, q + Q5_HIST - Q5_D2, Q5_D2);
  xorInto(Q5_TAIL, q + Q5_HIST - Q5_D3, Q5_D3);
  return tableCrc(0, Q5_TAIL, Q5_REST);
}

// ---- Q8: K = {0, 29, 34, 47, 49, 60, 72, 109} in 1-byte units (short inputs). ----
const Q8_REST: usize = 109;
const Q8_D0: usize = 109;
const Q8_D1: usize = 109 - 29;
const Q8_D2: usize = 109 - 34;
const Q8_D3: usize = 109 - 47;
const Q8_D4: usize = 109 - 49;
const Q8_D5: usize = 109 - 60;
const Q8_D6: usize = 109 - 72;
const Q8_HIST: usize = 112;
const Q8_F0: usize = Q8_HIST - ((Q8_D0 + 15) & ~15);
const Q8_F1: usize = Q8_HIST - ((Q8_D1 + 15) & ~15);
const Q8_F2: usize = Q8_HIST - ((Q8_D2 + 15) & ~15);
const Q8_F3: usize = Q8_HIST - ((Q8_D3 + 15) & ~15);
const Q8_F4: usize = Q8_HIST - ((Q8_D4 + 15) & ~15);
const Q8_F5: usize = Q8_HIST - ((Q8_D5 + 15) & ~15);
const Q8_F6: usize = Q8_HIST - ((Q8_D6 + 15) & ~15);
const Q8_R0: u8 = <u8>((0 - Q8_D0) & 15);
const Q8_R1: u8 = <u8>((0 - Q8_D1) & 15);
const Q8_R2: u8 = <u8>((0 - Q8_D2) & 15);
const Q8_R3: u8 = <u8>((0 - Q8_D3) & 15);
const Q8_R4: u8 = <u8>((0 - Q8_D4) & 15);
const Q8_R5: u8 = <u8>((0 - Q8_D5) & 15);
const Q8_R6: u8 = <u8>((0 - Q8_D6) & 15);
const Q8_CHUNK: usize = 4096;
const Q8_RING: usize = memory.data(<i32>(Q8_HIST + Q8_CHUNK), 16);
const Q8_TAIL: usize = memory.data(<i32>Q8_HIST, 16);
/** Shortest input reduced (with Q8; below it the tables alone are faster). */
const Q8_MIN: usize = 384;

/** As reduceQ5 with Q8: three more loads per 16 bytes, a 109-byte remainder; best for short inputs. */
function reduceQ8(c: u32, src: usize, len: usize): u32 {
  const pend = src + (((len - Q8_REST) >> 4) << 4);
  memory.fill(Q8_RING, 0, Q8_HIST);
  let p = src;
  let q = Q8_RING;
  v128.store(q, firstVector(p, c), Q8_HIST);
  p += 16;
  q += 16;
  for (;;) {
    let lim = p + (Q8_RING + Q8_CHUNK - q);
    if (lim > pend) lim = pend;
    let a0 = v128.load(q, Q8_F0);
    let a1 = v128.load(q, Q8_F1);
    let a2 = v128.load(q, Q8_F2);
    let a3 = v128.load(q, Q8_F3);
    let a4 = v128.load(q, Q8_F4);
    let a5 = v128.load(q, Q8_F5);
    let a6 = v128.load(q, Q8_F6);
    while (p < lim) {
      const b0 = v128.load(q, Q8_F0 + 16);
      const b1 = v128.load(q, Q8_F1 + 16);
      const b2 = v128.load(q, Q8_F2 + 16);
      const b3 = v128.load(q, Q8_F3 + 16);
      const b4 = v128.load(q, Q8_F4 + 16);
      const b5 = v128.load(q, Q8_F5 + 16);
      const b6 = v128.load(q, Q8_F6 + 16);
      const v = v128.xor(
        v128.xor(v128.xor(v128.load(p), alignr(a0, b0, Q8_R0)),
                 v128.xor(alignr(a1, b1, Q8_R1), alignr(a2, b2, Q8_R2))),
        v128.xor(v128.xor(alignr(a3, b3, Q8_R3), alignr(a4, b4, Q8_R4)),
                 v128.xor(alignr(a5, b5, Q8_R5), alignr(a6, b6, Q8_R6))));
      v128.store(q, v, Q8_HIST);
      a0 = b0;
      a1 = b1;
      a2 = b2;
      a3 = b3;
      a4 = b4;
      a5 = b5;
      a6 = b6;
      p += 16;
      q += 16;
    }
    if (p >= pend) break;
    memory.copy(Q8_RING, q, Q8_HIST);
    q = Q8_RING;
  }
  memory.copy(Q8_TAIL, pend, Q8_REST);
  xorInto(Q8_TAIL, q + Q8_HIST - Q8_D0, Q8_D0);
  xorInto(Q8_TAIL, q + Q8_HIST - Q8_D1, Q8_D1);
  xorInto(Q8_TAIL, q + Q8_HIST - Q8_D2, Q8_D2);
  xorInto(Q8_TAIL, q + Q8_HIST - Q8_D3, Q8_D3);
  xorInto(Q8_TAIL, q + Q8_HIST - Q8_D4, Q8_D4);
  xorInto(Q8_TAIL, q + Q8_HIST - Q8_D5, Q8_D5);
  xorInto(Q8_TAIL, q + Q8_HIST - Q8_D6, Q8_D6);
  return tableCrc(0, Q8_TAIL, Q8_REST);
}

// ---- Q4: K = {0, 2215, 2866, 3006} in 1-byte units. ----
const Q4_REST: usize = 3006;
const Q4_D0: usize = 3006;
const Q4_D1: usize = 3006 - 2215;
const Q4_D2: usize = 3006 - 2866;
const Q4_HIST: usize = 3008;
const Q4_F0: usize = Q4_HIST - ((Q4_D0 + 15) & ~15);
const Q4_F1: usize = Q4_HIST - ((Q4_D1 + 15) & ~15);
const Q4_F2: usize = Q4_HIST - ((Q4_D2 + 15) & ~15);
const Q4_R0: u8 = <u8>((0 - Q4_D0) & 15);
const Q4_R1: u8 = <u8>((0 - Q4_D1) & 15);
const Q4_R2: u8 = <u8>((0 - Q4_D2) & 15);
const Q4_CHUNK: usize = 32768;
const Q4_RING: usize = memory.data(<i32>(Q4_HIST + Q4_CHUNK), 16);
const Q4_TAIL: usize = memory.data(<i32>Q4_HIST, 16);
/** Shortest input reduced with Q4 first. */
const Q4_MIN: usize = 20480;

/** As reduceQ5 with Q4; the 3,006-byte remainder's CRC is taken with Q5. */
function reduceQ4(c: u32, src: usize, len: usize): u32 {
  const pend = src + (((len - Q4_REST) >> 4) << 4);
  memory.fill(Q4_RING, 0, Q4_HIST);
  let p = src;
  let q = Q4_RING;
  v128.store(q, firstVector(p, c), Q4_HIST);
  p += 16;
  q += 16;
  for (;;) {
    let lim = p + (Q4_RING + Q4_CHUNK - q);
    if (lim > pend) lim = pend;
    let a0 = v128.load(q, Q4_F0);
    let a1 = v128.load(q, Q4_F1);
    let a2 = v128.load(q, Q4_F2);
    while (p < lim) {
      const b0 = v128.load(q, Q4_F0 + 16);
      const b1 = v128.load(q, Q4_F1 + 16);
      const b2 = v128.load(q, Q4_F2 + 16);
      const v = v128.xor(
        v128.xor(v128.load(p), alignr(a0, b0, Q4_R0)),
        v128.xor(alignr(a1, b1, Q4_R1), alignr(a2, b2, Q4_R2)));
      v128.store(q, v, Q4_HIST);
      a0 = b0;
      a1 = b1;
      a2 = b2;
      p += 16;
      q += 16;
    }
    if (p >= pend) break;
    memory.copy(Q4_RING, q, Q4_HIST);
    q = Q4_RING;
  }
  memory.copy(Q4_TAIL, pend, Q4_REST);
  xorInto(Q4_TAIL, q + Q4_HIST - Q4_D0, Q4_D0);
  xorInto(Q4_TAIL, q + Q4_HIST - Q4_D1, Q4_D1);
  xorInto(Q4_TAIL, q + Q4_HIST - Q4_D2, Q4_D2);
  const s = reduceQ5(0, Q4_TAIL, Q4_REST);
  const k = consumed(Q4_REST, Q5_REST);
  return tableCrc(s, Q4_TAIL + k, Q4_REST - k);
}

// ---- Q3: K = {0, 41678, 91639} in 1-byte units, circular ring. ----
const Q3_REST: usize = 91639;
const Q3_D0: usize = 91639;
const Q3_D1: usize = 91639 - 41678;
const Q3_R0: u8 = <u8>((0 - Q3_D0) & 15);
const Q3_R1: u8 = <u8>((0 - Q3_D1) & 15);
const Q3_RSIZE: usize = 131072;               // power of two >= Q3_REST + 16
const Q3_MASK: usize = Q3_RSIZE - 1;
const Q3_RING: usize = memory.data(<i32>(Q3_RSIZE + 16), 16);   // + the mirror of bytes [0, 16)
const Q3_TAIL: usize = memory.data(<i32>(Q3_REST + 1), 16);
/** Shortest input reduced with Q3 first (>= 2 * Q3_REST + 32, so no tail term reaches before the start). */
const Q3_MIN: usize = 786432;

/** dst[0..n) ^= the ring's bytes for positions [pos, pos + n) (which may wrap). */
function xorFromRing(dst: usize, pos: usize, n: usize): void {
  const o = pos & Q3_MASK;
  const first = min(n, Q3_RSIZE - o);
  xorInto(dst, Q3_RING + o, first);
  if (first < n) xorInto(dst + first, Q3_RING, n - first);
}

/** As reduceQ5 with Q3; the 91,639-byte remainder's CRC is taken with Q4. */
function reduceQ3(c: u32, src: usize, len: usize): u32 {
  const total = ((len - Q3_REST) >> 4) << 4;   // bytes reduced, a multiple of 16
  // Positions before the start read as zeros: ring bytes [RSIZE - D0, RSIZE).
  memory.fill(Q3_RING + Q3_RSIZE - Q3_D0, 0, Q3_D0);
  let i: usize = 0;                              // position of the next vector
  while (i < total) {
    const w = i & Q3_MASK;
    const fa = ((i - Q3_D0) & Q3_MASK) - Q3_R0;  // aligned lower vectors of the two terms
    const fb = ((i - Q3_D1) & Q3_MASK) - Q3_R1;
    if (w == 0) {
      // Ring bytes [0, 16) go to the mirror too, before anything can read them there.
      const x = i == 0 ? firstVector(src, c) : v128.load(src + i);
      const v = v128.xor(x, v128.xor(
        alignr(v128.load(Q3_RING + fa), v128.load(Q3_RING + fa, 16), Q3_R0),
        alignr(v128.load(Q3_RING + fb), v128.load(Q3_RING + fb, 16), Q3_R1)));
      v128.store(Q3_RING, v);
      v128.store(Q3_RING + Q3_RSIZE, v);
      i += 16;
      continue;
    }
    // Vectors until a pointer reaches the end of the ring (an upper vector may be the mirror).
    const n = min(min(Q3_RSIZE - w, total - i), min(Q3_RSIZE - fa, Q3_RSIZE - fb));
    let p = src + i;
    const end = p + n;
    let q = Q3_RING + w;
    let ra = Q3_RING + fa;
    let rb = Q3_RING + fb;
    let a0 = v128.load(ra);
    let b0 = v128.load(rb);
    // 64 bytes a step (the terms are > 49 KB back, far from this step's stores).
    while (end - p >= 64) {
      const a1 = v128.load(ra, 16);
      const b1 = v128.load(rb, 16);
      v128.store(q, v128.xor(v128.load(p), v128.xor(alignr(a0, a1, Q3_R0), alignr(b0, b1, Q3_R1))));
      const a2 = v128.load(ra, 32);
      const b2 = v128.load(rb, 32);
      v128.store(q, v128.xor(v128.load(p, 16), v128.xor(alignr(a1, a2, Q3_R0), alignr(b1, b2, Q3_R1))), 16);
      const a3 = v128.load(ra, 48);
      const b3 = v128.load(rb, 48);
      v128.store(q, v128.xor(v128.load(p, 32), v128.xor(alignr(a2, a3, Q3_R0), alignr(b2, b3, Q3_R1))), 32);
      a0 = v128.load(ra, 64);
      b0 = v128.load(rb, 64);
      v128.store(q, v128.xor(v128.load(p, 48), v128.xor(alignr(a3, a0, Q3_R0), alignr(b3, b0, Q3_R1))), 48);
      p += 64;
      q += 64;
      ra += 64;
      rb += 64;
    }
    while (p < end) {
      const a1 = v128.load(ra, 16);
      const b1 = v128.load(rb, 16);
      v128.store(q, v128.xor(v128.load(p), v128.xor(alignr(a0, a1, Q3_R0), alignr(b0, b1, Q3_R1))));
      a0 = a1;
      b0 = b1;
      p += 16;
      q += 16;
      ra += 16;
      rb += 16;
    }
    i += n;
  }
  memory.copy(Q3_TAIL, src + total, Q3_REST);
  xorFromRing(Q3_TAIL, total - Q3_D0, Q3_D0);
  xorFromRing(Q3_TAIL, total - Q3_D1, Q3_D1);
  const s = reduceQ4(0, Q3_TAIL, Q3_REST);
  const k = consumed(Q3_REST, Q4_REST);
  return tableCrc(s, Q3_TAIL + k, Q3_REST - k);
}

/** CRC-32 (zlib's crc32) of `len` bytes at `ptr`, continuing from `crc` (0 to start; pass a previous result to chain). */
export function crc32(crc: u32, ptr: usize, len: usize): u32 {
  let c = ~crc;
  if (len >= Q8_MIN) {
    // Up to a 16-byte boundary through the tables, so that every load of the reductions is aligned.
    const pre = (<usize>16 - (ptr & 15)) & 15;
    c = tableCrc(c, ptr, pre);
    ptr += pre;
    len -= pre;
    let k: usize;
    if (len >= Q3_MIN) {
      c = reduceQ3(c, ptr, len);
      k = consumed(len, Q3_REST);
    } else if (len >= Q4_MIN) {
      c = reduceQ4(c, ptr, len);
      k = consumed(len, Q4_REST);
    } else if (len >= Q5_MIN) {
      c = reduceQ5(c, ptr, len);
      k = consumed(len, Q5_REST);
    } else {
      c = reduceQ8(c, ptr, len);
      k = consumed(len, Q8_REST);
    }
    ptr += k;
    len -= k;
  }
  return ~tableCrc(c, ptr, len);
}
