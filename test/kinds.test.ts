// The one detector of dataset kinds (src/datasets/kinds.ts) and the commands that use it: the
// container comes from the bytes, a wrong kind of file (an output of ours, a lone .npy, text) is one
// clear error with a non-zero exit in convert, inspect, stats and verify, and stats has --kind and
// one exit rule for problems of every kind.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectContainer, detectInput } from "../src/datasets/kinds.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { kernels } from "../src/wasm.ts";
import { catchError, EXTERNAL, FIXTURES, HAVE_EXTERNAL, NO_EXTERNAL, readArrow, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const SCONE = join(FIXTURES, "scone/heatmaps_0000.tfrecord");
const BATCH = join(FIXTURES, "clusters/dataset/clusters_planeU_batch0000.npz");

/** A folder of arrowsmith outputs (Arrow, Parquet, stream) converted from the cluster fixtures. */
async function outputs(): Promise<string> {
  const dir = tmp();
  for (const format of ["arrow", "parquet", "arrow-stream"] as const) {
    await convert([join(FIXTURES, "clusters/dataset")], { ...FILE_DEFAULTS, output: join(dir, format), format, threads: 1 });
  }
  return dir;
}

describe("detectContainer: by the bytes, the name only where they cannot tell", () => {
  it("TFRecords (plain, gzip, zlib) and NPZ archives, whatever their names", () => {
    const dir = tmp();
    for (const f of ["scone/heatmaps_0000.tfrecord", "scone/heatmaps_0002.tfrecord.gz", "scone/heatmaps_0003.tfrecord.zz"]) expect(detectContainer(join(FIXTURES, f)), f).toBe("tfrecord");
    expect(detectContainer(BATCH)).toBe("npz");
    copyFileSync(SCONE, join(dir, "really_a_tfrecord.npz"));
    copyFileSync(BATCH, join(dir, "really_an_npz.tfrecord"));
    copyFileSync(BATCH, join(dir, "batch.bin"));
    expect(detectContainer(join(dir, "really_a_tfrecord.npz"))).toBe("tfrecord");
    expect(detectContainer(join(dir, "really_an_npz.tfrecord"))).toBe("npz");
    expect(detectContainer(join(dir, "batch.bin"))).toBe("npz");
    // empty or damaged from byte 0: the name decides, and the reader reports the damage
    writeFileSync(join(dir, "empty.npz"), "");
    writeFileSync(join(dir, "junk.tfrecord"), "x".repeat(40));
    expect(detectContainer(join(dir, "empty.npz"))).toBe("npz");
    expect(detectContainer(join(dir, "junk.tfrecord"))).toBe("tfrecord");
  });

  it("refuses our outputs, a lone .npy, text and folders, saying what they are", async () => {
    const out = await outputs();
    const dir = tmp();
    writeFileSync(join(dir, "a.npy"), Buffer.concat([Buffer.from([0x93]), Buffer.from("NUMPY\x01\x00"), Buffer.alloc(100, 0x20)]));
    writeFileSync(join(dir, "notes.txt"), "hello, this is not a dataset\n");
    for (const [file, what] of [
      [join(out, "arrow/clusters_planeU_batch0000.arrow"), /an Arrow IPC file/],
      [join(out, "parquet/clusters_planeU_batch0000.parquet"), /a Parquet file/],
      [join(out, "arrow-stream/clusters_planeU_batch0000.arrows"), /an Arrow IPC stream/],
      [join(dir, "a.npy"), /a single \.npy array, not an NPZ archive/],
      [join(dir, "notes.txt"), /neither a TFRecord nor an NPZ archive \(first bytes 68 65 6c/],
    ] as const) {
      const e = catchError(() => detectContainer(file));
      expect(e.code, file).toBe("unknown_kind");
      expect(e.file).toBe(file);
      expect(e.message).toMatch(what);
    }
    expect(catchError(() => detectContainer(dir)).message).toMatch(/not a regular file \(a folder\)/);
  });

  it("detectInput gives the kind from the content, and checks a requested one against the container", async () => {
    const k = kernels();
    expect(await detectInput(k, SCONE)).toEqual({ container: "tfrecord", kind: "scone" });
    expect(await detectInput(k, BATCH)).toEqual({ container: "npz", kind: "clusters" });
    expect(await detectInput(k, join(FIXTURES, "clusters/generic/table.npz"))).toEqual({ container: "npz", kind: "generic" });
    expect(await detectInput(k, join(FIXTURES, "tfrecord/wire.tfrecord"))).toMatchObject({ container: "tfrecord", kind: "generic" });
    await expect(detectInput(k, BATCH, "scone")).rejects.toMatchObject({ code: "usage", message: expect.stringContaining("--kind scone reads SCONE") });
    await expect(detectInput(k, SCONE, "clusters")).rejects.toMatchObject({ code: "usage" });
  });
});

describe("the commands on the wrong kind of file", () => {
  it("convert reads a TFRecord named .npz as the TFRecord it is (it was sent to the NPZ reader by its name)", async () => {
    const dir = tmp();
    copyFileSync(SCONE, join(dir, "shard.npz"));
    const s = await convert([join(dir, "shard.npz")], { ...FILE_DEFAULTS, output: join(dir, "o"), threads: 1 });
    expect(s.results[0].kind).toBe("scone");
    expect(readArrow(join(dir, "o/shard.arrow")).numRows).toBeGreaterThan(0);
  });

  it("inspect, stats and verify on outputs: one clear error, non-zero exit, no report of zeros", async () => {
    const out = await outputs();
    const arrow = join(out, "arrow/clusters_planeU_batch0000.arrow");
    const inspect = run("inspect", arrow);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).toMatch(/Arrow IPC file/);
    expect(inspect.stdout).toBe("");
    for (const cmd of ["stats", "verify"]) {
      const r = run(cmd, join(out, "arrow"));
      expect(r.code, cmd).not.toBe(0);
      expect(r.stdout, cmd).toBe("");
      expect(r.stderr, cmd).toMatch(/no \.tfrecord or \.npz input .*these are arrowsmith outputs/);
    }
    const v = run("verify", arrow, BATCH);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/FAIL .*\.arrow: [^\n]*\n.*Arrow IPC file/);
    expect(v.stdout).toMatch(/ok +.*clusters_planeU_batch0000\.npz: 6 rows/);
    expect(run("convert", arrow, "-o", join(out, "again")).stderr).toMatch(/Arrow IPC file/);
  });

  it("verify on a folder with nothing in it exits 2, as convert does", () => {
    const r = run("verify", tmp());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no \.tfrecord or \.npz input/);
  });
});

describe("stats: --kind, and one exit rule", () => {
  const generic = () => {
    const dir = tmp();
    mkdirSync(join(dir, "g"));
    for (const f of ["nking_movies.tfrecord", "tfrecord_lite_test.tfrecord"]) copyFileSync(join(EXTERNAL, f), join(dir, "g", f));
    return join(dir, "g");
  };

  it.skipIf(!HAVE_EXTERNAL)(`generic TFRecords are named as such (exit 1), not reported as thousands of SCONE problems; --kind scone reads them as SCONE${NO_EXTERNAL}`, () => {
    const g = generic();
    const r = run("stats", g);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2 input\(s\) are neither \(generic/);
    expect(r.stdout).toBe("");
    const forced = run("stats", g, "--kind", "scone", "--json");
    expect(forced.code).toBe(3);
    expect(JSON.parse(forced.stdout).problems.length).toBeGreaterThan(0);
    expect(run("stats", BATCH, "--kind", "scone").code).toBe(2);
  });

  it("problems exit 3 for SCONE shards and for cluster batches alike; clean inputs exit 0", () => {
    const dir = tmp();
    const bytes = readFileSync(SCONE);
    bytes[200] ^= 0xff; // inside the first record's data: a data CRC problem
    writeFileSync(join(dir, "heatmaps_0009.tfrecord"), bytes);
    const scone = run("stats", join(dir, "heatmaps_0009.tfrecord"));
    expect(scone.code).toBe(3);
    expect(scone.stdout).toMatch(/problems: 1/);
    expect(run("stats", join(FIXTURES, "clusters/bad/rows_disagree.npz")).code).toBe(3);
    expect(run("stats", SCONE).code).toBe(0);
    expect(run("stats", join(FIXTURES, "clusters/dataset")).code).toBe(0);
  });
});
