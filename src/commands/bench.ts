// `arrowsmith bench`: generate a synthetic SCONE shard in a temporary folder, convert it once
// untimed (workers started, page cache and JIT warm), then convert it again and again, timing each
// run, until at least --runs runs and --seconds seconds; report the median rate with its spread.
// One short run (0.2-0.4 s) gave 441 to 919 MB/s from one try to the next on a shared machine.
// A run's time is the conversion's own (planning to manifest, with the report's accumulators), as
// `convert --json` reports it: the report page is drawn after it, seconds of rasterising figures
// whatever the input size, which would hide the rate. Each timed run is followed by a run of the job's I/O floor (io/floor.ts: reading the shard and
// writing files the size of the first run's outputs, fsync each, into the same folder), and the
// median of ours is printed as a multiple of the floor's median.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateScone } from "../generate.js";
import { type FloorResult, measureFloor, outputSizes } from "../io/floor.js";
import { convert, type ConvertSummary } from "../pipeline/convert.js";
import { FILE_DEFAULTS } from "../pipeline/convert-file.js";
import { stopWorkers, workerPool } from "../pipeline/pool.js";
import { formatBytes, formatRate, MiB } from "../units.js";
import { type CommandRun, log } from "./command.js";

export interface BenchCommandOptions {
  events: number;
  threads?: number;
  runs: number;
  seconds: number;
  json: boolean;
}

export interface BenchResult {
  events: number;
  inputBytes: number;
  /** Threads asked for (undefined: the default) and used. */
  threadsRequested?: number;
  threads: number;
  tasks: number;
  /** Seconds of each timed run, in order. */
  runs: number[];
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, of the run times. */
  spread: number;
  /** Wall time of the timed runs, report pages and floors included. */
  wallSeconds: number;
  /** Where the outputs went. */
  outputDir: string;
  /** The I/O floor, run after each timed run: the median run of it (by total time) and the median of the totals. */
  floor: FloorResult & { runs: number[]; median: number };
}

/** Median, min, max and (max - min) / median. */
export function spreadOf(values: number[]): { median: number; min: number; max: number; spread: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], spread: median > 0 ? (s[s.length - 1] - s[0]) / median : 0 };
}

export async function runBench(o: BenchCommandOptions): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-"));
  // outputs in memory where there is /dev/shm: the figure is then the converter's, not the disk's
  const outRoot = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/arrowsmith-bench-") : dir;
  const say = log(o.json);
  // the workers stay between runs (each run would otherwise pay for starting them)
  const pool = workerPool();
  const idle = pool.idleMs;
  pool.idleMs = Infinity;
  try {
    say(`generating ${o.events} SCONE events…`);
    const [input] = await generateScone(join(dir, "in"), { files: 1, events: o.events, seed: 7 });
    const size = statSync(input).size;
    // with several threads, about two tasks per thread, so that every thread has work
    const taskBytes = (o.threads ?? 1) > 1 ? Math.max(1 << 20, Math.floor(size / (2 * o.threads!))) : undefined;
    let sizes: number[] = [];
    const once = async (): Promise<ConvertSummary> => {
      const out = join(outRoot, "out");
      rmSync(out, { recursive: true, force: true });
      try {
        const s = await convert([input], { ...FILE_DEFAULTS, output: out, threads: o.threads, taskBytes });
        if (!sizes.length) sizes = outputSizes(out);
        return s;
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    };
    say(`${formatBytes(size)}; one untimed run, then at least ${o.runs} runs and ${o.seconds} s, each followed by the I/O floor…`);
    const first = await once();
    const runs: number[] = [];
    const floors: FloorResult[] = [];
    // --seconds counts wall time, report pages and floors included, so the command ends when asked
    const start = performance.now();
    let total = 0;
    while (runs.length < o.runs || total < o.seconds) {
      const s = await once();
      const secs = s.seconds;
      if (s.events !== first.events || s.threads !== first.threads) throw new Error(`run ${runs.length + 1} converted ${s.events} events on ${s.threads} threads, not ${first.events} on ${first.threads}`);
      runs.push(secs);
      floors.push(measureFloor({ inputs: [input], outputs: sizes, dir: join(outRoot, "floor") }));
      total = (performance.now() - start) / 1000;
    }
    const byTime = [...floors].sort((a, b) => a.seconds - b.seconds);
    const floor = { ...byTime[(byTime.length - 1) >> 1], runs: floors.map((f) => f.seconds), median: spreadOf(floors.map((f) => f.seconds)).median };
    return {
      events: first.events, inputBytes: size, threadsRequested: o.threads, threads: first.threads, tasks: first.results.length,
      runs, ...spreadOf(runs), wallSeconds: total, outputDir: outRoot === dir ? tmpdir() : "/dev/shm", floor,
    };
  } finally {
    pool.idleMs = idle;
    await stopWorkers();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outRoot, { recursive: true, force: true });
  }
}

export function renderBench(r: BenchResult): string {
  const rate = (secs: number) => formatRate(r.inputBytes / secs);
  return [
    `SCONE → Arrow, ${r.threads} thread(s), ${r.tasks} task(s): ${r.events} events, ${formatBytes(r.inputBytes)}, output in ${r.outputDir}`,
    `  median of ${r.runs.length} runs (${r.wallSeconds.toFixed(1)} s): ${rate(r.median)}, ${(r.events / r.median).toFixed(0)} events/s` +
      `; slowest ${rate(r.max)}, fastest ${rate(r.min)}, spread ${(100 * r.spread).toFixed(0)}% ((max - min) / median of the run times)`,
    `  ${(r.median / r.floor.median).toFixed(2)}× the I/O floor: its median ${r.floor.median.toFixed(3)} s (${rate(r.floor.median)}, spread ${(100 * spreadOf(r.floor.runs).spread).toFixed(0)}%), ` +
      `reading the shard (${r.floor.readSeconds.toFixed(3)} s) and writing ${formatBytes(r.floor.outputBytes)} in ${r.floor.files} files, fsync each (${r.floor.writeSeconds.toFixed(3)} s), alternated with our runs`,
  ].join("\n");
}

export function jsonBench(r: BenchResult): Record<string, unknown> {
  return {
    events: r.events, input_bytes: r.inputBytes, threads_requested: r.threadsRequested ?? null, threads: r.threads, tasks: r.tasks,
    runs: r.runs.length, run_seconds: r.runs, median_seconds: r.median, min_seconds: r.min, max_seconds: r.max, spread: r.spread,
    median_mib_per_second: r.inputBytes / r.median / MiB, median_events_per_second: r.events / r.median, output_dir: r.outputDir,
    floor: {
      run_seconds: r.floor.runs, median_seconds: r.floor.median, spread: spreadOf(r.floor.runs).spread,
      read_seconds: r.floor.readSeconds, write_seconds: r.floor.writeSeconds, output_bytes: r.floor.outputBytes, files: r.floor.files,
    },
    times_floor: r.median / r.floor.median,
  };
}

export const benchCommand: CommandRun<BenchResult> = {
  run: (_args, o) => runBench(o as unknown as BenchCommandOptions),
  outcome: () => "ok",
  text: renderBench,
  json: jsonBench,
};
