// `arrowsmith plot <inputs|converted folder> -o <dir> (--id L | --sample N | --where C) [--format png|svg|pdf]`
import { SCONE_DEFAULTS } from "../datasets/scone.js";
import { parseCondition, parseIds, type Selection } from "../report/events.js";
// plot and its renderers (Vega, resvg, pdfkit: ~1 s of CPU to load) are imported when plot runs,
// not by every command at start
import type { PlotResult } from "../report/plot.js";
import type { FigureFormat } from "../report/render.js";
import type { CommandRun } from "./command.js";

export function renderPlot(r: PlotResult & { output: string }): string {
  const lines = [`wrote ${r.figures.length} figure(s) to ${r.output} in ${r.seconds.toFixed(2)} s on ${r.threads} thread(s)`];
  if (r.missing.length) lines.push(`not found: ${r.missing.join(", ")}`);
  for (const p of r.problems.slice(0, 10)) lines.push(`problem: ${p}`);
  if (r.problems.length > 10) lines.push(`… and ${r.problems.length - 10} more problem(s)`);
  return lines.join("\n");
}

export const plotCommand: CommandRun<PlotResult & { output: string }> = {
  run: async ([inputs], o) => {
    const selection: Selection = {
      ...(o.id ? parseIds(o.id as string) : {}),
      ...(o.sample !== undefined ? { sample: o.sample as number } : {}),
      ...(o.where ? { where: parseCondition(o.where as string) } : {}),
    };
    const { plot } = await import("../report/plot.js");
    const r = await plot(inputs as string[], {
      output: o.output as string, selection, format: o.format as FigureFormat, threads: o.threads as number | undefined,
      overwrite: o.overwrite as boolean, scone: { ...SCONE_DEFAULTS, timeRange: o.timeRange as [number, number] },
    });
    return { ...r, output: o.output as string };
  },
  // exit 3 when a selected SNID or row was not found or a figure was not written
  outcome: (r) => (r.missing.length || r.problems.length ? "skipped" : "ok"),
  text: renderPlot,
  json: (r) => ({ ok: true, ...r }),
};
