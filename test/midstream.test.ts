// Damage in the middle of a GZIP/ZLIB deflate stream: every complete, CRC-valid record that zlib
// decodes before the damage is written and counted (skip mode, verify), and fail mode says how many
// precede it. The files and the reference counts come from test/fixtures/make_midstream_fixtures.py:
// Python's zlib.decompressobj fed one byte at a time, its output cut at the first record that is not
// complete and CRC-valid. Node's inflater dropped the output of the call that met the error (up to
// 64 KiB, ~150 of these records): before the fix the gzip file kept 877 of its 1028.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyTFRecord } from "../src/inspect.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const DIR = join(FIXTURES, "midstream");
const expected: { file: string; records_before: number; records_total: number; zlib_error: string }[] =
  JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")).files;

describe("damage in the middle of a deflate stream keeps what zlib decoded before it", () => {
  for (const x of expected) {
    const p = join(DIR, x.file);
    for (const windowBytes of [undefined, 4096]) {
      const w = windowBytes ? `${windowBytes}-byte windows` : "one window";
      it(`${x.file}: verify and skip mode keep the ${x.records_before} records before the damage (${w})`, async () => {
        expect(x.records_before).toBeGreaterThan(0);
        expect(x.records_before).toBeLessThan(x.records_total);
        const v = await verifyTFRecord(p, { windowBytes });
        expect(v.ok).toBe(false);
        expect(v.records).toBe(x.records_before);

        const out = join(tmp(), "skip");
        const s = await convert([p], { ...FILE_DEFAULTS, output: out, kind: "generic", onError: "skip", windowBytes });
        const r = s.results[0];
        expect(r.records).toBe(x.records_before);
        const t = readArrow(r.output!.path);
        // each record's `id` is its index in the file: exactly the first records_before, in order
        expect(Array.from({ length: t.numRows }, (_, i) => Number(t.getChild("id")!.get(i)))).toEqual(
          Array.from({ length: x.records_before }, (_, i) => i));
        expect(s.problems.at(-1)).toMatchObject({ skipped: "rest_of_file", file: p });
        expect(s.problems.every((q) => q.record! >= x.records_before)).toBe(true);
      });
    }

    it(`${x.file}: fail mode writes nothing and says ${x.records_before} good records precede the damage`, async () => {
      const out = join(tmp(), "fail");
      const err = await convert([p], { ...FILE_DEFAULTS, output: out, kind: "generic" }).then(() => undefined, (e) => e);
      expect(err).toMatchObject({ file: p, record: x.records_before });
      expect(err.message).toContain(`(${x.records_before} good records before it)`);
      expect(existsSync(out) ? readdirSync(out).filter((n) => !n.startsWith("_")) : []).toEqual([]);
    });
  }
});
