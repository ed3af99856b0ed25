// _report.html: one self-contained page (every figure an embedded PNG, no script, nothing fetched),
// read top-down as a profiling report is: what was converted, what went wrong, the statistics
// figure, each metric's distribution with its tails, the worst events as small figures, per file.
import { basename } from "node:path";
import { VERSION } from "../version.js";
import { kernels } from "../wasm.js";
import { readEvents } from "./events.js";
import { type SconeEvent, sconeFigureData, sconeTemplate } from "./figures/scone.js";
import { histogramPng, histogramTemplate, planeImages, sconeStatsData, sconeStatsTemplate } from "./figures/stats.js";
import { svgToPng } from "./render.js";
import type { ReportJson } from "./report-json.js";
import { SCONE_DEFAULTS } from "../datasets/scone.js";

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const n = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
const mib = (b: number | null | undefined) => (b === null || b === undefined ? "—" : `${(b / 1048576).toFixed(1)} MiB`);
const png = (b: Buffer) => `data:image/png;base64,${b.toString("base64")}`;

function table(head: string[], rows: unknown[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

/** The small five-panel figures' size (a share of plot's). */
const SMALL = 0.55;

/**
 * Compiles the SCONE report's figure templates (Vega parses each spec once per process, ~0.1–0.3 s
 * of CPU each), so that a conversion can do it while its workers convert.
 */
export function prepareSconeFigures(axes: { timeRange: [number, number]; wavelengthRange: [number, number] }): void {
  sconeStatsTemplate(axes.timeRange, axes.wavelengthRange);
  histogramTemplate();
  sconeTemplate(axes, SMALL);
}

/**
 * The small five-panel figures of the events a `lowest` list names: from `kept` (the events the
 * conversion kept with their maps), else read again from the inputs.
 */
async function lowestFigures(r: ReportJson, inputs: string[], kept: SconeEvent[]): Promise<string[]> {
  const lowest = (r as { lowest?: Record<string, { value: number | string; id: string; source: string; record: number }[]> }).lowest;
  const state = r.state.scone as { opts?: object } | undefined;
  if (!lowest || !state) return [];
  const opts = { ...SCONE_DEFAULTS, ...state.opts };
  const byRecord = new Map(kept.map((e) => [`${e.source}\0${e.record}`, e]));
  const out: string[] = [];
  for (const [metric, items] of Object.entries(lowest)) {
    const cells: string[] = [];
    for (const it of items) {
      const path = inputs.find((p) => basename(p) === it.source);
      let img = "";
      const e = byRecord.get(`${it.source}\0${it.record}`);
      if (e) img = png(svgToPng(await sconeTemplate(e, SMALL).svg(sconeFigureData(e))));
      else if (path) {
        try {
          const got = await readEvents(kernels(), { path, kind: "tfrecord" }, { records: [it.record] }, { scone: opts, metadataLayout: "auto" });
          const e = got.events[0];
          if (e && "id" in e) img = png(svgToPng(await sconeTemplate(e, SMALL).svg(sconeFigureData(e))));
        } catch { /* the input changed or went away: the entry stays, without its figure */ }
      }
      cells.push(`<figure>${img ? `<img alt="SNID ${esc(it.id)}" src="${img}">` : `<div class="missing">input not found</div>`}<figcaption>${esc(metric)} = ${esc(Number(it.value).toPrecision(4))} · SNID ${esc(it.id)} · ${esc(it.source)} record ${esc(it.record)}</figcaption></figure>`);
    }
    out.push(`<h3>Lowest ${esc(metric)}</h3><div class="grid">${cells.join("")}</div>`);
  }
  return out;
}

/**
 * The whole page. `inputs`: where the events of the lowest lists can be read again; `kept`: those
 * events as the conversion kept them (read again only when missing there).
 */
export async function reportHtml(r: ReportJson, inputs: string[], kept: SconeEvent[] = []): Promise<string> {
  const o = r.overview;
  const parts: string[] = [];
  parts.push(`<h1>arrowsmith dataset report</h1><p class="sub">${esc(r.kind)} · written ${esc(r.created)} by arrowsmith ${esc(VERSION)}${r.complete ? "" : ` · <b>partial</b>: ${esc((r as { note?: string }).note ?? "")}`}</p>`);
  parts.push(`<h2>Overview</h2>${table(["files", "events", "input", "output", "wall time", "throughput", "skipped records"], [[
    n(o.files), n(o.events), mib(o.input_bytes), mib(o.output_bytes), o.wall_seconds === null ? "—" : `${o.wall_seconds.toFixed(2)} s`,
    o.mb_per_second === null ? "—" : `${o.mb_per_second.toFixed(0)} MB/s`, n(o.skipped)]])}`);
  parts.push(`<h2>Skipped records</h2>${r.problems.length
    ? table(["file", "byte offset", "record", "code", "what", "skipped"], r.problems.map((p) => [basename(p.file ?? ""), p.offset ?? "", p.record ?? "", p.code, p.message, p.skipped]))
    : `<p>None: every record was read.</p>`}`);
  if ("mean_flux" in r && r.events) {
    const s = r as ReportJson & Parameters<typeof sconeStatsData>[0];
    const axes = s.axes as { time: number[]; wavelength: number[] };
    const t = sconeStatsTemplate([axes.time[0], axes.time[axes.time.length - 1]], [axes.wavelength[0], axes.wavelength[axes.wavelength.length - 1]]);
    parts.push(`<h2>Statistics of every event</h2><img class="wide" alt="statistics figure" src="${png(svgToPng(await t.svg(sconeStatsData(s))))}">`);
    parts.push(`<h2>Quality metrics</h2><p>Fixed bin edges (see the README); the red bars are the tails: values below the first edge, above the last, and missing (null or NaN).</p><div class="grid">`);
    for (const [name, h] of Object.entries(s.histograms)) parts.push(`<img alt="histogram of ${esc(name)}" src="${await histogramPng(name, h)}">`);
    parts.push(`</div>`);
    parts.push(`<h2>Events to look at</h2>`, ...(await lowestFigures(r, inputs, kept)));
    const files = (s as unknown as { files: Record<string, { events: number; class_counts: Record<string, number>; coverage_mean: number | null; snr_mean: number | null }> }).files;
    parts.push(`<h2>Per file</h2>${table(["file", "events", "classes", "mean coverage_fraction", "mean mean_snr"],
      Object.entries(files).map(([f, v]) => [f, n(v.events), Object.entries(v.class_counts).map(([c, k]) => `${c}: ${k}`).join(", "), n(v.coverage_mean, 3), n(v.snr_mean, 2)]))}`);
  }
  if ("clusters" in r && r.clusters) {
    const c = r.clusters;
    const pct = (k: number) => (c.clusters ? `${((100 * k) / c.clusters).toFixed(1)}%` : "—");
    const counts = (title: string, m: Record<string, number>) => `<h3>${esc(title)}</h3>${table(["value", "clusters", "share"], Object.entries(m).map(([k, v]) => [k, n(v), pct(v)]))}`;
    parts.push(`<h2>Clusters</h2><div class="grid">${counts("Plane", c.plane_counts)}${counts("Interaction", c.interaction_counts)}${counts("Marley", c.marley_counts)}${counts("Main track", c.main_track_counts)}</div>`);
    parts.push(`<h3>Mean image per plane</h3><div class="grid">${planeImages(c.mean_image_by_plane).map((p) => `<figure><img class="plane" alt="mean image plane ${esc(p.plane)}" src="${p.url}"><figcaption>plane ${esc(p.plane)}: ADC ${p.lo.toFixed(2)}…${p.hi.toFixed(2)} (viridis; time ticks across, channels up)</figcaption></figure>`).join("")}</div>`);
    parts.push(`<h3>Distributions</h3><div class="grid">`);
    for (const [name, h] of Object.entries(c.histograms)) parts.push(`<img alt="histogram of ${esc(name)}" src="${await histogramPng(name, h)}">`);
    parts.push(`</div><h3>Per file</h3>${table(["file", "clusters", "planes"], Object.entries(c.files).map(([f, v]) => [f, n(v.clusters), Object.entries(v.plane_counts).map(([p, k]) => `${p}: ${k}`).join(", ")]))}`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>arrowsmith report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:1250px;color:#222;padding:0 1em}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}th{background:#f4f4f4}
.grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}figure{margin:0;max-width:660px}figcaption{font-size:.8em;color:#555}
img{max-width:100%;height:auto}img.wide{width:100%}img.plane{width:420px;image-rendering:pixelated}.missing{padding:2em;background:#f4f4f4;color:#999}
</style></head><body>
${parts.join("\n")}
</body></html>
`;
}
