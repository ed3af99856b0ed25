// Single-thread SCONE conversion (CRC checked, float32 tensors, metrics, Arrow file written) beside
// its peers on the same file in the same run: the Python/protobuf/numpy script, @roboflow/tfrecords,
// and `cat` as the floor. Every contender runs --runs times, alternated; prints the median events/s
// and MB/s, the spread of the runs, and each ratio of medians. The peers must report the same
// number of events as we do, or the benchmark stops.
//
// What the 40 summary columns cost: the conversion also runs without them (`no-metrics`), and both
// once more without the report (`metrics-norep`, `nometrics-norep`), whose per-event statistics and
// figures are the report's cost, not the columns'. Our runs also record the process's CPU time (all
// threads), which a busy machine disturbs less than the wall clock; both ratios are printed.
//
//   npm run bench -- [--events 2000] [--file heatmaps.tfrecord] [--runs 3] [--precision f32|f64]
//                    [--out DIR] [--json] [--peers python,roboflow,cat] [--no-report-pair]
// Output goes to --out (default: /dev/shm when there is one, so the figure is the converter's and
// not the disk's); the "floor" line is the job's I/O floor (src/io/floor.ts: reading the input and
// writing files the size of our outputs, fsync each, to the same folder), and our time is printed
// as a multiple of it.
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SCONE_DEFAULTS } from "../src/datasets/scone.js";
import { generateScone } from "../src/generate.js";
import { type FloorResult, measureFloor, outputSizes } from "../src/io/floor.js";
import { convert } from "../src/pipeline/convert.js";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.js";
import { stopWorkers, workerPool } from "../src/pipeline/pool.js";
import { type PeerResult, runCat, runPythonPeer, runRoboflowTfrecords, warm } from "./peers.js";
import { alternate, checkEvents, summarize } from "./runs.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "2000" },
    file: { type: "string" },
    runs: { type: "string", default: "3" },
    precision: { type: "string", default: "f32" },
    json: { type: "boolean", default: false },
    peers: { type: "string", default: "python,roboflow,cat" },
    out: { type: "string", default: existsSync("/dev/shm") ? "/dev/shm" : tmpdir() },
    "no-report-pair": { type: "boolean", default: false },
  },
});

const say = (s: string) => { if (!args.json) process.stderr.write(s + "\n"); };
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-"));
const outRoot = mkdtempSync(join(args.out, "arrowsmith-bench-out-"));
let outputs: number[] = [];
const floors: FloorResult[] = [];

/** Our conversion; `cpuSeconds` is the process's user + system time over the run (all threads). */
async function ours(file: string, metrics = true, report = true): Promise<PeerResult & { cpuSeconds: number }> {
  const out = join(outRoot, "out");
  const c0 = process.cpuUsage();
  const s = await convert([file], { ...FILE_DEFAULTS, output: out, threads: 1, report, scone: { ...SCONE_DEFAULTS, precision: args.precision as "f32" | "f64", metrics } });
  const cpu = process.cpuUsage(c0);
  // the conversion's own time, planning to manifest, report accumulators included; the report
  // page rendered after it (seconds of figure rasterising whatever the input size) is left out
  // (the CPU time includes it: compare CPU times of the pair without the report)
  const seconds = s.seconds;
  if (metrics && report && !outputs.length) outputs = outputSizes(out);
  rmSync(out, { recursive: true, force: true });
  return {
    name: `arrowsmith (1 thread, ${args.precision}, CRC on, ${metrics ? "scone_tools' 40 columns" : "no metrics"}, ${report ? "report" : "no report"}, Arrow file)`,
    events: s.events, seconds, bytes: s.inputBytes, cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

/** The job's I/O floor: reading the input, writing files the size of our outputs (fsync each) to the same folder. */
async function floor(file: string): Promise<PeerResult> {
  const f = measureFloor({ inputs: [file], outputs, dir: join(outRoot, "floor") });
  floors.push(f);
  const outBytes = outputs.reduce((a, b) => a + b, 0);
  return { name: `read the input + write ${(outBytes / 1e6).toFixed(0)} MB in ${outputs.length} files, fsync each, to ${args.out}`, events: 0, seconds: f.seconds, bytes: f.inputBytes };
}

// conversion runs in a worker thread: keep it between runs (the peers' figures exclude their
// interpreter's start too; a CLI run starts its workers while it plans)
workerPool().idleMs = Infinity;
try {
  let file = args.file;
  if (!file) {
    say(`generating ${args.events} SCONE events…`);
    [file] = await generateScone(join(dir, "in"), { files: 1, events: Number(args.events), seed: 11 });
  }
  const size = statSync(file).size;
  say(`file: ${file} (${(size / 1e6).toFixed(1)} MB)`);
  await warm(file);
  // the same conversion without the metric columns: what the 40 columns cost
  const peers: [string, (f: string) => Promise<PeerResult>][] = [["arrowsmith", (f) => ours(f)], ["no-metrics", (f) => ours(f, false)]];
  // the same pair without the report: what the columns alone cost
  if (!args["no-report-pair"]) peers.push(["metrics-norep", (f) => ours(f, true, false)], ["nometrics-norep", (f) => ours(f, false, false)]);
  const wanted = new Set(args.peers.split(","));
  // the Python peer writes its results too (one .npz, fsynced), to the same folder as ours
  if (wanted.has("python")) peers.push(["python", async (f) => {
    const out = join(outRoot, "python.npz");
    try { return await runPythonPeer(f, { out }); } finally { rmSync(out, { force: true }); }
  }]);
  if (wanted.has("roboflow")) peers.push(["roboflow", runRoboflowTfrecords]);
  if (wanted.has("cat")) peers.push(["cat", runCat]);
  peers.push(["floor", floor]);
  // every contender the same number of runs, alternated; figures are medians with their spread
  const runs = Number(args.runs);
  const all = await alternate(peers.map(([key, fn]) => [key, () => fn(file!)] as [string, () => Promise<PeerResult>]), runs,
    (key, run, r) => say(`  run ${run + 1}: ${key.padEnd(10)} ${r.seconds.toFixed(3)} s`), 1);
  const events = all.get("arrowsmith")![0].events;
  checkEvents(new Map([...all].filter(([k]) => k !== "cat" && k !== "floor").map(([k, rs]) => [k, rs.map((r) => r.events)])), events);
  const med = (key: string) => summarize(all.get(key)!.map((r) => r.seconds));
  const base = med("arrowsmith").median;
  const cpu = (key: string) => {
    const rs = all.get(key) as (PeerResult & { cpuSeconds?: number })[] | undefined;
    return rs && rs[0].cpuSeconds !== undefined ? summarize(rs.map((r) => r.cpuSeconds!)) : undefined;
  };
  // the metrics' cost: throughput with the columns over throughput without them (wall and CPU time, medians)
  const costOf = (on: string, off: string) => {
    if (!all.has(on) || !all.has(off)) return undefined;
    const [con, coff] = [cpu(on)!, cpu(off)!];
    return {
      with: on, without: off, wall_ratio: med(off).median / med(on).median, cpu_ratio: coff.median / con.median,
      cpu_us_per_event_with: 1e6 * con.median / events, cpu_us_per_event_without: 1e6 * coff.median / events,
    };
  };
  const cost = [costOf("arrowsmith", "no-metrics"), costOf("metrics-norep", "nometrics-norep")].filter((c) => c !== undefined);
  const rows = [...all.entries()].map(([key, rs]) => {
    const t = med(key);
    const c = cpu(key);
    const r = rs[0];
    return {
      peer: key, name: r.name, events: r.events, bytes: r.bytes, runs: t.runs, median_seconds: t.median, min_seconds: t.min, max_seconds: t.max, spread: t.spread,
      ...(c ? { median_cpu_seconds: c.median, cpu_spread: c.spread } : {}),
      events_per_s: r.events / t.median, mb_per_s: r.bytes / t.median / 1e6,
      // from medians: for the floors, their MB/s over ours; for the peers, their time over ours (> 1: arrowsmith is faster)
      arrowsmith_speedup: key === "cat" || key === "floor" || key.includes("metrics") ? base / t.median : t.median / base,
    };
  });
  if (args.json) {
    const fl = floors.slice(-runs);
    const floorTimes = summarize(fl.map((f) => f.seconds));
    process.stdout.write(JSON.stringify({
      file, bytes: size, events, runs, output_dir: args.out, node: process.version, results: rows,
      floor: { median_seconds: floorTimes.median, spread: floorTimes.spread, read_seconds: summarize(fl.map((f) => f.readSeconds)).median, write_seconds: summarize(fl.map((f) => f.writeSeconds)).median, output_bytes: fl[0].outputBytes, files: fl[0].files },
      times_floor: base / floorTimes.median, metrics_cost: cost,
    }, null, 1) + "\n");
  } else {
    process.stdout.write(`\nSCONE → Arrow, single thread, ${events} events, ${(size / 1e6).toFixed(1)} MB; median of ${runs} alternated runs each after one untimed round, spread = (max - min) / median\n`);
    for (const r of rows) {
      const ratio = r.peer === "arrowsmith" ? `(${r.name}; output in ${args.out})`
        : r.peer.includes("metrics") ? `(${r.name})`
        : r.peer === "floor" ? `arrowsmith takes ${r.arrowsmith_speedup.toFixed(2)}× the floor's time (${r.name})`
        : r.peer === "cat" ? `${r.arrowsmith_speedup.toFixed(2)}× our MB/s of input (${r.name})`
        : `arrowsmith ${r.arrowsmith_speedup.toFixed(2)}× faster (${r.name})`;
      const cpuText = r.median_cpu_seconds !== undefined ? `  cpu ${(1e6 * r.median_cpu_seconds / events).toFixed(1).padStart(6)} µs/event` : "";
      process.stdout.write(`  ${r.peer.padEnd(15)} ${r.events_per_s.toFixed(0).padStart(8)} events/s ${r.mb_per_s.toFixed(0).padStart(6)} MB/s  spread ${(100 * r.spread).toFixed(0).padStart(3)}%${cpuText}  ${ratio}\n`);
    }
    for (const c of cost) {
      process.stdout.write(`  the 40 columns: ${c.with} runs at ${(100 * c.wall_ratio).toFixed(1)}% of ${c.without}'s throughput (wall), ${(100 * c.cpu_ratio).toFixed(1)}% by CPU time (${c.cpu_us_per_event_with.toFixed(1)} vs ${c.cpu_us_per_event_without.toFixed(1)} µs/event)\n`);
    }
  }
} finally {
  await stopWorkers();
  rmSync(dir, { recursive: true, force: true });
  rmSync(outRoot, { recursive: true, force: true });
}
