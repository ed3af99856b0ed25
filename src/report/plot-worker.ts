// A piscina worker for `plot`: reads one task's events and renders them (errors come back as plain
// objects: class identity does not survive the thread boundary).
import { ArrowsmithError } from "../errors.js";
import { kernels } from "../wasm.js";
import type { PlotTask, PlotTaskResult } from "./plot.js";
import { runPlotTask } from "./plot-task.js";

kernels();

export default async function work(t: PlotTask): Promise<PlotTaskResult | { error: { code: string; message: string; file?: string; hint?: string } }> {
  try {
    return await runPlotTask(t);
  } catch (e) {
    if (e instanceof ArrowsmithError) return { error: { code: e.code, message: e.detail, file: e.file, hint: e.hint } };
    throw e;
  }
}
