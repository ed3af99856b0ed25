// `arrowsmith generate scone|clusters`: a synthetic dataset; prints the paths written.
import { generateScone } from "../generate.js";
import { generateClusters } from "../generate-clusters.js";
import type { CommandRun } from "./command.js";

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

export const generateCommand: CommandRun<GenerateCommandResult> = {
  run: ([kind], o) => runGenerate(kind as "scone" | "clusters", o as unknown as GenerateCommandOptions),
  outcome: () => "ok",
  text: (r) => (r.paths.length ? r.paths.join("\n") : null),
  json: (r) => r.paths,
};
