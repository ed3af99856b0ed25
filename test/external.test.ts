// Real TFRecord files written by TensorFlow and others (../shared/external, read in place):
// `convert --kind generic` must find the record counts and first values EXPECTED.json gives
// (decoded there by Google's protobuf runtime).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { outputStem } from "../src/pipeline/inputs.ts";
import { EXTERNAL, HAVE_EXTERNAL, NO_EXTERNAL, readArrow, tmp } from "./helpers.ts";

type Feature = { int64?: string[]; float?: number[]; bytes?: (string | { bytes: number })[] };
const expected: Record<string, { format: string; records: number; first: Record<string, Feature>[] }> =
  HAVE_EXTERNAL ? JSON.parse(readFileSync(join(EXTERNAL, "EXPECTED.json"), "utf8")) : {};
const files = HAVE_EXTERNAL ? readdirSync(EXTERNAL).filter((f) => /\.tfrecords?(\.gz)?$/.test(f)).sort() : [];

describe.skipIf(!HAVE_EXTERNAL)(`external TFRecord samples, generic kind${NO_EXTERNAL}`, () => {
  it("finds every sample listed in EXPECTED.json", () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) expect(expected[f]?.format).toBe("tfrecord");
  });

  for (const file of files) {
    it(`${file}: record count and first records`, async () => {
      const out = tmp();
      const s = await convert([join(EXTERNAL, file)], { ...FILE_DEFAULTS, output: out, kind: "generic" });
      const exp = expected[file];
      expect(s.events).toBe(exp.records);
      const t = readArrow(join(out, outputStem(file) + ".arrow"));
      expect(t.numRows).toBe(exp.records);
      exp.first.forEach((rec, i) => {
        for (const [name, feat] of Object.entries(rec)) {
          const col = t.getChild(name);
          expect(col, `column ${name}`).toBeTruthy();
          const v = col!.get(i);
          const list = (x: unknown): unknown[] => (x === null ? [] : typeof x === "object" && x !== null && "toArray" in x ? Array.from((x as { toArray(): ArrayLike<unknown> }).toArray()) : [x]);
          if (feat.int64) expect(list(v).map(String)).toEqual(feat.int64);
          if (feat.float) expect(list(v)).toEqual(feat.float);
          if (feat.bytes) {
            const got = list(v).map((b) => (typeof b === "string" ? new TextEncoder().encode(b) : (b as Uint8Array)));
            expect(got.length).toBe(feat.bytes.length);
            feat.bytes.forEach((e, j) => {
              if (typeof e === "string") expect(Buffer.from(got[j]).toString("base64")).toBe(e);
              else expect(got[j].length).toBe(e.bytes);
            });
          }
        }
      });
    });
  }
});
