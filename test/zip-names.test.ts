// A member name damaged in the central directory (which no checksum covers) is a zip error for the
// input, not a member silently dropped: the random-damage run found `metadata.npy` become
// `metadata.np/` (a cluster batch then converted as a generic NPZ of its images only, no problem
// reported) and `images.npy` become `images.nny`. Inputs: numpy-written fixtures, one byte edited.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyNpz } from "../src/inspect.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { FIXTURES, tmp } from "./helpers.ts";

/** The fixture with the last byte of `name`'s central-directory copy replaced by `by`. */
function renamed(fixture: string, name: string, by: string): Uint8Array {
  const b = new Uint8Array(readFileSync(join(FIXTURES, fixture)));
  const cd = Buffer.from(b).lastIndexOf(Buffer.from(name)); // the central copy comes after the local one
  expect(cd).toBeGreaterThan(Buffer.from(b).indexOf(Buffer.from(name)));
  b[cd + name.length - 1] = by.charCodeAt(0);
  return b;
}

describe("a member name damaged in the central directory", () => {
  for (const [fixture, name, by] of [
    ["clusters/variants/clusters_planeX_batch0150.npz", "metadata.npy", "/"],
    ["clusters/dataset/clusters_planeV_batch0000.npz", "images.npy", "n"],
  ] as const) {
    it(`${fixture}: ${name} -> ${name.slice(0, -1)}${by} is a zip error in convert and verify`, async () => {
      const dir = tmp();
      const p = join(dir, fixture.split("/").pop()!);
      writeFileSync(p, renamed(fixture, name, by));
      const err = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "out"), threads: 1 }).then(() => undefined, (e) => e);
      expect(err).toMatchObject({ code: "zip", file: p });
      expect(err.message).toContain(`its local header names it "${name}"`);
      const s = await convert([p], { ...FILE_DEFAULTS, output: join(dir, "skip"), threads: 1, onError: "skip" });
      expect(s.problems).toMatchObject([{ code: "zip", file: p }]);
      expect(s.manifest.totals.rows).toBe(0);
      const v = verifyNpz(p);
      expect(v.ok).toBe(false);
      expect(v.problems[0].code).toBe("zip");
    });
  }
});
