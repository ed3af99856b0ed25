// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord frames carry.
//
// WebAssembly has no CRC instruction and no carry-less multiply, so this is table-free for the bulk
// of long inputs ("Chorba", Sam Russell 2024, arXiv:2412.16398) and table-driven for the rest:
//
// * Short inputs (and the last few hundred bytes of long ones): slicing-by-8 over eight 256-entry
//   tables (8 KiB). Indices are extracted pre-multiplied by 4 (`(x >>> 6) & 0x3fc`) and the eight
//   lookups are XORed as a balanced tree with the four crc-dependent lookups paired first, so the
//   loop-carried chain is xor -> shift/and -> load -> 3 xors (V8 does not reassociate XORs).
//
// * Long inputs: the CRC depends only on the message polynomial M(x) modulo P(x). If Q(x) is a
//   sparse multiple of P with terms x^(8k) for k in K (max n), then M mod Q has the same CRC and
//   reducing modulo Q is only XORs of the data with itself at fixed byte distances: cancelling the
//   leading unit of M with Q adds that unit into the positions (n - k) units later. Written as a
//   pull recurrence over the data units m_i: r_i = m_i ^ XOR_{d in D} r_{i-d}, D = {n - k : k < n},
//   computed 16 bytes at a time with v128 loads/xors/stores into a ring buffer. Only the last n
//   units (the remainder) then go through the tables. Multiples used (found by a meet-in-the-middle
//   search over x^(8k) mod P; P has the factor x+1, so every multiple has an even number of terms;
//   squaring maps sum x^(8uk) to sum x^(16uk) and P is square-free, so P divides one exactly when
//   it divides the other and a K found for one unit of 2^j bytes serves for all of them):
//     Q6: K = {0, 14, 39, 54, 144, 209}, unit 2 bytes: 5 loads + 5 xors per 16 bytes, 418-byte rest.
//     Q8: K = {0, 25, 32, 33, 60, 63, 64, 130}, unit 1 byte: 7 loads + 7 xors, 130-byte rest.
//     Q4: K = {0, 2751, 4508, 5275}, unit 1 byte: 3 loads + 3 xors per 16 bytes, 5275-byte rest,
//         whose CRC is then taken with Q6.
//   Which one runs depends on the length (measured on Node 20 / Zen 3): tables below 512 bytes,
//   Q8 up to 3 KiB, Q6 up to 32 KiB, Q4 (then Q6 on its remainder) above. The smallest distance
//   n - k is kept >= 64 bytes, so a 16-byte load rarely overlaps a store still in flight.
//   A starting crc state is folded in by XORing it into the first 4 bytes (the table algorithm
//   depends on state ^ data only); the state after the reduced prefix is the CRC of the remainder
//   from state 0; any bytes left after it (< 16) continue through the tables.
//
// All scratch (tables, rings, remainder buffers) is static data of this instance, so each
// `Kernels` instance (one per thread) has its own; none of it is live between calls.

import { buildTables, firstVector, tableCrc as tableCrcAt, xorInto } from "./crc-common";

const POLY: u32 = 0x82f63b78;
const TABLES: usize = memory.data(8 * 256 * 4, 64);

buildTables(TABLES, POLY);

/** Table-driven CRC over this polynomial's tables (see crc-common.ts). */
@inline function tableCrc(c: u32, p: usize, len: usize): u32 {
  return tableCrcAt(TABLES, c, p, len);
}



// ---- Q6: K = {0, 14, 39, 54, 144, 209} in 2-byte units; distances in bytes. ----
const Q6_REST: usize = 2 * 209;               // remainder bytes (n units)
const Q6_D0: usize = 2 * 209;
const Q6_D1: usize = 2 * (209 - 14);
const Q6_D2: usize = 2 * (209 - 39);
const Q6_D3: usize = 2 * (209 - 54);
const Q6_D4: usize = 2 * (209 - 144);
const Q6_HIST: usize = 432;                   // history kept in the ring: >= Q6_REST, multiple of 16
const Q6_CHUNK: usize = 16384;
const Q6_RING: usize = memory.data(<i32>(Q6_HIST + Q6_CHUNK), 16);
const Q6_TAIL: usize = memory.data(<i32>Q6_HIST, 16);
/** Shortest input reduced with Q6 (below it Q8 is faster). */
const Q6_MIN: usize = 3072;

/** Bytes of a `len`-byte input that `reduceQ6` consumes: the remainder plus a multiple of 16. */
@inline function q6Consumed(len: usize): usize {
  return (((len - Q6_REST) >> 4) << 4) + Q6_REST;
}

/** Raw crc state after the first q6Consumed(len) bytes at `src`, from state `c`; len >= Q6_REST + 16. */
function reduceQ6(c: u32, src: usize, len: usize): u32 {
  const pend = src + (((len - Q6_REST) >> 4) << 4);
  memory.fill(Q6_RING, 0, Q6_HIST);
  let p = src;
  let q = Q6_RING;
  v128.store(q, firstVector(p, c), Q6_HIST);
  p += 16;
  q += 16;
  for (;;) {
    let lim = p + (Q6_RING + Q6_CHUNK - q);
    if (lim > pend) lim = pend;
    while (p < lim) {
      const v = v128.xor(
        v128.xor(v128.load(p), v128.load(q, Q6_HIST - Q6_D0)),
        v128.xor(
          v128.xor(v128.load(q, Q6_HIST - Q6_D1), v128.load(q, Q6_HIST - Q6_D2)),
          v128.xor(v128.load(q, Q6_HIST - Q6_D3), v128.load(q, Q6_HIST - Q6_D4))));
      v128.store(q, v, Q6_HIST);
      p += 16;
      q += 16;
    }
    if (p >= pend) break;
    memory.copy(Q6_RING, q, Q6_HIST);
    q = Q6_RING;
  }
  // Remainder units get contributions only from the reduced (eliminated) units before them:
  // unit j of the rest receives r at distance d when j < d, i.e. ring bytes [q + HIST - d, ...).
  memory.copy(Q6_TAIL, pend, Q6_REST);
  xorInto(Q6_TAIL, q + Q6_HIST - Q6_D0, Q6_D0);
  xorInto(Q6_TAIL, q + Q6_HIST - Q6_D1, Q6_D1);
  xorInto(Q6_TAIL, q + Q6_HIST - Q6_D2, Q6_D2);
  xorInto(Q6_TAIL, q + Q6_HIST - Q6_D3, Q6_D3);
  xorInto(Q6_TAIL, q + Q6_HIST - Q6_D4, Q6_D4);
  return tableCrc(0, Q6_TAIL, Q6_REST);
}

// ---- Q8: K = {0, 25, 32, 33, 60, 63, 64, 130} in 1-byte units. ----
const Q8_REST: usize = 130;
const Q8_D0: usize = 130;
const Q8_D1: usize = 130 - 25;
const Q8_D2: usize = 130 - 32;
const Q8_D3: usize = 130 - 33;
const Q8_D4: usize = 130 - 60;
const Q8_D5: usize = 130 - 63;
const Q8_D6: usize = 130 - 64;
const Q8_HIST: usize = 144;
const Q8_CHUNK: usize = 16384;
const Q8_RING: usize = memory.data(<i32>(Q8_HIST + Q8_CHUNK), 16);
const Q8_TAIL: usize = memory.data(<i32>Q8_HIST, 16);
/** Shortest input reduced with Q8. */
const Q8_MIN: usize = 512;
@inline function q8Consumed(len: usize): usize {
  return (((len - Q8_REST) >> 4) << 4) + Q8_REST;
}
/** As reduceQ6 with Q8: two more loads per 16 bytes, a 130-byte remainder; best for short inputs. */
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
    while (p < lim) {
      const v = v128.xor(
        v128.xor(v128.xor(v128.load(p), v128.load(q, Q8_HIST - Q8_D0)),
                 v128.xor(v128.load(q, Q8_HIST - Q8_D1), v128.load(q, Q8_HIST - Q8_D2))),
        v128.xor(v128.xor(v128.load(q, Q8_HIST - Q8_D3), v128.load(q, Q8_HIST - Q8_D4)),
                 v128.xor(v128.load(q, Q8_HIST - Q8_D5), v128.load(q, Q8_HIST - Q8_D6))));
      v128.store(q, v, Q8_HIST);
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

// ---- Q4: K = {0, 2751, 4508, 5275} in 1-byte units. ----
const Q4_REST: usize = 5275;
const Q4_D0: usize = 5275;
const Q4_D1: usize = 5275 - 2751;
const Q4_D2: usize = 5275 - 4508;
const Q4_HIST: usize = 5280;
const Q4_CHUNK: usize = 65536;
const Q4_RING: usize = memory.data(<i32>(Q4_HIST + Q4_CHUNK), 16);
const Q4_TAIL: usize = memory.data(<i32>Q4_HIST, 16);
/** Shortest input reduced with Q4 first (its fixed costs pay off above this). */
const Q4_MIN: usize = 32768;

@inline function q4Consumed(len: usize): usize {
  return (((len - Q4_REST) >> 4) << 4) + Q4_REST;
}

/** As reduceQ6 with Q4; the 5275-byte remainder's CRC is taken with Q6. */
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
    while (p < lim) {
      const v = v128.xor(
        v128.xor(v128.load(p), v128.load(q, Q4_HIST - Q4_D0)),
        v128.xor(v128.load(q, Q4_HIST - Q4_D1), v128.load(q, Q4_HIST - Q4_D2)));
      v128.store(q, v, Q4_HIST);
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
  const s = reduceQ6(0, Q4_TAIL, Q4_REST);
  const k = q6Consumed(Q4_REST);
  return tableCrc(s, Q4_TAIL + k, Q4_REST - k);
}

/** CRC32C of `len` bytes at `ptr`, continuing from `crc` (0 to start; pass a previous result to chain). */
export function crc32c(crc: u32, ptr: usize, len: usize): u32 {
  let c = ~crc;
  if (len >= Q4_MIN) {
    c = reduceQ4(c, ptr, len);
    const k = q4Consumed(len);
    ptr += k;
    len -= k;
  } else if (len >= Q6_MIN) {
    c = reduceQ6(c, ptr, len);
    const k = q6Consumed(len);
    ptr += k;
    len -= k;
  } else if (len >= Q8_MIN) {
    c = reduceQ8(c, ptr, len);
    const k = q8Consumed(len);
    ptr += k;
    len -= k;
  }
  return ~tableCrc(c, ptr, len);
}

/** TFRecord's masked CRC32C of `len` bytes at `ptr`: rotate right by 15 and add 0xA282EAD8. */
export function maskedCrc32c(ptr: usize, len: usize): u32 {
  const c = crc32c(0, ptr, len);
  return ((c >>> 15) | (c << 17)) + 0xa282ead8;
}
