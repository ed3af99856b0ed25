// Cluster batches → Arrow on one thread beside the numpy peer (bench/peer_clusters.py: np.load +
// the same metrics, nothing written), on the same generated batches in the same run, for np.savez
// (stored) and np.savez_compressed (deflate) batches. Three figures per set:
//   convert     `convert(folder, { threads: 1 })`: CRC-32 checked, metadata decoded, metrics, one
//               Arrow file per batch written, fsynced and renamed, manifest: the real job
//   decode      the same reading, checks, metrics and Arrow record batches, nothing written: the
//               work the numpy peer does (it writes nothing either)
//   python      the peer
// Prints MB/s of input, clusters/s and the ratios (> 1: arrowsmith is faster).
//
//   node --import tsx bench/clusters.ts [--batches 24] [--per-batch 1000] [--runs 3] [--out DIR] [--json]
//
// --out puts the Arrow outputs somewhere else than the temporary folder (a tmpfs such as /dev/shm
// takes the disk out of the figure).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { dictionaryVector } from "../src/arrow.js";
import { clusterSchema, emitClusterBatches, readClusterBatch } from "../src/datasets/clusters.js";
import { generateClusters } from "../src/generate-clusters.js";
import { convert } from "../src/pipeline/convert.js";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.js";
import { openNpz } from "../src/pipeline/npz-task.js";
import { kernels } from "../src/wasm.js";
import { warm } from "./peers.js";

const { values: args } = parseArgs({
  options: {
    batches: { type: "string", default: "24" },
    "per-batch": { type: "string", default: "1000" },
    runs: { type: "string", default: "3" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
  },
});

interface Run { seconds: number; clusters: number }
type Peer = "convert" | "decode" | "python";

const say = (s: string) => { if (!args.json) process.stderr.write(s + "\n"); };
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-clusters-"));
const outRoot = args.out ? mkdtempSync(join(args.out, "arrowsmith-bench-out-")) : join(dir, "out");

function peerScript(): string {
  for (const u of [new URL("./peer_clusters.py", import.meta.url), new URL("../../bench/peer_clusters.py", import.meta.url)]) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return p;
  }
  throw new Error("bench/peer_clusters.py not found");
}

async function convertRun(folder: string): Promise<Run> {
  const out = join(outRoot, "o");
  const t0 = performance.now();
  const s = await convert([folder], { ...FILE_DEFAULTS, output: out, threads: 1 });
  const seconds = (performance.now() - t0) / 1000;
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
      const b = readClusterBatch(k, input.zip!, { metadataLayout: "auto", precision: "f32" });
      const schema = clusterSchema({ layout: b.layout.layout, height: b.height, width: b.width, precision: "f32" });
      emitClusterBatches(k, b, schema, dictionaryVector([basename(f)]), (batch) => { clusters += batch.numRows; });
    } finally {
      input.close();
      k.release(mark);
    }
  }
  return { seconds: (performance.now() - t0) / 1000, clusters };
}

function python(folder: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/python3", [peerScript(), folder], { stdio: ["ignore", "pipe", "pipe"] });
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

try {
  const batches = Number(args.batches), per = Number(args["per-batch"]), runs = Number(args.runs);
  const sets: [string, string][] = [["stored", join(dir, "stored")], ["deflate", join(dir, "deflate")]];
  say(`generating ${batches} batches of ${per} clusters, stored and deflate…`);
  generateClusters(sets[0][1], { files: batches, events: per, seed: 17 });
  generateClusters(sets[1][1], { files: batches, events: per, seed: 17, compressed: true });
  const report: { set: string; files: number; bytes: number; results: Record<string, unknown>[]; speedup: Record<string, number> }[] = [];
  const peers: [Peer, (f: string) => Promise<Run>][] = [["convert", convertRun], ["decode", decodeRun], ["python", python]];
  for (const [name, folder] of sets) {
    const paths = readdirSync(folder).map((f) => join(folder, f));
    const bytes = paths.reduce((a, p) => a + statSync(p).size, 0);
    for (const p of paths) await warm(p);
    const best = {} as Record<Peer, Run>;
    const all: Record<Peer, number[]> = { convert: [], decode: [], python: [] };
    for (let r = 0; r < runs; r++) {
      for (const [peer, fn] of peers) {
        const x = await fn(folder);
        all[peer].push(x.seconds);
        if (!best[peer] || x.seconds < best[peer].seconds) best[peer] = x;
        say(`  ${name} run ${r + 1}: ${peer.padEnd(8)} ${x.seconds.toFixed(3)} s`);
      }
    }
    const row = (peer: Peer) => {
      const b = best[peer];
      const times = all[peer].sort((x, y) => x - y);
      return { peer, clusters: b.clusters, best_seconds: b.seconds, median_seconds: times[times.length >> 1],
        mb_per_s: bytes / b.seconds / 1e6, clusters_per_s: b.clusters / b.seconds };
    };
    report.push({ set: name, files: paths.length, bytes, results: peers.map(([p]) => row(p)),
      speedup: { convert_vs_python: best.python.seconds / best.convert.seconds, decode_vs_python: best.python.seconds / best.decode.seconds } });
  }
  if (args.json) {
    process.stdout.write(JSON.stringify({ node: process.version, batches, per_batch: per, runs, out: args.out ?? tmpdir(), sets: report }, null, 1) + "\n");
  } else {
    for (const s of report) {
      process.stdout.write(`\ncluster batches (${s.set}), ${s.files} files, ${(s.bytes / 1e6).toFixed(1)} MB, one thread, best of ${args.runs}\n`);
      for (const r of s.results as { peer: string; mb_per_s: number; clusters_per_s: number }[]) {
        process.stdout.write(`  ${r.peer.padEnd(8)} ${r.clusters_per_s.toFixed(0).padStart(8)} clusters/s ${r.mb_per_s.toFixed(0).padStart(6)} MB/s\n`);
      }
      process.stdout.write(`  convert ${s.speedup.convert_vs_python.toFixed(2)}× and decode ${s.speedup.decode_vs_python.toFixed(2)}× the numpy peer\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (args.out) rmSync(outRoot, { recursive: true, force: true });
}
