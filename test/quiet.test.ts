// `--quiet` prints nothing but warnings and errors: no progress, no summary on stdout; warnings
// (an option without effect, columns CSV leaves out, records skipped) still go to stderr, and
// `--json` still prints its object.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const SCONE = join(FIXTURES, "scone/heatmaps_0001.tfrecord");
const DAMAGED = join(FIXTURES, "midstream/midstream.tfrecord.gz");

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("convert --quiet", () => {
  it("prints nothing on a clean run; the same run without it prints its summary", () => {
    const q = run(["convert", SCONE, "-o", tmp(), "--no-report", "--quiet"]);
    expect(q).toEqual({ code: 0, stdout: "", stderr: "" });
    const loud = run(["convert", SCONE, "-o", tmp(), "--no-report"]);
    expect(loud.code).toBe(0);
    expect(loud.stdout).toMatch(/^converted 1 task\(s\)/);
  }, 120_000);

  it("still prints warnings, and says on stderr that records were skipped (exit 3)", () => {
    const csv = run(["convert", SCONE, "-o", tmp(), "--no-report", "--quiet", "--format", "csv", "--compression", "snappy"]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe("");
    expect(csv.stderr.trim().split("\n")).toEqual([
      "arrowsmith: warning: --compression applies to Parquet output only: --format csv ignores it",
      "arrowsmith: warning: CSV holds the scalar and metric columns only: flux, flux_err left out (--format arrow or parquet keeps them)",
    ]);
    const out = tmp();
    const skipped = run(["convert", DAMAGED, "-o", out, "--no-report", "--quiet", "--on-error", "skip", "--kind", "generic"]);
    expect(skipped.code).toBe(3);
    expect(skipped.stdout).toBe("");
    const problems = readFileSync(join(out, "_errors.jsonl"), "utf8").trim().split("\n").length;
    expect(problems).toBeGreaterThan(0);
    expect(skipped.stderr).toBe(`arrowsmith: warning: skipped ${problems} problem(s): see ${out}/_errors.jsonl\n`);
    const json = run(["convert", SCONE, "-o", tmp(), "--no-report", "--quiet", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).events).toBe(4);
  }, 180_000);
});
