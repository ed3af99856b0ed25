// `arrowsmith demo` (`npm start`): generate a small dataset of each kind, convert it, print
// statistics and throughput. Writes its report as it goes.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateScone } from "../generate.js";
import { generateClusters } from "../generate-clusters.js";
import { convert } from "../pipeline/convert.js";
import { FILE_DEFAULTS } from "../pipeline/convert-file.js";
import { expandInputs } from "../pipeline/inputs.js";
import { sconeStats } from "../datasets/scone/stats.js";
import { clusterStats, renderClusterStats } from "../stats-clusters.js";
import { formatBytes } from "../units.js";
import { VERSION } from "../version.js";
import type { CommandRun } from "./command.js";
import { renderSummary } from "./convert.js";
import { renderSconeStats } from "./stats.js";

export interface DemoCommandOptions {
  /** Where to keep the demo files; without it they go to a temporary folder removed at the end. */
  output?: string;
}

export interface DemoResult {
  dir: string;
  /** Whether the files are still there (-o) or were removed with the temporary folder. */
  kept: boolean;
  bytes: number;
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  }
  return n;
}

export async function runDemo(o: DemoCommandOptions, w: (s: string) => void): Promise<DemoResult> {
  const kept = o.output !== undefined;
  const dir = o.output ?? mkdtempSync(join(tmpdir(), "arrowsmith-demo-"));
  let bytes = 0;
  // the dataset reports and a few event figures stay after the demo (a few MB), to be opened
  const figures = kept ? join(dir, "figures") : mkdtempSync(join(tmpdir(), "arrowsmith-demo-figures-"));
  mkdirSync(figures, { recursive: true });
  try {
    w(`arrowsmith ${VERSION} demo in ${dir}${kept ? "" : " (a temporary folder, removed at the end; -o <dir> keeps the files)"}`);
    const kinds = [
      { name: "SCONE heatmap TFRecords", what: "2 shards × 300 events", make: (d: string) => generateScone(d, { files: 2, events: 300, seed: 42, overwrite: true }) },
      { name: "DUNE cluster NPZ batches", what: "3 batches × 1000 clusters", make: async (d: string) => generateClusters(d, { files: 3, events: 1000, seed: 42, overwrite: true }) },
    ];
    for (const [i, kind] of kinds.entries()) {
      const input = join(dir, `input-${i}`);
      const out = join(dir, `arrow-${i}`);
      w(`\n== ${kind.name} ==\n1. generating ${kind.what}…`);
      await kind.make(input);
      w("2. converting to Arrow (checksums verified, float32 tensors, per-event metrics; as many threads as the input size pays for)…");
      // the demo's own folder: a second demo there replaces the first
      const s = await convert([input], { ...FILE_DEFAULTS, output: out, overwrite: true });
      for (const f of s.results) if (f.output) w(`   ${f.input.split("/").pop()} → ${f.output.path} (${f.rows} rows, ${formatBytes(f.output.bytes)})`);
      w(`   ${renderSummary(s, out).split("\n")[0]}`);
      if (s.report) {
        const html = join(figures, `report-${i === 0 ? "scone" : "clusters"}.html`);
        copyFileSync(s.report.html, html);
        w(`   dataset report (statistics of every event, metric histograms, the worst events): ${html}`);
      }
      const { plot } = await import("../report/plot.js");
      const p = await plot([input], { output: figures, selection: { sample: 1 }, format: "png", overwrite: true });
      w(`   figures (the first event of each file): ${p.figures.join(", ")}`);
      w("3. statistics:");
      const files = expandInputs([input]);
      w(i === 0 ? renderSconeStats(await sconeStats(files)) : renderClusterStats(clusterStats(files), input));
      w(`\nLoad it with pyarrow: pyarrow.dataset.dataset("${kept ? out : "<dir>"}", format="arrow").to_table()`);
    }
    bytes = folderBytes(dir);
  } finally {
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
  w(kept ? `\nthe demo files (${formatBytes(bytes)}) are in ${dir}` : `\nremoved the demo files (${formatBytes(bytes)}) with ${dir}; arrowsmith demo -o <dir> keeps them`);
  return { dir, kept, bytes };
}

export const demoCommand: CommandRun<DemoResult> = {
  run: (_args, o) => runDemo(o as DemoCommandOptions, (s) => process.stdout.write(s + "\n")),
  outcome: () => "ok",
  text: () => null,
  json: (r) => r,
};
