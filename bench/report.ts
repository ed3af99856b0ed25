// The cost of the dataset report: the same conversion with and without it (--no-report), of
// generated SCONE shards or, with --kind clusters, DUNE cluster batches (NPZ),
// alternated in one run, outputs on /dev/shm. Wall time is measured around the whole convert()
// call, report files included; CPU time is the process's (all threads). The report has a part per
// event (the accumulators in the workers) and a fixed part per run (merging, figures, the page):
// the fixed part is timed on its own, and the job size from which the whole report costs at most
// 5% of the conversion is printed. Workers stay up between runs (as bench/scone.ts keeps them):
// otherwise a page that takes longer than the pool's idle time retires them, and the run after a
// report-on run paid for starting workers. A CLI run also loads the report's modules and compiles
// its figure templates (in the main thread, while the workers convert): that is paid once per
// process, so in this loop only by the warm-up round; it is timed apart, in a fresh process
// (`modules`). The main thread's heap is collected before each run, untimed: otherwise a run
// after a report-on run paid for collecting that page's garbage. The job's I/O floor (src/io/floor.ts: reading the shards,
// writing files the size of the outputs with the report, fsync each) runs after each pair, and
// both wall times are given as multiples of it.
// Then the per-event part alone (`per_event_in_thread`): the same tasks in this thread, report
// on and off alternated task by task, without the page or the pool. And for SCONE
// (`per_event_parts`), the same work as the sum of its parts timed directly: the kernel's class
// sums with the tap's class lookup (the kernel with and without them, alternated over a window of
// generated events), and the tap's batch loops and task end timed inside those report-on tasks. The
// parts are far less noisy than a difference of two conversions on a shared machine, but do not
// see what the report may cost the rest of the work (cache, garbage collection).
//   node dist/bench/report.js [--kind scone|clusters] [--files 10] [--events 2000] [--runs 5] [--threads N]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { generateScone, heatmap, NT, NW, Rng } from "../src/generate.js";
import { generateClusters } from "../src/generate-clusters.js";
import { measureFloor, outputSizes } from "../src/io/floor.js";
import { sconeParams } from "../src/datasets/scone.js";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.js";
import { convert } from "../src/pipeline/convert.js";
import { stopWorkers, workerPool } from "../src/pipeline/pool.js";
import { runTask } from "../src/pipeline/tasks.js";
import { LowestBounds, SconeTap } from "../src/report/scone-stats.js";
import { Kernels } from "../src/wasm.js";

const arg = (name: string, d: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };
const files = Number(arg("files", "10")), events = Number(arg("events", "2000")), runs = Number(arg("runs", "5"));
const threads = process.argv.includes("--threads") ? Number(arg("threads", "2")) : undefined;
const kind = arg("kind", "scone") as "scone" | "clusters";
if (kind !== "scone" && kind !== "clusters") throw new Error(`--kind is scone or clusters, not ${kind}`);
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-report-"));
const out = mkdtempSync(join("/dev/shm", "arrowsmith-bench-report-"));
const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const quantile = (a: number[], q: number) => { const s = [...a].sort((x, y) => x - y), h = (s.length - 1) * q, lo = Math.floor(h); return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]); };
const spread = (a: number[]) => (Math.max(...a) - Math.min(...a)) / median(a);
const r3 = (x: number) => +x.toFixed(3);
workerPool().idleMs = Infinity;
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Wall and CPU seconds a fresh process takes to load the report's modules and compile its SCONE templates. */
function moduleCost(): { seconds: number; cpu_seconds: number } {
  const url = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
  const code = `const t0 = performance.now();
    await import(${url("../src/report/report.js")}); await import(${url("../src/report/stats.js")});
    (await import(${url("../src/report/html.js")})).prepareSconeFigures(${JSON.stringify({ timeRange: FILE_DEFAULTS.scone.timeRange, wavelengthRange: FILE_DEFAULTS.scone.wavelengthRange })});
    const c = process.cpuUsage();
    console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, cpu_seconds: (c.user + c.system) / 1e6 }));`;
  const base = spawnSync(process.execPath, ["--input-type=module", "-e", "const c = process.cpuUsage(); console.log(JSON.stringify({ cpu_seconds: (c.user + c.system) / 1e6 }))"], { encoding: "utf8" });
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" });
  if (r.status !== 0 || base.status !== 0) throw new Error(r.stderr || base.stderr);
  const j = JSON.parse(r.stdout), b = JSON.parse(base.stdout);
  // the process's own start-up is not the report's
  return { seconds: j.seconds, cpu_seconds: j.cpu_seconds - b.cpu_seconds };
}

/**
 * The report's work in the SCONE kernel, timed on its own: the kernel (float32 tensors, metrics on)
 * over a window's worth of generated events (85, ~8 MiB, two classes), with and without the class
 * sums, in alternated blocks; the median of the blocks' differences. With them, each event's class
 * is looked up in a tap (`region`), which pairs the class's events as in a conversion.
 */
function sconeParts(k: Kernels): { kernelUs: number; kernelOffUs: number } {
  const mark = k.mark();
  const n = NW * NT, W = 85, SL = k.metricSlots, rows = 256;
  const win = k.alloc(W * n * 16 + 16) + 3, out = k.alloc(2 * rows * n * 4), metrics = k.alloc(rows * SL * 8);
  const scratch = k.alloc(k.sconeScratchBytes(NW, NT)), params = k.alloc(64);
  const p = FILE_DEFAULTS.scone;
  const par = sconeParams(p);
  k.bytes().set(new Uint8Array(par.buffer, par.byteOffset, par.byteLength), params);
  const rng = new Rng(5), img = new Float64Array(n * 2), labels: number[] = [];
  for (let e = 0; e < W; e++) {
    const l = rng.random() < 0.5 ? 1 : 0;
    labels.push(l);
    heatmap(rng, l, img);
    k.bytes().set(new Uint8Array(img.buffer), win + e * n * 16);
  }
  const block = (on: boolean) => {
    const m = k.mark();
    const tap = on ? new SconeTap(k, p, [], "parts") : undefined;
    const t0 = performance.now();
    for (let rep = 0, row = 0; rep < 6; rep++) {
      for (let e = 0; e < W; e++, row = (row + 1) % rows) {
        const sum = tap ? tap.region(labels[e]) : 0;
        k.sconeEvent(win + e * n * 16, NW, NT, out + row * n * 4, out + (rows + row) * n * 4, false, metrics + row * SL * 8, scratch, params,
          0, 0, 0, 0, sum, sum && sum + n * 8, sum && tap!.prevMap, sum && tap!.keepMap);
      }
    }
    const us = ((performance.now() - t0) * 1000) / (6 * W);
    k.release(m);
    return us;
  };
  const diffs: number[] = [], offs: number[] = [];
  for (let i = 0; i < 41; i++) {
    const t: Record<string, number> = {};
    for (const on of i % 2 ? [false, true] : [true, false]) t[String(on)] = block(on);
    if (i > 0) { diffs.push(t.true - t.false); offs.push(t.false); }
  }
  k.release(mark);
  return { kernelUs: median(diffs), kernelOffUs: median(offs) };
}

try {
  if (kind === "scone") await generateScone(join(dir, "in"), { files, events, seed: 9 });
  else generateClusters(join(dir, "in"), { files, events, seed: 9 });
  const inputs = readdirSync(join(dir, "in")).sort().map((n) => join(dir, "in", n));
  const wall: Record<"on" | "off", number[]> = { on: [], off: [] };
  const cpu: Record<"on" | "off", number[]> = { on: [], off: [] };
  const page: number[] = [], pageCpu: number[] = [];
  // per round, on against off of the same round: the conversion's wall seconds (to the manifest,
  // before the page) and CPU seconds less the page's
  const conv: Record<"on" | "off", number[]> = { on: [], off: [] };
  const convCpu: Record<"on" | "off", number[]> = { on: [], off: [] };
  const load: number[] = [];
  const floors: number[] = [];
  let sizes: number[] = [];
  let bytes = 0, usedThreads = 0;
  for (let i = 0; i < runs + 1; i++) {
    for (const mode of i % 2 ? (["off", "on"] as const) : (["on", "off"] as const)) {
      rmSync(join(out, mode), { recursive: true, force: true });
      // the garbage of the run before (the page's above all: Vega, resvg) is collected here,
      // untimed, rather than by whichever run comes next
      gc();
      load.push(loadavg()[0]);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const s = await convert([join(dir, "in")], { ...FILE_DEFAULTS, output: join(out, mode), threads, report: mode === "on" });
      const w = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      if (mode === "on" && !sizes.length) sizes = outputSizes(join(out, mode));
      bytes = s.inputBytes;
      usedThreads = s.threads;
      if (i === 0) continue; // round 0 warms the page cache and the JIT
      wall[mode].push(w);
      cpu[mode].push((c.user + c.system) / 1e6);
      if (s.report) { page.push(s.report.seconds); pageCpu.push(s.report.cpuSeconds); }
      conv[mode].push(s.seconds);
      convCpu[mode].push((c.user + c.system) / 1e6 - (s.report?.cpuSeconds ?? 0));
    }
    if (i > 0) floors.push(measureFloor({ inputs, outputs: sizes, dir: join(out, "floor") }).seconds);
  }
  const paired = (x: Record<"on" | "off", number[]>) => x.on.map((v, i) => (100 * (v - x.off[i])) / x.off[i]);
  const pw = paired(conv), pc = paired(convCpu);
  // the per-event part alone: the job's tasks run in this thread one after another (as a worker
  // runs them: the same outputs, the report's lowest-list bounds passed on), the report on and off
  // alternated task by task; no page, no other thread. CPU seconds of the process.
  const k = new Kernels();
  // the tap's own time in the report-on tasks (its batch loops, and per task the statistics and the
  // kept events taken out): per batch and per task calls, so the timer costs nothing that shows
  const tapMs = { batch: 0, task_end: 0 };
  for (const [name, part] of [["batch", "batch"], ["toJSON", "task_end"], ["lowestEvents", "task_end"]] as const) {
    const proto = SconeTap.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const f = proto[name];
    proto[name] = function (this: unknown, ...a: unknown[]) {
      const t = performance.now();
      try { return f.apply(this, a); } finally { if (timing) tapMs[part] += performance.now() - t; }
    };
  }
  let timing = false;
  const taskCpu: Record<"on" | "off", number[]> = { on: [], off: [] };
  // per task and round: the report-on task's CPU over the report-off one's beside it (the pair
  // shares the machine's state of that moment: a burst of other load moves both)
  const pairs: number[] = [];
  mkdirSync(join(out, "tasks"));
  let taskEvents = 0;
  for (let i = 0; i < runs + 1; i++) {
    const bounds = new LowestBounds();
    const sum = { on: 0, off: 0 };
    gc();
    for (const [j, input] of inputs.entries()) {
      const pair = { on: 0, off: 0 };
      for (const mode of (i + j) % 2 ? (["off", "on"] as const) : (["on", "off"] as const)) {
        const lowestBelow = mode === "on" ? bounds.get() : undefined;
        timing = i > 0;
        const c0 = process.cpuUsage();
        const r = await runTask(k, { input, outName: `${mode}-${j}.arrow`, kind }, join(out, "tasks"), { ...FILE_DEFAULTS, report: mode === "on", lowestBelow });
        const c = process.cpuUsage(c0);
        sum[mode] += (c.user + c.system) / 1e6;
        pair[mode] = (c.user + c.system) / 1e6;
        if (mode === "on") bounds.add(r.stats);
        if (i === 0 && mode === "on") taskEvents += r.rows;
      }
      if (i > 0) pairs.push((100 * (pair.on - pair.off)) / pair.off);
    }
    if (i === 0) continue;
    taskCpu.on.push(sum.on);
    taskCpu.off.push(sum.off);
  }
  timing = false;
  const pt = paired(taskCpu);
  const parts = kind === "scone" ? sconeParts(k) : undefined;
  const tapEvents = taskEvents * runs;
  const mods = Array.from({ length: 3 }, moduleCost);
  const wOn = median(wall.on), wOff = median(wall.off), cOn = median(cpu.on), cOff = median(cpu.off);
  const fixed = page.length ? median(page) : NaN, fixedCpu = pageCpu.length ? median(pageCpu) : NaN;
  const floor = median(floors);
  const rate = bytes / wOff; // bytes per second without the report
  // per-event part: what is left of the difference once the page is written
  const perEvent = (wOn - fixed - wOff) / wOff;
  console.log(JSON.stringify({
    kind, files, events_per_file: events, input_mb: r3(bytes / 1e6), threads: usedThreads, runs,
    load_average: { min: r3(Math.min(...load)), median: r3(median(load)), max: r3(Math.max(...load)) },
    floor: { seconds: r3(floor), report_on_times_floor: r3(wOn / floor), report_off_times_floor: r3(wOff / floor) },
    wall: { seconds_report_on: r3(wOn), seconds_report_off: r3(wOff), cost_percent: +((100 * (wOn - wOff)) / wOff).toFixed(2), spread_on: r3(spread(wall.on)), spread_off: r3(spread(wall.off)) },
    cpu: { seconds_report_on: r3(cOn), seconds_report_off: r3(cOff), cost_percent: +((100 * (cOn - cOff)) / cOff).toFixed(2), spread_on: r3(spread(cpu.on)), spread_off: r3(spread(cpu.off)) },
    report_page: { seconds: r3(fixed), cpu_seconds: r3(fixedCpu), runs_s: page.map(r3), runs_cpu_s: pageCpu.map(r3) },
    // once per CLI process, overlapping the conversion (not in the wall or CPU figures above)
    report_modules: { seconds: r3(median(mods.map((m) => m.seconds))), cpu_seconds: r3(median(mods.map((m) => m.cpu_seconds))) },
    per_event_cost_percent: { wall: +(100 * perEvent).toFixed(2), cpu: +((100 * (cOn - fixedCpu - cOff)) / cOff).toFixed(2) },
    // the same, paired within each round (on against the off run beside it, which shares its
    // load): the conversion's wall time to the manifest, and its CPU time less the page's
    per_event_cost_percent_paired: {
      wall: { median: +median(pw).toFixed(2), min: +Math.min(...pw).toFixed(2), max: +Math.max(...pw).toFixed(2), runs: pw.map((x) => +x.toFixed(2)) },
      cpu: { median: +median(pc).toFixed(2), min: +Math.min(...pc).toFixed(2), max: +Math.max(...pc).toFixed(2), runs: pc.map((x) => +x.toFixed(2)) },
    },
    // the per-event part measured apart (see above): CPU per event with and without the report
    per_event_in_thread: {
      us_per_event_on: +((1e6 * median(taskCpu.on)) / taskEvents).toFixed(2), us_per_event_off: +((1e6 * median(taskCpu.off)) / taskEvents).toFixed(2),
      cost_percent: { median: +median(pt).toFixed(2), min: +Math.min(...pt).toFixed(2), max: +Math.max(...pt).toFixed(2), runs: pt.map((x) => +x.toFixed(2)) },
      // the same per task: the median of every task's on/off pair, and its quartiles
      // ci95: the median's approximate 95% interval, median ± 1.58·IQR/√n (a box plot's notch)
      cost_percent_task_pairs: {
        median: +median(pairs).toFixed(2), q1: +quantile(pairs, 0.25).toFixed(2), q3: +quantile(pairs, 0.75).toFixed(2), pairs: pairs.length,
        ci95: [-1, 1].map((sgn) => +(median(pairs) + (sgn * 1.58 * (quantile(pairs, 0.75) - quantile(pairs, 0.25))) / Math.sqrt(pairs.length)).toFixed(2)),
      },
    },
    // the per-event part again, as the sum of its parts timed directly (less noisy than the
    // difference of two conversions, but blind to what the report costs the rest of the work)
    ...(parts ? {
      per_event_parts: {
        kernel_sums_us: r3(parts.kernelUs), kernel_us_without: r3(parts.kernelOffUs),
        batch_loops_us: r3((1000 * tapMs.batch) / tapEvents), task_end_us: r3((1000 * tapMs.task_end) / tapEvents),
        total_us: r3(parts.kernelUs + (1000 * (tapMs.batch + tapMs.task_end)) / tapEvents),
        percent_of_event: +((100 * (parts.kernelUs + (1000 * (tapMs.batch + tapMs.task_end)) / tapEvents)) / ((1e6 * median(taskCpu.off)) / taskEvents)).toFixed(2),
      },
    } : {}),
    // a job whose conversion takes T seconds pays fixed + perEvent·T: at most 5% of T from here on
    five_percent_from: perEvent < 0.05 ? { seconds_of_conversion: r3(fixed / (0.05 - perEvent)), input_gb_at_this_rate: r3((rate * fixed) / (0.05 - perEvent) / 1e9) } : null,
    runs_wall_s: { on: wall.on.map(r3), off: wall.off.map(r3) },
    runs_cpu_s: { on: cpu.on.map(r3), off: cpu.off.map(r3) },
  }));
} finally {
  await stopWorkers();
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}
