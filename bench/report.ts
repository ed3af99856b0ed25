// The cost of the dataset statistics: the same SCONE conversion with and without the report
// accumulators, alternated in one run (one thread, outputs on /dev/shm), medians of the rates.
// The job's I/O floor (src/io/floor.ts: reading the shard, writing files the size of the outputs
// with the report, fsync each) runs after each pair, and both rates are given as multiples of it.
//   node dist/bench/report.js [--events 3000] [--runs 5] [--threads 1]
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateScone } from "../src/generate.js";
import { measureFloor, outputSizes } from "../src/io/floor.js";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.js";
import { convert } from "../src/pipeline/convert.js";

const arg = (name: string, d: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };
const events = Number(arg("events", "3000")), runs = Number(arg("runs", "5")), threads = Number(arg("threads", "1"));
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-report-"));
const out = mkdtempSync(join("/dev/shm", "arrowsmith-bench-report-"));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
try {
  await generateScone(join(dir, "in"), { files: 1, events, seed: 9 });
  const rates: Record<"on" | "off", number[]> = { on: [], off: [] };
  // CPU seconds of this process per run (one thread: all the work is here); steadier than wall
  // time on a shared machine
  const cpu: Record<"on" | "off", number[]> = { on: [], off: [] };
  const floors: number[] = [];
  let sizes: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    for (const mode of i % 2 ? (["off", "on"] as const) : (["on", "off"] as const)) {
      rmSync(join(out, mode), { recursive: true, force: true });
      const c0 = process.cpuUsage();
      const s = await convert([join(dir, "in")], { ...FILE_DEFAULTS, output: join(out, mode), threads, report: mode === "on" });
      const c = process.cpuUsage(c0);
      if (mode === "on" && !sizes.length) sizes = outputSizes(join(out, mode));
      if (i > 0) { // round 0 warms the page cache and JIT
        rates[mode].push(s.inputBytes / s.seconds / 1e6);
        cpu[mode].push((c.user + c.system) / 1e6);
      }
    }
    if (i > 0) floors.push(measureFloor({ inputs: [join(dir, "in", "heatmaps_0000.tfrecord")], outputs: sizes, dir: join(out, "floor") }).seconds);
  }
  const on = median(rates.on), off = median(rates.off);
  const cOn = median(cpu.on), cOff = median(cpu.off);
  const floorMbs = statSync(join(dir, "in", "heatmaps_0000.tfrecord")).size / median(floors) / 1e6;
  console.log(JSON.stringify({
    events, threads, runs,
    floor: { mb_per_s: +floorMbs.toFixed(1), report_on_times_floor: +(floorMbs / on).toFixed(2), report_off_times_floor: +(floorMbs / off).toFixed(2) },
    wall: { mb_per_s_report_on: +on.toFixed(1), mb_per_s_report_off: +off.toFixed(1), cost_percent: +((100 * (off - on)) / off).toFixed(2) },
    cpu: { seconds_report_on: +cOn.toFixed(3), seconds_report_off: +cOff.toFixed(3), cost_percent: +((100 * (cOn - cOff)) / cOff).toFixed(2) },
    runs_mb_per_s: { on: rates.on.map((x) => +x.toFixed(1)), off: rates.off.map((x) => +x.toFixed(1)) },
    runs_cpu_s: { on: cpu.on.map((x) => +x.toFixed(3)), off: cpu.off.map((x) => +x.toFixed(3)) },
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
