// The Parquet sink against the Arrow IPC sink and parquet-wasm on the same SCONE record batches
// (held in memory, so only the writers are timed): MB/s of Arrow data in, events/s, output size
// and peak RSS, per compression. Each writer runs in its own child process so that RSS is its own.
// The event loop turns between batches, as it does in the converter between read windows (native
// codecs' buffers are freed there).
//
//   node --import tsx bench/parquet.ts [--events 2000] [--precision f32|f64] [--runs 3]
//        [--writers ipc,parquet,parquet-wasm] [--compressions none,snappy,zstd] [--json]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setImmediate as tick } from "node:timers/promises";
import { parseArgs } from "node:util";
import { type RecordBatch, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { SCONE_DEFAULTS } from "../src/datasets/scone.js";
import { generateScone } from "../src/generate.js";
import { convert } from "../src/pipeline/convert.js";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.js";
import { IpcSink } from "../src/sinks/ipc.js";
import { type Compression, ParquetSink } from "../src/sinks/parquet.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "2000" },
    precision: { type: "string", default: "f32" },
    runs: { type: "string", default: "3" },
    writers: { type: "string", default: "ipc,parquet,parquet-wasm" },
    compressions: { type: "string", default: "none,snappy,zstd" },
    json: { type: "boolean", default: false },
    // internal: run one writer on an Arrow file and print one JSON line
    child: { type: "string" },
    input: { type: "string" },
    compression: { type: "string" },
  },
});

interface Result { writer: string; compression: string; seconds: number; rows: number; inBytes: number; outBytes: number; peakRssMB: number }

async function runChild(): Promise<void> {
  const table = tableFromIPC(readFileSync(args.input!));
  const inBytes = statSync(args.input!).size;
  const dir = mkdtempSync(join(tmpdir(), "arrowsmith-pq-"));
  const compression = (args.compression ?? "none") as Compression;
  const runs = Number(args.runs);
  let best = Infinity, outBytes = 0;
  const pw = args.child === "parquet-wasm" ? await import("parquet-wasm") : undefined;
  for (let r = 0; r < runs + 1; r++) {
    const out = join(dir, `out-${r}`);
    const t0 = performance.now();
    if (args.child === "ipc") {
      const s = new IpcSink(out, table.schema, false);
      for (const b of table.batches) { s.write(b); await tick(); }
      outBytes = s.finish().bytes;
    } else if (args.child === "parquet") {
      const s = new ParquetSink(out, table.schema, { compression });
      for (const b of table.batches) { s.write(b); await tick(); }
      outBytes = s.finish().bytes;
    } else {
      // parquet-wasm's bounded-memory path: batches → IPC → wasm → transformParquetStream
      const codec = { none: pw!.Compression.UNCOMPRESSED, snappy: pw!.Compression.SNAPPY, zstd: pw!.Compression.ZSTD }[compression];
      const props = new pw!.WriterPropertiesBuilder().setCompression(codec).build();
      const batches: RecordBatch[] = table.batches;
      let i = 0;
      const input = new ReadableStream({
        pull(ctl) {
          if (i >= batches.length) { ctl.close(); return; }
          ctl.enqueue(pw!.Table.fromIPCStream(tableToIPC(new Table([batches[i++]]), "stream")).recordBatch(0));
        },
      });
      const { open } = await import("node:fs/promises");
      const fh = await open(out, "w");
      outBytes = 0;
      const reader = (await pw!.transformParquetStream(input, props)).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await fh.write(value);
        outBytes += value.byteLength;
      }
      await fh.sync();
      await fh.close();
    }
    const s = (performance.now() - t0) / 1000;
    // the first run warms the JIT and the page cache
    if (r > 0) best = Math.min(best, s);
    rmSync(out, { force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const res: Result = { writer: args.child!, compression: args.child === "ipc" ? "-" : compression, seconds: best, rows: table.numRows, inBytes, outBytes, peakRssMB };
  process.stdout.write(JSON.stringify(res) + "\n");
}

async function main(): Promise<void> {
  const say = (s: string) => { if (!args.json) process.stderr.write(s + "\n"); };
  const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-"));
  try {
    const precision = args.precision as "f32" | "f64";
    say(`generating ${args.events} SCONE events and converting them to Arrow (${precision})…`);
    const [input] = await generateScone(join(dir, "in"), { files: 1, events: Number(args.events), seed: 11 });
    await convert([input], { ...FILE_DEFAULTS, output: join(dir, "arrow"), threads: 1, scone: { ...SCONE_DEFAULTS, precision } });
    const arrow = join(dir, "arrow", "heatmaps_0000.arrow");
    const self = fileURLToPath(import.meta.url);
    const results: Result[] = [];
    for (const writer of args.writers.split(",")) {
      for (const compression of writer === "ipc" ? ["none"] : args.compressions.split(",")) {
        const out = execFileSync(process.execPath, [...process.execArgv, self, "--child", writer, "--input", arrow, "--compression", compression, "--runs", args.runs],
          { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 });
        const r = JSON.parse(out.trim().split("\n").pop()!) as Result;
        results.push(r);
        say(line(r, results[0]));
      }
    }
    if (args.json) process.stdout.write(JSON.stringify({ events: Number(args.events), precision, node: process.version, results }) + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function line(r: Result, ipc: Result): string {
  const mbs = r.inBytes / 1e6 / r.seconds;
  const vsIpc = ipc.writer === "ipc" && r !== ipc ? `  ${(ipc.seconds / r.seconds).toFixed(2)}× IPC speed` : "";
  return `${`${r.writer} ${r.compression}`.padEnd(20)} ${mbs.toFixed(0).padStart(6)} MB/s  ${(r.rows / r.seconds).toFixed(0).padStart(7)} events/s  ` +
    `out ${(r.outBytes / 1e6).toFixed(1).padStart(6)} MB (${((100 * r.outBytes) / r.inBytes).toFixed(0)}%)  peak RSS ${r.peakRssMB.toFixed(0)} MB${vsIpc}`;
}

if (args.child) await runChild();
else await main();
