// The real binary (dist/src/cli.js) on NPZ inputs: convert, stats, inspect and generate clusters,
// their stdout, stderr and exit codes (0 ok, 1 failure, 2 bad usage, 3 skipped).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXTERNAL, FIXTURES, HAVE_EXTERNAL, NO_EXTERNAL, readArrow, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const DIR = join(FIXTURES, "clusters");

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("arrowsmith CLI on cluster batches", () => {
  it("convert a batch folder: one .arrow per batch, exit 0, the 0-byte batch warned about on stderr", () => {
    const out = tmp();
    const r = run("convert", join(DIR, "dataset"), "-o", out, "--json", "--threads", "1");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.events).toBe(19);
    expect(j.files).toBe(5);
    expect(r.stderr).toMatch(/warning: .*clusters_planeX_batch0001\.npz: empty file \(0 bytes\)/);
    expect(readdirSync(out).sort()).toEqual(["_manifest.json", "_report.html", "_report.json", "clusters_planeU_batch0000.arrow", "clusters_planeU_batch0001.arrow",
      "clusters_planeV_batch0000.arrow", "clusters_planeX_batch0000.arrow", "clusters_planeX_batch0001.arrow"]);
    expect(readArrow(join(out, "clusters_planeU_batch0001.arrow")).numRows).toBe(2);
  });

  it("a bad layout exits 1 naming the file and the layouts tried; --metadata-layout settles an ambiguous batch", () => {
    const r = run("convert", join(DIR, "bad/clusters_ambiguous.npz"), "-o", tmp());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(DIR, "bad/clusters_ambiguous.npz"));
    expect(r.stderr).toMatch(/ambiguous.*12 and 12alt/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(run("convert", join(DIR, "bad/clusters_ambiguous.npz"), "-o", tmp(), "--metadata-layout", "12").code).toBe(0);
    expect(run("convert", join(DIR, "bad/clusters_ambiguous.npz"), "-o", tmp(), "--metadata-layout", "13").code).toBe(2);
  });

  it("--on-error skip: a damaged batch is counted, the rest converted, exit 3", () => {
    const dir = tmp();
    mkdirSync(join(dir, "in"));
    copyFileSync(join(DIR, "bad/clusters_planeX_batch0777.npz"), join(dir, "in/clusters_planeX_batch0777.npz"));
    copyFileSync(join(DIR, "dataset/clusters_planeU_batch0000.npz"), join(dir, "in/clusters_planeU_batch0000.npz"));
    const fail = run("convert", join(dir, "in"), "-o", join(dir, "a"));
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/images\.npy.*CRC-32/);
    const r = run("convert", join(dir, "in"), "-o", join(dir, "b"), "--on-error", "skip", "--json");
    expect(r.code).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.problems).toEqual([expect.objectContaining({ code: "member_crc", skipped: "file" })]);
    expect(j.events).toBe(6);
    expect(readFileSync(join(dir, "b/_errors.jsonl"), "utf8").trim().split("\n")).toHaveLength(1);
  });

  it.skipIf(!HAVE_EXTERNAL)(`refuses object arrays (exit 1) and converts numpy's sample archive as generic${NO_EXTERNAL}`, () => {
    const r = run("convert", join(EXTERNAL, "test_cc_bg_planeU.npz"), "-o", tmp());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/object array.*pickle/);
    const out = tmp();
    const g = run("convert", join(EXTERNAL, "numpy_py3-arr-savez.npz"), "-o", out, "--kind", "generic", "--json");
    expect(g.code).toBe(0);
    expect(JSON.parse(g.stdout).outputs[0]).toMatchObject({ rows: 4, kind: "generic" });
  });

  it("stats prints the script's figures; --json one object; empty folders and batches are fine", () => {
    const t = run("stats", join(DIR, "dataset"));
    expect(t.code).toBe(0);
    const exp = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")).stats.dataset;
    // the script's figures; its "MB"/"KB" (bytes/1024/1024, bytes/1024) are labelled MiB/KiB
    for (const line of exp.lines as string[]) expect(t.stdout).toContain(line.replace(/ MB$/, " MiB").replace(/ KB\)$/, " KiB)"));
    const j = run("stats", join(DIR, "dataset"), "--json");
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ kind: "clusters", batch_files: 5, total_clusters: 19, planes: { U: { count: 8 } } });
    const empty = run("stats", tmp(), "--json");
    expect(empty.code).toBe(0);
    expect(JSON.parse(empty.stdout)).toMatchObject({ batch_files: 0, total_clusters: 0 });
    const zero = run("stats", join(DIR, "dataset/clusters_planeX_batch0001.npz"));
    expect(zero.code).toBe(0);
    expect(zero.stdout).toContain("Total clusters: 0");
    // a batch left out of the figures: exit 3, as for SCONE shards with problems (one rule)
    const bad = run("stats", join(DIR, "bad/rows_disagree.npz"));
    expect(bad.code).toBe(3);
    expect(bad.stdout).toContain("Problems (1");
  });

  it("inspect shows arrays, layout and first clusters", () => {
    const r = run("inspect", join(DIR, "variants/clusters_planeX_batch0150.npz"), "--records", "2", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ format: "npz", kind: "clusters", clusters: 3, layout: { name: "15" }, image_shape: [128, 16] });
    expect(j.first).toHaveLength(2);
    expect(j.first[0]).toHaveProperty("pixel_sum");
    const t = run("inspect", join(DIR, "variants/clusters_planeX_batch0032.npz"));
    expect(t.code).toBe(0);
    expect(t.stdout).toContain("image: FixedSizeList[4096]<Float32>");
    expect(t.stdout).toContain("metadata layout 12 (detected");
  });

  it.skipIf(!HAVE_EXTERNAL)(`inspect exits 1 on a refused archive${NO_EXTERNAL}`, () => {
    const refused = run("inspect", join(EXTERNAL, "test_cc_bg_planeU.npz"));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("refused");
  });

  it("generate clusters writes batches that stats and convert read", () => {
    const dir = tmp();
    const g = run("generate", "clusters", "-o", join(dir, "g"), "--files", "4", "--events", "30", "--seed", "5");
    expect(g.code).toBe(0);
    expect(g.stdout.trim().split("\n").map((p) => p.split("/").pop())).toEqual([
      "clusters_planeU_batch0000.npz", "clusters_planeU_batch0001.npz", "clusters_planeV_batch0000.npz", "clusters_planeX_batch0000.npz"]);
    const s = JSON.parse(run("stats", join(dir, "g"), "--json").stdout);
    expect(s.batch_files).toBe(4);
    // seed 5: three full batches of 30 and plane U's shorter last batch of 18 (the seeded generator's
    // exact output; a change in its random stream shows here)
    expect(s.total_clusters).toBe(30 + 30 + 30 + 18);
    expect(s.planes.U.count).toBe(30 + 18);
    const c = run("generate", "clusters", "-o", join(dir, "c"), "--files", "1", "--events", "5", "--compression", "zlib");
    expect(c.code).toBe(0);
    const r = run("convert", join(dir, "c"), "-o", join(dir, "o"), "--json");
    expect(JSON.parse(r.stdout).events).toBe(5);
  });
});

describe("verify on NPZ: the checks of convert, nothing written", () => {
  const bad = (name: string) => join(DIR, "bad", name);

  it("fails what convert refuses (row counts that disagree, a plane the file name contradicts, a bad CRC), ok on good batches", () => {
    for (const [name, message] of [
      ["rows_disagree.npz", /"images\.npy" has 1 clusters but "metadata\.npy" has 2 rows/],
      ["clusters_planeU_batch0666.npz", /fits no layout: .*the file name says plane U/],
      ["clusters_planeX_batch0777.npz", /CRC-32/],
      ["k13.npz", /13 columns/],
    ] as const) {
      expect(run("convert", bad(name), "-o", tmp()).code, name).toBe(1);
      const r = run("verify", bad(name), "--json");
      expect(r.code, name).toBe(1);
      const f = JSON.parse(r.stdout).files[0];
      expect(f.ok).toBe(false);
      expect(f.problems[0].message).toMatch(message);
    }
    const r = run("verify", join(DIR, "dataset"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok +\S+clusters_planeU_batch0000\.npz: 6 rows/);
  });

  it("names no record (an NPZ has none) and no undefined place in its messages", () => {
    const refused = join(EXTERNAL, "test_cc_bg_planeU.npz");
    for (const file of [...(HAVE_EXTERNAL ? [refused] : []), bad("rows_disagree.npz"), bad("clusters_planeX_batch0777.npz")]) {
      const r = run("verify", file);
      expect(r.code).toBe(1);
      expect(r.stdout).not.toMatch(/undefined|record/);
      expect(r.stdout).toContain(file);
    }
    if (HAVE_EXTERNAL) expect(run("verify", refused).stdout).toMatch(/byte \d+: npy member "images\.npy": object array/);
    else expect(run("verify", bad("clusters_planeX_batch0777.npz")).stdout).toMatch(/byte \d+: zip member "images\.npy": CRC-32/);
  });
});
