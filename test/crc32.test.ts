// CRC-32 (IEEE, zlib's) kernel (assembly/crc32.ts) against a bitwise TS reference, a byte-table
// one for long inputs and node's zlib.crc32. The kernel switches strategy by length (tables below
// 384 bytes, then reductions modulo sparse multiples of P: Q8 up to 2 KiB, Q5 up to 20 KiB, Q4 up to
// 768 KiB, Q3 above, each remainder through the next) after bringing the input to a 16-byte
// boundary, so lengths straddle those points at every start offset 0..15, and chaining is checked
// across the switches. Also: the ZIP member check's use of it (src/io/zip-codec.ts memberCrc32).
import { readFileSync } from "node:fs";
import zlib from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { bytesSource } from "../src/formats/zip.ts";
import { crc32 as zipCrc32, memberCrc32, openZip } from "../src/io/zip-codec.ts";
import { kernels, Kernels } from "../src/wasm.ts";

const POLY = 0xedb88320;

/** Bit-at-a-time CRC-32 (the definition, reflected). */
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

/** Byte-at-a-time CRC-32 (checked against the bitwise one below), for long inputs. */
function crcBytewise(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = BYTE_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const zcrc = (data: Uint8Array, crc = 0) => zlib.crc32(data, crc) >>> 0;

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

/** Copies `data` into `k`'s memory at an address congruent to `offset` mod 64; returns the pointer. */
function place(k: Kernels, data: Uint8Array, offset: number): number {
  const ptr = k.alloc(data.length + 64) + offset;
  k.bytes().set(data, ptr);
  return ptr;
}

// Where the strategy changes (before the up-to-15-byte alignment prefix) and the remainders.
const SWITCHES = [384, 2048, 20480, 786432];
const RESTS = [109, 300, 3006, 91639];

describe("crc32 kernel", () => {
  const k = new Kernels();

  it("matches the check value, and zero-length calls return the start value", () => {
    const data = new TextEncoder().encode("123456789");
    const ptr = k.put(data);
    expect(k.crc32(ptr, data.length)).toBe(0xcbf43926);
    expect(crcBitwise(data)).toBe(0xcbf43926);
    expect(zcrc(data)).toBe(0xcbf43926);
    expect(k.crc32(ptr, 0)).toBe(0);
    expect(k.crc32(ptr, 0, 0x12345678)).toBe(0x12345678);
    expect(k.crc32(ptr, 0, 0xffffffff)).toBe(0xffffffff);
  });

  it("references agree: bitwise, byte table and zlib.crc32", () => {
    const data = randomBytes(5000, 2);
    for (const n of [0, 1, 17, 999, 5000]) {
      for (const start of [0, 0xdeadbeef]) {
        const want = crcBitwise(data.subarray(0, n), start);
        expect(crcBytewise(data.subarray(0, n), start)).toBe(want);
        expect(zcrc(data.subarray(0, n), start)).toBe(want);
      }
    }
  });

  it("equals the bitwise reference and zlib for every length 0..600 at every start offset 0..15", () => {
    const mark = k.mark();
    const data = randomBytes(600 + 16, 1);
    const base = k.alloc(data.length + 64);
    const want = Array.from({ length: 601 }, (_, len) => crcBitwise(data.subarray(0, len)));
    const failures: string[] = [];
    for (let off = 0; off < 16; off++) {
      k.bytes().set(data, base + off);
      for (let len = 0; len <= 600; len++) {
        if (zcrc(data.subarray(0, len)) !== want[len]) failures.push(`zlib len ${len}`);
        if (k.crc32(base + off, len) !== want[len]) failures.push(`len ${len} off ${off}`);
        const start = (len * 0x9e3779b9) >>> 0;
        if (k.crc32(base + off, len, start) !== crcBitwise(data.subarray(0, len), start)) failures.push(`len ${len} off ${off} start`);
      }
    }
    expect(failures).toEqual([]);
    k.release(mark);
  });

  it("equals the references around every strategy switch and remainder size, at every start offset", () => {
    const lengths = new Set<number>();
    for (const s of SWITCHES) for (let d = -17; d <= 17; d++) lengths.add(s + d);
    for (const r of RESTS) for (const extra of [16, 17, 31, 32, 33, 47, 48, 63, 64]) lengths.add(r + extra);
    for (const r of RESTS) lengths.add(2 * r + 32).add(2 * r + 47).add(3 * r);
    for (const n of [1000, 4096, 8191, 16384, 32768, 65536, 92160, 92167, 131072, 131073, 262144, 300001, 1 << 20]) lengths.add(n);
    const sorted = [...lengths].filter((n) => n >= 0).sort((a, b) => a - b);
    const mark = k.mark();
    const data = randomBytes(sorted[sorted.length - 1] + 16, 3);
    const base = k.alloc(data.length + 64);
    const failures: string[] = [];
    for (let off = 0; off < 16; off++) {
      k.bytes().set(data, base + off);
      for (const len of sorted) {
        const slice = data.subarray(0, len);
        for (const start of [0, 0x9e3779b9]) {
          if (k.crc32(base + off, len, start) !== zcrc(slice, start)) failures.push(`len ${len} off ${off} start ${start.toString(16)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // the byte-table reference too, at a few of them
    for (const len of [383, 384, 2048, 20480, 92160, 786447]) expect(k.crc32(base + 15, len)).toBe(crcBytewise(data.subarray(0, len)));
    k.release(mark);
  });

  it("equals zlib on 1 MB and 8 MB of random data at every start offset 0..15", () => {
    const mark = k.mark();
    for (const len of [1 << 20, 8 << 20]) {
      const data = randomBytes(len + 16, len);
      const base = k.alloc(data.length + 64);
      const failures: string[] = [];
      for (let off = 0; off < 16; off++) {
        k.bytes().set(data, base + off);
        const slice = data.subarray(0, len);
        if (k.crc32(base + off, len) !== zcrc(slice)) failures.push(`len ${len} off ${off}`);
        if (k.crc32(base + off, len, 0xffffffff) !== zcrc(slice, 0xffffffff)) failures.push(`len ${len} off ${off} start ffffffff`);
      }
      expect(failures).toEqual([]);
      k.bytes().set(data, base);
      expect(k.crc32(base, len)).toBe(crcBytewise(data.subarray(0, len)));
    }
    k.release(mark);
  });

  it("equals zlib at random lengths and offsets", () => {
    const mark = k.mark();
    const data = randomBytes(1_200_000, 11);
    const base = place(k, data, 0);
    const rnd = randomBytes(4 * 400, 12);
    const dv = new DataView(rnd.buffer);
    const failures: string[] = [];
    for (let t = 0; t < 400; t++) {
      const x = dv.getUint32(4 * t, true);
      const at = x % 4096;
      // lengths spread over every range: up to 1 KB, 64 KB and 1.19 MB
      const len = t % 3 === 0 ? x % 1024 : t % 3 === 1 ? (x >>> 12) % 65536 : (x >>> 8) % (data.length - 4096);
      if (k.crc32(base + at, len) !== zcrc(data.subarray(at, at + len))) failures.push(`at ${at} len ${len}`);
    }
    expect(failures).toEqual([]);
    k.release(mark);
  });

  it("equals the reference on structured data (zeros, ones, one set bit)", () => {
    const mark = k.mark();
    for (const len of [64, 500, 3000, 40000, 92160, 1 << 20]) {
      const zeros = new Uint8Array(len);
      const ones = new Uint8Array(len).fill(0xff);
      const bit = new Uint8Array(len);
      bit[len >> 1] = 0x10;
      const first = new Uint8Array(len);
      first[0] = 1;
      const last = new Uint8Array(len);
      last[len - 1] = 0x80;
      for (const d of [zeros, ones, bit, first, last]) {
        const ptr = place(k, d, 5);
        expect(k.crc32(ptr, len)).toBe(zcrc(d));
        expect(k.crc32(ptr, len, 0xffffffff)).toBe(zcrc(d, 0xffffffff));
      }
    }
    k.release(mark);
  });

  it("chains: chunked calls equal one call, whatever the split points", () => {
    const mark = k.mark();
    const len = 2_500_000;
    const data = randomBytes(len, 4);
    const ptr = place(k, data, 3);
    const whole = k.crc32(ptr, len);
    expect(whole).toBe(zcrc(data));
    const rnd = randomBytes(4096, 5);
    let r = 0;
    for (let trial = 0; trial < 12; trial++) {
      let crc = 0;
      let at = 0;
      while (at < len) {
        // chunk sizes from 0 to ~1 MB, biased to small ones and the strategy boundaries
        const pick = rnd[r++ % rnd.length];
        const size = pick < 48 ? pick : pick < 112 ? 300 + pick * 20 : pick < 176 ? 15000 + pick * 100 : pick < 240 ? pick * 1000 : pick * 4000;
        const n = Math.min(size, len - at);
        crc = k.crc32(ptr + at, n, crc);
        at += n;
      }
      expect(crc).toBe(whole);
    }
    for (const cut of [1, 7, 8, 9, 15, 16, 383, 384, 2047, 2048, 20480, 92160, 786432, 1_000_000, len - 786432, len - 1]) {
      expect(k.crc32(ptr + cut, len - cut, k.crc32(ptr, cut))).toBe(whole);
    }
    k.release(mark);
  });

  it("keeps no state between calls (long input, another long input, the first again)", () => {
    const mark = k.mark();
    const a = randomBytes(1_000_003, 6);
    const b = randomBytes(92160, 7);
    const pa = place(k, a, 0);
    const pb = place(k, b, 9);
    const ra = k.crc32(pa, a.length);
    const rb = k.crc32(pb, b.length);
    expect(k.crc32(pa, a.length)).toBe(ra);
    expect(k.crc32(pb, b.length)).toBe(rb);
    expect(ra).toBe(zcrc(a));
    expect(rb).toBe(zcrc(b));
    k.release(mark);
  });

  it("does not disturb crc32c (the two kernels' scratch is apart)", () => {
    const mark = k.mark();
    const a = randomBytes(1 << 20, 13);
    const pa = place(k, a, 1);
    const c1 = k.crc32c(pa, a.length);
    const z1 = k.crc32(pa, a.length);
    expect(k.crc32c(pa, a.length)).toBe(c1);
    expect(k.crc32(pa, a.length)).toBe(z1);
    expect(z1).toBe(zcrc(a));
    k.release(mark);
  });

  it("never reads past the end of the input (buffer ending at the end of memory)", () => {
    const k2 = new Kernels();
    for (const len of [5, 100, 400, 1000, 2100, 6000, 40000, 800_000]) {
      const data = randomBytes(len, len);
      k2.alloc(len + 64); // make sure memory is large enough, then place the data at its very end
      const end = k2.memory.buffer.byteLength;
      const ptr = end - len;
      k2.bytes().set(data, ptr);
      expect(k2.crc32(ptr, len)).toBe(zcrc(data));
    }
  });

  it("two instances in use at once give independent, correct results", () => {
    const k1 = new Kernels();
    const k2 = new Kernels();
    const a = randomBytes(3_000_000, 8);
    const b = randomBytes(2_000_001, 9);
    const pa = place(k1, a, 1);
    const pb = place(k2, b, 2);
    let ca = 0;
    let cb = 0;
    const step = 900_000;
    for (let i = 0; i * step < Math.max(a.length, b.length); i++) {
      const na = Math.max(0, Math.min(step, a.length - i * step));
      const nb = Math.max(0, Math.min(step, b.length - i * step));
      ca = k1.crc32(pa + i * step, na, ca);
      cb = k2.crc32(pb + i * step, nb, cb);
    }
    expect(ca).toBe(zcrc(a));
    expect(cb).toBe(zcrc(b));
    expect(k1.crc32(pa, a.length)).toBe(ca);
    expect(k2.crc32(pb, b.length)).toBe(cb);
  });
});

describe("ZIP member check (memberCrc32)", () => {
  it("equals zip.ts crc32 for data in JS memory (through a copy) and in wasm memory (in place)", () => {
    const k = kernels();
    for (const len of [0, 100, 4095, 4096, 100_000, 262_144, 262_145, 3_000_000]) {
      const data = randomBytes(len + 7, len + 1);
      expect(memberCrc32(data, 7, len)).toBe(zipCrc32(data.subarray(7)));
      const mark = k.mark();
      const ptr = place(k, data.subarray(7), 3);
      const top = k.mark();
      expect(memberCrc32(k.bytes(), ptr, len)).toBe(zcrc(data.subarray(7)));
      expect(k.mark()).toBe(top); // the copy path gives its scratch back
      k.release(mark);
    }
  });

  it("uses the kernel in place for members read into wasm memory, and still catches a flipped byte", () => {
    const bytes = new Uint8Array(readFileSync(new URL("./fixtures/npz/clusters_savez.npz", import.meta.url)));
    const k = kernels();
    const zip = openZip(bytesSource(bytes), { file: "t.npz" });
    const entry = zip.entries.reduce((a, b) => (b.size > a.size ? b : a));
    expect(entry.size).toBeGreaterThanOrEqual(4096);
    const mark = k.mark();
    const spy = vi.spyOn(k, "crc32");
    try {
      const at = k.alloc(entry.size + 64) + 5;
      zip.readInto(entry, k.bytes(), at);
      expect(spy).toHaveBeenCalledWith(at, entry.size, 0);
      expect(zcrc(k.bytes().subarray(at, at + entry.size))).toBe(entry.crc32);
      const off = zip.dataOffset(entry) + (entry.size >> 1);
      bytes[off] ^= 0x20;
      const damaged = openZip(bytesSource(bytes), { file: "t.npz" });
      expect(() => damaged.readInto(damaged.entries[entry.index], k.bytes(), at)).toThrow(expect.objectContaining({ code: "member_crc" }));
      expect(() => damaged.read(damaged.entries[entry.index])).toThrow(expect.objectContaining({ code: "member_crc" }));
    } finally {
      spy.mockRestore();
      k.release(mark);
    }
  });
});
