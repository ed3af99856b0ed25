// `plot` throughput: scone_tools' sample run (10 figures from each of 40 shards, PNG) through the
// real CLI, wall time and CPU time (user + sys of the process and its worker threads).
//   node dist/bench/plot.js [--files 40] [--per-file 10] [--threads N] [--format png]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateScone } from "../src/generate.js";

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
  console.log(JSON.stringify({ figures: n, format, threads: j.threads, wall_s: +wall.toFixed(2), cpu_s: +(user + sys).toFixed(2), cpu_ms_per_figure: +((1000 * (user + sys)) / n).toFixed(1), peak_rss_mb: Math.round(rssKb / 1024) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
