import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ArrowsmithError } from "../src/errors.ts";
import { catchError, EXTERNAL, HAVE_EXTERNAL, NO_EXTERNAL } from "./helpers.ts";
import { Kernels } from "../src/wasm.ts";
import { bytesSource } from "../src/formats/zip.ts";
import { openZip } from "../src/io/zip-codec.ts";
import {
  NPY_CODES, npyConvertInWasm, npyFloat32, npyFloat64, npyHeaderLength, npyValues, npzArrays, npzContext, npzHeader,
  parseNpyHeader, readNpzArray, type NpyHeader,
} from "../src/formats/npy.ts";

const FIX = new URL("./fixtures/npz/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", FIX), "utf8"));
const EXPECTED_EXT = HAVE_EXTERNAL ? JSON.parse(readFileSync(join(EXTERNAL, "EXPECTED.json"), "utf8")) : {};
const openFixture = (name: string) => openZip(bytesSource(new Uint8Array(readFileSync(new URL(name, FIX)))), { file: name });
const openExternal = (name: string) => openZip(bytesSource(new Uint8Array(readFileSync(join(EXTERNAL, name)))), { file: name });

/** JSON's stand-ins for non-finite floats. */
const num = (v: number | string) => (v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "nan" ? NaN : (v as number));

/** An .npy file: magic, version, header text padded as numpy pads it, then data. */
function npy(header: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const lenBytes = major === 1 ? 2 : 4;
  let text = header;
  while ((8 + lenBytes + text.length + 1) % 64) text += " ";
  text += "\n";
  const out = new Uint8Array(8 + lenBytes + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, text.length, true);
  else v.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[8 + lenBytes + i] = text.charCodeAt(i);
  out.set(data, 8 + lenBytes + text.length);
  return out;
}

/** The values' bytes as numpy's canonical (C order, little-endian, bool 0/1) form. */
function canonicalBytes(v: ReturnType<typeof npyValues>): Uint8Array {
  if (Array.isArray(v)) throw new Error("strings have no canonical bytes here");
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function expectValues(v: ReturnType<typeof npyValues>, h: NpyHeader, want: unknown[]): void {
  expect(v.length).toBe(want.length);
  const k = h.dtype.kind;
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (k === "S") expect(Buffer.from(v[i] as Uint8Array).toString("hex")).toBe(w);
    else if (k === "U") expect(v[i]).toBe(w);
    else if (h.dtype.itemSize === 8 && k !== "f") expect((v[i] as bigint).toString()).toBe(w);
    else expect(Object.is(v[i], num(w as number))).toBe(true);
  }
}

describe.skipIf(!HAVE_EXTERNAL)(`numpy's sample files (external, read in place)${NO_EXTERNAL}`, () => {
  for (const name of ["numpy_py3-arr-savez.npz", "numpy_py3-arr-savez-compressed.npz"]) {
    it(name, () => {
      const want = EXPECTED_EXT[name].arrays;
      const zip = openExternal(name);
      const arrays = npzArrays(zip);
      expect(arrays.map((a) => a.name).sort()).toEqual(Object.keys(want).sort());
      for (const a of arrays) {
        const w = want[a.name];
        expect(a.header.dtype.descr).toBe(w.dtype);
        expect(a.header.shape).toEqual(w.shape);
        expect(a.header.fortranOrder).toBe(w.fortran_order);
        expect(a.entry.method).toBe(w.zip_method === "stored" ? 0 : 8);
        const { values } = readNpzArray(zip, a.name);
        if (a.name === "x") {
          expect(values).toBeInstanceOf(BigInt64Array);
          expect(Array.from(values as BigInt64Array, Number)).toEqual((w.values as number[][]).flat());
        } else {
          expect(a.header.dtype).toMatchObject({ kind: "U", chars: 3, itemSize: 12, name: "str96" });
          expect(values).toEqual([w.values]);
        }
      }
    });
  }

  it("test_cc_bg_planeU.npz: object arrays are refused, from the header alone", () => {
    // every read of the file is logged, to show how little of each member is touched
    const data = new Uint8Array(readFileSync(join(EXTERNAL, "test_cc_bg_planeU.npz")));
    const inner = bytesSource(data);
    const reads: [number, number][] = [];
    const zip = openZip({ size: inner.size, read: (o, n, into, at) => { reads.push([o, n]); inner.read(o, n, into, at); } }, { file: "test_cc_bg_planeU.npz" });
    reads.length = 0; // the central directory's reads are not member data
    const want = EXPECTED_EXT["test_cc_bg_planeU.npz"].arrays;
    for (const entry of zip.entries) {
      const err = catchError(() => npzHeader(zip, entry));
      expect(err.code).toBe("refused");
      expect(err.file).toBe("test_cc_bg_planeU.npz");
      expect(err.message).toContain(entry.name);
      expect(err.message).toMatch(/object array \(dtype '\|O'\): reading it needs pickle/);
      expect(want[entry.name.slice(0, -4)].must_refuse).toMatch(/pickle/);
    }
    expect(catchError(() => npzArrays(zip)).code).toBe("refused");
    expect(catchError(() => readNpzArray(zip, "images")).code).toBe("refused");
    // The 102 MB member is never inflated: of each member's deflated bytes, only the first piece
    // that holds the .npy header is read.
    const images = zip.entry("images.npy")!;
    expect(images.size).toBeGreaterThan(100e6);
    for (const entry of zip.entries) {
      const start = zip.dataOffset(entry), end = start + entry.compressedSize;
      const touched = reads.reduce((a, [o, n]) => a + Math.max(0, Math.min(end, o + n) - Math.max(start, o)), 0);
      expect(touched).toBeGreaterThan(0);
      expect(touched).toBeLessThanOrEqual(Math.min(4096, entry.compressedSize) * 3);
    }
  });
});

describe("fixtures: every value as numpy reads it", () => {
  const files = readdirSync(FIX).filter((f) => f.endsWith(".npz") && expected[f].arrays);
  for (const name of files) {
    it(name, () => {
      const zip = openFixture(name);
      const want = expected[name].arrays;
      const arrays = npzArrays(zip);
      expect(arrays.map((a) => a.name).sort()).toEqual(Object.keys(want).sort());
      for (const a of arrays) {
        const w = want[a.name];
        const { header: h, values } = readNpzArray(zip, a.name);
        expect(h).toEqual(a.header);
        expect(h.dtype.descr).toBe(w.descr);
        expect(h.shape).toEqual(w.shape);
        expect(h.fortranOrder).toBe(w.fortran_order);
        expect(h.count).toBe(w.shape.reduce((x: number, y: number) => x * y, 1));
        expect(h.dataOffset + h.byteLength).toBe(a.entry.size);
        if (w.values) expectValues(values, h, w.values);
        if (h.dtype.kind !== "U" && h.dtype.kind !== "S") {
          expect(createHash("sha256").update(canonicalBytes(values)).digest("hex")).toBe(w.sha256);
          const bytes = zip.read(a.entry);
          if (w.as_f32) {
            const f32 = npyFloat32(h, bytes);
            expect(Array.from(f32)).toEqual(w.as_f32.map(num));
          }
          const f64 = npyFloat64(h, bytes);
          if (w.nonzero) {
            const nz: [number, number][] = [];
            f64.forEach((x, i) => x !== 0 && nz.push([i, x]));
            expect(nz).toEqual(w.nonzero);
          }
          for (const [i, x] of w.samples ?? []) {
            if (h.dtype.itemSize === 8 && h.dtype.kind !== "f") expect(String((values as BigInt64Array)[i])).toBe(x);
            else expect(Object.is((values as Float64Array)[i], num(x))).toBe(true);
          }
        }
      }
    });
  }

  it("bool bytes other than 0 and 1 read as true (1)", () => {
    const { values } = readNpzArray(openFixture("dtypes.npz"), "b1raw");
    expect(Array.from(values as Uint8Array)).toEqual([0, 1, 1, 1]);
  });

  it("int64 to float32 rounds once (2^60 + 2^36 + 1 -> 2^60 + 2^37), as numpy's astype", () => {
    const zip = openFixture("dtypes.npz");
    const entry = zip.entry("i8.npy")!;
    const bytes = zip.read(entry);
    const f32 = npyFloat32(parseNpyHeader(bytes), bytes);
    expect(f32[6]).toBe(2 ** 60 + 2 ** 37);
    expect(f32[7]).toBe(-(2 ** 60 + 2 ** 37));
    expect(Math.fround(Number(2n ** 60n + 2n ** 36n + 1n))).toBe(2 ** 60); // what double rounding gives
  });

  it("refuses object arrays and pickles inside archives; names the member", () => {
    for (const name of ["object.npz", "pickle.npz"]) {
      const zip = openFixture(name);
      const { member, code } = expected[name].refuse;
      const err = catchError(() => npzArrays(zip));
      expect(err.code).toBe(code);
      expect(err.message).toContain(member);
      expect(err.message).toMatch(/pickle/);
      expect(err.hint).toMatch(/never unpickles/);
    }
    // The numeric member beside the object array still reads.
    const zip = openFixture("object.npz");
    expect(Array.from(readNpzArray(zip, "ok").values as Float32Array)).toEqual([0, 1, 2]);
  });
});

describe("damage", () => {
  it("random byte damage to archives gives values or ArrowsmithError, never another exception", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const name of ["dtypes.npz", "fortran.npz", "versions.npz", "clusters_compressed.npz"]) {
      const bytes = new Uint8Array(readFileSync(new URL(name, FIX)));
      for (let k = 0; k < 300; k++) {
        const copy = bytes.slice();
        // Aim at headers half the time: the first 256 bytes of each member hold the .npy header.
        const at = rand() < 0.5 ? Math.floor(rand() * copy.length) : Math.floor(rand() * Math.min(copy.length, 600));
        copy[at] ^= 1 + Math.floor(rand() * 255);
        try {
          // Without the CRC check half the time, so damaged headers reach the parser.
          const zip = openZip(bytesSource(copy), { file: name, verifyCrc: k % 2 === 0 });
          for (const a of npzArrays(zip)) {
            const { header, values } = readNpzArray(zip, a.name);
            if (!Array.isArray(values) && header.dtype.kind !== "b") npyFloat64(header, zip.read(a.entry));
          }
        } catch (e) {
          if (!(e instanceof ArrowsmithError)) throw new Error(`${name} byte ${at}: ${(e as Error).stack}`);
        }
      }
    }
  });
});

describe("header parsing", () => {
  const f4 = (n: number) => new Uint8Array(new Float32Array(n).map((_, i) => i + 0.5).buffer);

  it("reads numpy's 1.0 header and reports where the data starts", () => {
    const b = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4(6));
    const h = parseNpyHeader(b);
    expect(h).toMatchObject({ version: "1.0", shape: [2, 3], fortranOrder: false, count: 6, dataOffset: 128, byteLength: 24 });
    expect(h.dtype).toMatchObject({ descr: "<f4", kind: "f", itemSize: 4, bigEndian: false, name: "float32", code: NPY_CODES["<f4"] });
    expect(npyHeaderLength(b.subarray(0, 10))).toBe(128);
    expect(Array.from(npyFloat32(h, b))).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
  });

  it("accepts 2.0 and 3.0 lengths, Python 2 longs, u'' strings, double quotes, scalars", () => {
    expect(parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4(3), 2)).version).toBe("2.0");
    expect(parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4(3), 3)).version).toBe("3.0");
    expect(parseNpyHeader(npy("{u'descr': u'<f4', 'fortran_order': False, 'shape': (1L, 3L), }", f4(3))).shape).toEqual([1, 3]);
    expect(parseNpyHeader(npy('{"descr": "<f4", "fortran_order": False, "shape": (3,)}', f4(3))).shape).toEqual([3]);
    expect(parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f4(1)))).toMatchObject({ shape: [], count: 1 });
    expect(parseNpyHeader(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 7), }"))).toMatchObject({ count: 0, byteLength: 0 });
    expect(parseNpyHeader(npy("{'descr': '=f4', 'fortran_order': False, 'shape': (1,), }", f4(1))).dtype.descr).toBe("<f4");
    expect(parseNpyHeader(npy("{'descr': '>u1', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(1))).dtype).toMatchObject({ descr: "|u1", bigEndian: false });
  });

  it("knows every dtype the design lists (and i1, > ints, U, S)", () => {
    const sizes: Record<string, number> = {
      "<f4": 4, "<f8": 8, ">f4": 4, ">f8": 8, "|b1": 1, "|u1": 1, "|i1": 1, "<i2": 2, "<i4": 4, "<i8": 8, "<u2": 2, "<u4": 4, "<u8": 8,
      ">i2": 2, ">i4": 4, ">i8": 8, ">u2": 2, ">u4": 4, ">u8": 8, "<U3": 12, ">U2": 8, "|S5": 5,
    };
    for (const [descr, size] of Object.entries(sizes)) {
      const h = parseNpyHeader(npy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (2,), }`, new Uint8Array(2 * size)));
      expect(h.dtype.descr).toBe(descr);
      expect(h.dtype.itemSize).toBe(size);
      expect(h.dtype.code).toBe(NPY_CODES[descr]);
    }
  });

  it("refuses object arrays and pickles with code refused, nothing executed", () => {
    for (const descr of ["|O", "O", "<O8"]) {
      const err = catchError(() => parseNpyHeader(npy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (2,), }`)));
      expect(err.code).toBe("refused");
      expect(err.message).toMatch(/needs pickle/);
    }
    const structured = npy("{'descr': [('a', '<f4'), ('b', '|O')], 'fortran_order': False, 'shape': (2,), }");
    expect(catchError(() => parseNpyHeader(structured)).code).toBe("refused");
    const pickle = Uint8Array.of(0x80, 0x04, 0x95, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x4b, 1, 0x2e);
    expect(catchError(() => parseNpyHeader(pickle))).toMatchObject({ code: "refused", message: expect.stringMatching(/pickle/) });
    // A header that looks like code is just a parse error.
    const code = npy("{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (1,), }");
    expect(catchError(() => parseNpyHeader(code)).code).toBe("npy");
  });

  it("names what it does not support (code npy)", () => {
    const bad: [string, RegExp][] = [
      ["{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", /float16/],
      ["{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", /complex/],
      ["{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,), }", /datetime/],
      ["{'descr': '|V8', 'fortran_order': False, 'shape': (2,), }", /void/],
      ["{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", /structured/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", /keys/],
      ["{'descr': '<f4', 'shape': (2,), }", /keys/],
      ["{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", /fortran_order/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", /not a tuple/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", /non-negative/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,), }", /floats/],
      ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", /twice/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", /unexpected end|expected/],
      ["['descr']", /not a dict/],
      [`{'descr': '<f4', 'fortran_order': False, 'shape': ${"(".repeat(200)}1${")".repeat(200)}, }`, /too deep/],
    ];
    for (const [text, re] of bad) {
      const err = catchError(() => parseNpyHeader(npy(text, new Uint8Array(8))));
      expect(err.code, text).toBe("npy");
      expect(err.message, text).toMatch(re);
    }
  });

  it("checks magic, version and sizes", () => {
    const good = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4(3));
    const magic = good.slice();
    magic[1] = 0x4f;
    expect(catchError(() => parseNpyHeader(magic))).toMatchObject({ code: "npy", message: expect.stringMatching(/bad magic/), offset: 1 });
    const version = good.slice();
    version[6] = 4;
    expect(catchError(() => parseNpyHeader(version)).message).toMatch(/version 4\.0/);
    expect(catchError(() => parseNpyHeader(good.subarray(0, good.length - 1))).code).toBe("truncated");
    expect(catchError(() => parseNpyHeader(good.subarray(0, 40))).code).toBe("truncated");
    expect(catchError(() => parseNpyHeader(good.subarray(0, 5))).code).toBe("truncated");
    const extra = new Uint8Array(good.length + 4);
    extra.set(good);
    expect(catchError(() => parseNpyHeader(extra)).message).toMatch(/12 data bytes, but 16 follow/);
    // Header-only parse against the member's full length.
    expect(parseNpyHeader(good.subarray(0, 128), {}, good.length).byteLength).toBe(12);
    const huge = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }");
    expect(catchError(() => parseNpyHeader(huge)).code).toBe("npy");
  });

  it("places errors: file, member and file offset for stored members", () => {
    const zip = openFixture("dtypes.npz");
    const entry = zip.entry("f4.npy")!;
    const ctx = npzContext(zip, entry);
    const bytes = zip.read(entry);
    bytes[0] = 0;
    const err = catchError(() => parseNpyHeader(bytes, ctx));
    expect(err).toMatchObject({ code: "npy", file: "dtypes.npz", offset: zip.dataOffset(entry) });
    expect(err.message).toContain('"f4.npy"');
  });

  it("transposes Fortran order, strings included", () => {
    const zip = openFixture("fortran.npz");
    expect(Array.from(readNpzArray(zip, "f4").values as Float32Array)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(Array.from(readNpzArray(zip, "be").values as Int32Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(readNpzArray(zip, "u2").values).toEqual(["a", "bc", "def", ""]);
  });
});

describe("conversion in wasm memory", () => {
  const k = new Kernels();

  const cases: [string, string][] = [];
  for (const name of ["dtypes.npz", "bigendian.npz", "fortran.npz", "versions.npz", "dense_wide.npz", "clusters_compressed.npz"]) {
    for (const [arr, w] of Object.entries(expected[name].arrays as Record<string, { descr: string }>)) {
      if (NPY_CODES[w.descr] !== undefined) cases.push([name, arr]);
    }
  }

  it.each(cases)("%s %s: f32 and f64 from any alignment match the JS readers", (name, arr) => {
    const zip = openFixture(name);
    const entry = zip.entry(`${arr}.npy`)!;
    const h = npzHeader(zip, entry);
    const bytes = zip.read(entry);
    for (const misalign of [0, 1, 3, 6]) {
      const mark = k.mark();
      const base = k.alloc(entry.size + 8) + misalign;
      zip.readInto(entry, k.bytes(), base);
      const src = base + h.dataOffset;
      const d32 = k.alloc(h.count * 4);
      npyConvertInWasm(k, h, src, d32, "f32");
      const got32 = new Float32Array(k.bytes().buffer, d32, h.count).slice();
      const d64 = k.alloc(h.count * 8);
      npyConvertInWasm(k, h, src, d64, "f64");
      const got64 = new Float64Array(k.bytes().buffer, d64, h.count).slice();
      k.release(mark);
      const want32 = npyFloat32(h, bytes);
      const want64 = npyFloat64(h, bytes);
      for (let i = 0; i < h.count; i++) {
        if (!Object.is(got32[i], want32[i])) throw new Error(`${name} ${arr} f32[${i}] ${got32[i]} != ${want32[i]}`);
        if (!Object.is(got64[i], want64[i])) throw new Error(`${name} ${arr} f64[${i}] ${got64[i]} != ${want64[i]}`);
      }
    }
  });

  it("refuses string dtypes", () => {
    const zip = openFixture("dtypes.npz");
    const h = npzHeader(zip, zip.entry("u3.npy")!);
    expect(catchError(() => npyConvertInWasm(k, h, 0, 0)).code).toBe("npy");
  });
});
