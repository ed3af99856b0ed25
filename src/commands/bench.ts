// `arrowsmith bench`: generate a synthetic SCONE shard in a temporary folder, convert it once
// untimed (workers started, page cache and JIT warm), then convert it again and again, timing each
// run, until at least --runs runs and --seconds seconds; report the median rate with its spread.
// One short run (0.2-0.4 s) gave 441 to 919 MB/s from one try to the next on a shared machine.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { generateScone } from "../generate.js";
import { convert, type ConvertSummary } from "../pipeline/convert.js";
import { FILE_DEFAULTS } from "../pipeline/convert-file.js";
import { stopWorkers, workerPool } from "../pipeline/pool.js";
import { formatBytes, formatRate, MiB } from "../units.js";
import { type CommandSpec, log, positiveInt, threadsOption } from "./command.js";

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
  /** Where the outputs went. */
  outputDir: string;
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
    const once = async (): Promise<ConvertSummary> => {
      const out = join(outRoot, "out");
      rmSync(out, { recursive: true, force: true });
      try {
        return await convert([input], { ...FILE_DEFAULTS, output: out, threads: o.threads, taskBytes });
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    };
    say(`${formatBytes(size)}; one untimed run, then at least ${o.runs} runs and ${o.seconds} s…`);
    const first = await once();
    const runs: number[] = [];
    let total = 0;
    while (runs.length < o.runs || total < o.seconds) {
      const t0 = performance.now();
      const s = await once();
      const secs = (performance.now() - t0) / 1000;
      if (s.events !== first.events || s.threads !== first.threads) throw new Error(`run ${runs.length + 1} converted ${s.events} events on ${s.threads} threads, not ${first.events} on ${first.threads}`);
      runs.push(secs);
      total += secs;
    }
    return {
      events: first.events, inputBytes: size, threadsRequested: o.threads, threads: first.threads, tasks: first.results.length,
      runs, ...spreadOf(runs), outputDir: outRoot === dir ? tmpdir() : "/dev/shm",
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
    `  median of ${r.runs.length} runs (${r.runs.reduce((a, b) => a + b, 0).toFixed(1)} s): ${rate(r.median)}, ${(r.events / r.median).toFixed(0)} events/s` +
      `; slowest ${rate(r.max)}, fastest ${rate(r.min)}, spread ${(100 * r.spread).toFixed(0)}% ((max - min) / median of the run times)`,
  ].join("\n");
}

export function jsonBench(r: BenchResult): Record<string, unknown> {
  return {
    events: r.events, input_bytes: r.inputBytes, threads_requested: r.threadsRequested ?? null, threads: r.threads, tasks: r.tasks,
    runs: r.runs.length, run_seconds: r.runs, median_seconds: r.median, min_seconds: r.min, max_seconds: r.max, spread: r.spread,
    median_mib_per_second: r.inputBytes / r.median / MiB, median_events_per_second: r.events / r.median, output_dir: r.outputDir,
  };
}

export const benchCommand: CommandSpec<BenchResult> = {
  name: "bench",
  declare: (cmd: Command) => cmd
    .description("synthetic throughput: generate a SCONE shard, convert it repeatedly (after one untimed run), report the median rate and the spread")
    .option("--events <n>", "events in the shard", positiveInt("--events", 1), 2000)
    .addOption(threadsOption())
    .option("--runs <n>", "timed runs, at least", positiveInt("--runs", 1), 5)
    .option("--seconds <s>", "timed seconds, at least (more runs until then)", positiveInt("--seconds", 0), 5)
    .option("--json", "print JSON", false),
  run: (_args, o) => runBench(o as unknown as BenchCommandOptions),
  outcome: () => "ok",
  text: renderBench,
  json: jsonBench,
};
