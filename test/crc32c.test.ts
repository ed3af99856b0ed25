// CRC32C kernel (assembly/crc32c.ts) against independent references: a bitwise TS implementation,
// a byte-table TS implementation for long inputs, and vectors written by Python's `crc32c`
// package (test/fixtures/make_crc_vectors.py). The kernel switches strategy by length (tables
// below 512 bytes, reductions modulo sparse multiples of P above: Q8 up to 3 KiB, Q6 up to
// 32 KiB, Q4 then Q6 above), so lengths straddle those points, every start alignment is tried,
// and chaining is checked across the switches.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Kernels } from "../src/wasm.ts";

const POLY = 0x82f63b78;

/** Bit-at-a-time CRC32C (the definition). */
function crcBitwise(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) {
    c ^= data[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  }
  return ~c >>> 0;
}

const BYTE_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Byte-at-a-time CRC32C (checked against the bitwise one below), for long inputs. */
function crcBytewise(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = BYTE_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function masked(c: number): number {
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Deterministic bytes (mulberry32). */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/** xorshift32 (13, 17, 5) low bytes: mirrors make_crc_vectors.py's generated inputs. */
function xorshiftBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/** Copies `data` into `k`'s memory at an address congruent to `offset` mod 64; returns the pointer. */
function place(k: Kernels, data: Uint8Array, offset: number): number {
  const ptr = k.alloc(data.length + 64) + offset;
  k.bytes().set(data, ptr);
  return ptr;
}

interface Vector { name: string; len: number; hex: string; crc: number; masked: number }
interface Generated { name: string; seed: number; len: number; crc: number; masked: number; head_hex: string }
const fixture = JSON.parse(readFileSync(new URL("./fixtures/crc32c.json", import.meta.url), "utf8")) as {
  cases: Vector[];
  generated: Generated[];
  tfrecord_frame_hex: string;
};

describe("crc32c kernel", () => {
  const k = new Kernels();

  it("matches the check value and its TFRecord mask", () => {
    const data = new TextEncoder().encode("123456789");
    const ptr = k.put(data);
    expect(k.crc32c(ptr, data.length)).toBe(0xe3069283);
    expect(crcBitwise(data)).toBe(0xe3069283);
    expect(k.maskedCrc32c(ptr, data.length)).toBe(masked(0xe3069283));
    expect(k.crc32c(ptr, 0)).toBe(0);
    expect(k.crc32c(ptr, 0, 0x12345678)).toBe(0x12345678);
  });

  it("equals the bitwise reference for every length 0..300 at every start offset 0..15", () => {
    const mark = k.mark();
    const data = randomBytes(300 + 16, 1);
    const base = k.alloc(data.length + 64);
    let mismatches = 0;
    for (let off = 0; off < 16; off++) {
      k.bytes().set(data, base + off);
      for (let len = 0; len <= 300; len++) {
        const want = crcBitwise(data.subarray(0, len));
        if (k.crc32c(base + off, len) !== want) mismatches++;
        if (k.maskedCrc32c(base + off, len) !== masked(want)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    k.release(mark);
  });

  it("byte-table reference agrees with the bitwise one", () => {
    const data = randomBytes(5000, 2);
    for (const n of [0, 1, 17, 999, 5000]) expect(crcBytewise(data.subarray(0, n), 0xdeadbeef)).toBe(crcBitwise(data.subarray(0, n), 0xdeadbeef));
  });

  it("equals the reference for long inputs around every strategy switch, at several alignments", () => {
    const lengths = [
      145, 146, 147, 301, 433, 434, 435, 511, 512, 513, 527, 528, 529, 767, 768, 769, 800, 1000, 1023, 1024, 1025,
      2047, 3071, 3072, 3073, 3088, 4093, 4096, 4099, 5275, 5290, 5291, 5292,
      5307, 8191, 8192, 10000, 16383, 16384, 16385, 16400, 32767, 32768, 32769, 32785, 40000, 65535, 65536, 65537,
      70816, 70817, 92160, 92167, 131072, 200003, (1 << 20) + 5,
    ];
    const mark = k.mark();
    const data = randomBytes((1 << 20) + 64, 3);
    const base = k.alloc(data.length + 64);
    const failures: string[] = [];
    for (const off of [0, 1, 3, 7, 8, 13, 15]) {
      k.bytes().set(data, base + off);
      for (const len of lengths) {
        const slice = data.subarray(0, len);
        for (const start of [0, 0x9e3779b9]) {
          const got = k.crc32c(base + off, len, start);
          const want = crcBytewise(slice, start);
          if (got !== want) failures.push(`len ${len} off ${off} start ${start.toString(16)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    k.release(mark);
  });

  it("equals the reference on structured data (zeros, ones, one set bit)", () => {
    const mark = k.mark();
    for (const len of [64, 1000, 6000, 40000, 92160]) {
      const zeros = new Uint8Array(len);
      const ones = new Uint8Array(len).fill(0xff);
      const bit = new Uint8Array(len);
      bit[len >> 1] = 0x10;
      for (const d of [zeros, ones, bit]) {
        const ptr = place(k, d, 5);
        expect(k.crc32c(ptr, len)).toBe(crcBytewise(d));
        expect(k.crc32c(ptr, len, 0xffffffff)).toBe(crcBytewise(d, 0xffffffff));
      }
    }
    k.release(mark);
  });

  it("chains: chunked calls equal one call, whatever the split points", () => {
    const mark = k.mark();
    const len = 300_000;
    const data = randomBytes(len, 4);
    const ptr = place(k, data, 3);
    const whole = k.crc32c(ptr, len);
    expect(whole).toBe(crcBytewise(data));
    const rnd = randomBytes(4096, 5);
    let r = 0;
    for (let trial = 0; trial < 40; trial++) {
      let crc = 0;
      let at = 0;
      while (at < len) {
        // chunk sizes from 0 to ~70 KB, biased to small ones and the strategy boundaries
        const pick = rnd[r++ % rnd.length];
        const size = pick < 64 ? pick : pick < 128 ? 400 + pick * 20 : pick < 192 ? 5000 + pick * 100 : pick * 277;
        const n = Math.min(size, len - at);
        crc = k.crc32c(ptr + at, n, crc);
        at += n;
      }
      expect(crc).toBe(whole);
    }
    // the 8-byte length header then the data, as a TFRecord reader chains nothing but checks both
    for (const cut of [1, 7, 8, 9, 511, 512, 767, 768, 3072, 5291, 32768, 92160, len - 1]) {
      expect(k.crc32c(ptr + cut, len - cut, k.crc32c(ptr, cut))).toBe(whole);
    }
    k.release(mark);
  });

  it("keeps no state between calls (long input, another long input, the first again)", () => {
    const mark = k.mark();
    const a = randomBytes(92160, 6);
    const b = randomBytes(70001, 7);
    const pa = place(k, a, 0);
    const pb = place(k, b, 9);
    const ra = k.crc32c(pa, a.length);
    const rb = k.crc32c(pb, b.length);
    expect(k.crc32c(pa, a.length)).toBe(ra);
    expect(k.crc32c(pb, b.length)).toBe(rb);
    expect(ra).toBe(crcBytewise(a));
    expect(rb).toBe(crcBytewise(b));
    k.release(mark);
  });

  it("never reads past the end of the input (buffer ending at the end of memory)", () => {
    const k2 = new Kernels();
    for (const len of [5, 100, 600, 1000, 3500, 6000, 40000]) {
      const data = randomBytes(len, len);
      k2.alloc(len + 64); // make sure memory is large enough, then place the data at its very end
      const end = k2.memory.buffer.byteLength;
      const ptr = end - len;
      k2.bytes().set(data, ptr);
      expect(k2.crc32c(ptr, len)).toBe(crcBytewise(data));
    }
  });

  it("two instances in use at once give independent, correct results", () => {
    const k1 = new Kernels();
    const k2 = new Kernels();
    const a = randomBytes(200_000, 8);
    const b = randomBytes(150_001, 9);
    const pa = place(k1, a, 1);
    const pb = place(k2, b, 2);
    let ca = 0;
    let cb = 0;
    const step = 40_000;
    for (let i = 0; i * step < Math.max(a.length, b.length); i++) {
      const na = Math.max(0, Math.min(step, a.length - i * step));
      const nb = Math.max(0, Math.min(step, b.length - i * step));
      ca = k1.crc32c(pa + i * step, na, ca);
      cb = k2.crc32c(pb + i * step, nb, cb);
    }
    expect(ca).toBe(crcBytewise(a));
    expect(cb).toBe(crcBytewise(b));
    expect(k1.crc32c(pa, a.length)).toBe(ca);
  });
});

describe("crc32c against python crc32c vectors", () => {
  const k = new Kernels();

  it("has the fixture", () => {
    expect(fixture.cases.length).toBeGreaterThan(20);
    expect(fixture.cases.some((c) => c.len === 4099)).toBe(true);
  });

  for (const v of fixture.cases) {
    it(`${v.name} (${v.len} bytes)`, () => {
      const data = fromHex(v.hex);
      expect(data.length).toBe(v.len);
      expect(crcBitwise(data)).toBe(v.crc);
      for (const off of [0, 1, 6]) {
        const ptr = place(k, data, off);
        expect(k.crc32c(ptr, v.len)).toBe(v.crc);
        expect(k.maskedCrc32c(ptr, v.len)).toBe(v.masked);
      }
    });
  }

  for (const g of fixture.generated) {
    it(`${g.name}`, () => {
      const data = xorshiftBytes(g.seed, g.len);
      expect(Buffer.from(data.subarray(0, 16)).toString("hex")).toBe(g.head_hex);
      const mark = k.mark();
      const ptr = place(k, data, 11);
      expect(k.crc32c(ptr, g.len)).toBe(g.crc);
      expect(k.maskedCrc32c(ptr, g.len)).toBe(g.masked);
      k.release(mark);
    });
  }

  it("verifies a TFRecord frame written with python's crc32c", () => {
    const frame = fromHex(fixture.tfrecord_frame_hex);
    const ptr = place(k, frame, 0);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const len = Number(view.getBigUint64(0, true));
    expect(k.maskedCrc32c(ptr, 8)).toBe(view.getUint32(8, true));
    expect(k.maskedCrc32c(ptr + 12, len)).toBe(view.getUint32(12 + len, true));
  });
});
