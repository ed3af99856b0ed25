// One `plot` task: reads the selected events of one input (or its share of them) and writes their
// figures. Runs in a pool worker, or in the main thread with one thread; the drawing modules (Vega,
// resvg: ~1 s of CPU to load and compile) are loaded only where figures are drawn.
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { outputStem } from "../pipeline/inputs.js";
import { kernels } from "../wasm.js";
import { type PlotEvent, readEvents } from "./events.js";
import { clusterFigureData, clusterTemplate, type ClusterEvent } from "./figures/clusters.js";
import { sconeFigureData, sconeTemplate, type SconeEvent } from "./figures/scone.js";
import type { PlotTask, PlotTaskResult } from "./plot.js";
import type { FigureFormat } from "./render.js";

/** File name of an event's figure: `<input stem>_snid_<SNID>` or `<input stem>_row<row>`. */
export function figureName(e: PlotEvent, format: FigureFormat): string {
  return "id" in e ? `${outputStem(e.source)}_snid_${e.id}.${format}` : `${outputStem(e.source)}_row${e.row}.${format}`;
}

/** Renders one event to bytes. */
export async function renderEvent(e: PlotEvent, format: FigureFormat, size = 1): Promise<Buffer> {
  if ("id" in e) return sconeTemplate(e as SconeEvent, size).render(sconeFigureData(e as SconeEvent), format);
  return clusterTemplate(e as ClusterEvent, size).render(clusterFigureData(e as ClusterEvent), format);
}

/** Runs one plot task in this thread. */
export async function runPlotTask(t: PlotTask): Promise<PlotTaskResult> {
  const r = await readEvents(kernels(), t.source, t.selection, t.read);
  const figures: string[] = [];
  const problems = [...r.problems];
  for (const e of r.events) {
    const path = join(t.output, figureName(e, t.format));
    if (!t.overwrite && existsSync(path)) { problems.push(`${path} exists: left as it is (--overwrite replaces it)`); continue; }
    const bytes = await renderEvent(e, t.format);
    const tmp = join(t.output, `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new ArrowsmithError("io", `cannot write figure: ${(err as Error).message}`, { file: path });
    }
    figures.push(path);
  }
  return { figures, found: r.found, problems };
}
