import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Kernels } from "../src/wasm.ts";
import { bytesSource } from "../src/formats/zip.ts";
import { openZip } from "../src/io/zip-codec.ts";
import { npyConvertInWasm, npzHeader } from "../src/formats/npy.ts";

const FIX = new URL("./fixtures/npz/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", FIX), "utf8"));
const openFixture = (name: string) => openZip(bytesSource(new Uint8Array(readFileSync(new URL(name, FIX)))), { file: name });
const num = (v: number | string | null) => (v === null ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "nan" ? NaN : v);

// ---- plain TypeScript references -------------------------------------------------------------

/** numpy's float64 pairwise sum of float32 input (loops_utils.h.src), in buffers of 8192. */
function pairwise(a: Float32Array, lo: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => a[lo + j]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[lo + i + j];
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[lo + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, lo, n2) + pairwise(a, lo + n2, n - n2);
}

function numpySum(a: Float32Array, lo = 0, n = a.length): number {
  let res = 0;
  for (let at = 0; at < n; at += 8192) res += pairwise(a, lo + at, Math.min(8192, n - at));
  return res;
}

interface Metrics { sum: number; max: number; nonzero: number; rows: [number, number]; cols: [number, number] }

function reference(img: Float32Array, lo: number, h: number, w: number): Metrics {
  let max = -Infinity, nonzero = 0, r0 = -1, r1 = -1, c0 = -1, c1 = -1, nan = false;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const x = img[lo + r * w + c];
      if (Number.isNaN(x)) nan = true;
      if (x > max) max = x;
      if (x !== 0) {
        nonzero++;
        if (r0 < 0) r0 = r;
        r1 = r;
        c0 = c0 < 0 ? c : Math.min(c0, c);
        c1 = Math.max(c1, c);
      }
    }
  }
  return { sum: numpySum(img, lo, h * w), max: h * w === 0 || nan ? NaN : max, nonzero, rows: [r0, r1], cols: [c0, c1] };
}

// ---- the kernel through a small wrapper ------------------------------------------------------

function runKernel(k: Kernels, src: number, n: number, h: number, w: number, dst: number): Metrics[] {
  const mark = k.mark();
  const sum = k.alloc(n * 8), max = k.alloc(n * 4), nz = k.alloc(n * 4), ext = k.alloc(n * 16);
  k.clusterImages(src, n, h, w, dst, sum, max, nz, ext);
  const buf = k.bytes().buffer;
  const s = new Float64Array(buf, sum, n), m = new Float32Array(buf, max, n), z = new Int32Array(buf, nz, n);
  const e = new Int32Array(buf, ext, 4 * n);
  const out = Array.from({ length: n }, (_, i): Metrics => ({
    sum: s[i], max: m[i], nonzero: z[i], rows: [e[i], e[n + i]], cols: [e[2 * n + i], e[3 * n + i]],
  }));
  k.release(mark);
  return out;
}

function sameMetrics(got: Metrics, want: Metrics, what: string): void {
  const ok = Object.is(got.sum, want.sum) && (Object.is(got.max, want.max) || (Number.isNaN(got.max) && Number.isNaN(want.max)))
    && got.nonzero === want.nonzero && got.rows.join() === want.rows.join() && got.cols.join() === want.cols.join();
  if (!ok) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

let seed = 99;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

function randomImages(n: number, h: number, w: number, style: "sparse" | "wide" | "special"): Float32Array {
  const a = new Float32Array(n * h * w);
  for (let i = 0; i < a.length; i++) {
    const u = rand();
    if (style === "sparse") a[i] = u < 0.05 ? Math.round(60 + rand() * 540) + rand() : 0;
    else if (style === "wide") a[i] = (rand() - 0.5) * Math.exp((rand() - 0.5) * 50);
    else a[i] = [0, -0, 1, -1, NaN, Infinity, -Infinity, 3.5e38, 1e-45, 0, 0, 0][Math.floor(u * 12)];
  }
  return a;
}

describe("clusterImages against numpy (fixtures)", () => {
  const k = new Kernels();
  const files = ["clusters_savez.npz", "clusters_compressed.npz", "clusters_w32.npz", "clusters_empty.npz", "dense_wide.npz",
    "descriptor.npz", "zip64.npz", "bigendian.npz", "fortran.npz"];
  for (const name of files) {
    for (const arr of Object.keys(expected[name].arrays).filter((a) => expected[name].arrays[a].metrics)) {
      it(`${name} ${arr}: metrics and the aligned copy, from unaligned member data`, () => {
        const want = expected[name].arrays[arr];
        const zip = openFixture(name);
        const entry = zip.entry(`${arr}.npy`)!;
        const h = npzHeader(zip, entry);
        const [n, H, W] = h.shape;
        for (const misalign of [0, 1, 2, 3, 5]) {
          const mark = k.mark();
          const base = k.alloc(entry.size + 8) + misalign;
          zip.readInto(entry, k.bytes(), base);
          let src = base + h.dataOffset;
          if (h.dtype.descr !== "<f4" || h.fortranOrder) {
            // Other byte orders and Fortran order are made native C order first.
            const tmp = k.alloc(h.count * 4);
            npyConvertInWasm(k, h, src, tmp, "f32");
            src = tmp;
          }
          const dst = k.alloc(h.count * 4);
          const got = runKernel(k, src, n, H, W, dst);
          const copy = new Float32Array(k.bytes().buffer, dst, h.count);
          // (the digest is of numpy's values in their own dtype: comparable for float32 only)
          if (h.dtype.kind === "f" && h.dtype.itemSize === 4) {
            expect(createHash("sha256").update(new Uint8Array(copy.buffer, dst, h.count * 4)).digest("hex")).toBe(want.sha256);
          }
          got.forEach((g, i) => {
            const m = want.metrics[i];
            sameMetrics(g, { sum: m.pixel_sum, max: num(m.pixel_max), nonzero: m.nonzero_pixels,
              rows: [m.first_row, m.last_row], cols: [m.first_col, m.last_col] }, `${name} image ${i}`);
          });
          // Without a copy the metrics are the same.
          const noCopy = runKernel(k, src, n, H, W, 0);
          noCopy.forEach((g, i) => sameMetrics(g, got[i], `${name} image ${i} (no copy)`));
          k.release(mark);
        }
      });
    }
  }

  it("sumF32 equals numpy's whole-array float64 sum (pairwise in 8192-element buffers)", () => {
    for (const [name, arr] of [["dense_wide.npz", "images"], ["dense_wide.npz", "big"], ["clusters_savez.npz", "images"], ["clusters_w32.npz", "images"]]) {
      const zip = openFixture(name);
      const entry = zip.entry(`${arr}.npy`)!;
      const h = npzHeader(zip, entry);
      const mark = k.mark();
      const base = k.alloc(entry.size + 4) + 3;
      zip.readInto(entry, k.bytes(), base);
      expect(k.sumF32(base + h.dataOffset, h.count)).toBe(expected[name].arrays[arr].sum);
      k.release(mark);
    }
  });
});

describe("clusterImages against the TypeScript reference", () => {
  const k = new Kernels();

  it.each([
    [3, 128, 16, "sparse"], [4, 128, 32, "sparse"], [2, 128, 16, "wide"], [2, 96, 100, "wide"], [5, 7, 5, "special"],
    [3, 13, 1, "special"], [3, 1, 37, "wide"], [2, 0, 16, "sparse"], [2, 16, 0, "sparse"], [0, 128, 16, "sparse"],
    [6, 9, 6, "special"], [2, 64, 130, "wide"],
  ] as const)("n=%i h=%i w=%i %s, src offsets 0..7, dst aligned, unaligned, absent and equal to src", (n, h, w, style) => {
    const imgs = randomImages(n, h, w, style);
    const want = Array.from({ length: n }, (_, i) => reference(imgs, i * h * w, h, w));
    for (let off = 0; off < 8; off++) {
      const mark = k.mark();
      const src = k.alloc(imgs.byteLength + 8) + off;
      k.bytes().set(new Uint8Array(imgs.buffer), src);
      for (const dstMode of ["aligned", "odd", "none", "inplace"] as const) {
        const dst = dstMode === "aligned" ? k.alloc(imgs.byteLength) : dstMode === "odd" ? k.alloc(imgs.byteLength + 4) + 2
          : dstMode === "none" ? 0 : src;
        const got = runKernel(k, src, n, h, w, dst);
        got.forEach((g, i) => sameMetrics(g, want[i], `off ${off} ${dstMode} image ${i}`));
        if (dst) expect(Buffer.compare(k.bytes().subarray(dst, dst + imgs.byteLength), new Uint8Array(imgs.buffer))).toBe(0);
      }
      k.release(mark);
    }
  });

  it("sums: wasm pairwise equals the reference for every length 0..300 and around the 8192 buffer", () => {
    const a = randomImages(1, 1, 20000, "wide");
    const mark = k.mark();
    const p = k.alloc(a.byteLength + 4) + 1;
    k.bytes().set(new Uint8Array(a.buffer), p);
    const lengths = [...Array.from({ length: 301 }, (_, i) => i), 8191, 8192, 8193, 16384, 16391, 20000];
    for (const n of lengths) expect(k.sumF32(p, n), `n=${n}`).toBe(numpySum(a, 0, n));
    k.release(mark);
  });

  it("two live instances give the same answers", () => {
    const a = new Kernels(), b = new Kernels();
    const imgs = randomImages(4, 128, 16, "wide");
    const run = (kk: Kernels) => {
      const src = kk.put(new Uint8Array(imgs.buffer));
      return runKernel(kk, src + 0, 4, 128, 16, 0);
    };
    expect(run(a)).toEqual(run(b));
  });
});

describe("npy kernels against the TypeScript reference", () => {
  const k = new Kernels();
  const codes: [string, number, number][] = [
    ["<f4", 0, 4], [">f4", 1, 4], ["<f8", 2, 8], [">f8", 3, 8], ["|i1", 4, 1], ["|u1", 5, 1], ["|b1", 6, 1],
    ["<i2", 7, 2], [">i2", 8, 2], ["<u2", 9, 2], [">u2", 10, 2], ["<i4", 11, 4], [">i4", 12, 4], ["<u4", 13, 4], [">u4", 14, 4],
    ["<i8", 15, 8], [">i8", 16, 8], ["<u8", 17, 8], [">u8", 18, 8],
  ];

  function refValue(bytes: Uint8Array, i: number, code: number, size: number): number | bigint {
    const v = new DataView(bytes.buffer, bytes.byteOffset + i * size, size);
    const le = [0, 2, 7, 9, 11, 13, 15, 17].includes(code) || size === 1;
    switch (code) {
      case 0: case 1: return v.getFloat32(0, le);
      case 2: case 3: return v.getFloat64(0, le);
      case 4: return v.getInt8(0);
      case 5: return v.getUint8(0);
      case 6: return v.getUint8(0) ? 1 : 0;
      case 7: case 8: return v.getInt16(0, le);
      case 9: case 10: return v.getUint16(0, le);
      case 11: case 12: return v.getInt32(0, le);
      case 13: case 14: return v.getUint32(0, le);
      case 15: case 16: return v.getBigInt64(0, le);
      default: return v.getBigUint64(0, le);
    }
  }

  /** Single rounding to float32 (a BigInt goes through 53 bits plus a sticky bit). */
  function toF32(x: number | bigint): number {
    if (typeof x === "number") return Math.fround(x);
    const neg = x < 0n;
    let a = neg ? -x : x;
    if (a < 2n ** 53n) return Math.fround(Number(x));
    const shift = a.toString(2).length - 53;
    const sticky = a & ((1n << BigInt(shift)) - 1n) ? 1n : 0n;
    a = (a >> BigInt(shift)) | sticky;
    return (neg ? -1 : 1) * Math.fround(Number(a) * 2 ** shift);
  }

  const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

  it.each(codes)("%s (code %i): f32, f64 and byteSwap from offsets 0..7, lengths 0..40", (_, code, size) => {
    expect(k.npyItemSize(code)).toBe(size);
    for (const n of [0, 1, 3, 4, 5, 8, 17, 40]) {
      const bytes = new Uint8Array(n * size).map(() => Math.floor(rand() * 256));
      for (let off = 0; off < 8; off++) {
        const mark = k.mark();
        const src = k.alloc(bytes.length + 8) + off;
        k.bytes().set(bytes, src);
        const d32 = k.alloc(n * 4 + 4) + (off & 1) * 2;
        const d64 = k.alloc(n * 8 + 8) + (off & 3);
        expect(k.npyToF32(src, n, code, d32)).toBe(0);
        expect(k.npyToF64(src, n, code, d64)).toBe(0);
        const mem = k.bytes();
        const v32 = new DataView(mem.buffer, d32, n * 4), v64 = new DataView(mem.buffer, d64, n * 8);
        for (let i = 0; i < n; i++) {
          const x = refValue(bytes, i, code, size);
          const w32 = toF32(x), w64 = typeof x === "bigint" ? Number(x) : x;
          if (!same(v32.getFloat32(i * 4, true), w32)) throw new Error(`code ${code} n ${n} off ${off} f32[${i}]: ${v32.getFloat32(i * 4, true)} != ${w32}`);
          if (!same(v64.getFloat64(i * 8, true), w64)) throw new Error(`code ${code} n ${n} off ${off} f64[${i}]: ${v64.getFloat64(i * 8, true)} != ${w64}`);
        }
        // byteSwap, then swapping back, restores the bytes; one swap reverses each item.
        const sw = k.alloc(bytes.length + 8) + ((off + 1) & 7);
        expect(k.byteSwap(src, n, size, sw)).toBe(0);
        const swapped = k.bytes().slice(sw, sw + bytes.length);
        for (let i = 0; i < n; i++) {
          expect(Array.from(swapped.subarray(i * size, (i + 1) * size))).toEqual(Array.from(bytes.subarray(i * size, (i + 1) * size)).reverse());
        }
        k.release(mark);
      }
    }
  });

  it("in place: f8 -> f32 and f4 -> f64 over the same region", () => {
    const vals = Float64Array.from({ length: 37 }, () => (rand() - 0.5) * 1e6);
    const mark = k.mark();
    const p = k.alloc(vals.byteLength + 8) + 4;
    k.bytes().set(new Uint8Array(vals.buffer), p);
    k.npyToF32(p, vals.length, 2, p);
    const f32 = new DataView(k.bytes().buffer, p, vals.length * 4);
    vals.forEach((v, i) => expect(f32.getFloat32(i * 4, true)).toBe(Math.fround(v)));
    k.npyToF64(p, vals.length, 0, p);
    const f64 = new DataView(k.bytes().buffer, p, vals.length * 8);
    vals.forEach((v, i) => expect(f64.getFloat64(i * 8, true)).toBe(Math.fround(v)));
    k.release(mark);
  });

  it("unknown codes and item sizes are refused", () => {
    expect(k.npyToF32(0, 0, 19, 0)).toBe(-1);
    expect(k.npyToF64(0, 0, -1, 0)).toBe(-1);
    expect(k.npyItemSize(99)).toBe(0);
    expect(k.byteSwap(0, 0, 3, 0)).toBe(-1);
    expect(k.fortranToC(0, 0, 0, 1, 3)).toBe(-1);
    expect(k.fortranToC(0, 0, 0, 65, 4)).toBe(-1);
  });

  it.each([[[5]], [[3, 4]], [[2, 3, 4]], [[4, 1, 3]], [[2, 3, 2, 5]], [[3, 0, 2]], [[1, 1]], [[7, 9, 2]]])(
    "fortranToC %j for item sizes 1, 2, 4, 8 from unaligned sources", (shape: number[]) => {
      const count = shape.reduce((a, b) => a * b, 1);
      for (const size of [1, 2, 4, 8]) {
        const src = new Uint8Array(count * size).map(() => Math.floor(rand() * 256));
        // Reference: C index (i0..ik) reads Fortran offset sum(i_j * prod(shape[<j])).
        const want = new Uint8Array(count * size);
        const idx = new Array(shape.length).fill(0);
        for (let o = 0; o < count; o++) {
          let f = 0, s = 1;
          for (let j = 0; j < shape.length; j++) { f += idx[j] * s; s *= shape[j]; }
          want.set(src.subarray(f * size, (f + 1) * size), o * size);
          for (let j = shape.length - 1; j >= 0; j--) { if (++idx[j] < shape[j]) break; idx[j] = 0; }
        }
        const mark = k.mark();
        const sp = k.alloc(src.length + 8) + 3;
        k.bytes().set(src, sp);
        const shp = k.alloc(shape.length * 4);
        new Int32Array(k.bytes().buffer, shp, shape.length).set(shape);
        const dp = k.alloc(src.length + 8) + 1;
        expect(k.fortranToC(sp, dp, shp, shape.length, size)).toBe(0);
        expect(Buffer.compare(k.bytes().subarray(dp, dp + src.length), want)).toBe(0);
        k.release(mark);
      }
    });
});

describe("the report's mean-image sums in the image kernel", () => {
  it("add each emitted image to its plane's float64 sums, bit for bit as one addition per image in row order", () => {
    const k = new Kernels();
    const h = 9, w = 13, hw = h * w;
    for (const [n, accRows] of [[1, 1], [7, 7], [23, 19], [40, 0], [16, 16]] as const) {
      const mark = k.mark();
      const images = randomImages(n, h, w, "special");
      // sparse rows and whole zero images too, so that skipped runs of zeros are exercised
      for (let i = 0; i < n; i += 3) images.fill(0, i * hw, (i + 1) * hw);
      for (let i = 1; i < images.length; i += 10) images[i] = -0;
      const planes = Int32Array.from({ length: n }, (_, i) => (i % 11 === 10 ? 7 : [0, 0, 0, 0, 0, 1, 1, 2, 0, 2][i % 10]));
      // at an address that is not 16-byte aligned, as a window of an NPZ member may be
      const src = k.alloc(images.byteLength + 4) + 4;
      k.bytes().set(new Uint8Array(images.buffer), src);
      const sum = k.alloc(n * 8), max = k.alloc(n * 4), nz = k.alloc(n * 4), ext = k.alloc(n * 16);
      const acc = k.alloc(3 * hw * 8), pl = k.put(new Uint8Array(planes.buffer));
      // start from sums that are not zero, as a later window does
      const start = Float64Array.from({ length: 3 * hw }, (_, i) => (i % 4) * 0.1);
      new Float64Array(k.bytes().buffer, acc, 3 * hw).set(start);
      k.clusterImages(src, n, h, w, 0, sum, max, nz, ext, acc, pl, accRows);
      const want = start.slice();
      for (let i = 0; i < accRows; i++) {
        if (planes[i] > 2) continue;
        for (let q = 0; q < hw; q++) want[planes[i] * hw + q] += images[i * hw + q];
      }
      const got = new Float64Array(k.bytes().buffer, acc, 3 * hw);
      for (let q = 0; q < 3 * hw; q++) if (!Object.is(got[q], want[q]) && !(Number.isNaN(got[q]) && Number.isNaN(want[q]))) throw new Error(`n ${n}: sum ${q} is ${got[q]}, want ${want[q]}`);
      // the metrics are those of the kernel without the sums
      const plain = runKernel(k, src, n, h, w, 0);
      const s = new Float64Array(k.bytes().buffer, sum, n);
      plain.forEach((m, i) => expect(Object.is(m.sum, s[i]) || (Number.isNaN(m.sum) && Number.isNaN(s[i]))).toBe(true));
      k.release(mark);
    }
  });

  it("addF32 adds images one after another, bit for bit as one float64 addition per value (zeros, NaN, infinities, tails)", () => {
    const k = new Kernels();
    for (const [rows, n] of [[0, 16], [1, 2048], [3, 37], [4, 40], [5, 8], [9, 2051]] as const) {
      const mark = k.mark();
      const images = randomImages(rows, 1, n, "special");
      for (let i = 0; i < images.length; i += 7) images.fill(0, i, i + 3);
      const src = k.put(new Uint8Array(images.buffer));
      const b = k.alloc(n * 8);
      k.bytes().fill(0, b, b + n * 8);
      for (let r = 0; r < rows; r++) k.addF32(src + r * n * 4, n, b);
      const y = new Float64Array(k.bytes().buffer, b, n);
      const ref = new Float64Array(n);
      for (let r = 0; r < rows; r++) for (let q = 0; q < n; q++) ref[q] += images[r * n + q];
      for (let q = 0; q < n; q++) {
        expect(Object.is(y[q], ref[q]) || (Number.isNaN(y[q]) && Number.isNaN(ref[q])), `rows ${rows}, value ${q}`).toBe(true);
      }
      k.release(mark);
    }
  });
});
