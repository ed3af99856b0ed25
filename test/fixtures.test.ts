// The committed SCONE goldens are what test/fixtures/make_scone_fixtures.py writes: regenerating them
// into a temporary folder with the system python reproduces every file to the bit (compressed files by
// their content: the gzip/zlib bytes depend on zlib's build). Needs /usr/bin/python3 with numpy,
// protobuf and crc32c, and the numpy and protobuf versions recorded in expected.json (numpy's random
// streams may change between versions); otherwise the test says why it did not run.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, inflateSync } from "node:zlib";
import { expect, it } from "vitest";
import { FIXTURES, skipBecause, tmp } from "./helpers.ts";

const PYTHON = "/usr/bin/python3";

function pythonVersions(): { numpy: string; protobuf: string } | string {
  const r = spawnSync(PYTHON, ["-c", "import numpy, crc32c, google.protobuf as p; print(numpy.__version__, p.__version__)"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} not found`;
  if (r.status !== 0) return `${PYTHON} lacks numpy, protobuf or crc32c (${r.stderr.trim().split("\n").pop()})`;
  const [numpy, protobuf] = r.stdout.trim().split(" ");
  return { numpy, protobuf };
}

/** The bytes a reader sees: compressed fixtures compared by their content. */
function content(path: string): Buffer {
  const b = readFileSync(path);
  if (path.endsWith(".gz")) return gunzipSync(b);
  if (path.endsWith(".zz")) return inflateSync(b);
  return b;
}

it("make_scone_fixtures.py regenerates the committed SCONE, small and wire fixtures to the bit", (ctx) => {
  const v = pythonVersions();
  if (typeof v === "string") skipBecause(ctx, v);
  const recorded: string = JSON.parse(readFileSync(join(FIXTURES, "scone/expected.json"), "utf8")).generator;
  const ours = `numpy ${(v as { numpy: string }).numpy}, protobuf ${(v as { protobuf: string }).protobuf}`;
  if (!recorded.startsWith(ours + ",")) skipBecause(ctx, `the goldens were written by "${recorded}", this python has ${ours}`);
  const out = tmp();
  const r = spawnSync(PYTHON, [join(FIXTURES, "make_scone_fixtures.py"), out], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  let compared = 0;
  for (const dir of ["scone", "small", "tfrecord"]) {
    const made = readdirSync(join(out, dir)).sort();
    expect(made, dir).toEqual(readdirSync(join(FIXTURES, dir)).sort());
    for (const name of made) {
      const same = content(join(out, dir, name)).equals(content(join(FIXTURES, dir, name)));
      expect(same, `${dir}/${name} differs from the committed file`).toBe(true);
      compared++;
    }
  }
  expect(compared).toBeGreaterThanOrEqual(10);
});
