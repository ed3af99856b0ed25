// Damage that ends the reading (a cut file, a bad length CRC, a damaged or padded gzip/zlib stream):
// every complete, CRC-valid record before it is written and counted in skip mode and by verify,
// inspect and stats; fail mode writes nothing and says how many good records precede the damage.
// Inputs are the committed SCONE fixtures (numpy + protobuf + crc32c), cut or edited here.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { inspectTFRecord, verifyTFRecord } from "../src/inspect.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { sconeStats } from "../src/stats.ts";
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
