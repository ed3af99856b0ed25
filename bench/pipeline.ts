// End-to-end bulk conversion through the CLI, as users run it: 1 and N threads, each output
// format, SCONE and cluster data, beside the single-thread peers on the same files in the same
// run; prints throughput, the scaling ratio and the peak resident memory of each run.
//
//   npm run bench:pipeline -- [--files 4] [--events 600] [--threads 1,2] [--formats arrow,parquet,csv]
//                             [--kinds scone,clusters] [--big-gb 2] [--out DIR] [--json]
// Outputs go to --out (default /dev/shm when there is one: the figures are then the converter's,
// not the disk's; give --out /tmp to include a real disk and its fsyncs).
// --big-gb N also converts one N GB SCONE shard with the largest thread count, for peak memory.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCat, runPythonPeer, warm } from "./peers.js";

const { values: args } = parseArgs({
  options: {
    files: { type: "string", default: "4" },
    events: { type: "string", default: "600" },
    threads: { type: "string", default: `1,${availableParallelism()}` },
    formats: { type: "string", default: "arrow,parquet,csv" },
    kinds: { type: "string", default: "scone,clusters" },
    "big-gb": { type: "string", default: "0" },
    out: { type: "string", default: existsSync("/dev/shm") ? "/dev/shm" : tmpdir() },
    json: { type: "boolean", default: false },
  },
});

const CLI = new URL(import.meta.url.endsWith(".ts") ? "../dist/src/cli.js" : "../src/cli.js", import.meta.url).pathname;
const say = (s: string) => { if (!args.json) process.stderr.write(s + "\n"); };
const dir = mkdtempSync(join(tmpdir(), "arrowsmith-pipeline-"));
const outRoot = mkdtempSync(join(args.out, "arrowsmith-pipeline-out-"));

function cli(argv: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0 && r.status !== 3) throw new Error(`arrowsmith ${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().startsWith("{") ? JSON.parse(r.stdout) : {};
}

const folderBytes = (d: string) => readdirSync(d).reduce((a, n) => a + statSync(join(d, n)).size, 0);

interface Row { kind: string; format: string; threads: number; events: number; mb: number; seconds: number; events_per_s: number; mb_per_s: number; peak_rss_mb: number }
const rows: Row[] = [];
const peers: Record<string, unknown>[] = [];

try {
  const threadList = args.threads.split(",").map(Number);
  for (const kind of args.kinds.split(",")) {
    const input = join(dir, `in-${kind}`);
    say(`generating ${args.files} × ${args.events} ${kind} events…`);
    cli(["generate", kind, "-o", input, "--files", args.files, "--events", args.events, "--seed", "3"]);
    const bytes = folderBytes(input);
    for (const f of readdirSync(input)) await warm(join(input, f));
    for (const format of args.formats.split(",")) {
      for (const threads of threadList) {
        const out = join(outRoot, `out-${kind}-${format}-${threads}`);
        const s = cli(["convert", input, "-o", out, "--format", format, "--threads", String(threads), "--json"]) as { events: number; seconds: number; peak_rss_bytes: number };
        rows.push({
          kind, format, threads, events: s.events, mb: bytes / 1e6, seconds: s.seconds, events_per_s: s.events / s.seconds,
          mb_per_s: bytes / 1e6 / s.seconds, peak_rss_mb: s.peak_rss_bytes / 1e6,
        });
        say(`  ${kind} ${format} ${threads} thread(s): ${s.seconds.toFixed(2)} s`);
        rmSync(out, { recursive: true, force: true });
      }
    }
    // peers, single-threaded, on the same files
    const files = readdirSync(input).map((f) => join(input, f));
    if (kind === "scone") {
      let ev = 0, sec = 0;
      for (const f of files) { const r = await runPythonPeer(f); ev += r.events; sec += r.seconds; }
      peers.push({ kind, peer: "python-protobuf-numpy (1 thread)", events_per_s: ev / sec, mb_per_s: bytes / 1e6 / sec });
    } else {
      const py = spawnSync("/usr/bin/python3", [new URL("./peer_clusters.py", import.meta.url).pathname.replace("/dist/bench/", "/bench/"), ...files], { encoding: "utf8" });
      if (py.status === 0) {
        const j = JSON.parse(py.stdout.trim().split("\n").pop()!);
        peers.push({ kind, peer: "python np.load + numpy metrics (1 thread)", events_per_s: j.events / j.seconds, mb_per_s: bytes / 1e6 / j.seconds });
      }
    }
    let catSec = 0;
    for (const f of files) catSec += (await runCat(f)).seconds;
    peers.push({ kind, peer: "cat", mb_per_s: bytes / 1e6 / catSec });
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
    big = { gb: s.input_bytes / 1e9, events: s.events, threads, tasks: s.tasks, seconds: s.seconds, mb_per_s: s.input_bytes / 1e6 / s.seconds, peak_rss_mb: s.peak_rss_bytes / 1e6 };
    rmSync(input, { recursive: true, force: true });
    rmSync(join(outRoot, "big-out"), { recursive: true, force: true });
  }

  const scaling = rows.filter((r) => r.threads === Math.max(...threadList)).map((r) => {
    const one = rows.find((x) => x.kind === r.kind && x.format === r.format && x.threads === 1);
    return { kind: r.kind, format: r.format, threads: r.threads, speedup: one ? one.seconds / r.seconds : null };
  });
  if (args.json) {
    process.stdout.write(JSON.stringify({ node: process.version, cores: availableParallelism(), output_dir: args.out, rows, peers, scaling, big }, null, 1) + "\n");
  } else {
    process.stdout.write(`\noutputs in ${args.out}\nkind      format   threads  events/s    MB/s  peak RSS MB\n`);
    for (const r of rows) process.stdout.write(`${r.kind.padEnd(9)} ${r.format.padEnd(8)} ${String(r.threads).padStart(7)} ${r.events_per_s.toFixed(0).padStart(9)} ${r.mb_per_s.toFixed(0).padStart(7)} ${r.peak_rss_mb.toFixed(0).padStart(12)}\n`);
    process.stdout.write(`\npeers (same files, same run):\n`);
    for (const p of peers) process.stdout.write(`  ${String(p.kind).padEnd(9)} ${String(p.peer).padEnd(44)} ${p.events_per_s ? `${(p.events_per_s as number).toFixed(0)} events/s  ` : ""}${(p.mb_per_s as number).toFixed(0)} MB/s\n`);
    process.stdout.write(`\nscaling (1 → N threads):\n`);
    for (const s of scaling) process.stdout.write(`  ${s.kind.padEnd(9)} ${s.format.padEnd(8)} ×${s.speedup?.toFixed(2)} on ${s.threads} threads\n`);
    if (big) process.stdout.write(`\none ${(big.gb as number).toFixed(2)} GB shard on ${big.threads} threads (${big.tasks} tasks): ${(big.mb_per_s as number).toFixed(0)} MB/s, peak RSS ${(big.peak_rss_mb as number).toFixed(0)} MB\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outRoot, { recursive: true, force: true });
}
