#!/usr/bin/env node
// The command line: parse, validate, call the library, render (text or --json), map to an exit
// code. Progress and logs go to stderr; --json prints one object on stdout.
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Argument, Command, InvalidArgumentError, Option } from "commander";
import { SCONE_DEFAULTS, type SconeOptions } from "./datasets/scone.js";
import { isArrowsmithError } from "./errors.js";
import { generateScone } from "./generate.js";
import { generateClusters } from "./generate-clusters.js";
import { inspectTFRecord, verifyNpz, verifyTFRecord, type VerifyResult } from "./inspect.js";
import { inspectNpz, isNpzFile, renderNpzInspect } from "./inspect-npz.js";
import { convert, type ConvertSummary, removeOwnTemporaries } from "./pipeline/convert.js";
import { FILE_DEFAULTS, type Kind } from "./pipeline/convert-file.js";
import { expandInputs } from "./pipeline/inputs.js";
import { ProgressLine } from "./pipeline/progress.js";
import { stopAllWorkers } from "./pipeline/pool.js";
import type { OutputFormat } from "./sinks/sink.js";
import { sconeStats, type SconeStats } from "./stats.js";
import { clusterStats, renderClusterStats } from "./stats-clusters.js";
import { VERSION } from "./version.js";

export const EXIT = { ok: 0, failure: 1, usage: 2, skipped: 3 } as const;

/** Exit code of a finished conversion. */
export function exitCode(s: { problems: unknown[] }): number {
  return s.problems.length ? EXIT.skipped : EXIT.ok;
}

function positiveInt(name: string, min = 0) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function range(v: string): [number, number] {
  const parts = v.split(",").map((x) => Number(x.trim()));
  if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x)) || parts[0] >= parts[1]) {
    throw new InvalidArgumentError("expected two increasing numbers, e.g. -30,150");
  }
  return [parts[0], parts[1]];
}

function bins(v: string): [number, number] {
  const parts = v.split(/[,x]/).map((x) => Number(x.trim()));
  if (parts.length !== 2 || parts.some((x) => !Number.isInteger(x) || x < 1)) throw new InvalidArgumentError("expected two positive integers, e.g. 32,180");
  return [parts[0], parts[1]];
}

const log = (quiet: boolean) => (msg: string) => { if (!quiet) process.stderr.write(msg + "\n"); };

function fmtRate(bytes: number, events: number, seconds: number): string {
  return `${(events / seconds).toFixed(0)} events/s, ${(bytes / seconds / 1e6).toFixed(0)} MB/s`;
}

function sconeOptions(o: { precision: "f32" | "f64"; timeRange?: [number, number]; bins?: [number, number] }): SconeOptions {
  return { ...SCONE_DEFAULTS, precision: o.precision, timeRange: o.timeRange ?? SCONE_DEFAULTS.timeRange, bins: o.bins ?? SCONE_DEFAULTS.bins };
}

function renderSummary(s: ConvertSummary, out: string): string {
  const lines: string[] = [];
  if (s.resumed.length && !s.results.length) {
    lines.push(`nothing to do: all ${s.resumed.length} input(s) are already converted with these options (--resume)`);
  } else {
    if (s.resumed.length) lines.push(`--resume: ${s.resumed.length} input(s) already converted, left alone`);
    lines.push(`converted ${s.results.length} task(s) on ${s.threads} thread(s): ${s.events} events in ${s.seconds.toFixed(2)} s (${fmtRate(s.inputBytes, s.events, s.seconds)})`);
    lines.push(`wrote ${(s.outputBytes / 1e6).toFixed(1)} MB to ${out}`);
  }
  if (s.problems.length) lines.push(`skipped ${s.problems.length} problem(s): see ${out}/_errors.jsonl`);
  return lines.join("\n");
}

function jsonSummary(s: ConvertSummary): Record<string, unknown> {
  return {
    ok: true, files: s.manifest.totals.inputs, tasks: s.results.length, threads: s.threads, resumed: s.resumed.length,
    events: s.events, input_bytes: s.inputBytes, output_bytes: s.outputBytes, seconds: s.seconds,
    events_per_second: s.events / s.seconds, mb_per_second: s.inputBytes / s.seconds / 1e6,
    // peak resident memory of the whole process, worker threads included
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024, problems: s.problems,
    outputs: s.results.map((f) => ({ input: f.input, part: f.part, output: f.output.path, rows: f.output.rows, bytes: f.output.bytes, kind: f.kind, skipped: f.skipped })),
  };
}

function renderStats(s: SconeStats): string {
  const f = (x: number | null, d = 3) => (x === null ? "—" : x.toFixed(d));
  const sum = (name: string, v: SconeStats["coverage_fraction"]) =>
    `  ${name.padEnd(18)} min ${f(v.min)}  q1 ${f(v.q1)}  median ${f(v.median)}  q3 ${f(v.q3)}  max ${f(v.max)}  mean ${f(v.mean)}`;
  const labels = Object.entries(s.labels).sort().map(([l, n]) => `${l}: ${n} (${((100 * n) / Math.max(1, s.events)).toFixed(1)}%)`).join(", ");
  return [
    `SCONE dataset: ${s.files} file(s), ${s.events} events, ${(s.bytes / 1024 / 1024).toFixed(1)} MB`,
    `  labels             ${labels || "—"}`,
    sum("redshift", s.redshift) + (s.redshift.missing ? `  (missing in ${s.redshift.missing})` : ""),
    sum("coverage_fraction", s.coverage_fraction),
    sum("temporal_coverage", s.temporal_coverage),
    sum("spectral_coverage", s.spectral_coverage),
    sum("mean_snr", s.mean_snr) + (s.mean_snr.missing ? `  (none in ${s.mean_snr.missing})` : ""),
    `  events with NaN/inf ${s.nonfinite_events}`,
    ...(s.problems.length ? [`  problems: ${s.problems.length}`, ...s.problems.slice(0, 5).map((p) => `    ${p.message}`)] : []),
  ].join("\n");
}

function print(json: boolean, obj: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(obj, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) + "\n" : text() + "\n");
}

export function buildProgram(): Command {
  const program = new Command("arrowsmith")
    .description("Bulk-convert SCONE heatmap TFRecords and DUNE cluster NPZ batches to Apache Arrow, with per-event quality metrics")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();

  program.command("convert")
    .description("convert inputs (files, folders, globs) into one output file per input")
    .argument("<inputs...>", "files, folders (searched for *.tfrecord*, *.npz) or globs")
    .requiredOption("-o, --output <dir>", "output folder")
    .addOption(new Option("--format <format>", "output format").choices(["arrow", "arrow-stream", "parquet", "csv"]).default("arrow"))
    .addOption(new Option("--kind <kind>", "dataset kind").choices(["auto", "scone", "clusters", "generic"]).default("auto"))
    .addOption(new Option("--precision <p>", "tensor precision (f64 keeps the source bits)").choices(["f32", "f64"]).default("f32"))
    .option("--threads <n>", "worker threads (default: all cores)", positiveInt("--threads", 1))
    .addOption(new Option("--compression <c>", "Parquet compression").choices(["zstd", "snappy", "none"]).default("zstd"))
    .addOption(new Option("--on-error <mode>", "on a corrupt record: fail, or skip it and report it").choices(["fail", "skip"]).default("fail"))
    .option("--resume", "skip inputs already converted with the same options", false)
    .option("--no-verify", "do not check CRCs")
    .option("--time-range <t0,t1>", "SCONE time axis in days from peak", range)
    .option("--bins <w,t>", "SCONE bins (wavelength, time)", bins)
    .addOption(new Option("--metadata-layout <layout>", "cluster metadata layout").choices(["auto", "12", "11", "15", "12alt"]).default("auto"))
    .option("--json", "print a JSON summary on stdout", false)
    .option("--quiet", "no progress on stderr", false)
    .action(async (inputs: string[], o) => {
      const quiet = o.quiet || o.json;
      const progress = new ProgressLine(process.stderr, !quiet && !!process.stderr.isTTY);
      // Ctrl-C or a kill: drop our temporary files and leave; finished outputs stay, and
      // `--resume` carries on from them
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(sig, async () => {
          progress.stop();
          // workers first, so that none opens a new temporary file after the clean-up
          await stopAllWorkers();
          removeOwnTemporaries(o.output);
          process.stderr.write(`arrowsmith: interrupted (${sig}); finished outputs are complete: re-run with --resume to finish the job\n`);
          process.exit(sig === "SIGINT" ? 130 : 143);
        });
      }
      const s = await convert(inputs, {
        ...FILE_DEFAULTS,
        output: o.output, format: o.format as OutputFormat, kind: o.kind as Kind, verify: o.verify !== false,
        onError: o.onError, scone: sconeOptions(o), threads: o.threads, resume: o.resume,
        sink: { compression: o.compression }, metadataLayout: o.metadataLayout, progress: progress.counters,
        onPlan: (p) => progress.start(p.bytes, p.tasks),
        onTask: () => progress.taskDone(),
      }).finally(() => progress.stop());
      print(o.json, jsonSummary(s), () => renderSummary(s, o.output));
      process.exitCode = exitCode(s);
    });

  program.command("inspect")
    .description("schema, record count, first records and their metrics")
    .argument("<file>")
    .option("--records <n>", "records to show", positiveInt("--records"), 3)
    .option("--time-range <t0,t1>", "SCONE time axis in days from peak", range)
    .option("--json", "print JSON", false)
    .action(async (file: string, o) => {
      if (isNpzFile(file)) {
        const n = inspectNpz(file, o.records);
        print(o.json, n, () => renderNpzInspect(n));
        process.exitCode = n.problems.length ? EXIT.failure : EXIT.ok;
        return;
      }
      const r = await inspectTFRecord(file, o.records, sconeOptions({ precision: "f32", timeRange: o.timeRange }));
      print(o.json, r, () => [
        `${r.file}: TFRecord (${r.compression}), ${r.size} bytes, ${r.records} records, kind ${r.kind}`,
        "schema:",
        ...r.schema.map((f) => `  ${f.name}: ${f.type}${f.nullable ? " (nullable)" : ""}${f.metadata?.["ARROW:extension:metadata"] ? ` tensor ${f.metadata["ARROW:extension:metadata"]}` : ""}`),
        ...(r.schemaMetadata["arrowsmith:axes"] ? [`axes: ${r.schemaMetadata["arrowsmith:axes"]}`] : []),
        `first ${r.first.length} record(s):`,
        ...r.first.map((x) => "  " + JSON.stringify(x)),
        ...(r.problems.length ? [`problems (${r.problems.length}):`, ...r.problems.map((p) => `  byte ${p.offset}, record ${p.record}: ${p.message}`)] : []),
      ].join("\n"));
      process.exitCode = r.problems.length ? EXIT.failure : EXIT.ok;
    });

  program.command("verify")
    .description("check the structure and CRCs of every record; writes nothing")
    .argument("<inputs...>")
    .option("--json", "print JSON", false)
    .action(async (inputs: string[], o) => {
      const results: VerifyResult[] = [];
      for (const f of expandInputs(inputs)) results.push(isNpzFile(f) ? verifyNpz(f) : await verifyTFRecord(f));
      const ok = results.every((r) => r.ok);
      print(o.json, { ok, files: results }, () => results.map((r) => r.ok
        ? `ok    ${r.file}: ${r.records} ${isNpzFile(r.file) ? "members" : "records"}`
        : `FAIL  ${r.file}: ${r.records} records read\n${r.problems.map((p) => `      byte ${p.offset}, record ${p.record}: ${p.message}`).join("\n")}`).join("\n"));
      process.exitCode = ok ? EXIT.ok : EXIT.failure;
    });

  program.command("stats")
    .description("dataset statistics of a folder or files")
    .argument("<inputs...>")
    .option("--json", "print JSON", false)
    .action(async (inputs: string[], o) => {
      // NPZ batches get the cluster statistics, TFRecord shards the SCONE ones (both when mixed)
      const files = expandInputs(inputs);
      const npz = files.filter((f) => isNpzFile(f));
      const tfrecord = files.filter((f) => !npz.includes(f));
      const clusters = npz.length || !tfrecord.length ? clusterStats(npz) : undefined;
      const scone = tfrecord.length ? await sconeStats(tfrecord) : undefined;
      const label = inputs.join(" ");
      if (clusters && scone) print(o.json, { kind: "mixed", clusters, scone }, () => `${renderClusterStats(clusters, label)}\n\n${renderStats(scone)}`);
      else if (clusters) print(o.json, clusters, () => renderClusterStats(clusters, label));
      else print(o.json, scone, () => renderStats(scone!));
      if (clusters?.problems.length) process.exitCode = EXIT.failure;
    });

  program.command("generate")
    .description("write a synthetic dataset (realistic SCONE heatmaps)")
    .addArgument(new Argument("<kind>", "scone or clusters").choices(["scone", "clusters"]))
    .requiredOption("-o, --output <dir>", "output folder")
    .option("--files <n>", "files", positiveInt("--files"), 2)
    .option("--events <n>", "events per file", positiveInt("--events"), 100)
    .option("--seed <s>", "random seed", positiveInt("--seed"), 1)
    .addOption(new Option("--compression <c>", "whole-file compression").choices(["gzip", "zlib"]))
    .action(async (kind: string, o) => {
      // clusters: clusters_plane{U,V,X}_batchNNNN.npz as np.savez writes them (--compression: np.savez_compressed)
      const paths = kind === "clusters"
        ? generateClusters(o.output, { files: o.files, events: o.events, seed: o.seed, compressed: o.compression !== undefined })
        : await generateScone(o.output, { files: o.files, events: o.events, seed: o.seed, compression: o.compression ?? "none" });
      for (const p of paths) process.stdout.write(p + "\n");
    });

  program.command("bench")
    .description("synthetic end-to-end throughput: generate a shard, convert it, report")
    .option("--events <n>", "events", positiveInt("--events"), 2000)
    .option("--threads <n>", "threads", positiveInt("--threads", 1))
    .option("--json", "print JSON", false)
    .action(async (o) => {
      const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-"));
      try {
        const say = log(o.json);
        say(`generating ${o.events} SCONE events…`);
        await generateScone(join(dir, "in"), { files: 1, events: o.events, seed: 7 });
        const s = await convert([join(dir, "in")], { ...FILE_DEFAULTS, output: join(dir, "out"), threads: o.threads, taskBytes: o.threads > 1 ? 64 << 20 : undefined });
        print(o.json, jsonSummary(s), () => `SCONE → Arrow, ${s.threads} thread(s): ${s.events} events, ${(s.inputBytes / 1e6).toFixed(0)} MB in ${s.seconds.toFixed(2)} s: ${fmtRate(s.inputBytes, s.events, s.seconds)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

  program.command("demo", { hidden: true })
    .description("generate a small dataset of each kind, convert it, print statistics and throughput (npm start)")
    .option("-o, --output <dir>", "where to keep the demo files (default: a temporary folder)")
    .action(async (o) => {
      const dir = o.output ?? mkdtempSync(join(tmpdir(), "arrowsmith-demo-"));
      const w = (s: string) => process.stdout.write(s + "\n");
      w(`arrowsmith ${VERSION} demo in ${dir}`);
      const kinds = [
        { name: "SCONE heatmap TFRecords", what: "2 shards × 300 events", make: (d: string) => generateScone(d, { files: 2, events: 300, seed: 42 }) },
        { name: "DUNE cluster NPZ batches", what: "3 batches × 1000 clusters", make: async (d: string) => generateClusters(d, { files: 3, events: 1000, seed: 42 }) },
      ];
      for (const [i, kind] of kinds.entries()) {
        const input = join(dir, `input-${i}`);
        const out = join(dir, `arrow-${i}`);
        w(`\n== ${kind.name} ==\n1. generating ${kind.what}…`);
        await kind.make(input);
        w("2. converting to Arrow (checksums verified, float32 tensors, per-event metrics, all cores)…");
        const s = await convert([input], { ...FILE_DEFAULTS, output: out });
        for (const f of s.results) w(`   ${f.input.split("/").pop()} → ${f.output.path} (${f.rows} rows, ${(f.output.bytes / 1e6).toFixed(1)} MB)`);
        w(`   ${renderSummary(s, out).split("\n")[0]}`);
        w("3. statistics:");
        const files = expandInputs([input]);
        w(i === 0 ? renderStats(await sconeStats(files)) : renderClusterStats(clusterStats(files), input));
        w(`\nLoad it with pyarrow: pyarrow.dataset.dataset("${out}", format="arrow").to_table()`);
      }
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === "string" && err.code.startsWith("commander.")) {
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" ? EXIT.ok : EXIT.usage;
    }
    if (isArrowsmithError(e)) {
      process.stderr.write(`arrowsmith: ${e.message}\n`);
      return e.code === "usage" ? EXIT.usage : EXIT.failure;
    }
    process.stderr.write(`arrowsmith: internal error: ${(e as Error)?.stack ?? e}\nPlease report this with the command line that caused it.\n`);
    return EXIT.failure;
  }
}

function isEntryPoint(): boolean {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv).then((code) => { process.exitCode = code; });
}
