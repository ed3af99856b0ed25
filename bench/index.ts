// `arrowsmith index` (scone_tools' snid_index.csv.gz) on one 2,000-event SCONE shard, in MB/s of
// input, beside `cat shard > /dev/null` (the floor: reading the bytes and nothing else) in the same
// run. Contenders alternate (cat, index, index --no-verify, cat, …) after one untimed round that
// warms the page cache, and each figure is the median of --runs with its spread. Both are timed as
// whole processes, as a user runs them (node's start included), and the index is also timed in
// this process (the work alone, without node's start). `arrowsmith --version` is timed too: the
// start-up that every process pays before reading a byte. With CRCs (the default) every byte must
// be read and checksummed; with --no-verify only each record's header and scalar features are read.
//
//   npm run bench:index -- [--events 2000] [--runs 5] [--out DIR] [--json]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeSnidIndexCsv } from "../src/commands/index.js";
import { generateScone } from "../src/generate.js";
import { alternate, summarize, type Summary } from "./runs.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "2000" },
    runs: { type: "string", default: "5" },
    out: { type: "string", default: existsSync("/dev/shm") ? "/dev/shm" : tmpdir() },
    json: { type: "boolean", default: false },
  },
});

const CLI = new URL("../src/cli.js", import.meta.url).pathname;
const dir = mkdtempSync(join(args.out, "arrowsmith-bench-index-"));
try {
  const [shard] = await generateScone(dir, { files: 1, events: Number(args.events), seed: 7 });
  const bytes = statSync(shard).size;
  const out = join(dir, "snid_index.csv.gz");
  const timed = (cmd: string, argv: string[]) => () => {
    const t0 = performance.now();
    const r = spawnSync(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
    if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")}: exit ${r.status}: ${r.stderr}`);
    return (performance.now() - t0) / 1000;
  };
  const inProcess = (verify: boolean) => async () => {
    const t0 = performance.now();
    const r = await writeSnidIndexCsv([shard], { output: out, verify });
    if (r.records !== Number(args.events)) throw new Error(`indexed ${r.records} records, not ${args.events}`);
    return (performance.now() - t0) / 1000;
  };
  const contenders: [string, () => Promise<number> | number][] = [
    ["cat > /dev/null", timed("cat", [shard])],
    ["arrowsmith index (process)", timed(process.execPath, [CLI, "index", shard, "-o", out, "--quiet"])],
    ["arrowsmith index --no-verify (process)", timed(process.execPath, [CLI, "index", shard, "-o", out, "--quiet", "--no-verify"])],
    ["arrowsmith --version (start-up only)", timed(process.execPath, [CLI, "--version"])],
    ["index, in this process", inProcess(true)],
    ["index --no-verify, in this process", inProcess(false)],
  ];
  const load0 = loadavg()[0];
  const all = await alternate(contenders, Number(args.runs), undefined, 1);
  const rows = [...all].map(([name, secs]) => {
    const s: Summary = summarize(secs);
    const mbps = summarize(secs.map((x) => bytes / 1e6 / x));
    return { name, seconds: s, mbPerSecond: mbps };
  });
  const load = [load0, loadavg()[0]];
  if (args.json) {
    console.log(JSON.stringify({ events: Number(args.events), bytes, load, rows }));
  } else {
    console.log(`index of one ${args.events}-event SCONE shard (${(bytes / 1e6).toFixed(1)} MB, in ${args.out}); load average ${load.map((l) => l.toFixed(1)).join(" → ")}`);
    const floor = rows[0].mbPerSecond.median;
    for (const r of rows) {
      const m = r.mbPerSecond;
      const ms = `${(1000 * r.seconds.median).toFixed(0).padStart(5)} ms`;
      const runs = `${r.seconds.runs} runs, spread ${(100 * r.seconds.spread).toFixed(0)}%`;
      if (r.name.includes("start-up")) console.log(`  ${r.name.padEnd(40)} ${ms} (${(1000 * r.seconds.min).toFixed(0)}-${(1000 * r.seconds.max).toFixed(0)} ms, ${runs})`);
      else console.log(`  ${r.name.padEnd(40)} ${ms} ${m.median.toFixed(0).padStart(6)} MB/s (${m.min.toFixed(0)}-${m.max.toFixed(0)}, ${runs})  ${(m.median / floor).toFixed(2)}× cat`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
