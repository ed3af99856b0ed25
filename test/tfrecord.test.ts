// TFRecord framing and tf.train.Example decoding: the wire-format fixture (Google protobuf: packed
// and unpacked lists, full-range and negative int64s, map entries in any order, unknown fields),
// corrupt and truncated files, and compression detection.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync, deflateSync } from "node:zlib";
import { Schema } from "apache-arrow";
import { describe, expect, it, vi } from "vitest";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { decodeExample } from "../src/formats/example.ts";
import { frameRecords, maskCrc, type Frame } from "../src/formats/tfrecord.ts";
import { detectCompression, stripCompressionSuffix } from "../src/formats/compression.ts";
import { detectTFRecordCompression, maskedCrcOf } from "../src/sources.ts";
import { kernels } from "../src/wasm.ts";
import { verifyTFRecord } from "../src/inspect.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const k = kernels();
const crc = JSON.parse(readFileSync(join(FIXTURES, "tfrecord/crc.json"), "utf8"));
const wireExpected = JSON.parse(readFileSync(join(FIXTURES, "tfrecord/expected.json"), "utf8"))["wire.tfrecord"];

function frames(bytes: Uint8Array, verify = true): Frame[] {
  const out: Frame[] = [];
  const ptr = k.put(bytes);
  frameRecords(bytes, 0, bytes.length, true, { file: "x", base: 0, index: 0, verify, maskedCrc: (p, l) => k.maskedCrc32c(ptr + p, l), maxRecord: 1 << 30, size: bytes.length }, out);
  return out;
}

describe("CRC32C framing", () => {
  it("matches the crc32c package", () => {
    const data = new TextEncoder().encode("123456789");
    expect(k.crc32c(k.put(data), data.length)).toBe(crc["123456789"]);
    expect(maskedCrcOf(k, data)).toBe(crc.masked_123456789);
    expect(maskedCrcOf(k, new Uint8Array(0))).toBe(crc.masked_empty);
    expect(maskCrc(0xe3069283)).toBe(crc.masked_123456789);
  });
});

describe("tf.train.Example decoding (records written by Google protobuf)", () => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, "tfrecord/wire.tfrecord")));
  const fs = frames(bytes);

  it("frames every record and checks both CRCs", () => {
    expect(fs.length).toBe(wireExpected.length);
    expect(fs.every((f) => !f.error)).toBe(true);
  });

  it("decodes packed and unpacked lists, 64-bit and negative int64s, any map order, unknown fields", () => {
    fs.forEach((f, i) => {
      const ex = decodeExample(bytes, f.start, f.start + f.length);
      const e = wireExpected[i];
      const ints = ex.get("ints")!;
      expect(ints.kind).toBe("int64");
      expect(Array.from((ints as { values: BigInt64Array }).values, String)).toEqual(e.ints);
      expect(Array.from((ex.get("floats") as { values: Float32Array }).values)).toEqual(e.floats);
      expect(Array.from((ex.get("fixed") as { values: Float32Array }).values)).toEqual(e.fixed);
      if (e.name === null) expect(ex.has("name")).toBe(false);
      else expect(new TextDecoder().decode((ex.get("name") as { values: Uint8Array[] }).values[0])).toBe(e.name);
    });
  });

  it("the generic kind infers scalar, fixed-size and variable-length columns", async () => {
    const out = tmp();
    const src = join(out, "wire.tfrecord");
    copyFileSync(join(FIXTURES, "tfrecord/wire.tfrecord"), src);
    await convert([src], { ...FILE_DEFAULTS, output: join(out, "o"), kind: "generic" });
    const t = readArrow(join(out, "o/wire.arrow"));
    expect(t.numRows).toBe(5);
    expect(String(t.getChild("ints")!.type)).toMatch(/^List/);
    expect(String(t.getChild("fixed")!.type)).toBe("FixedSizeList[3]<Float32>");
    expect(String(t.getChild("name")!.type)).toBe("Utf8");
    wireExpected.forEach((e: { ints: string[]; name: string | null; fixed: number[] }, i: number) => {
      expect(Array.from(t.getChild("ints")!.get(i)!.toArray() as BigInt64Array, String)).toEqual(e.ints);
      expect(t.getChild("name")!.get(i)).toBe(e.name);
      expect(Array.from(t.getChild("fixed")!.get(i)!.toArray())).toEqual(e.fixed);
    });
  });
});

describe("wide records", () => {
  it("record batches are made without Schema.assign (quadratic in the number of columns)", async () => {
    // one record with 100,000 features took 30 s in Schema.assign's name lookups
    const spy = vi.spyOn(Schema.prototype, "assign");
    try {
      const out = tmp();
      const src = join(out, "wire.tfrecord");
      copyFileSync(join(FIXTURES, "tfrecord/wire.tfrecord"), src);
      await convert([src], { ...FILE_DEFAULTS, output: join(out, "o"), kind: "generic", threads: 1 });
      await convert([join(FIXTURES, "scone/heatmaps_0001.tfrecord")], { ...FILE_DEFAULTS, output: join(out, "s"), threads: 1 });
      expect(spy).not.toHaveBeenCalled();
      const t = readArrow(join(out, "o/wire.arrow"));
      expect(t.numRows).toBe(5);
      expect(Array.from({ length: 5 }, (_, i) => Number(t.getChild("record")!.get(i)))).toEqual([0, 1, 2, 3, 4]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("corrupt and truncated files", () => {
  const good = new Uint8Array(readFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord")));
  const exp = JSON.parse(readFileSync(join(FIXTURES, "scone/expected.json"), "utf8")).files[1].events;

  async function run(bytes: Uint8Array, onError: "fail" | "skip" = "fail") {
    const dir = tmp();
    const p = join(dir, "heatmaps_bad.tfrecord");
    writeFileSync(p, bytes);
    return { p, dir, result: convert([p], { ...FILE_DEFAULTS, output: join(dir, "out"), onError }) };
  }

  it("a flipped byte in a record's data fails with that record's offset and index", async () => {
    const bad = good.slice();
    bad[exp[2].offset + 12 + 5000] ^= 0x40;
    const { p, result } = await run(bad);
    await expect(result).rejects.toMatchObject({ code: "data_crc", file: p, offset: exp[2].offset, record: 2 });
  });

  it("--on-error skip drops exactly that record and reports it", async () => {
    const bad = good.slice();
    bad[exp[2].offset + 12 + 5000] ^= 0x40;
    const { dir, result } = await run(bad, "skip");
    const s = await result;
    expect(s.problems).toHaveLength(1);
    expect(s.problems[0]).toMatchObject({ code: "data_crc", offset: exp[2].offset, record: 2, skipped: "record" });
    const t = readArrow(join(dir, "out/heatmaps_bad.arrow"));
    expect(Array.from({ length: t.numRows }, (_, i) => Number(t.getChild("id")!.get(i)))).toEqual([exp[0].id, exp[1].id, exp[3].id]);
    const lines = readFileSync(join(dir, "out/_errors.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ record: 2, code: "data_crc" });
  });

  it("a flipped byte in a length field is a length CRC error", async () => {
    const bad = good.slice();
    bad[exp[1].offset + 1] ^= 0x01;
    const { result } = await run(bad);
    await expect(result).rejects.toMatchObject({ code: "length_crc", offset: exp[1].offset, record: 1 });
  });

  it("a file cut inside a record is reported as truncated, at that record", async () => {
    for (const cut of [exp[3].offset + 5, exp[3].offset + 100, good.length - 1]) {
      const { result } = await run(good.slice(0, cut));
      await expect(result).rejects.toMatchObject({ code: "truncated", offset: exp[3].offset, record: 3 });
    }
  });

  it("without CRC checks, a length past the end of the file is still caught", async () => {
    const bad = good.slice();
    bad[exp[1].offset + 3] = 0x7f;
    const dir = tmp();
    const p = join(dir, "x.tfrecord");
    writeFileSync(p, bad);
    // a 2 GB length in a small file is no cut copy: the length is wrong
    await expect(convert([p], { ...FILE_DEFAULTS, output: join(dir, "o"), verify: false })).rejects.toMatchObject({
      code: "record_size", record: 1, message: expect.stringContaining("more than the file holds"),
    });
    // a plausible length past the end is a cut file
    const cut = good.slice(0, exp[2].offset + 12 + 10);
    writeFileSync(p, cut);
    await expect(convert([p], { ...FILE_DEFAULTS, output: join(dir, "o2"), verify: false })).rejects.toMatchObject({ code: "truncated", record: 2 });
  });

  it("a corrupt protobuf is a clear error, not a crash", async () => {
    const bad = good.slice();
    // break the Example's first length varint and fix the CRC, so only the protobuf is wrong
    const start = exp[0].offset + 12;
    const len = exp[1].offset - exp[0].offset - 16;
    bad[start + 1] = 0xff;
    const ptr = k.put(bad);
    new DataView(bad.buffer).setUint32(start + len, k.maskedCrc32c(ptr + start, len), true);
    const { result } = await run(bad);
    await expect(result).rejects.toMatchObject({ code: "protobuf", record: 0, offset: 0 });
  });

  it("verify reports the damaged record and the count read", async () => {
    const dir = tmp();
    const bad = good.slice();
    bad[exp[3].offset + 12 + 100] ^= 1;
    const p = join(dir, "v.tfrecord");
    writeFileSync(p, bad);
    const r = await verifyTFRecord(p);
    expect(r.ok).toBe(false);
    // the records convert would write
    expect(r.records).toBe(3);
    expect(r.problems).toEqual([expect.objectContaining({ record: 3, offset: exp[3].offset, code: "data_crc" })]);
  });

  it("an empty file converts to an empty output", async () => {
    const { dir, result } = await run(new Uint8Array(0));
    const s = await result;
    expect(s.events).toBe(0);
    expect(readArrow(join(dir, "out/heatmaps_bad.arrow")).numRows).toBe(0);
  });
});

describe("compression detection", () => {
  it("detects gzip and zlib from the bytes, whatever the name", async () => {
    const raw = readFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord"));
    const dir = tmp();
    writeFileSync(join(dir, "a.tfrecord"), gzipSync(raw));
    writeFileSync(join(dir, "b.tfrecord"), deflateSync(raw));
    const s = await convert([dir], { ...FILE_DEFAULTS, output: join(dir, "out") });
    expect(s.results.map((f) => [f.compression, f.rows])).toEqual([["gzip", 4], ["zlib", 4]]);
  });

  it("an uncompressed record whose length bytes look like a magic is not taken for one", () => {
    const head = new Uint8Array(16);
    head[0] = 0x78; head[1] = 0x9c; // length 40056
    expect(detectCompression(head)).toBe("zlib");
    new DataView(head.buffer).setUint32(8, maskedCrcOf(k, head.subarray(0, 8)), true);
    expect(detectTFRecordCompression(head, (b) => maskedCrcOf(k, b))).toBe("none");
  });

  it("strips compression suffixes for output names", () => {
    expect(stripCompressionSuffix("heatmaps_0003.tfrecord.gz")).toBe("heatmaps_0003.tfrecord");
    expect(stripCompressionSuffix("a.tfrecord.ZLIB")).toBe("a.tfrecord");
  });

  it("a damaged gzip stream is a compression error naming the file", async () => {
    const gz = gzipSync(readFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord")));
    const dir = tmp();
    const p = join(dir, "c.tfrecord.gz");
    writeFileSync(p, gz.subarray(0, gz.length >> 1));
    await expect(convert([p], { ...FILE_DEFAULTS, output: join(dir, "o") })).rejects.toMatchObject({ code: "compression", file: p });
  });
});

describe("files that are not what their name says", () => {
  it("an NPZ named .tfrecord is read as the NPZ it is (the container comes from the bytes)", async () => {
    const dir = tmp();
    const p = join(dir, "oops.tfrecord");
    copyFileSync(join(FIXTURES, "npz/versions.npz"), p);
    // the NPZ reader's own verdict on this archive, not a TFRecord framing error at byte 0
    await expect(convert([p], { ...FILE_DEFAULTS, output: join(dir, "o") })).rejects.toMatchObject({
      code: "schema", file: p, message: expect.stringContaining("do not share a leading dimension"),
    });
    copyFileSync(join(FIXTURES, "clusters/dataset/clusters_planeU_batch0000.npz"), join(dir, "clusters_planeU_batch0000.tfrecord"));
    const s = await convert([join(dir, "clusters_planeU_batch0000.tfrecord")], { ...FILE_DEFAULTS, output: join(dir, "c"), threads: 1 });
    expect(s.results[0]).toMatchObject({ kind: "clusters", rows: 6 });
  });

  it("random bytes named .tfrecord: a clear error", async () => {
    const dir = tmp();
    const p = join(dir, "noise.tfrecord");
    writeFileSync(p, Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 255));
    await expect(convert([p], { ...FILE_DEFAULTS, output: join(dir, "o") })).rejects.toMatchObject({ code: "length_crc", message: expect.stringContaining("not a TFRecord file") });
  });
});

describe("--on-error skip: an input of which nothing can be kept", () => {
  it("gets no output file (not a 0-row file of an assumed schema); the manifest lists it, _errors.jsonl says why", async () => {
    const dir = tmp();
    const junk = join(dir, "junk.tfrecord");
    writeFileSync(junk, Buffer.from("this is not a TFRecord file, only text that a user pointed at by mistake\n".repeat(4)));
    const badGzip = join(dir, "broken.tfrecord.gz");
    writeFileSync(badGzip, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(60, 0xab)]));
    const good = join(FIXTURES, "scone/heatmaps_0000.tfrecord");
    const out = join(dir, "out");
    const s = await convert([junk, badGzip, good], { ...FILE_DEFAULTS, output: out, threads: 1, kind: "scone", onError: "skip" });
    expect(readdirSync(out).filter((f) => !f.startsWith("_"))).toEqual(["heatmaps_0000.arrow"]);
    const m = JSON.parse(readFileSync(join(out, "_manifest.json"), "utf8"));
    for (const f of [junk, badGzip]) {
      expect(m.inputs.find((e: { input: string }) => e.input === f)).toMatchObject({ records: 0, outputs: [] });
      expect(s.problems.some((p) => p.file === f)).toBe(true);
    }
    const errors = readFileSync(join(out, "_errors.jsonl"), "utf8");
    expect(errors).toContain(junk);
    expect(errors).toContain(badGzip);
    expect(m.totals.outputs).toBe(1);
  });
});
