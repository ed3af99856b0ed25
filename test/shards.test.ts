// Job arrays: `convert --shard I/N` slices of one plan written into one folder, then `merge`,
// give the files of one plain run; missing and failed shards are named with their rerun command.
// The last tests run the real thing on a one-node Slurm cluster (root only; CI runs them).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convert, type ConvertOptions } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { mergeShards } from "../src/scale/merge.ts";
import { assignShards, parseShard, sliceTasks } from "../src/scale/shards.ts";
import { FIXTURES, tmp } from "./helpers.ts";
import { slurmSkipReason, startSlurm, type SlurmCluster, waitForJobs } from "./slurm-cluster.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const digest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
/** Our data files in a folder and its SNID index (not the manifests, journals, shards' indexes, scripts or logs). */
const dataFiles = (dir: string) => readdirSync(dir).filter((n) => /\.(arrow|parquet|csv|arrows)$/.test(n) && !n.startsWith("_index.shard-")).sort();

/** A folder of inputs: the SCONE fixtures (heatmaps_0000 is cut into parts at 200 KB) and cluster batches. */
function inputsFolder(): string {
  const dir = tmp("arrowsmith-shard-in-");
  cpSync(join(FIXTURES, "scone"), dir, { recursive: true, filter: (s) => !s.endsWith(".json") });
  for (const n of readdirSync(join(FIXTURES, "clusters/dataset"))) copyFileSync(join(FIXTURES, "clusters/dataset", n), join(dir, n));
  return dir;
}

/** Flips a byte in the first record of heatmaps_0001 (a data CRC mismatch); returns the repair. */
function damage(input: string): () => void {
  const victim = join(input, "heatmaps_0001.tfrecord");
  const good = readFileSync(victim);
  const bad = Buffer.from(good);
  bad[40] ^= 0xff;
  writeFileSync(victim, bad);
  return () => writeFileSync(victim, good);
}

const base = (output: string, extra: Partial<ConvertOptions> = {}): ConvertOptions => ({ ...FILE_DEFAULTS, output, threads: 1, taskBytes: 200_000, ...extra });

function expectSameDataset(a: string, b: string): void {
  const names = dataFiles(a);
  expect(dataFiles(b)).toEqual(names);
  for (const n of names) expect(digest(join(b, n)), n).toBe(digest(join(a, n)));
  const ma = JSON.parse(readFileSync(join(a, "_manifest.json"), "utf8"));
  const mb = JSON.parse(readFileSync(join(b, "_manifest.json"), "utf8"));
  expect(mb.totals).toEqual(ma.totals);
  // the same entries (a repaired input has a newer mtime, which is all that may differ)
  const entries = (m: { inputs: Record<string, unknown>[] }) => m.inputs.map(({ mtime_ms: _, ...e }) => e);
  expect(entries(mb)).toEqual(entries(ma));
  // the report's numbers (not its dates, throughput or wall time) are those of the one run
  const numbers = (d: string) => {
    const { created: _c, overview: { wall_seconds: _w, mb_per_second: _r, ...overview }, ...rest } = JSON.parse(readFileSync(join(d, "_report.json"), "utf8"));
    return { ...rest, overview };
  };
  expect(numbers(b)).toEqual(numbers(a));
}

describe("shards", () => {
  it("--shard I/N and auto are parsed; outside a job array auto is a clear usage error", () => {
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(() => parseShard("5/5")).toThrow(/between 0 and N-1/);
    expect(() => parseShard("x")).toThrow(/I\/N/);
    expect(parseShard("auto", { SLURM_ARRAY_TASK_ID: "12", SLURM_ARRAY_TASK_MIN: "10", SLURM_ARRAY_TASK_COUNT: "4" })).toEqual({ index: 2, count: 4 });
    expect(() => parseShard("auto", {})).toThrow(/not inside a Slurm job array/);
    // our job script fixes N, so a resubmitted subset (--array=3,7: MIN 3, COUNT 2) keeps its indices
    expect(parseShard("auto", { SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_TASK_MIN: "3", SLURM_ARRAY_TASK_COUNT: "2", ARROWSMITH_SHARDS: "8" })).toEqual({ index: 7, count: 8 });
  });

  it("slices are balanced by bytes, deterministic, and cover every task exactly once", () => {
    const bytes = [900, 100, 500, 500, 300, 300, 200, 100];
    const owner = assignShards(bytes, 3);
    expect(assignShards(bytes, 3)).toEqual(owner);
    const load = [0, 0, 0];
    owner.forEach((s, i) => { load[s] += bytes[i]; });
    expect(Math.max(...load) - Math.min(...load)).toBeLessThanOrEqual(100);
    const tasks = bytes.map((_, i) => i);
    const all = [0, 1, 2].flatMap((i) => sliceTasks(tasks, bytes, { index: i, count: 3 }));
    expect(all.sort((a, b) => a - b)).toEqual(tasks);
  });

  it("three shards into one folder, then merge: the files and manifest totals of one plain run", async () => {
    const input = inputsFolder();
    const plain = tmp();
    await convert([input], base(plain));
    const sharded = tmp();
    for (const i of [2, 0, 1]) await convert([input], base(sharded, { shard: { index: i, count: 3 } }));
    expect(existsSync(join(sharded, "_manifest.json"))).toBe(false);
    const r = await mergeShards(sharded);
    expect(r.ok).toBe(true);
    expect(dataFiles(plain)).toContain("heatmaps_0000-part0001.arrow");
    expectSameDataset(plain, sharded);
  });

  it("a missing shard and a failed one are named with the command that reruns only them; after the repair merge succeeds", async () => {
    const input = inputsFolder();
    const plain = tmp();
    await convert([input], base(plain));
    // damage one input: the shard that owns it fails in --on-error fail
    const repair = damage(input);
    const out = tmp();
    const owners = [0, 1, 2];
    const failedShard: number[] = [];
    for (const i of owners) {
      try {
        await convert([input], base(out, { shard: { index: i, count: 3 }, argv: ["arrowsmith", "convert", input, "-o", out, "--task-bytes", "200000"] }));
      } catch (e) {
        failedShard.push(i);
        expect(String((e as Error).message)).toMatch(/heatmaps_0001/);
      }
    }
    expect(failedShard).toHaveLength(1);
    // and one shard's manifest goes missing (as if its task never ran)
    const other = owners.find((i) => i !== failedShard[0])!;
    const m = join(out, `_manifest.shard-${other}-of-3.json`);
    const saved = readFileSync(m);
    execFileSync("rm", [m]);
    const r = await mergeShards(out);
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual([other]);
    expect(r.failed.map((f) => f.index)).toEqual(failedShard);
    expect(r.failed[0].message).toMatch(/heatmaps_0001/);
    const rerun = [other, failedShard[0]].sort((a, b) => a - b);
    expect(r.rerun.slice(0, 2).map((c) => /--shard (\d)\/3/.exec(c)?.[1])).toEqual(rerun.map(String));
    // the CLI says the same and exits 1
    const cli = spawnSync(process.execPath, [CLI, "merge", out], { encoding: "utf8" });
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(new RegExp(`1 shard\\(s\\) missing \\(${other}\\), 1 failed`));
    // repair, rerun the two shards (the missing one from its manifest's place), merge
    repair();
    writeFileSync(m, saved);
    await convert([input], base(out, { shard: { index: failedShard[0], count: 3 }, resume: true }));
    const ok = spawnSync(process.execPath, [CLI, "merge", out], { encoding: "utf8" });
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expectSameDataset(plain, out);
  });

  it("a shard of another run (other options) is refused by merge", async () => {
    const input = inputsFolder();
    const out = tmp();
    await convert([input], base(out, { shard: { index: 0, count: 2 } }));
    await convert([input], base(out, { shard: { index: 1, count: 2 }, verify: false }));
    await expect(mergeShards(out)).rejects.toThrow(/different runs/);
  });
});

const skip = slurmSkipReason();
if (skip) console.warn(`[slurm] skipped: ${skip}`);

describe.skipIf(!!skip)(`a real Slurm job array${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let cluster: SlurmCluster;
  beforeAll(() => { cluster = startSlurm(); }, 60_000);
  afterAll(() => cluster?.stop());

  const submit = (script: string) => {
    const out = execFileSync("bash", [script], { env: cluster.env, encoding: "utf8" });
    const m = /array job (\d+), merge job (\d+)/.exec(out);
    expect(m, out).not.toBeNull();
    return [m![1], m![2]];
  };

  it("the script `arrowsmith slurm` writes converts a folder of shards and batches exactly as one machine does", () => {
    const input = inputsFolder();
    const plain = tmp();
    execFileSync(process.execPath, [CLI, "convert", input, "-o", plain, "--task-bytes", "200000", "--quiet"]);
    const out = tmp();
    const w = spawnSync(process.execPath, [CLI, "slurm", input, "-o", out, "--array", "3", "--task-bytes", "200000"], { encoding: "utf8", env: cluster.env });
    expect(w.stderr).toBe("");
    expect(w.status).toBe(0);
    const ids = submit(join(out, "_slurm/submit.sh"));
    waitForJobs(cluster.env, ids);
    expect(readdirSync(out).filter((n) => n.startsWith("_manifest.shard-")).sort()).toEqual([0, 1, 2].map((i) => `_manifest.shard-${i}-of-3.json`));
    expect(existsSync(join(out, "_manifest.json")), readdirSync(join(out, "_slurm")).join(" ")).toBe(true);
    expectSameDataset(plain, out);
  }, 180_000);

  it("an array task that fails is named by merge with `sbatch --array=I`; rerunning it after the repair completes the dataset", () => {
    const input = inputsFolder();
    const plain = tmp();
    execFileSync(process.execPath, [CLI, "convert", input, "-o", plain, "--task-bytes", "200000", "--quiet"]);
    const repair = damage(input);
    const out = tmp();
    execFileSync(process.execPath, [CLI, "slurm", input, "-o", out, "--array", "3", "--task-bytes", "200000"], { env: cluster.env });
    const ids = submit(join(out, "_slurm/submit.sh"));
    waitForJobs(cluster.env, [ids[0]]);
    // the merge job never runs (afterok); cancel it and merge by hand, as a user would
    execFileSync("scancel", [ids[1]], { env: cluster.env });
    const r = spawnSync(process.execPath, [CLI, "merge", out], { encoding: "utf8" });
    expect(r.status).toBe(1);
    const rerun = /sbatch --array=(\d+) (\S+)/.exec(r.stdout);
    expect(rerun, r.stdout).not.toBeNull();
    expect(r.stdout).toMatch(/heatmaps_0001/);
    repair();
    const id = execFileSync("sbatch", ["--parsable", `--array=${rerun![1]}`, rerun![2]], { env: cluster.env, encoding: "utf8" }).trim();
    waitForJobs(cluster.env, [id]);
    const ok = spawnSync(process.execPath, [CLI, "merge", out], { encoding: "utf8" });
    expect(ok.stdout + ok.stderr).toMatch(/merged 3 shard/);
    expect(ok.status).toBe(0);
    expectSameDataset(plain, out);
  }, 180_000);
});
