// Damage that ends the reading (a cut file, a bad length CRC, a damaged or padded gzip/zlib stream):
// every complete, CRC-valid record before it is written and counted in skip mode and by verify,
// inspect and stats; fail mode writes nothing and says how many good records precede the damage.
// Inputs are the committed SCONE fixtures (numpy + protobuf + crc32c), cut or edited here.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { byteSize } from "../src/commands/command.ts";
import { inspectTFRecord, verifyTFRecord } from "../src/inspect.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { maskedCrcOf } from "../src/sources.ts";
import { sconeStats } from "../src/datasets/scone/stats.ts";
import { dropKernels, kernels } from "../src/wasm.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const expected = JSON.parse(readFileSync(join(FIXTURES, "scone/expected.json"), "utf8")).files;
const shard = new Uint8Array(readFileSync(join(FIXTURES, "scone/heatmaps_0000.tfrecord")));
const events: { offset: number; id: number }[] = expected[0].events;
const N = events.length;
const raw2 = expected[2].events as { id: number }[];
const gz = new Uint8Array(readFileSync(join(FIXTURES, "scone/heatmaps_0002.tfrecord.gz")));
const zz = new Uint8Array(readFileSync(join(FIXTURES, "scone/heatmaps_0003.tfrecord.zz")));
const raw3 = expected[3].events as { id: number }[];

// default window (16 MiB: the whole file in one), about one record, and about three
const WINDOWS = [undefined, 100_000, 300_000];

function write(name: string, bytes: Uint8Array): { dir: string; p: string } {
  const dir = tmp();
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return { dir, p };
}

/** Converts in skip mode and checks that exactly `ids` were written and one problem reported. */
async function skipKeeps(p: string, dir: string, ids: number[], code: string, record: number, windowBytes?: number) {
  const s = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "skip"), onError: "skip", windowBytes });
  expect(s.problems).toHaveLength(1);
  expect(s.problems[0]).toMatchObject({ code, record, skipped: "rest_of_file", file: p });
  const t = readArrow(s.results[0].output.path);
  expect(Array.from({ length: t.numRows }, (_, i) => Number(t.getChild("id")!.get(i)))).toEqual(ids);
  expect(s.results[0].records).toBe(ids.length);
  expect(s.manifest.totals).toMatchObject({ rows: ids.length });
  return s.problems[0];
}

/** Fail mode: an error at `record` that counts the good records before it, and no output at all. */
async function failSays(p: string, dir: string, code: string, record: number, windowBytes?: number) {
  const out = join(dir, "fail");
  const err = await convert([p], { ...FILE_DEFAULTS, output: out, windowBytes }).then(() => undefined, (e) => e);
  expect(err).toMatchObject({ code, record, file: p });
  expect(err.message).toContain(`(${record} good record${record === 1 ? "" : "s"} before it)`);
  expect(existsSync(out) ? readdirSync(out).filter((n) => !n.startsWith("_")) : []).toEqual([]);
  return err;
}

describe("damage that ends the reading keeps every good record before it", () => {
  for (const windowBytes of WINDOWS) {
    const w = windowBytes ? `${windowBytes}-byte windows` : "one window";
    it(`a shard cut inside record 4 keeps records 0-3 (${w})`, async () => {
      const cut = events[4].offset + 100;
      const { dir, p } = write("heatmaps_cut.tfrecord", shard.slice(0, cut));
      const ids = events.slice(0, 4).map((e) => e.id);
      const problem = await skipKeeps(p, dir, ids, "truncated", 4, windowBytes);
      expect(problem.offset).toBe(events[4].offset);
      const err = await failSays(p, dir, "truncated", 4, windowBytes);
      expect(err.offset).toBe(events[4].offset);
    });

    it(`a bad second header keeps the first record (${w})`, async () => {
      const bad = shard.slice();
      bad.fill(0, events[1].offset + 8, events[1].offset + 12);
      const { dir, p } = write("heatmaps_hdr.tfrecord", bad);
      await skipKeeps(p, dir, [events[0].id], "length_crc", 1, windowBytes);
      await failSays(p, dir, "length_crc", 1, windowBytes);
    });

    it(`a bad last header keeps all records before it (${w})`, async () => {
      const bad = shard.slice();
      bad[events[N - 1].offset + 2] ^= 0x10;
      const { dir, p } = write("heatmaps_last.tfrecord", bad);
      await skipKeeps(p, dir, events.slice(0, N - 1).map((e) => e.id), "length_crc", N - 1, windowBytes);
    });

    it(`junk after a gzip stream keeps every record (${w})`, async () => {
      const { dir, p } = write("heatmaps_junk.tfrecord.gz", Uint8Array.from([...gz, ...Buffer.from("junkjunk")]));
      await skipKeeps(p, dir, raw2.map((e) => e.id), "compression", raw2.length, windowBytes);
      await failSays(p, dir, "compression", raw2.length, windowBytes);
    });

    it(`a zlib stream missing its 4-byte checksum keeps every record (${w})`, async () => {
      const { dir, p } = write("heatmaps_adler.tfrecord.zz", zz.slice(0, zz.length - 4));
      await skipKeeps(p, dir, raw3.map((e) => e.id), "compression", raw3.length, windowBytes);
      await failSays(p, dir, "compression", raw3.length, windowBytes);
    });
  }

  it("a gzip stream missing its trailer, or part of it, keeps every record", async () => {
    for (const drop of [8, 4, 1]) {
      const { dir, p } = write("heatmaps_trailer.tfrecord.gz", gz.slice(0, gz.length - drop));
      await skipKeeps(p, dir, raw2.map((e) => e.id), "compression", raw2.length);
    }
  });

  it("a wrong gzip CRC-32 or size in the trailer is reported after every record", async () => {
    for (const at of [gz.length - 8, gz.length - 2]) {
      const bad = gz.slice();
      bad[at] ^= 1;
      const { dir, p } = write("heatmaps_crc.tfrecord.gz", bad);
      const problem = await skipKeeps(p, dir, raw2.map((e) => e.id), "compression", raw2.length);
      expect(problem.message).toMatch(at === gz.length - 8 ? /CRC-32 mismatch/ : /size mismatch/);
    }
  });

  it("junk after a zlib stream is reported after every record", async () => {
    const { dir, p } = write("heatmaps_junk.tfrecord.zz", Uint8Array.from([...zz, 0, 0, 0]));
    const problem = await skipKeeps(p, dir, raw3.map((e) => e.id), "compression", raw3.length);
    expect(problem.message).toContain("3 bytes of junk after the zlib stream");
  });

  it("gzip members one after another (cat a.gz b.gz) are one clean stream", async () => {
    const cut = events[3].offset;
    const both = Buffer.concat([gzipSync(shard.subarray(0, cut)), gzipSync(shard.subarray(cut))]);
    const { dir, p } = write("heatmaps_members.tfrecord.gz", both);
    const s = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "o") });
    expect(s.problems).toEqual([]);
    expect(s.events).toBe(N);
  });

  it("a gzip or zlib stream cut short keeps the records decoded before the cut", async () => {
    for (const [name, whole] of [["cut.tfrecord.gz", gzipSync(shard)], ["cut.tfrecord.zz", deflateSync(shard)]] as const) {
      // cut in the last record's compressed bytes: records 0..N-2 are all decoded before it
      const { dir, p } = write(name, whole.subarray(0, whole.length - 2000));
      const s = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "o"), onError: "skip" });
      expect(s.problems).toEqual([expect.objectContaining({ code: "compression", record: N - 1, offset: events[N - 1].offset })]);
      expect(s.events).toBe(N - 1);
    }
  });
});

describe("verify, inspect and stats count the same records as convert", () => {
  const cases = [
    { name: "heatmaps_cut.tfrecord", bytes: shard.slice(0, events[4].offset + 100), good: 4 },
    { name: "heatmaps_junk.tfrecord.gz", bytes: Uint8Array.from([...gz, 1, 2, 3]), good: raw2.length },
    { name: "heatmaps_adler.tfrecord.zz", bytes: zz.slice(0, zz.length - 4), good: raw3.length },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { dir, p } = write(c.name, c.bytes);
      const s = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "o"), onError: "skip" });
      const v = await verifyTFRecord(p);
      expect(v.ok).toBe(false);
      expect(v.records).toBe(c.good);
      expect(s.events).toBe(c.good);
      // the same fault, at the same place and with the same words
      expect(v.problems).toEqual(s.problems.map((q) => ({ offset: q.offset, record: q.record, code: q.code, message: q.message })));
      const i = await inspectTFRecord(p, 1);
      expect(i.records).toBe(c.good);
      expect(i.problems).toEqual(v.problems);
      const st = await sconeStats([p]);
      expect(st.events).toBe(c.good);
      expect(st.problems.map((q) => [q.code, q.record, q.offset])).toEqual(v.problems.map((q) => [q.code, q.record, q.offset]));
    });
  }
});

/** Frames `data` as one TFRecord record (length and data CRCs through our kernel, checked against crc32c goldens elsewhere). */
function record(data: Uint8Array): Uint8Array {
  const k = kernels();
  const head = new Uint8Array(12);
  const dv = new DataView(head.buffer);
  dv.setBigUint64(0, BigInt(data.length), true);
  dv.setUint32(8, maskedCrcOf(k, head.subarray(0, 8)), true);
  const foot = new Uint8Array(4);
  new DataView(foot.buffer).setUint32(0, maskedCrcOf(k, data), true);
  return Uint8Array.from([...head, ...data, ...foot]);
}

describe("--max-record-bytes", () => {
  // heatmaps_0001 (4 records of ~92 KB) with a 3 MiB record of zeros put in after record 1
  const small = new Uint8Array(readFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord")));
  const ev1 = expected[1].events as { offset: number; id: number }[];
  const big = record(new Uint8Array(3 << 20));
  const mixed = Uint8Array.from([...small.subarray(0, ev1[2].offset), ...big, ...small.subarray(ev1[2].offset)]);
  const LIMIT = 1 << 20;

  for (const [name, bytes] of [["mixed.tfrecord", mixed], ["mixed.tfrecord.gz", gzipSync(mixed)]] as const) {
    it(`a larger record is skipped unread and the records around it are kept (${name})`, async () => {
      const { dir, p } = write(name, bytes);
      // wasm memory (fresh each time) for the file without the big record, then with it: the window
      // never grows to hold the 3 MiB record
      const opts = { ...FILE_DEFAULTS, onError: "skip" as const, maxRecordBytes: LIMIT, windowBytes: 256 << 10, threads: 1 };
      const plain = write(name, name.endsWith(".gz") ? gzipSync(small) : small);
      dropKernels();
      await convert([plain.p], { ...opts, output: join(plain.dir, "o") });
      const without = kernels().memory.buffer.byteLength;
      dropKernels();
      const s = await convert([p], { ...opts, output: join(dir, "skip") });
      expect(kernels().memory.buffer.byteLength).toBeLessThan(without + (1 << 20));
      expect(s.problems).toEqual([expect.objectContaining({ code: "record_size", record: 2, offset: ev1[2].offset, skipped: "record" })]);
      expect(s.problems[0].message).toBe(`record declares ${3 << 20} bytes of data, more than --max-record-bytes ${LIMIT}`);
      const t = readArrow(s.results[0].output.path);
      expect(Array.from({ length: t.numRows }, (_, i) => Number(t.getChild("record")!.get(i)))).toEqual([0, 1, 3, 4]);
      expect(Array.from({ length: t.numRows }, (_, i) => Number(t.getChild("id")!.get(i)))).toEqual(ev1.map((e) => e.id));
      const err = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "fail"), maxRecordBytes: LIMIT }).then(() => undefined, (e) => e);
      expect(err).toMatchObject({ code: "record_size", record: 2, message: expect.stringContaining("(2 good records before it)") });
      // the default limit (64 MiB) takes it, and the zeros are then no SCONE record
      const d = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "default"), onError: "skip" });
      expect(d.problems).toEqual([expect.objectContaining({ code: "feature", record: 2 })]);
      const v = await verifyTFRecord(p, { maxRecordBytes: LIMIT });
      expect(v.records).toBe(4);
      expect(v.problems.map((q) => [q.code, q.record, q.offset])).toEqual([["record_size", 2, ev1[2].offset]]);
    });
  }

  it("takes sizes in bytes or with a binary suffix", () => {
    const parse = byteSize("--max-record-bytes");
    expect([parse("67108864"), parse("64M"), parse("64MiB"), parse("1g"), parse("512K")]).toEqual([64 << 20, 64 << 20, 64 << 20, 1 << 30, 512 << 10]);
    for (const bad of ["0", "-1", "1.5M", "64 MB of it", ""]) expect(() => parse(bad)).toThrow("--max-record-bytes must be a positive size in bytes");
  });

  it("a record cut short while being skipped is reported at that record", async () => {
    const cut = gzipSync(mixed.subarray(0, ev1[2].offset + (2 << 20)));
    const { dir, p } = write("cut-big.tfrecord.gz", cut);
    const s = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "o"), onError: "skip", maxRecordBytes: LIMIT });
    expect(s.events).toBe(2);
    expect(s.problems.map((q) => [q.code, q.record, q.skipped])).toEqual([["record_size", 2, "record"], ["truncated", 2, "rest_of_file"]]);
  });

  it("a 2^63 length is printed exactly, and is no cut copy", async () => {
    const head = new Uint8Array(12);
    new DataView(head.buffer).setBigUint64(0, 1n << 63n, true);
    new DataView(head.buffer).setUint32(8, maskedCrcOf(kernels(), head.subarray(0, 8)), true);
    const file = Uint8Array.from([...small.subarray(0, ev1[1].offset), ...head, ...new Uint8Array(64)]);
    for (const [name, bytes] of [["huge.tfrecord", file], ["huge.tfrecord.gz", gzipSync(file)]] as const) {
      const { dir, p } = write(name, bytes);
      const err = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "o") }).then(() => undefined, (e) => e);
      expect(err).toMatchObject({ code: "record_size", record: 1, offset: ev1[1].offset });
      expect(err.message).toContain("record declares 9223372036854775808 bytes of data");
      expect(err.message).not.toContain("cut short");
    }
  });

  it("a file shorter than one record header is not a TFRecord, not a cut copy", async () => {
    const { dir, p } = write("tiny.tfrecord", new TextEncoder().encode("hello"));
    const err = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "o") }).then(() => undefined, (e) => e);
    expect(err.message).toContain("not a TFRecord file: it holds 5 bytes, less than one 12-byte record header");
    expect(err.message).not.toContain("cut short");
  });
});

describe("verify makes the decoding checks of convert", () => {
  const small = new Uint8Array(readFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord")));
  const ev1 = expected[1].events as { offset: number; id: number }[];

  it("a record whose protobuf is garbage (CRCs fixed up) fails verify at the same offset as convert", async () => {
    const bad = small.slice(0, ev1[2].offset);
    const start = ev1[1].offset + 12;
    const len = ev1[2].offset - ev1[1].offset - 16;
    bad.fill(0xff, start, start + 64);
    const k = kernels();
    new DataView(bad.buffer).setUint32(start + len, maskedCrcOf(k, bad.subarray(start, start + len)), true);
    const { dir, p } = write("garbage.tfrecord", Uint8Array.from([...bad, ...small.subarray(ev1[2].offset)]));
    const v = await verifyTFRecord(p);
    expect(v.ok).toBe(false);
    expect(v.records).toBe(3);
    const err = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "o") }).then(() => undefined, (e) => e);
    expect(err).toMatchObject({ code: "protobuf", record: 1, offset: ev1[1].offset });
    expect(v.problems).toEqual([{ code: "protobuf", record: 1, offset: ev1[1].offset, message: err.detail.replace(/ \(1 good record before it\)$/, "") }]);
  });

  it("an image of the wrong size fails verify as it fails convert", async () => {
    const dir = tmp();
    const p = join(dir, "heatmaps_0001.tfrecord");
    writeFileSync(p, small);
    const v = await verifyTFRecord(p);
    expect(v.ok).toBe(true);
    expect(v.records).toBe(ev1.length);
  });
});
