// The subcommands as `--help` lists them: name, arguments and options. Only this (and commander)
// is loaded at start; each command's implementation (src/commands/<name>.ts, with everything it
// imports: apache-arrow, the pipeline, the wasm kernels, ...) is imported when that command runs,
// so `arrowsmith index ...` or `--version` do not pay for loading the rest of the tool. Keep this
// module light: commander, command.ts and constants only, never an implementation module.
import { Argument, type Command, Option } from "commander";
import { SCONE_DEFAULTS } from "../datasets/scone-options.js";
import type { FigureFormat } from "../report/render.js";
import { binsOption, type CommandSpec, extras, maxRecordBytesOption, positiveInt, range, snids, threadsOption, timeRangeOption } from "./command.js";

const declareConvert = (cmd: Command) => cmd
    .description("convert inputs (files, folders, globs) into one output file per input")
    .argument("<inputs...>", "files, folders (searched for *.tfrecord*, *.npz) or globs")
    .requiredOption("-o, --output <dir>", "output folder")
    .addOption(new Option("--format <format>", "output format").choices(["arrow", "arrow-stream", "parquet", "csv"]).default("arrow"))
    .addOption(new Option("--kind <kind>", "dataset kind").choices(["auto", "scone", "clusters", "generic"]).default("auto"))
    .addOption(new Option("--precision <p>", "tensor precision (f64 keeps the source bits)").choices(["f32", "f64"]).default("f32"))
    .addOption(threadsOption())
    .addOption(new Option("--compression <c>", "Parquet compression (Parquet output only)").choices(["zstd", "snappy", "none"]).default("zstd"))
    .addOption(new Option("--tensor-type <t>", "tensor columns: Arrow's fixed_shape_tensor extension (pyarrow, DuckDB), or plain: the same FixedSizeList without the extension keys (polars)")
      .choices(["extension", "plain"]).default("extension"))
    .addOption(new Option("--on-error <mode>", "on a corrupt record: fail, or skip it and report it").choices(["fail", "skip"]).default("fail"))
    .option("--resume", "skip inputs already converted with the same options", false)
    .option("--overwrite", "replace outputs of earlier runs (or other files) of the same names", false)
    .option("--recursive", "search folders given as inputs recursively", false)
    .option("--no-verify", "do not check CRCs")
    .option("--no-report", "do not accumulate the dataset statistics (_report.json, _report.html)")
    .addOption(timeRangeOption())
    .addOption(binsOption())
    .option("--no-metrics", "SCONE: tensors and scalars only, without the summary metric columns")
    .option("--extras <list>", "SCONE light_curve/peak_spectrum columns (and CSV files beside): lightcurves,spectra", extras)
    .addOption(new Option("--csv-dialect <d>", "SCONE CSV: default, or as scone_tools writes it (its 40 columns, space-separated, 3 decimals)").choices(["default", "scone-tools"]).default("default"))
    .addOption(new Option("--metadata-layout <layout>", "cluster metadata layout").choices(["auto", "12", "11", "15", "12alt"]).default("auto"))
    .option("--shard <I/N|auto>", "convert only slice I of N of the plan (a job array; auto: from Slurm's SLURM_ARRAY_TASK_* variables); `arrowsmith merge` joins the slices")
    .addOption(maxRecordBytesOption())
    .option("--task-bytes <bytes>", "cut uncompressed SCONE files larger than this into parts at record boundaries (default 512 MiB)", positiveInt("--task-bytes", 1))
    .option("--json", "print a JSON summary on stdout", false)
    .option("--quiet", "print nothing but warnings and errors (no progress, no summary)", false);

const declareInspect = (cmd: Command) => cmd
    .description("schema, record count, first records and their metrics")
    .argument("<file>")
    .option("--records <n>", "records to show", positiveInt("--records"), 3)
    .addOption(timeRangeOption())
    .addOption(maxRecordBytesOption())
    .option("--json", "print JSON", false);

const declareVerify = (cmd: Command) => cmd
    .description("check every record as convert does (framing, CRCs, decoding); writes nothing")
    .argument("<inputs...>")
    .addOption(maxRecordBytesOption())
    .option("--json", "print JSON", false);

const declareStats = (cmd: Command) => cmd
    .description("dataset statistics of a folder or files")
    .argument("<inputs...>")
    .addOption(new Option("--kind <kind>", "dataset kind: auto (from each file's content), scone or clusters").choices(["auto", "scone", "clusters"]).default("auto"))
    .addOption(maxRecordBytesOption())
    .addOption(threadsOption())
    .option("--json", "print JSON", false)
    .addHelpText("after", `
SCONE shards are read in worker threads, as convert reads them, and nothing is written. Quartiles
(numpy.quantile's linear method) come from fixed histograms that keep each bin's extremes:
  coverage_fraction, temporal_coverage_fraction, spectral_coverage_fraction: one bin per value
    k/n they can take: exact
  redshift: 4000 bins of 0.001 over [0, 4]; snr_mean: 200 bins a decade over [1e-3, 1e6]: exact
    when the ranks around a quartile are the first or last value of their bin, otherwise off by
    less than the bin (0.001 in redshift, 1.2% in snr_mean)
count, min, max are exact; mean is the sum over the count.`);

const declareGenerate = (cmd: Command) => cmd
    .description("write a synthetic dataset: SCONE heatmap TFRecords (scone) or DUNE cluster NPZ batches (clusters)")
    .addArgument(new Argument("<kind>", "scone: heatmaps_NNNN.tfrecord shards; clusters: clusters_plane{U,V,X}_batchNNNN.npz batches").choices(["scone", "clusters"]))
    .requiredOption("-o, --output <dir>", "output folder")
    .option("--files <n>", "files", positiveInt("--files"), 2)
    .option("--events <n>", "events (scone) or clusters (clusters) per file", positiveInt("--events"), 100)
    .option("--seed <s>", "random seed", positiveInt("--seed"), 1)
    .addOption(new Option("--compression <c>",
      "scone: the whole file as one gzip or zlib stream (as TensorFlow writes it); clusters: every member deflated, as np.savez_compressed (gzip and zlib alike)")
      .choices(["gzip", "zlib"]))
    .option("--overwrite", "replace existing files of the same names (default: refuse, writing nothing)", false);

const declareBench = (cmd: Command) => cmd
    .description("synthetic throughput: generate a SCONE shard, convert it repeatedly (after one untimed run), report the median rate, the spread and the multiple of the I/O floor (reading the shard, writing the outputs' bytes with fsync)")
    .option("--events <n>", "events in the shard", positiveInt("--events", 1), 2000)
    .addOption(threadsOption())
    .option("--runs <n>", "timed runs, at least", positiveInt("--runs", 1), 5)
    .option("--seconds <s>", "timed seconds, at least (more runs until then)", positiveInt("--seconds", 0), 5)
    .option("--json", "print JSON", false);

const declareFind = (cmd: Command) => cmd
    .description("where each SNID is: output file and row, source file, record and byte offset (from the folder's _index.parquet, else by reading the inputs)")
    .argument("<inputs...>", "a converted folder, or SCONE .tfrecord files or folders")
    .requiredOption("--id <snids>", "SNIDs separated by commas, e.g. 1009,1521", snids)
    .option("--json", "print a JSON object on stdout", false);

const declareIndex = (cmd: Command) => cmd
    .description("write scone_tools' SNID index (snid,label,z,z_err,tfrecord_file; gzip CSV) of SCONE TFRecords, without decoding images")
    .argument("<inputs...>", "SCONE .tfrecord files, folders or globs")
    .option("-o, --output <file>", "the index file", "snid_index.csv.gz")
    .option("--overwrite", "replace an existing file that arrowsmith did not write", false)
    .option("--no-verify", "skip the CRC checks of the records")
    .addOption(maxRecordBytesOption())
    .option("--json", "print a JSON summary on stdout", false)
    .option("--quiet", "no progress on stderr", false);

const declareMerge = (cmd: Command) => cmd
    .description("merge the shards of a job array (convert --shard I/N) into _manifest.json; lists missing or failed shards and how to rerun them")
    .argument("<dir>", "the output folder of the job array")
    .option("--json", "print a JSON summary on stdout", false);

const declareSlurm = (cmd: Command) => declareConvert(cmd)
    .description("write (and with --submit, submit) a Slurm job array that converts the inputs into one folder, then merges the shards")
    .requiredOption("--array <n>", "number of array tasks (shards)", positiveInt("--array", 1))
    .option("--cpus-per-task <c>", "CPUs (and converter threads) per array task", positiveInt("--cpus-per-task", 1), 1)
    .option("--mem <m>", "memory per array task, as sbatch takes it (e.g. 4G)")
    .option("--time <t>", "time limit per array task, as sbatch takes it (e.g. 01:00:00)")
    .option("--partition <p>", "Slurm partition")
    .option("--account <a>", "Slurm account")
    .option("--submit", "submit the array and the merge job with sbatch", false);

const declarePlot = (cmd: Command) => cmd
    .description("draw events: SCONE's five-panel figure per SNID, or a cluster's image (png, svg or pdf)")
    .argument("<inputs...>", "input files, folders of them, or a converted folder")
    .requiredOption("-o, --output <dir>", "folder for the figures")
    .option("--id <list>", "SNIDs (1009,1521) or cluster rows (clusters_planeX_batch0000.npz:12)")
    .option("--sample <n>", "the first N (selected) events of each file", positiveInt("--sample", 1))
    .option("--where <condition>", 'a metric condition, e.g. "coverage_fraction < 0.2"')
    .addOption(new Option("--format <format>", "figure format").choices(["png", "svg", "pdf"] satisfies FigureFormat[]).default("png"))
    .option("--threads <n>", "threads (default: all cores)", positiveInt("--threads", 1))
    .addOption(new Option("--time-range <t0,t1>", "SCONE time axis in days from peak (TFRecord inputs; converted folders carry theirs)")
      .argParser(range).default(SCONE_DEFAULTS.timeRange, SCONE_DEFAULTS.timeRange.join(",")))
    .option("--overwrite", "replace figures already in the folder", false)
    .option("--json", "print a JSON summary on stdout", false);

const declareReport = (cmd: Command) => cmd
    .description("write _report.json and _report.html (the dataset report) for a converted folder or for inputs, without converting")
    .argument("<inputs...>", "a converted folder, or input files / folders")
    .option("-o, --output <dir>", "where to write (default: the converted folder, or the current folder)")
    .addOption(new Option("--time-range <t0,t1>", "SCONE time axis in days from peak (inputs; a converted folder keeps its own)")
      .argParser(range).default(SCONE_DEFAULTS.timeRange, SCONE_DEFAULTS.timeRange.join(",")))
    .option("--json", "print a JSON summary on stdout", false);

const declareDemo = (cmd: Command) => cmd
    .description("generate a small dataset of each kind, convert it, print statistics and throughput (npm start)")
    .option("-o, --output <dir>", "where to keep the demo files (default: a temporary folder, removed at the end)");

/** Every subcommand, in the order of `--help`. */
export const COMMANDS: CommandSpec[] = [
  { name: "convert", declare: declareConvert, load: async () => (await import("./convert.js")).convertCommand },
  { name: "inspect", declare: declareInspect, load: async () => (await import("./inspect.js")).inspectCommand },
  { name: "verify", declare: declareVerify, load: async () => (await import("./verify.js")).verifyCommand },
  { name: "stats", declare: declareStats, load: async () => (await import("./stats.js")).statsCommand },
  { name: "generate", declare: declareGenerate, load: async () => (await import("./generate.js")).generateCommand },
  { name: "bench", declare: declareBench, load: async () => (await import("./bench.js")).benchCommand },
  { name: "find", declare: declareFind, load: async () => (await import("./find.js")).findCommand },
  { name: "index", declare: declareIndex, load: async () => (await import("./index.js")).indexCommand },
  { name: "merge", declare: declareMerge, load: async () => (await import("./merge.js")).mergeCommand },
  { name: "slurm", declare: declareSlurm, load: async () => (await import("./slurm.js")).slurmCommand },
  { name: "plot", declare: declarePlot, load: async () => (await import("./plot.js")).plotCommand },
  { name: "report", declare: declareReport, load: async () => (await import("./report.js")).reportCommand },
  { name: "demo", declare: declareDemo, load: async () => (await import("./demo.js")).demoCommand },
];
