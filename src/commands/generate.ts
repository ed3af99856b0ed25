// `arrowsmith generate scone|clusters`: a synthetic dataset; prints the paths written.
import { Argument, Option, type Command } from "commander";
import { generateScone } from "../generate.js";
import { generateClusters } from "../generate-clusters.js";
import { type CommandSpec, positiveInt } from "./command.js";

export interface GenerateCommandOptions {
  output: string;
  files: number;
  events: number;
  seed: number;
  compression?: "gzip" | "zlib";
  overwrite?: boolean;
}

export interface GenerateCommandResult {
  paths: string[];
}

export async function runGenerate(kind: "scone" | "clusters", o: GenerateCommandOptions): Promise<GenerateCommandResult> {
  // clusters: clusters_plane{U,V,X}_batchNNNN.npz as np.savez writes them (--compression: np.savez_compressed)
  const paths = kind === "clusters"
    ? generateClusters(o.output, { files: o.files, events: o.events, seed: o.seed, compressed: o.compression !== undefined, overwrite: o.overwrite })
    : await generateScone(o.output, { files: o.files, events: o.events, seed: o.seed, compression: o.compression ?? "none", overwrite: o.overwrite });
  return { paths };
}

export const generateCommand: CommandSpec<GenerateCommandResult> = {
  name: "generate",
  declare: (cmd: Command) => cmd
    .description("write a synthetic dataset: SCONE heatmap TFRecords (scone) or DUNE cluster NPZ batches (clusters)")
    .addArgument(new Argument("<kind>", "scone: heatmaps_NNNN.tfrecord shards; clusters: clusters_plane{U,V,X}_batchNNNN.npz batches").choices(["scone", "clusters"]))
    .requiredOption("-o, --output <dir>", "output folder")
    .option("--files <n>", "files", positiveInt("--files"), 2)
    .option("--events <n>", "events (scone) or clusters (clusters) per file", positiveInt("--events"), 100)
    .option("--seed <s>", "random seed", positiveInt("--seed"), 1)
    .addOption(new Option("--compression <c>",
      "scone: the whole file as one gzip or zlib stream (as TensorFlow writes it); clusters: every member deflated, as np.savez_compressed (gzip and zlib alike)")
      .choices(["gzip", "zlib"]))
    .option("--overwrite", "replace existing files of the same names (default: refuse, writing nothing)", false),
  run: ([kind], o) => runGenerate(kind as "scone" | "clusters", o as unknown as GenerateCommandOptions),
  outcome: () => "ok",
  text: (r) => (r.paths.length ? r.paths.join("\n") : null),
  json: (r) => r.paths,
};
