// `arrowsmith bench`: repeated timed runs after an untimed one, the median and the spread of them,
// and the threads actually used (it once reported "threads": 1 for --threads 2).
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;

describe("bench command", () => {
  it("--threads 2 --runs 3: three timed runs on the threads used, median and spread of them", () => {
    const r = spawnSync(process.execPath, [CLI, "bench", "--events", "60", "--threads", "2", "--runs", "3", "--seconds", "0", "--json"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.threads_requested).toBe(2);
    expect(j.threads).toBe(Math.min(2, availableParallelism()));
    expect(j.tasks).toBeGreaterThanOrEqual(2);
    expect(j.events).toBe(60);
    expect(j.runs).toBe(3);
    expect(j.run_seconds).toHaveLength(3);
    const sorted = [...j.run_seconds].sort((a: number, b: number) => a - b);
    expect(j.median_seconds).toBe(sorted[1]);
    expect(j.min_seconds).toBe(sorted[0]);
    expect(j.max_seconds).toBe(sorted[2]);
    expect(j.spread).toBeCloseTo((sorted[2] - sorted[0]) / sorted[1], 12);
    expect(j.median_mib_per_second).toBeCloseTo(j.input_bytes / j.median_seconds / 2 ** 20, 9);
    // the I/O floor, one run after each of ours: the shard read, the outputs' bytes written (the
    // two part files of the two tasks, the manifest and the report files)
    expect(j.floor.run_seconds).toHaveLength(3);
    expect(j.floor.files).toBeGreaterThanOrEqual(4);
    expect(j.floor.output_bytes).toBeGreaterThan(0);
    expect(j.floor.read_seconds + j.floor.write_seconds).toBeGreaterThan(0);
    expect(j.times_floor).toBeCloseTo(j.median_seconds / j.floor.median_seconds, 9);
  }, 120_000);

  it("runs until --seconds have passed, and prints the median with its spread", () => {
    // at least --runs runs, and runs until --seconds have passed (one run may itself last longer)
    const r = spawnSync(process.execPath, [CLI, "bench", "--events", "20", "--runs", "2", "--seconds", "1"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const m = /median of (\d+) runs \(([\d.]+) s\): [\d.]+ MiB\/s, \d+ events\/s; slowest [\d.]+ MiB\/s, fastest [\d.]+ MiB\/s, spread \d+%/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThanOrEqual(1);
    expect(Number(m![1])).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
