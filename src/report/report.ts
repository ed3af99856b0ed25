// _report.json and _report.html: the numbers behind every figure of the dataset report, and the page
// that shows them. Written by `convert` beside its manifest (from the statistics its tasks
// accumulated) and by `arrowsmith report` (from a saved _report.json, or by reading the inputs).
import { join } from "node:path";
import { writeFileAtomic } from "../sinks/atomic.js";
import { reportHtml } from "./html.js";
import { type ReportContext, reportJson, type ReportStats } from "./report-json.js";

export { type ReportContext, reportJson, type ReportJson, type ReportStats } from "./report-json.js";

export const REPORT_JSON = "_report.json";
export const REPORT_HTML = "_report.html";

/**
 * Writes _report.json and _report.html into `dir`; returns their paths. `inputs`: where the events
 * the page shows can be read again (the manifest's inputs by default).
 */
export async function writeReport(dir: string, stats: ReportStats, ctx: ReportContext, inputs = ctx.manifest?.inputs.map((i) => i.input) ?? []): Promise<{ json: string; html: string }> {
  const j = reportJson(stats, ctx);
  const json = join(dir, REPORT_JSON);
  writeFileAtomic(json, JSON.stringify(j) + "\n");
  const html = join(dir, REPORT_HTML);
  writeFileAtomic(html, await reportHtml(j, inputs, ctx.lowestEvents));
  return { json, html };
}
