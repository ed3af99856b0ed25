// Outputs are a contract: every kind of input in every output format must convert to the bytes
// committed in test/fixtures/golden/ (written by test/fixtures/make_golden.mjs, which says when to
// regenerate them). Refactors of the reading, decoding and writing paths keep these files as they are.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error the generator is a plain .mjs script, shared so that both build the same cases
import { convertCase, dataFiles, GOLDEN_CASES, GOLDEN_GROUPS } from "./fixtures/make_golden.mjs";
import { FIXTURES, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const GOLDEN = join(FIXTURES, "golden");
const work = tmp("arrowsmith-golden-");
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("outputs equal the committed golden files byte for byte", () => {
  for (const name of Object.keys(GOLDEN_CASES as Record<string, string[]>)) {
    it(name, () => {
      const out = join(work, name);
      convertCase(CLI, name, out);
      const wrote = Object.keys(GOLDEN_GROUPS as Record<string, unknown>).flatMap((g) => (dataFiles(join(out, g)) as string[]).map((f) => [g, f]));
      const golden = readdirSync(join(GOLDEN, name)).sort();
      expect(wrote.map(([, f]) => `${f}.gz`).sort()).toEqual(golden);
      for (const [group, file] of wrote) {
        const got = readFileSync(join(out, group, file));
        const want = gunzipSync(readFileSync(join(GOLDEN, name, `${file}.gz`)));
        // a byte count and the first differing offset say more than a 10 KB buffer diff
        const at = got.findIndex((b, i) => b !== want[i]);
        expect({ file, bytes: got.length, firstDifference: at < 0 && got.length === want.length ? -1 : at },
          `${name}/${file} differs from test/fixtures/golden/${name}/${file}.gz`).toEqual({ file, bytes: want.length, firstDifference: -1 });
      }
    });
  }
});
