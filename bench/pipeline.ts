// End-to-end bulk conversion through the CLI, as users run it: 1 and N threads, each output
// format, SCONE and cluster data, beside the single-thread peers on the same files in the same
// run. Every configuration and peer of a kind runs --runs times, alternated; prints the median
// throughput with the spread of the runs, the scaling ratio of medians and the peak resident
// memory. Every run must exit 0 with the number of events generated (peers included), or the
// benchmark stops.
//
//   npm run bench:pipeline -- [--files 4] [--events 600] [--threads 1,2] [--formats arrow,parquet,csv]
//                             [--kinds scone,clusters] [--runs 3] [--big-gb 2] [--out DIR] [--peers python|none] [--json]
// Each format also gets its I/O floor (src/io/floor.ts: reading the inputs and writing files the
// size of that format's outputs, fsync each, to the same folder) in the same alternation, and
// every row is printed as a multiple of its floor.
// Outputs go to --out (default /dev/shm when there is one: the figures are then the converter's,
// not the disk's; give --out /tmp to include a real disk and its fsyncs).
// --big-gb N also converts one N GB SCONE shard with the largest thread count, for peak memory.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureFloor, outputSizes } from "../src/io/floor.js";
import { PYTHON, runPythonPeer, warm } from "./peers.js";
import { alternate, summarize, type Summary } from "./runs.js";

const { values: args } = parseArgs({
  options: {
    files: { type: "string", default: "4" },
    events: { type: "string", default: "600" },
    threads: { type: "string", default: `1,${availableParallelism()}` },
    formats: { type: "string", default: "arrow,parquet,csv" },
    kinds: { type: "string", default: "scone,clusters" },
    runs: { type: "string", default: "3" },
    "big-gb": { type: "string", default: "0" },
    out: { type: "string", default: existsSync("/dev/shm") ? "/dev/shm" : tmpdir() },
    json: { type: "boolean", default: false },
    peers: { type: "string", default: "python" },
  },
});

const CLI = new URL(import.meta.url.endsWith(".ts") ? "../dist/src/cli.js" : "../src/cli.js", import.meta.url).pathname;
const say = (s: string) => { if (!args.json) process.stderr.write(s + "\n"); };
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-pipeline-"));
const outRoot = mkdtempSync(join(args.out, "arrowsmith-pipeline-out-"));

/** Runs the CLI; anything but exit 0 stops the benchmark (generated inputs have nothing to skip: exit 3 would mean lost rows). */
function cli(argv: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`arrowsmith ${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().startsWith("{") ? JSON.parse(r.stdout) : {};
}

function expectEvents(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what} handled ${got} events, not the ${want} generated: its figure would not compare`);
}

const folderBytes = (d: string) => readdirSync(d).reduce((a, n) => a + statSync(join(d, n)).size, 0);

interface Row { kind: string; format: string; threads: number; events: number; mb: number; seconds: Summary; events_per_s: number; mb_per_s: number; peak_rss_mb: number; times_floor?: number }
const rows: Row[] = [];
const peers: { kind: string; peer: string; events?: number; seconds: Summary; events_per_s?: number; mb_per_s: number }[] = [];
const runs = Number(args.runs);

try {
  const threadList = args.threads.split(",").map(Number);
  for (const kind of args.kinds.split(",")) {
    const input = join(dir, `in-${kind}`);
    say(`generating ${args.files} × ${args.events} ${kind} events…`);
    cli(["generate", kind, "-o", input, "--files", args.files, "--events", args.events, "--seed", "3"]);
    const bytes = folderBytes(input);
    const files = readdirSync(input).sort().map((f) => join(input, f));
    // the generator's count (the last cluster batch of a plane is shorter), as stats reads it
    const expected = kind === "clusters" ? (cli(["stats", input, "--json"]) as { total_clusters: number }).total_clusters : Number(args.files) * Number(args.events);
    for (const f of files) await warm(f);
    type R = { seconds: number; events: number; rss: number };
    const contenders: [string, () => Promise<R>][] = [];
    const sizes = new Map<string, number[]>();
    for (const format of args.formats.split(",")) {
      for (const threads of threadList) {
        contenders.push([`${format}/${threads}`, async () => {
          const out = join(outRoot, `out-${kind}-${format}-${threads}`);
          const s = cli(["convert", input, "-o", out, "--format", format, "--threads", String(threads), "--json"]) as { events: number; seconds: number; peak_rss_bytes: number };
          if (!sizes.has(format)) sizes.set(format, outputSizes(out));
          rmSync(out, { recursive: true, force: true });
          expectEvents(`convert --format ${format} --threads ${threads}`, s.events, expected);
          return { seconds: s.seconds, events: s.events, rss: s.peak_rss_bytes };
        }]);
      }
      contenders.push([`floor ${format}`, async () => {
        const f = measureFloor({ inputs: files, outputs: sizes.get(format)!, dir: join(outRoot, "floor") });
        return { seconds: f.seconds, events: 0, rss: 0 };
      }]);
    }
    // peers, single-threaded, on the same files, in the same alternation
    if (args.peers !== "none") {
      const peerName = kind === "scone" ? "python-protobuf-numpy (1 thread)" : "python np.load + numpy metrics (1 thread)";
      contenders.push([peerName, async () => {
        let events = 0, seconds = 0;
        if (kind === "scone") {
          for (const f of files) { const r = await runPythonPeer(f); events += r.events; seconds += r.seconds; }
        } else {
          const py = spawnSync(PYTHON, [new URL("./peer_clusters.py", import.meta.url).pathname.replace("/dist/bench/", "/bench/"), ...files], { encoding: "utf8" });
          if (py.status !== 0) throw new Error(`peer_clusters.py failed (${py.status}): ${py.stderr}`);
          const j = JSON.parse(py.stdout.trim().split("\n").pop()!) as { clusters: number; seconds: number };
          events = j.clusters;
          seconds = j.seconds;
        }
        expectEvents(peerName, events, expected);
        return { seconds, events, rss: 0 };
      }]);
    }
    const all = await alternate(contenders, runs, (name, run, r) => say(`  ${kind} run ${run + 1}: ${name.padEnd(44)} ${r.seconds.toFixed(2)} s`));
    for (const [name, rs] of all) {
      const t = summarize(rs.map((r) => r.seconds));
      if (name.includes("/")) {
        const [format, threads] = name.split("/");
        rows.push({
          kind, format, threads: Number(threads), events: expected, mb: bytes / 1e6, seconds: t, events_per_s: expected / t.median,
          mb_per_s: bytes / 1e6 / t.median, peak_rss_mb: Math.max(...rs.map((r) => r.rss)) / 1e6,
          times_floor: t.median / summarize(all.get(`floor ${format}`)!.map((r) => r.seconds)).median,
        });
      } else {
        const floor = name.startsWith("floor ");
        peers.push({ kind, peer: name, events: floor ? undefined : expected, seconds: t, events_per_s: floor ? undefined : expected / t.median, mb_per_s: bytes / 1e6 / t.median });
      }
    }
    rmSync(input, { recursive: true, force: true });
  }

  let big: Record<string, unknown> | undefined;
  if (Number(args["big-gb"]) > 0) {
    const events = Math.round((Number(args["big-gb"]) * 1e9) / 92272);
    const input = join(dir, "big");
    say(`generating one ${args["big-gb"]} GB SCONE shard (${events} events)…`);
    cli(["generate", "scone", "-o", input, "--files", "1", "--events", String(events), "--seed", "9"]);
    const threads = Math.max(...threadList);
    const s = cli(["convert", input, "-o", join(outRoot, "big-out"), "--threads", String(threads), "--json"]) as { events: number; seconds: number; peak_rss_bytes: number; input_bytes: number; tasks: number };
    expectEvents("the big shard", s.events, events);
    big = { gb: s.input_bytes / 1e9, events: s.events, threads, tasks: s.tasks, seconds: s.seconds, mb_per_s: s.input_bytes / 1e6 / s.seconds, peak_rss_mb: s.peak_rss_bytes / 1e6 };
    rmSync(input, { recursive: true, force: true });
    rmSync(join(outRoot, "big-out"), { recursive: true, force: true });
  }

  // from medians; the spread of each side beside it
  const scaling = rows.filter((r) => r.threads === Math.max(...threadList) && r.threads !== 1).map((r) => {
    const one = rows.find((x) => x.kind === r.kind && x.format === r.format && x.threads === 1);
    return { kind: r.kind, format: r.format, threads: r.threads, speedup: one ? one.seconds.median / r.seconds.median : null, spread_1: one?.seconds.spread ?? null, spread_n: r.seconds.spread };
  });
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  if (args.json) {
    process.stdout.write(JSON.stringify({ node: process.version, cores: availableParallelism(), output_dir: args.out, runs, rows, peers, scaling, big }, null, 1) + "\n");
  } else {
    process.stdout.write(`\noutputs in ${args.out}; median of ${runs} alternated runs each, spread = (max - min) / median; × floor: our time over the I/O floor's (read the inputs, write that format's output bytes, fsync each)\nkind      format   threads  events/s    MB/s  spread  × floor  peak RSS MB\n`);
    for (const r of rows) process.stdout.write(`${r.kind.padEnd(9)} ${r.format.padEnd(8)} ${String(r.threads).padStart(7)} ${r.events_per_s.toFixed(0).padStart(9)} ${r.mb_per_s.toFixed(0).padStart(7)} ${pct(r.seconds.spread).padStart(7)} ${r.times_floor!.toFixed(2).padStart(8)} ${r.peak_rss_mb.toFixed(0).padStart(12)}\n`);
    process.stdout.write(`\npeers and floors (same files, same alternation):\n`);
    for (const p of peers) process.stdout.write(`  ${String(p.kind).padEnd(9)} ${String(p.peer).padEnd(44)} ${p.events_per_s ? `${p.events_per_s.toFixed(0)} events/s  ` : ""}${p.mb_per_s.toFixed(0)} MB/s  spread ${pct(p.seconds.spread)}\n`);
    process.stdout.write(`\nscaling (1 → N threads, ratio of medians):\n`);
    for (const s of scaling) process.stdout.write(`  ${s.kind.padEnd(9)} ${s.format.padEnd(8)} ×${s.speedup?.toFixed(2)} on ${s.threads} threads (spreads ${s.spread_1 === null ? "-" : pct(s.spread_1)} and ${pct(s.spread_n)})\n`);
    if (big) process.stdout.write(`\none ${(big.gb as number).toFixed(2)} GB shard on ${big.threads} threads (${big.tasks} tasks), one run for its peak memory: ${(big.mb_per_s as number).toFixed(0)} MB/s, peak RSS ${(big.peak_rss_mb as number).toFixed(0)} MB\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outRoot, { recursive: true, force: true });
}
