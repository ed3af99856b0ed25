// `arrowsmith bench`: generate a synthetic SCONE shard in a temporary folder, convert it, report.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { generateScone } from "../generate.js";
import { convert, type ConvertSummary } from "../pipeline/convert.js";
import { FILE_DEFAULTS } from "../pipeline/convert-file.js";
import { formatBytes } from "../units.js";
import { type CommandSpec, fmtRate, log, positiveInt, threadsOption } from "./command.js";
import { jsonSummary } from "./convert.js";

export interface BenchCommandOptions {
  events: number;
  threads?: number;
  json: boolean;
}

export async function runBench(o: BenchCommandOptions): Promise<ConvertSummary> {
  const dir = mkdtempSync(join(tmpdir(), "arrowsmith-bench-"));
  try {
    const say = log(o.json);
    say(`generating ${o.events} SCONE events…`);
    await generateScone(join(dir, "in"), { files: 1, events: o.events, seed: 7 });
    return await convert([join(dir, "in")], { ...FILE_DEFAULTS, output: join(dir, "out"), threads: o.threads, taskBytes: (o.threads ?? 1) > 1 ? 64 << 20 : undefined });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderBench(s: ConvertSummary): string {
  return `SCONE → Arrow, ${s.threads} thread(s): ${s.events} events, ${formatBytes(s.inputBytes)} in ${s.seconds.toFixed(2)} s: ${fmtRate(s.inputBytes, s.events, s.seconds)}`;
}

export const benchCommand: CommandSpec<ConvertSummary> = {
  name: "bench",
  declare: (cmd: Command) => cmd
    .description("synthetic end-to-end throughput: generate a shard, convert it, report")
    .option("--events <n>", "events", positiveInt("--events"), 2000)
    .addOption(threadsOption())
    .option("--json", "print JSON", false),
  run: (_args, o) => runBench(o as unknown as BenchCommandOptions),
  outcome: () => "ok",
  text: renderBench,
  json: jsonSummary,
};
