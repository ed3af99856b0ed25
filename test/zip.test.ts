import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { ArrowsmithError } from "../src/errors.ts";
import { catchError, EXTERNAL, HAVE_EXTERNAL, NO_EXTERNAL } from "./helpers.ts";
import { EOCD_SEARCH, bytesSource, crc32Table, type ByteSource, ZipArchive, type ZipCodec } from "../src/formats/zip.ts";
import { crc32, inflateRawInto, openZip, setInflateMode } from "../src/io/zip-codec.ts";

const FIX = new URL("./fixtures/npz/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", FIX), "utf8"));
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));
const external = (name: string) => new Uint8Array(readFileSync(join(EXTERNAL, name)));
const open = (bytes: Uint8Array, file = "t.npz", verifyCrc = true) => openZip(bytesSource(bytes), { file, verifyCrc });
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Opens the archive and reads every member; returns what it read. */
function readAll(bytes: Uint8Array, verifyCrc = true): Map<string, Uint8Array> {
  const zip = open(bytes, "t.npz", verifyCrc);
  return new Map(zip.entries.map((e) => [e.name, zip.read(e)]));
}

/** Offsets of the central directory records (and their names) in an archive. */
function centralRecords(bytes: Uint8Array): { at: number; name: string }[] {
  const zip = open(bytes);
  return zip.entries.map((e) => ({ at: e.centralOffset, name: e.name }));
}

afterEach(() => setInflateMode("auto"));

describe("crc32", () => {
  it("matches the check value and the table reference", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32Table(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    const data = new Uint8Array(100_003).map((_, i) => (i * 2654435761) >>> 24);
    for (const n of [0, 1, 7, 64, 1000, data.length]) expect(crc32(data.subarray(0, n))).toBe(crc32Table(data.subarray(0, n)));
    expect(crc32(data.subarray(500), crc32(data.subarray(0, 500)))).toBe(crc32(data));
  });
});

describe.skipIf(!HAVE_EXTERNAL)(`numpy's own archives${NO_EXTERNAL}`, () => {
  for (const name of ["numpy_py3-arr-savez.npz", "numpy_py3-arr-savez-compressed.npz"]) {
    it(`lists and reads ${name}`, () => {
      const want = JSON.parse(readFileSync(join(EXTERNAL, "EXPECTED.json"), "utf8"))[name].arrays;
      const zip = openZip(bytesSource(external(name)), { file: name });
      expect(zip.entries.map((e) => e.name).sort()).toEqual(Object.keys(want).map((k) => `${k}.npy`).sort());
      for (const e of zip.entries) {
        expect({ stored: 0, deflate: 8 }[want[e.name.slice(0, -4)].zip_method as "stored"]).toBe(e.method);
        const data = zip.read(e);
        expect(data.length).toBe(e.size);
        expect(crc32(data)).toBe(e.crc32);
        expect(Array.from(data.subarray(0, 6))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
      }
    });
  }

  it("lists the object-array sample without inflating its 102 MB member", () => {
    const zip = openZip(bytesSource(external("test_cc_bg_planeU.npz")), { file: "test_cc_bg_planeU.npz" });
    expect(zip.entries.map((e) => [e.name, e.method, e.size])).toEqual([["images.npy", 8, 102324075], ["metadata.npy", 8, 19312]]);
    const head = zip.readPrefix(zip.entries[0], 64);
    expect(head.length).toBe(64);
    expect(new TextDecoder().decode(head.subarray(10, 30))).toContain("'descr': '|O'");
  });
});

describe("fixtures written by numpy and zipfile", () => {
  const files = readdirSync(FIX).filter((f) => f.endsWith(".npz"));
  it("covers every fixture", () => expect(files.length).toBe(Object.keys(expected).length));

  for (const name of files) {
    const want = expected[name];
    if (!want.arrays) continue;
    it(`${name}: members, methods, sizes and CRCs`, () => {
      const bytes = fixture(name);
      const zip = open(bytes, name);
      expect(zip.entries.map((e) => e.name).sort()).toEqual(Object.keys(want.arrays).map((k) => `${k}.npy`).sort());
      for (const e of zip.entries) {
        expect(e.method).toBe({ stored: 0, deflate: 8 }[want.arrays[e.name.slice(0, -4)].zip_method as "stored"]);
        const direct = zip.read(e);
        setInflateMode("buffered");
        const buffered = zip.read(e);
        setInflateMode("auto");
        expect(Buffer.compare(direct, buffered)).toBe(0);
        expect(crc32(direct)).toBe(e.crc32);
        // Data starts after the local header, whose lengths differ from the central record's.
        const off = zip.dataOffset(e);
        const lv = dv(bytes.subarray(e.localHeaderOffset));
        expect(off).toBe(e.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true));
        if (e.method === 0) expect(Buffer.compare(bytes.subarray(off, off + e.size), direct)).toBe(0);
        for (const n of [0, 1, 10, 127, 128, 129, 5000, e.size, e.size + 10]) {
          expect(Buffer.compare(zip.readPrefix(e, n), direct.subarray(0, Math.min(n, e.size)))).toBe(0);
        }
      }
    });
  }

  it("reads into a caller's buffer at any offset, touching nothing else", () => {
    const zip = open(fixture("clusters_compressed.npz"));
    for (const e of zip.entries) {
      const into = new Uint8Array(e.size + 20).fill(0xa5);
      zip.readInto(e, into, 7);
      expect(Buffer.compare(into.subarray(7, 7 + e.size), zip.read(e))).toBe(0);
      expect([...into.subarray(0, 7), ...into.subarray(7 + e.size)].every((b) => b === 0xa5)).toBe(true);
      expect(() => zip.readInto(e, into, 21)).toThrow(RangeError);
    }
  });

  it("numpy's local headers carry ZIP64 extras the central records lack", () => {
    const bytes = fixture("clusters_savez.npz");
    const zip = open(bytes);
    for (const e of zip.entries) {
      // (Python >= 3.12 also writes 0xFFFFFFFF sizes there; 3.11 writes the real ones.)
      const lv = dv(bytes.subarray(e.localHeaderOffset));
      const extraAt = e.localHeaderOffset + 30 + lv.getUint16(26, true);
      expect(lv.getUint16(28, true)).toBe(20);
      expect([dv(bytes).getUint16(extraAt, true), dv(bytes).getUint16(extraAt + 2, true)]).toEqual([1, 16]);
      expect(Number(dv(bytes).getBigUint64(extraAt + 4, true))).toBe(e.size);
      expect(e.zip64).toBe(false);
    }
    expect(zip.zip64).toBe(false);
  });

  it("reads a ZIP64 end record, ZIP64 central extras and a 2,000-byte comment", () => {
    const zip = open(fixture("zip64.npz"));
    expect(zip.zip64).toBe(true);
    expect(zip.entries.every((e) => e.zip64)).toBe(true);
    expect(zip.comment.length).toBe(2000);
    expect(new TextDecoder().decode(zip.comment.subarray(0, 25))).toBe("arrowsmith zip64 fixture ");
  });

  it("reads members written with data descriptors (a stream that cannot seek)", () => {
    const zip = open(fixture("descriptor.npz"));
    expect(zip.entries.every((e) => (e.flags & 8) !== 0)).toBe(true);
    for (const e of zip.entries) expect(zip.read(e).length).toBe(e.size);
  });

  it("finds the end record behind the longest comment (65,535 bytes) and not further", () => {
    const base = fixture("versions.npz");
    const withComment = (len: number) => {
      const out = new Uint8Array(base.length + len);
      out.set(base);
      dv(out).setUint16(base.length - 2, len, true);
      out.fill(0x20, base.length);
      return out;
    };
    expect(readAll(withComment(65535)).size).toBe(3);
    expect(EOCD_SEARCH).toBe(65557);
    // Trailing bytes beyond the search window: the end record is out of reach.
    const far = new Uint8Array(base.length + 65536);
    far.set(base);
    expect(catchError(() => open(far)).code).toBe("truncated");
  });
});

describe("refusals", () => {
  it("names a member with another compression method", () => {
    const zip = open(fixture("bzip2.npz"), "bzip2.npz");
    const e = catchError(() => zip.read(zip.entries[0]));
    expect(e.code).toBe("zip");
    expect(e.message).toMatch(/bzip2\.npz.*"x\.npy" uses compression method 12 \(bzip2\).*stored \(0\) and deflate \(8\) only/);
  });

  it("refuses encrypted members", () => {
    const bytes = fixture("versions.npz");
    const { at } = centralRecords(bytes)[0];
    dv(bytes).setUint16(at + 8, dv(bytes).getUint16(at + 8, true) | 1, true);
    expect(catchError(() => readAll(bytes)).message).toMatch(/encrypted/);
  });
});

describe("corrupt archives give ArrowsmithError with the right code", () => {
  it("a flipped data byte in a stored member: member_crc, with file, offset and member", () => {
    const bytes = fixture("clusters_savez.npz");
    const zip = open(bytes);
    const e0 = zip.entries.find((e) => e.name === "metadata.npy")!;
    const off = zip.dataOffset(e0) + 200;
    bytes[off] ^= 0x10;
    const damaged = open(bytes, "batch.npz");
    const err = catchError(() => damaged.read(damaged.entry("metadata.npy")!));
    expect(err.code).toBe("member_crc");
    expect(err.file).toBe("batch.npz");
    expect(err.offset).toBe(zip.dataOffset(e0));
    expect(err.message).toMatch(/metadata\.npy/);
    // The check can be skipped (--no-verify).
    expect(readAll(bytes, false).get("metadata.npy")!.length).toBe(e0.size);
  });

  it("a flipped CRC byte in the central directory: member_crc", () => {
    const bytes = fixture("clusters_compressed.npz");
    for (const { at } of centralRecords(bytes)) {
      const copy = bytes.slice();
      copy[at + 17] ^= 0x01;
      expect(catchError(() => readAll(copy)).code).toBe("member_crc");
    }
  });

  it("a flipped byte in deflate data: compression or member_crc", () => {
    const bytes = fixture("clusters_compressed.npz");
    const zip = open(bytes);
    const e = zip.entries[0];
    for (const rel of [0, 3, 50, e.compressedSize - 1]) {
      for (const mode of ["auto", "buffered"] as const) {
        setInflateMode(mode);
        const copy = bytes.slice();
        copy[zip.dataOffset(e) + rel] ^= 0x5a;
        const err = catchError(() => { const z = open(copy); z.read(z.entries[0]); });
        expect(["compression", "member_crc"]).toContain(err.code);
      }
    }
  });

  it("a declared size larger than the file: truncated, before allocating", () => {
    const bytes = fixture("clusters_savez.npz");
    const { at, name } = centralRecords(bytes)[0];
    const copy = bytes.slice();
    dv(copy).setUint32(at + 20, 0x7fff0000, true); // compressed size
    dv(copy).setUint32(at + 24, 0x7fff0000, true); // uncompressed size
    const err = catchError(() => readAll(copy));
    expect(err.code).toBe("truncated");
    expect(err.message).toContain(name);
    expect(err.offset).toBe(at);
  });

  it("an uncompressed size deflate cannot produce: zip, before inflating", () => {
    const bytes = fixture("clusters_compressed.npz");
    const { at } = centralRecords(bytes)[0];
    dv(bytes).setUint32(at + 24, 0xfffffff0, true);
    expect(catchError(() => open(bytes)).message).toMatch(/more than deflate can produce/);
  });

  it("a stored member whose two sizes disagree: zip", () => {
    const bytes = fixture("versions.npz");
    const { at } = centralRecords(bytes)[0];
    dv(bytes).setUint32(at + 24, dv(bytes).getUint32(at + 24, true) + 1, true);
    expect(catchError(() => open(bytes)).code).toBe("zip");
  });

  for (const mode of ["direct", "buffered"] as const) {
    it(`declared size one more / one less than the deflate output: compression (${mode})`, () => {
      setInflateMode(mode);
      const bytes = fixture("clusters_compressed.npz");
      const { at } = centralRecords(bytes)[1];
      for (const delta of [1, -1]) {
        const copy = bytes.slice();
        dv(copy).setUint32(at + 24, dv(copy).getUint32(at + 24, true) + delta, true);
        const zip = open(copy);
        const err = catchError(() => zip.read(zip.entries[1]));
        expect(err.code).toBe("compression");
        expect(err.message).toMatch(delta > 0 ? /ends after/ : /more than the/);
      }
    });
  }

  it("every truncation of a file: ArrowsmithError, and a lost end record says truncated", () => {
    for (const name of ["versions.npz", "clusters_compressed.npz", "zip64.npz"]) {
      const bytes = fixture(name);
      for (let n = 0; n < bytes.length; n++) {
        const err = catchError(() => readAll(bytes.subarray(0, n)));
        expect(["truncated", "zip"]).toContain(err.code);
        if (n > 0 && n < bytes.length - 200) expect(err.code).toBe("truncated");
      }
    }
  });

  it("bad signatures and non-ZIP input", () => {
    const bytes = fixture("versions.npz");
    const zip = open(bytes);
    const local = bytes.slice();
    local[zip.entries[1].localHeaderOffset] = 0x51;
    expect(catchError(() => readAll(local))).toMatchObject({ code: "zip", offset: zip.entries[1].localHeaderOffset });
    const central = bytes.slice();
    central[zip.entries[2].centralOffset + 1] = 0;
    expect(catchError(() => readAll(central)).code).toBe("zip");
    const npy = readAll(bytes).get("v1.npy")!;
    expect(catchError(() => open(npy)).code).toBe("zip");
    expect(catchError(() => open(new Uint8Array(0)))).toMatchObject({ code: "truncated", message: expect.stringMatching(/empty file/) });
    expect(catchError(() => open(new Uint8Array(10))).code).toBe("zip");
  });

  it("a central directory pointing past the file, or overlapping its end record", () => {
    const bytes = fixture("versions.npz");
    const eocd = bytes.length - 22;
    const past = bytes.slice();
    dv(past).setUint32(eocd + 16, bytes.length, true);
    expect(catchError(() => open(past)).code).toBe("truncated");
    const count = bytes.slice();
    dv(count).setUint16(eocd + 10, 200, true);
    dv(count).setUint16(eocd + 8, 200, true);
    expect(catchError(() => open(count)).code).toBe("zip");
  });

  it("random single-byte damage never escapes as another exception", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const name of ["versions.npz", "clusters_compressed.npz", "zip64.npz", "descriptor.npz"]) {
      const bytes = fixture(name);
      for (let k = 0; k < 400; k++) {
        const copy = bytes.slice();
        const at = Math.floor(rand() * copy.length);
        copy[at] ^= 1 + Math.floor(rand() * 255);
        try {
          readAll(copy);
        } catch (e) {
          if (!(e instanceof ArrowsmithError)) throw new Error(`${name} byte ${at}: ${(e as Error).stack}`);
        }
      }
    }
  });

  it("a source that throws becomes an io error naming the file", () => {
    const bytes = fixture("versions.npz");
    const src: ByteSource = { size: bytes.length, read: () => { throw new Error("EIO: disk on fire"); } };
    expect(catchError(() => openZip(src, { file: "f.npz" }))).toMatchObject({ code: "io", file: "f.npz" });
  });
});

describe("inflateRawInto", () => {
  const plain = new Uint8Array(300_000).map((_, i) => (i % 251) ^ (i >> 9));
  const comp = new Uint8Array(deflateRawSync(plain));

  for (const mode of ["direct", "buffered"] as const) {
    it(`stops at the declared size and writes nothing past it (${mode})`, () => {
      setInflateMode(mode);
      const out = new Uint8Array(plain.length + 64).fill(7);
      inflateRawInto(comp, out, 32, plain.length);
      expect(Buffer.compare(out.subarray(32, 32 + plain.length), plain)).toBe(0);
      const small = new Uint8Array(plain.length).fill(7);
      expect(catchError(() => inflateRawInto(comp, small, 0, plain.length - 1000)).message).toMatch(/more than the/);
      expect(small[plain.length - 1]).toBe(7);
      expect(catchError(() => inflateRawInto(comp, new Uint8Array(plain.length + 1), 0, plain.length + 1)).code).toBe("compression");
      expect(catchError(() => inflateRawInto(comp.subarray(0, comp.length >> 1), new Uint8Array(plain.length), 0, plain.length)).code).toBe("compression");
      const empty = new Uint8Array(deflateRawSync(new Uint8Array(0)));
      inflateRawInto(empty, new Uint8Array(0), 0, 0);
      expect(inflateRawSync(comp).length).toBe(plain.length);
    });
  }
});

describe("ZipArchive.stream: a member front to back in pieces", () => {
  /** Streams a member in pieces of `piece` bytes and returns what came out. */
  function streamAll(zip: ZipArchive, name: string, piece: number): Uint8Array {
    const e = zip.entry(name)!;
    const s = zip.stream(e);
    const out = new Uint8Array(e.size);
    for (let at = 0; at < e.size; at += piece) s.read(Math.min(piece, e.size - at), out, at);
    s.finish();
    return out;
  }

  it("gives what a whole read gives, in any piece size, stored and deflate, with either inflater", () => {
    const files = readdirSync(FIX).filter((f) => f.endsWith(".npz") && f !== "bzip2.npz");
    expect(files.length).toBeGreaterThan(5);
    for (const mode of ["auto", "buffered"] as const) {
      setInflateMode(mode);
      for (const f of files) {
        const zip = open(fixture(f), f);
        for (const e of zip.entries) {
          const whole = zip.read(e);
          for (const piece of [1, 7, 4096, Math.max(1, e.size)]) expect(Buffer.compare(streamAll(zip, e.name, piece), whole), `${f} ${e.name} ${piece}`).toBe(0);
        }
      }
    }
  });

  it("reads members over the whole-read limit, which read() refuses", () => {
    const bytes = fixture("clusters_compressed.npz");
    const zip = openZip(bytesSource(bytes), { file: "t.npz", maxMemberSize: 100 });
    const e = zip.entries.find((x) => x.size > 100)!;
    const err = catchError(() => zip.read(e));
    expect(err.code).toBe("too_large");
    expect(err.message).toContain(e.name);
    const small = open(bytes);
    expect(Buffer.compare(streamAll(zip, e.name, 1000), small.read(small.entry(e.name)!))).toBe(0);
  });

  it("a flipped stored byte fails the CRC-32 at finish, placed at the member", () => {
    const bytes = fixture("clusters_savez.npz");
    const e0 = open(bytes).entry("metadata.npy")!;
    const at = open(bytes).dataOffset(e0);
    bytes[at + 200] ^= 0x10;
    const err = catchError(() => streamAll(open(bytes, "batch.npz"), "metadata.npy", 64));
    expect(err).toMatchObject({ code: "member_crc", file: "batch.npz", offset: at });
    // --no-verify reads it
    expect(streamAll(open(bytes, "batch.npz", false), "metadata.npy", 64).length).toBe(e0.size);
  });

  it("damaged deflate data, and sizes the stream does not have: compression or member_crc, never another exception", () => {
    const bytes = fixture("clusters_compressed.npz");
    const zip = open(bytes);
    const e = zip.entries[0];
    for (const mode of ["auto", "buffered"] as const) {
      setInflateMode(mode);
      for (const rel of [0, 3, 50, e.compressedSize - 1]) {
        const copy = bytes.slice();
        copy[zip.dataOffset(e) + rel] ^= 0x5a;
        expect(["compression", "member_crc"]).toContain(catchError(() => streamAll(open(copy), e.name, 333)).code);
      }
      // the central directory declares one byte fewer, or one more, than the stream holds
      for (const delta of [-1, 1]) {
        const copy = bytes.slice();
        dv(copy).setUint32(e.centralOffset + 24, e.size + delta, true);
        const err = catchError(() => streamAll(open(copy), e.name, 333));
        expect(err.code).toBe("compression");
        expect(err.message).toMatch(delta < 0 ? /inflates to more than/ : /ends after/);
      }
    }
  });
});

describe("the codec is the caller's", () => {
  it("reads stored and deflate members with nothing but the codec it is given (no Node, no wasm)", () => {
    const bytes = fixture("clusters_savez.npz");
    const calls = { crc: 0, whole: 0 };
    // a platform without a streaming inflater: whole-member inflation and the plain table CRC
    const codec: ZipCodec = {
      openInflater: () => undefined,
      inflateWhole: (comp, into, at, size) => { calls.whole++; into.set(inflateRawSync(comp), at); expect(size).toBe(into.length - at); },
      inflatePartial: (comp) => inflateRawSync(comp, { finishFlush: 2 }),
      crc32: (into, at, size, start) => { calls.crc++; return crc32Table(into.subarray(at, at + size), start); },
    };
    const zip = ZipArchive.open(bytesSource(bytes), { file: "t.npz", codec });
    const node = openZip(bytesSource(bytes), { file: "t.npz" });
    for (const e of zip.entries) expect(zip.read(e)).toEqual(node.read(node.entry(e.name)!));
    expect(calls.crc).toBe(zip.entries.length);
    const deflated = fixture("clusters_compressed.npz");
    const dz = ZipArchive.open(bytesSource(deflated), { file: "c.npz", codec });
    const dn = openZip(bytesSource(deflated), { file: "c.npz" });
    for (const e of dz.entries) expect(dz.read(e)).toEqual(dn.read(dn.entry(e.name)!));
    expect(calls.whole).toBe(dz.entries.length);
    // a CRC that disagrees with the central directory is the codec's to compute, the reader's to judge
    const lying = ZipArchive.open(bytesSource(bytes), { file: "t.npz", codec: { ...codec, crc32: () => 1 } });
    expect(catchError(() => lying.read(lying.entries[0])).code).toBe("member_crc");
  });
});
