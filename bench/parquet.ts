// The Parquet sink against the Arrow IPC sink and parquet-wasm on the same SCONE record batches
// (held in memory, so only the writers are timed): MB/s of Arrow data in, events/s, output size
// and peak RSS, per compression. Each run of a writer is its own child process (so that RSS is its
// own), runs alternate between writers, and each figure is the median of --runs with its spread.
// parquet-wasm gets our sink's properties, and the IPC handoff it needs to get the batches into its
// wasm memory is timed apart and printed beside its figure. The event loop turns between batches,
// as it does in the converter between read windows (native codecs' buffers are freed there).
// Each run of a writer is followed by its I/O floor (src/io/floor.ts: writing as many bytes as it
// wrote, fsync, rename, in the same folder; its input is already in memory), and the median time
// is printed as a multiple of the floor's median.
// Outputs go to --out (default /dev/shm when there is one: the writers', not the disk's, speed).
//
//   node --import tsx bench/parquet.ts [--events 2000] [--precision f32|f64] [--runs 3]
//        [--writers ipc,parquet,parquet-wasm] [--compressions none,snappy,zstd] [--pages-in-flight N] [--out DIR] [--json]
// --pages-in-flight 0 compresses every page in the writing thread (the default, 8, uses the thread pool).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setImmediate as tick } from "node:timers/promises";
import { parseArgs } from "node:util";
import { DataType, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { SCONE_DEFAULTS } from "../src/datasets/scone.js";
import { generateScone } from "../src/generate.js";
import { convert } from "../src/pipeline/convert.js";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.js";
import { measureFloor } from "../src/io/floor.js";
import { IpcSink } from "../src/sinks/ipc.js";
import { type Compression, PARQUET_DEFAULTS, ParquetSink } from "../src/sinks/parquet.js";
import { alternate, summarize, type Summary } from "./runs.js";

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
    "pages-in-flight": { type: "string" },
    out: { type: "string", default: existsSync("/dev/shm") ? "/dev/shm" : tmpdir() },
  },
});

interface Result { writer: string; compression: string; seconds: number; handoffSeconds?: number; rows: number; inBytes: number; outBytes: number; peakRssMB: number; floorSeconds?: number }
interface Row extends Omit<Result, "seconds" | "handoffSeconds" | "peakRssMB" | "floorSeconds"> { seconds: Summary; handoff?: Summary; peakRssMB: number; floor: Summary }

/** One untimed run (JIT, page cache), then one timed run; prints one JSON line. */
async function runChild(): Promise<void> {
  const table = tableFromIPC(readFileSync(args.input!));
  const inBytes = statSync(args.input!).size;
  const dir = mkdtempSync(join(args.out, "arrowsmith-pq-"));
  const compression = (args.compression ?? "none") as Compression;
  let seconds = 0, handoffSeconds: number | undefined, outBytes = 0;
  const pw = args.child === "parquet-wasm" ? await import("parquet-wasm") : undefined;
  for (let r = 0; r < 2; r++) {
    const out = join(dir, `out-${r}`);
    let t0 = performance.now();
    if (args.child === "ipc") {
      const s = new IpcSink(out, table.schema, false);
      for (const b of table.batches) { s.write(b); await tick(); }
      outBytes = s.finish().bytes;
    } else if (args.child === "parquet") {
      const s = new ParquetSink(out, table.schema, { compression, pagesInFlight: args["pages-in-flight"] === undefined ? undefined : Number(args["pages-in-flight"]) });
      for (const b of table.batches) { s.write(b); await (s.ready() ?? tick()); }
      await s.drain();
      outBytes = s.finish().bytes;
    } else {
      // parquet-wasm takes Arrow data only as IPC bytes copied into its wasm memory: that handoff
      // (an IPC encode and decode per batch, work our sink does not do) is timed apart, and only
      // the writer is timed below, with the properties of our sink: data page v1, 1 MiB pages,
      // 128 MiB row groups, chunk statistics, dictionary pages only for the dictionary column,
      // zstd at arrow-rs's default level 1 (ours is 1 too).
      const wasmBatches = table.batches.map((b) => pw!.Table.fromIPCStream(tableToIPC(new Table([b]), "stream")).recordBatch(0));
      handoffSeconds = (performance.now() - t0) / 1000;
      const codec = { none: pw!.Compression.UNCOMPRESSED, snappy: pw!.Compression.SNAPPY, zstd: pw!.Compression.ZSTD }[compression];
      let props = new pw!.WriterPropertiesBuilder().setCompression(codec).setWriterVersion(pw!.WriterVersion.V1)
        .setDataPageSizeLimit(PARQUET_DEFAULTS.pageBytes).setMaxRowGroupBytes(PARQUET_DEFAULTS.rowGroupBytes)
        .setStatisticsEnabled(pw!.EnabledStatistics.Chunk).setDictionaryEnabled(false);
      for (const f of table.schema.fields) if (DataType.isDictionary(f.type)) props = props.setColumnDictionaryEnabled(f.name, true);
      let i = 0;
      const input = new ReadableStream({
        pull(ctl) {
          if (i >= wasmBatches.length) { ctl.close(); return; }
          ctl.enqueue(wasmBatches[i++]);
        },
      });
      t0 = performance.now();
      const { open } = await import("node:fs/promises");
      const fh = await open(out, "w");
      outBytes = 0;
      const reader = (await pw!.transformParquetStream(input, props.build())).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await fh.write(value);
        outBytes += value.byteLength;
      }
      await fh.sync();
      await fh.close();
    }
    seconds = (performance.now() - t0) / 1000;
    rmSync(out, { force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const res: Result = { writer: args.child!, compression: args.child === "ipc" ? "-" : compression, seconds, handoffSeconds, rows: table.numRows, inBytes, outBytes, peakRssMB };
  process.stdout.write(JSON.stringify(res) + "\n");
}

async function main(): Promise<void> {
  const say = (s: string) => { if (!args.json) process.stderr.write(s + "\n"); };
  const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-"));
  try {
    const precision = args.precision as "f32" | "f64";
    const events = Number(args.events);
    say(`generating ${args.events} SCONE events and converting them to Arrow (${precision})…`);
    const [input] = await generateScone(join(dir, "in"), { files: 1, events, seed: 11 });
    await convert([input], { ...FILE_DEFAULTS, output: join(dir, "arrow"), threads: 1, scone: { ...SCONE_DEFAULTS, precision } });
    const arrow = join(dir, "arrow", "heatmaps_0000.arrow");
    const self = fileURLToPath(import.meta.url);
    const configs: [string, string][] = [];
    for (const writer of args.writers.split(",")) for (const compression of writer === "ipc" ? ["none"] : args.compressions.split(",")) configs.push([writer, compression]);
    // each configuration in its own child process (its own peak RSS), alternated, --runs times
    const all = await alternate(configs.map(([writer, compression]) => [`${writer} ${compression}`, () => {
      const out = execFileSync(process.execPath, [...process.execArgv, self, "--child", writer, "--input", arrow, "--compression", compression, "--out", args.out,
        ...(args["pages-in-flight"] === undefined ? [] : ["--pages-in-flight", args["pages-in-flight"]])],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 });
      const r = JSON.parse(out.trim().split("\n").pop()!) as Result;
      r.floorSeconds = measureFloor({ inputs: [], outputs: [r.outBytes], dir: join(args.out, `arrowsmith-pq-floor-${process.pid}`) }).seconds;
      return r;
    }] as [string, () => Result]), Number(args.runs), (name, run, r) => say(`  run ${run + 1}: ${name.padEnd(20)} ${r.seconds.toFixed(3)} s`));
    const rows: Row[] = [...all.values()].map((rs) => {
      if (rs.some((r) => r.rows !== events)) throw new Error(`${rs[0].writer} wrote ${rs.map((r) => r.rows).join(", ")} rows, not ${events}`);
      return { ...rs[0], seconds: summarize(rs.map((r) => r.seconds)), handoff: rs[0].handoffSeconds === undefined ? undefined : summarize(rs.map((r) => r.handoffSeconds!)),
        peakRssMB: Math.max(...rs.map((r) => r.peakRssMB)), floor: summarize(rs.map((r) => r.floorSeconds!)) };
    });
    if (args.json) process.stdout.write(JSON.stringify({ events, precision, runs: Number(args.runs), out: args.out, node: process.version, results: rows }) + "\n");
    else {
      process.stdout.write(`\n${events} SCONE events (${precision}), output in ${args.out}; median of ${args.runs} alternated runs each (after one untimed run in the same process), spread = (max - min) / median\n`);
      for (const r of rows) process.stdout.write(line(r, rows[0]) + "\n");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function line(r: Row, ipc: Row): string {
  const t = r.seconds.median;
  const mbs = r.inBytes / 1e6 / t;
  const vsIpc = ipc.writer === "ipc" && r !== ipc ? `  ${(ipc.seconds.median / t).toFixed(2)}× IPC speed` : "";
  const handoff = r.handoff ? `  (writer only; the IPC handoff into its wasm memory took another ${r.handoff.median.toFixed(3)} s)` : "";
  return `${`${r.writer} ${r.compression}`.padEnd(20)} ${mbs.toFixed(0).padStart(6)} MB/s  ${(r.rows / t).toFixed(0).padStart(7)} events/s  spread ${(100 * r.seconds.spread).toFixed(0).padStart(3)}%  ` +
    `out ${(r.outBytes / 1e6).toFixed(1).padStart(6)} MB (${((100 * r.outBytes) / r.inBytes).toFixed(0)}%)  ${(t / r.floor.median).toFixed(2)}× the floor (write + fsync ${r.floor.median.toFixed(3)} s)  peak RSS ${r.peakRssMB.toFixed(0)} MB${vsIpc}${handoff}`;
}

if (args.child) await runChild();
else await main();
