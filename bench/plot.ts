// `plot` throughput: scone_tools' sample run (10 figures from each of 40 shards, PNG) through the
// real CLI, wall time and CPU time (user + sys of the process and its worker threads).
// Beside it, the job's I/O floor (src/io/floor.ts: reading the shards and writing files the size of
// the figures, fsync each), measured right after, and the wall time as a multiple of it.
//   node dist/bench/plot.js [--files 40] [--per-file 10] [--threads N] [--format png]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateScone } from "../src/generate.js";
import { measureFloor, outputSizes } from "../src/io/floor.js";

const arg = (name: string, d: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };
const files = Number(arg("files", "40")), perFile = Number(arg("per-file", "10")), format = arg("format", "png");
const threads = arg("threads", "");
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-plot-"));
try {
  await generateScone(join(dir, "in"), { files, events: perFile + 2, seed: 5 });
  const cli = new URL("../src/cli.js", import.meta.url).pathname;
  const args = [cli, "plot", join(dir, "in"), "-o", join(dir, "out"), "--sample", String(perFile), "--format", format, "--json", ...(threads ? ["--threads", threads] : [])];
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%U %S %M", process.execPath, ...args], { encoding: "utf8" });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(r.stderr);
  const [user, sys, rssKb] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  const j = JSON.parse(r.stdout);
  const n = readdirSync(join(dir, "out")).length;
  const floor = measureFloor({ inputs: readdirSync(join(dir, "in")).map((f) => join(dir, "in", f)), outputs: outputSizes(join(dir, "out")), dir: join(dir, "floor") });
  console.log(JSON.stringify({ figures: n, format, threads: j.threads, wall_s: +wall.toFixed(2), floor_s: +floor.seconds.toFixed(3), times_floor: +(wall / floor.seconds).toFixed(1), cpu_s: +(user + sys).toFixed(2), cpu_ms_per_figure: +((1000 * (user + sys)) / n).toFixed(1), peak_rss_mb: Math.round(rssKb / 1024) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
