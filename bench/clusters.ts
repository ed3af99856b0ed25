// Cluster batches → Arrow on one thread beside the numpy peer (bench/peer_clusters.py: np.load +
// the same metrics, nothing written), on the same generated batches in the same run, for np.savez
// (stored) and np.savez_compressed (deflate) batches. Three figures per set:
//   convert     `convert(folder, { threads: 1 })`: CRC-32 checked, metadata decoded, metrics, one
//               Arrow file per batch written, fsynced and renamed, manifest: the real job
//   decode      the same reading, checks, metrics and Arrow record batches, nothing written: the
//               work the numpy peer does (it writes nothing either)
//   null        the conversion's task in this thread (read, checks, metrics, report accumulators,
//               record batches) into a sink that keeps nothing: the bound of our own compute
//   read        reading the batches whole and nothing else (the floor's reading part)
//   python      the peer
//   floor       the job's I/O floor (src/io/floor.ts): reading the batches, writing files the size
//               of convert's outputs (fsync each) to the same folder; convert's time is printed as
//               a multiple of it
// Each runs --runs times, alternated. Prints the median MB/s of input and clusters/s with the spread
// of the runs, and the ratios of medians (> 1: arrowsmith is faster). Every run must handle every
// generated cluster, or the benchmark stops.
//
//   node --import tsx bench/clusters.ts [--batches 24] [--per-batch 1000] [--runs 3] [--out DIR] [--json]
//                                       [--peers convert,decode,null,read,python,floor] [--sets stored,deflate]
//                                       [--window-bytes B]   (convert's and null's windows of rows)
//
// The Arrow outputs go to --out (default /dev/shm when there is one, a tmpfs: the figure is then
// the converter's, not the disk's).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { dictionaryVector } from "../src/arrow.js";
import { clusterPlanSchema, emitClusters, planClusterBatch } from "../src/datasets/clusters.js";
import { generateClusters } from "../src/generate-clusters.js";
import { measureFloor, outputSizes } from "../src/io/floor.js";
import { convert } from "../src/pipeline/convert.js";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.js";
import { stopWorkers, workerPool } from "../src/pipeline/pool.js";
import { decodeNpzTask, openNpz } from "../src/pipeline/npz-task.js";
import { NullSink } from "../src/sinks/null.js";
import { clusterStats } from "../src/stats-clusters.js";
import { kernels } from "../src/wasm.js";
import { PYTHON, warm } from "./peers.js";
import { alternate, checkEvents, summarize } from "./runs.js";

const { values: args } = parseArgs({
  options: {
    batches: { type: "string", default: "24" },
    "per-batch": { type: "string", default: "1000" },
    runs: { type: "string", default: "3" },
    out: { type: "string", default: existsSync("/dev/shm") ? "/dev/shm" : tmpdir() },
    json: { type: "boolean", default: false },
    peers: { type: "string", default: "convert,decode,null,read,python,floor" },
    sets: { type: "string", default: "stored,deflate" },
    "window-bytes": { type: "string" },
  },
});

interface Run { seconds: number; clusters: number }
const windowBytes = args["window-bytes"] === undefined ? undefined : Number(args["window-bytes"]);
type Peer = "convert" | "decode" | "null" | "read" | "python" | "floor";

const say = (s: string) => { if (!args.json) process.stderr.write(s + "\n"); };
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-clusters-"));
const outRoot = mkdtempSync(join(args.out, "arrowsmith-bench-out-"));

function peerScript(): string {
  for (const u of [new URL("./peer_clusters.py", import.meta.url), new URL("../../bench/peer_clusters.py", import.meta.url)]) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return p;
  }
  throw new Error("bench/peer_clusters.py not found");
}

/** Sizes of convert's outputs per input folder (from its first run), for the floor. */
const outputs = new Map<string, number[]>();

async function convertRun(folder: string): Promise<Run> {
  const out = join(outRoot, "o");
  const s = await convert([folder], { ...FILE_DEFAULTS, output: out, threads: 1, windowBytes });
  if (!outputs.has(folder)) outputs.set(folder, outputSizes(out));
  // the conversion's own time (planning to manifest, report accumulators included), without the
  // report page rendered after it, a fixed cost whatever the input size
  const seconds = s.seconds;
  rmSync(out, { recursive: true, force: true });
  return { seconds, clusters: s.events };
}

/** What runNpzTask does for a cluster batch, minus the sink. */
async function decodeRun(folder: string): Promise<Run> {
  const k = kernels();
  const files = readdirSync(folder).sort().map((f) => join(folder, f));
  let clusters = 0;
  const t0 = performance.now();
  for (const f of files) {
    const mark = k.mark();
    const input = openNpz(f);
    try {
      const plan = planClusterBatch(k, input.zip!, { metadataLayout: "auto" });
      const schema = clusterPlanSchema(plan, "f32");
      emitClusters(k, input.zip!, plan, schema, dictionaryVector([basename(f)]), (batch) => { clusters += batch.numRows; }, { precision: "f32" });
    } finally {
      input.close();
      k.release(mark);
    }
  }
  return { seconds: (performance.now() - t0) / 1000, clusters };
}

/** The conversion's task for each batch in this thread, into a sink that keeps nothing. */
async function nullRun(folder: string): Promise<Run> {
  const k = kernels();
  const files = readdirSync(folder).sort().map((f) => join(folder, f));
  let clusters = 0;
  const t0 = performance.now();
  for (const f of files) {
    const r = await decodeNpzTask(k, { input: f, outName: "", kind: "clusters" }, { ...FILE_DEFAULTS, windowBytes }, () => new NullSink());
    clusters += r.records;
  }
  return { seconds: (performance.now() - t0) / 1000, clusters };
}

/** Reading the batches whole, as the floor does, and nothing else. */
async function readRun(folder: string): Promise<Run> {
  const f = measureFloor({ inputs: readdirSync(folder).sort().map((n) => join(folder, n)), outputs: [], dir: join(outRoot, "read") });
  return { seconds: f.readSeconds, clusters: -1 };
}

async function floorRun(folder: string): Promise<Run> {
  const f = measureFloor({ inputs: readdirSync(folder).sort().map((n) => join(folder, n)), outputs: outputs.get(folder)!, dir: join(outRoot, "floor") });
  return { seconds: f.seconds, clusters: -1 };
}

function python(folder: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [peerScript(), folder], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`peer_clusters.py exit ${code}: ${err.trim()}`));
      const j = JSON.parse(out.trim().split("\n").pop()!);
      resolve({ seconds: j.seconds, clusters: j.clusters });
    });
  });
}

// conversion runs in a worker thread: keep it between runs (the peers' figures exclude their
// interpreter's start too; a CLI run starts its workers while it plans)
workerPool().idleMs = Infinity;
try {
  const batches = Number(args.batches), per = Number(args["per-batch"]), runs = Number(args.runs);
  const sets: [string, string][] = (["stored", "deflate"] as const).filter((s) => args.sets.split(",").includes(s)).map((s) => [s, join(dir, s)]);
  say(`generating ${batches} batches of ${per} clusters, ${sets.map(([s]) => s).join(" and ")}…`);
  for (const [name, folder] of sets) generateClusters(folder, { files: batches, events: per, seed: 17, compressed: name === "deflate" });
  const report: { set: string; files: number; bytes: number; results: Record<string, unknown>[]; speedup: Record<string, number> }[] = [];
  const all: [Peer, (f: string) => Promise<Run>][] = [["convert", convertRun], ["decode", decodeRun], ["null", nullRun], ["read", readRun], ["python", python], ["floor", floorRun]];
  const chosen = args.peers.split(",");
  // convert first: the floor writes as many bytes as convert's first run did
  const peers = all.filter(([p]) => chosen.includes(p) && (p !== "floor" || chosen.includes("convert")));
  const has = (p: Peer) => peers.some(([q]) => q === p);
  for (const [name, folder] of sets) {
    const paths = readdirSync(folder).map((f) => join(folder, f));
    const bytes = paths.reduce((a, p) => a + statSync(p).size, 0);
    for (const p of paths) await warm(p);
    const timed = await alternate(peers.map(([p, fn]) => [p, () => fn(folder)] as [string, () => Promise<Run>]), runs,
      (peer, r, x) => say(`  ${name} run ${r + 1}: ${peer.padEnd(8)} ${x.seconds.toFixed(3)} s`));
    // the clusters generated (the last batch of a plane is shorter), as `stats` counts them
    const total = clusterStats(paths).total_clusters;
    checkEvents(new Map([...timed].filter(([p]) => p !== "floor" && p !== "read").map(([p, rs]) => [p, rs.map((x) => x.clusters)])), total);
    const med = (peer: string) => summarize(timed.get(peer)!.map((x) => x.seconds));
    const row = (peer: Peer) => {
      const t = med(peer);
      return { peer, clusters: total, runs: t.runs, median_seconds: t.median, min_seconds: t.min, max_seconds: t.max, spread: t.spread,
        mb_per_s: bytes / t.median / 1e6, clusters_per_s: total / t.median };
    };
    report.push({ set: name, files: paths.length, bytes, results: peers.map(([p]) => row(p)),
      speedup: {
        ...(has("python") && has("convert") ? { convert_vs_python: med("python").median / med("convert").median } : {}),
        ...(has("python") && has("decode") ? { decode_vs_python: med("python").median / med("decode").median } : {}),
        ...(has("floor") ? { convert_times_floor: med("convert").median / med("floor").median } : {}),
        ...(has("null") && has("convert") ? { convert_times_null: med("convert").median / med("null").median } : {}),
      } });
  }
  if (args.json) {
    process.stdout.write(JSON.stringify({ node: process.version, batches, per_batch: per, runs, out: args.out, sets: report }, null, 1) + "\n");
  } else {
    for (const s of report) {
      process.stdout.write(`\ncluster batches (${s.set}), ${s.files} files, ${(s.bytes / 1e6).toFixed(1)} MB, one thread, output in ${args.out}; median of ${args.runs} alternated runs each, spread = (max - min) / median\n`);
      for (const r of s.results as { peer: string; mb_per_s: number; clusters_per_s: number; spread: number }[]) {
        process.stdout.write(`  ${r.peer.padEnd(8)} ${r.clusters_per_s.toFixed(0).padStart(8)} clusters/s ${r.mb_per_s.toFixed(0).padStart(6)} MB/s  spread ${(100 * r.spread).toFixed(0).padStart(3)}%\n`);
      }
      const x = s.speedup;
      if (x.convert_times_floor !== undefined) process.stdout.write(`  convert takes ${x.convert_times_floor.toFixed(2)}× the floor's time (read the batches + write convert's ${outputs.get(join(dir, s.set))!.length} files, fsync each)\n`);
      if (x.convert_times_null !== undefined) process.stdout.write(`  convert takes ${x.convert_times_null.toFixed(2)}× the time of its own work into a null sink (nothing encoded or written)\n`);
      if (x.convert_vs_python !== undefined && x.decode_vs_python !== undefined) process.stdout.write(`  convert ${x.convert_vs_python.toFixed(2)}× and decode ${x.decode_vs_python.toFixed(2)}× the numpy peer (ratios of medians; the peer writes nothing, like decode)\n`);
    }
  }
} finally {
  await stopWorkers();
  rmSync(dir, { recursive: true, force: true });
  rmSync(outRoot, { recursive: true, force: true });
}
