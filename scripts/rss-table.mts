// Peak memory of the CLI on every adversarial input of the hostile-input trial: builds each input in
// a temporary folder (under /dev/shm where it exists; removed at the end), runs the built CLI on it
// under /usr/bin/time -v, and prints a table: input, command, exit code, the first line of what it
// said, peak RSS, wall time. Every peak must stay under 1 GB (exit 1 otherwise).
//
//   npm run build && npx tsx scripts/rss-table.mts [--only <substring>]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bigGzipRecord, features, frame, header } from "../bench/adversarial-inputs.ts";
import { npyHeader, writeLargeNpz } from "../test/npz-writer.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CLI = join(ROOT, "dist/src/cli.js");
const GB = 1e9;
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : "";
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "arrowsmith-rss-"));

/** A cluster batch of `chunks` x 128 clusters of 128 x 16 float32, images deflated (3906 chunks: a 4 GB member). */
function clusterBatch(path: string, chunks: number): void {
  const per = 128, h = 128, w = 16;
  const images = new Float32Array(per * h * w);
  for (let i = 0; i < per; i++) images[i * h * w + 3 * w + 5] = 7;
  const meta = new Float32Array(per * 12);
  for (let i = 0; i < per; i++) { meta[i * 12 + 2] = 5; meta[i * 12 + 8] = -1; meta[i * 12 + 11] = 1; }
  writeLargeNpz(path, [
    { name: "images.npy", header: npyHeader("<f4", [per * chunks, h, w]), chunk: new Uint8Array(images.buffer), repeat: chunks, method: "deflate" },
    { name: "metadata.npy", header: npyHeader("<f4", [per * chunks, 12]), chunk: new Uint8Array(meta.buffer), repeat: chunks, method: "stored" },
  ]);
}

// ---- the inputs
interface Input { name: string; build: () => Promise<string[]> | string[]; runs: { cmd: string[]; expect?: number }[] }
const p = (name: string) => join(dir, name);
const INPUTS: Input[] = [
  {
    name: "FIFO as input",
    build: () => { spawnSync("mkfifo", [p("pipe.tfrecord")]); return [p("pipe.tfrecord")]; },
    runs: [{ cmd: ["convert", "@0", "-o", "@out"] }, { cmd: ["verify", "@0"] }, { cmd: ["inspect", "@0"] }, { cmd: ["stats", "@0"] }],
  },
  {
    name: "NPZ, 4 GB images member (deflate)",
    build: () => { clusterBatch(p("clusters_planeU_batch0000.npz"), 3906); return [p("clusters_planeU_batch0000.npz")]; },
    runs: [{ cmd: ["verify", "@0"] }, { cmd: ["convert", "@0", "-o", "@out", "--format", "csv", "--threads", "1", "--no-report"] }],
  },
  {
    name: "NPZ, 4 x 1 GiB generic arrays",
    build: () => {
      const row = new Float32Array(65536);
      row[1] = 1.5;
      writeLargeNpz(p("wide.npz"), ["a", "b", "c", "d"].map((name) => ({
        name: `${name}.npy`, header: npyHeader("<f4", [4096, 65536]), chunk: new Uint8Array(row.buffer), repeat: 4096, method: "deflate" as const,
      })));
      return [p("wide.npz")];
    },
    runs: [{ cmd: ["verify", "@0"] }, { cmd: ["convert", "@0", "-o", "@out", "--threads", "1", "--no-report"] }],
  },
  {
    name: "gzip TFRecord, one 1 GiB record",
    build: async () => { await bigGzipRecord(p("big.tfrecord.gz")); return [p("big.tfrecord.gz")]; },
    runs: [{ cmd: ["convert", "@0", "-o", "@out"] }, { cmd: ["convert", "@0", "-o", "@out", "--on-error", "skip"] }, { cmd: ["verify", "@0"] }, { cmd: ["inspect", "@0"] }, { cmd: ["stats", "@0"] }],
  },
  {
    name: "one record, 100,000 int64 features",
    build: () => { writeFileSync(p("features.tfrecord"), frame(features(100_000))); return [p("features.tfrecord")]; },
    runs: [{ cmd: ["convert", "@0", "-o", "@out"] }, { cmd: ["verify", "@0"] }, { cmd: ["inspect", "@0"] }],
  },
  {
    name: "2^63 record length",
    build: () => { writeFileSync(p("huge.tfrecord"), Buffer.concat([header(1n << 63n), Buffer.alloc(64)])); return [p("huge.tfrecord")]; },
    runs: [{ cmd: ["convert", "@0", "-o", "@out"] }, { cmd: ["verify", "@0"] }],
  },
  {
    name: "--threads 1000, 2 SCONE inputs (~9 MB)",
    build: () => {
      const r = spawnSync(process.execPath, [CLI, "generate", "scone", "-o", p("gen"), "--files", "2", "--events", "50"], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
      return [p("gen")];
    },
    runs: [{ cmd: ["convert", "@0", "-o", "@out", "--threads", "1000"] }],
  },
];

// ---- run
interface Row { input: string; command: string; code: number | null; said: string; rssMiB: number; seconds: number }
const rows: Row[] = [];
let n = 0;
try {
  for (const input of INPUTS) {
    if (only && !input.name.includes(only)) continue;
    const files = await input.build();
    for (const run of input.runs) {
      const out = p(`out${n++}`);
      const args = run.cmd.map((a) => (a === "@out" ? out : a.startsWith("@") ? files[Number(a.slice(1))] : a));
      const r = spawnSync("/usr/bin/time", ["-v", process.execPath, CLI, ...args], { encoding: "utf8", timeout: 600_000, maxBuffer: 1 << 28 });
      const field = (name: string) => new RegExp(`${name}: (.+)`).exec(r.stderr)?.[1] ?? "";
      const kb = Number(field("Maximum resident set size \\(kbytes\\)"));
      const wall = field("Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)").split(":").map(Number).reduce((a, b) => a * 60 + b, 0);
      const text = `${r.stderr}`.split("\n").find((l) => l.startsWith("arrowsmith:")) ?? r.stdout.split("\n").find((l) => l.trim()) ?? "";
      const code = r.error ? null : Number(field("Exit status"));
      rows.push({ input: input.name, command: `${run.cmd[0]} ${run.cmd.slice(1).filter((a) => !a.startsWith("@") && a !== "-o").join(" ")}`.trim(), code, said: text.replace(dir, "<tmp>").slice(0, 110), rssMiB: kb / 1024, seconds: wall });
      const last = rows[rows.length - 1];
      process.stderr.write(`${last.input} | ${last.command} | ${last.code} | ${last.rssMiB.toFixed(0)} MiB | ${last.seconds.toFixed(1)} s\n`);
      rmSync(out, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const lines = [
  "| input | command | exit | first line of the message | peak RSS | wall |",
  "|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.input} | \`${r.command}\` | ${r.code} | ${r.said.replace(/\|/g, "\\|")} | ${r.rssMiB.toFixed(0)} MiB | ${r.seconds.toFixed(1)} s |`),
];
process.stdout.write(`${lines.join("\n")}\n`);
const over = rows.filter((r) => !(r.rssMiB * 2 ** 20 < GB));
if (over.length) {
  process.stdout.write(`OVER 1 GB: ${over.map((r) => `${r.input} (${r.command})`).join(", ")}\n`);
  process.exitCode = 1;
}
