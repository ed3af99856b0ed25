// Single-thread SCONE conversion (CRC checked, float32 tensors, metrics, Arrow file written) beside
// its peers on the same file in the same run: the Python/protobuf/numpy script, @roboflow/tfrecords,
// and `cat` as the floor. Prints events/s, MB/s and each ratio.
//
//   npm run bench -- [--events 2000] [--file heatmaps.tfrecord] [--runs 3] [--precision f32|f64]
//                    [--out DIR] [--json]
// Output goes to --out (default: /dev/shm when there is one, so the figure is the converter's and
// not the disk's); the "write floor" line times writing the same number of bytes, with fsync, to
// the same folder, as `cat` times reading the input.
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SCONE_DEFAULTS } from "../src/datasets/scone.js";
import { generateScone } from "../src/generate.js";
import { convert } from "../src/pipeline/convert.js";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.js";
import { type PeerResult, runCat, runPythonPeer, runRoboflowTfrecords, warm } from "./peers.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "2000" },
    file: { type: "string" },
    runs: { type: "string", default: "3" },
    precision: { type: "string", default: "f32" },
    json: { type: "boolean", default: false },
    peers: { type: "string", default: "python,roboflow,cat" },
    out: { type: "string", default: existsSync("/dev/shm") ? "/dev/shm" : tmpdir() },
  },
});

const say = (s: string) => { if (!args.json) process.stderr.write(s + "\n"); };
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-"));
const outRoot = mkdtempSync(join(args.out, "arrowsmith-bench-out-"));
let outputBytes = 0;

async function ours(file: string): Promise<PeerResult> {
  const out = join(outRoot, "out");
  const t0 = performance.now();
  const s = await convert([file], { ...FILE_DEFAULTS, output: out, threads: 1, scone: { ...SCONE_DEFAULTS, precision: args.precision as "f32" | "f64" } });
  const seconds = (performance.now() - t0) / 1000;
  outputBytes = s.outputBytes;
  rmSync(out, { recursive: true, force: true });
  return { name: `arrowsmith (1 thread, ${args.precision}, CRC on, metrics, Arrow file)`, events: s.events, seconds, bytes: s.inputBytes };
}

/** Writing as many bytes as our output, in 16 MiB chunks, then fsync: the output folder's floor. */
async function writeFloor(file: string): Promise<PeerResult> {
  const p = join(outRoot, "floor.bin");
  const chunk = new Uint8Array(16 << 20).fill(7);
  const t0 = performance.now();
  const fd = openSync(p, "w");
  for (let left = outputBytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  fsyncSync(fd);
  closeSync(fd);
  const seconds = (performance.now() - t0) / 1000;
  rmSync(p, { force: true });
  return { name: `write floor (${(outputBytes / 1e6).toFixed(0)} MB + fsync to ${args.out})`, events: 0, seconds, bytes: statSync(file).size };
}

try {
  let file = args.file;
  if (!file) {
    say(`generating ${args.events} SCONE events…`);
    [file] = await generateScone(join(dir, "in"), { files: 1, events: Number(args.events), seed: 11 });
  }
  const size = statSync(file).size;
  say(`file: ${file} (${(size / 1e6).toFixed(1)} MB)`);
  await warm(file);
  const peers: [string, (f: string) => Promise<PeerResult>][] = [["arrowsmith", ours]];
  const wanted = new Set(args.peers.split(","));
  if (wanted.has("python")) peers.push(["python", (f) => runPythonPeer(f)]);
  if (wanted.has("roboflow")) peers.push(["roboflow", runRoboflowTfrecords]);
  if (wanted.has("cat")) peers.push(["cat", runCat]);
  peers.push(["write", writeFloor]);
  const best = new Map<string, PeerResult>();
  const all = new Map<string, number[]>();
  for (let run = 0; run < Number(args.runs); run++) {
    for (const [key, fn] of peers) {
      // the JS peer is slow: one run is enough to place it
      if (key === "roboflow" && run > 0) continue;
      try {
        const r = await fn(file);
        (all.get(key) ?? all.set(key, []).get(key)!).push(r.seconds);
        if (!best.has(key) || r.seconds < best.get(key)!.seconds) best.set(key, r);
        say(`  run ${run + 1}: ${key.padEnd(10)} ${r.seconds.toFixed(3)} s`);
      } catch (e) {
        say(`  ${key}: failed: ${(e as Error).message}`);
      }
    }
  }
  const base = best.get("arrowsmith")!;
  const rows = [...best.entries()].map(([key, r]) => {
    const times = all.get(key)!.sort((a, b) => a - b);
    return {
      peer: key, name: r.name, events: r.events, bytes: r.bytes, best_seconds: r.seconds, median_seconds: times[times.length >> 1],
      events_per_s: r.events / r.seconds, mb_per_s: r.bytes / r.seconds / 1e6,
      // ours vs the peer, from best runs: > 1 means arrowsmith is faster
      arrowsmith_speedup: key === "cat" || key === "write" ? (r.bytes / r.seconds) / (base.bytes / base.seconds) : r.seconds / base.seconds,
    };
  });
  if (args.json) {
    process.stdout.write(JSON.stringify({ file, bytes: size, events: base.events, output_dir: args.out, node: process.version, results: rows }, null, 1) + "\n");
  } else {
    process.stdout.write(`\nSCONE → Arrow, single thread, ${base.events} events, ${(size / 1e6).toFixed(1)} MB (best of ${args.runs})\n`);
    for (const r of rows) {
      const ratio = r.peer === "arrowsmith" ? `(output in ${args.out})`
        : r.peer === "cat" || r.peer === "write" ? `${r.arrowsmith_speedup.toFixed(2)}× our MB/s of input (${r.name})`
        : `arrowsmith ${r.arrowsmith_speedup.toFixed(2)}× faster`;
      process.stdout.write(`  ${r.peer.padEnd(11)} ${r.events_per_s.toFixed(0).padStart(8)} events/s ${r.mb_per_s.toFixed(0).padStart(6)} MB/s  ${ratio}\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outRoot, { recursive: true, force: true });
}
