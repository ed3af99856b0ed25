// `arrowsmith report <converted folder | inputs...> [-o <dir>]`: _report.json and _report.html again, without converting.
import type { Command } from "commander";
import { Option } from "commander";
import { SCONE_DEFAULTS } from "../datasets/scone.js";
// the report modules (Vega, resvg) are imported when the command runs, not at start-up
import type { RebuildResult } from "../report/rebuild.js";
import { type CommandSpec, range } from "./command.js";

export const reportCommand: CommandSpec<RebuildResult> = {
  name: "report",
  declare: (cmd: Command) => cmd
    .description("write _report.json and _report.html (the dataset report) for a converted folder or for inputs, without converting")
    .argument("<inputs...>", "a converted folder, or input files / folders")
    .option("-o, --output <dir>", "where to write (default: the converted folder, or the current folder)")
    .addOption(new Option("--time-range <t0,t1>", "SCONE time axis in days from peak (inputs; a converted folder keeps its own)")
      .argParser(range).default(SCONE_DEFAULTS.timeRange, SCONE_DEFAULTS.timeRange.join(",")))
    .option("--json", "print a JSON summary on stdout", false),
  run: async ([inputs], o) => (await import("../report/rebuild.js")).rebuildReport(inputs as string[], { output: o.output as string | undefined, scone: { ...SCONE_DEFAULTS, timeRange: o.timeRange as [number, number] } }),
  outcome: () => "ok",
  text: (r) => `${r.events} events (${r.from === "saved" ? "from the saved statistics" : "read from the inputs"})\nwrote ${r.json}\nwrote ${r.html}`,
  json: (r) => ({ ok: true, ...r }),
};
