// The dataset figures of the report: SCONE's statistics figure (scone_tools' visualize_statistics
// layout, over every event: mean flux, std flux, class counts, redshift histogram with its mean,
// mean light curves and mean peak spectra by class), one small chart per metric histogram with its
// tails, and the mean cluster image per plane. Vega-Lite specs plus data, like the event figures.
import type { TopLevelSpec } from "vega-lite";
import type { Histogram } from "../accumulators.js";
import { finiteRange, heatmap } from "../png.js";
import { FigureTemplate, FONT_FAMILY, svgToPng } from "../render.js";
import { VEGA_SCHEME } from "../colormaps.js";
import { labelName } from "./scone.js";

const CONFIG = { font: FONT_FAMILY, view: { stroke: "#888" }, axis: { labelFontSize: 10, titleFontSize: 11, gridOpacity: 0.3 }, title: { fontSize: 12 } };
const CLASS_COLOURS = ["#ff7f0e", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

function heat(title: string, name: string, map: "viridis" | "plasma", x: [number, number], y: [number, number], xt: string, yt: string, legend: string, day0: boolean): object {
  return {
    title, width: 260, height: 170,
    layer: [
      { data: { name }, mark: { type: "image", aspect: false, smooth: false },
        encoding: { x: { field: "x", type: "quantitative", title: xt, scale: { domain: x, nice: false, zero: false } }, x2: { field: "x2" },
          y: { field: "y", type: "quantitative", title: yt, scale: { domain: y, nice: false, zero: false } }, y2: { field: "y2" }, url: { field: "url" } } },
      { data: { name: `${name}_range` }, mark: { type: "point", opacity: 0 },
        encoding: { x: { value: 0 }, y: { value: 0 }, color: { field: "v", type: "quantitative", scale: { scheme: VEGA_SCHEME[map], zero: false, nice: false }, legend: { title: legend, gradientLength: 140 } } } },
      ...(day0 ? [{ data: { values: [{ x: 0 }] }, mark: { type: "rule", strokeDash: [5, 4], color: "red", opacity: 0.6 }, encoding: { x: { field: "x", type: "quantitative" } } }] : []),
    ],
    resolve: { scale: { color: "independent" } },
  };
}

const independent = { scale: { color: "independent", x: "independent", y: "independent" }, legend: { color: "independent" } };

export function sconeStatsSpec(timeRange: [number, number], waveRange: [number, number]): TopLevelSpec {
  const line = (title: string, name: string, xt: string, yt: string, x: [number, number], day0: boolean) => ({
    title, width: 260, height: 170, data: { name },
    layer: [
      { mark: { type: "line", strokeWidth: 2 }, encoding: {
        x: { field: "x", type: "quantitative", title: xt, scale: { domain: x, nice: false, zero: false } },
        y: { field: "v", type: "quantitative", title: yt },
        color: { field: "class", type: "nominal", title: "class", scale: { range: CLASS_COLOURS } } } },
      ...(day0 ? [{ data: { values: [{ x: 0 }] }, mark: { type: "rule", strokeDash: [5, 4], color: "red", opacity: 0.6 }, encoding: { x: { field: "x", type: "quantitative" } } }] : []),
    ],
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    params: [{ name: "titleText", value: "" }, { name: "zTitle", value: "" }],
    title: { text: { expr: "titleText" }, fontSize: 15, anchor: "middle" },
    background: "white", padding: 8, config: CONFIG,
    vconcat: [
      { hconcat: [
        heat("Mean flux (all events, normalized)", "mean", "viridis", timeRange, waveRange, "Days from peak", "Wavelength (Å)", "Normalized flux", true),
        heat("Std dev of flux", "std", "plasma", timeRange, waveRange, "Days from peak", "Wavelength (Å)", "Std dev", true),
        { title: "Class distribution", width: 200, height: 170, data: { name: "classes" }, layer: [
          { mark: { type: "bar", opacity: 0.8, stroke: "black" }, encoding: {
            x: { field: "name", type: "nominal", title: null, sort: null, axis: { labelAngle: 0 } }, y: { field: "count", type: "quantitative", title: "Count" },
            color: { field: "name", type: "nominal", legend: null, sort: null, scale: { range: CLASS_COLOURS } } } },
          { mark: { type: "text", dy: -6, fontWeight: "bold" }, encoding: { x: { field: "name", type: "nominal", sort: null }, y: { field: "count", type: "quantitative" }, text: { field: "count" } } },
        ] },
      ], resolve: independent },
      { hconcat: [
        { title: { text: { expr: "zTitle" } }, width: 260, height: 170, layer: [
          { data: { name: "redshift" }, mark: { type: "bar", color: "green", opacity: 0.7, stroke: "black", strokeWidth: 0.5 }, encoding: {
            x: { field: "a", type: "quantitative", title: "Redshift (z)", bin: { binned: true } }, x2: { field: "b" }, y: { field: "count", type: "quantitative", title: "Count" } } },
          { data: { name: "zmean" }, mark: { type: "rule", color: "red", strokeDash: [5, 4] }, encoding: { x: { field: "x", type: "quantitative" } } },
        ] },
        line("Mean light curves by class", "lc", "Days from peak", "Mean total flux", timeRange, true),
        line("Mean peak spectra by class", "spec", "Wavelength (Å)", "Mean flux (−10..+20 d)", waveRange, false),
      ], resolve: independent },
    ],
    resolve: independent,
  } as unknown as TopLevelSpec;
}

/** The data of the statistics figure from _report.json's numbers. */
export function sconeStatsData(r: {
  events: number; class_counts: Record<string, number>; redshift_mean: number | null;
  mean_flux: (number | null)[][]; std_flux: (number | null)[][];
  mean_light_curve_by_class: Record<string, (number | null)[]>; mean_spectrum_by_class: Record<string, (number | null)[]>;
  axes: { wavelength: number[]; time: number[] }; histograms: Record<string, ReturnType<Histogram["toJSON"]>>;
}) {
  const nw = r.axes.wavelength.length, nt = r.axes.time.length;
  const flat = (m: (number | null)[][]) => m.flat().map((v) => (v === null ? NaN : v));
  const mean = flat(r.mean_flux);
  const [, mx] = finiteRange(mean);
  const norm = mean.map((v) => (mx > 0 ? v / mx : v));
  const std = flat(r.std_flux);
  const box = { x: r.axes.time[0], x2: r.axes.time[nt - 1], y: r.axes.wavelength[0], y2: r.axes.wavelength[nw - 1] };
  const ras = (v: number[], map: "viridis" | "plasma") => {
    const [lo, hi] = finiteRange(v);
    return { img: [{ ...box, url: heatmap(v, nw, nt, map, lo, hi).url }], range: [{ v: lo }, { v: hi }] };
  };
  const m = ras(norm, "viridis"), s = ras(std, "plasma");
  const curves = (src: Record<string, (number | null)[]>, xs: number[]) =>
    Object.entries(src).flatMap(([c, ys]) => ys.map((v, i) => ({ x: xs[i], v, class: labelName(+c) })));
  const z = r.histograms.redshift;
  return {
    data: {
      mean: m.img, mean_range: m.range, std: s.img, std_range: s.range,
      classes: Object.entries(r.class_counts).map(([c, n]) => ({ name: labelName(+c), count: n })),
      redshift: z.counts.map((count, i) => ({ a: z.edges[i], b: z.edges[i + 1], count })),
      zmean: r.redshift_mean === null ? [] : [{ x: r.redshift_mean }],
      lc: curves(r.mean_light_curve_by_class, r.axes.time),
      spec: curves(r.mean_spectrum_by_class, r.axes.wavelength),
    },
    signals: {
      titleText: `Statistics of all ${r.events} events`,
      zTitle: r.redshift_mean === null ? "Redshift (none in the files)" : `Redshift distribution (mean=${r.redshift_mean.toFixed(3)})`,
    },
  };
}

/** A histogram chart: bins in blue; the values below, above and missing as grey bars beside them. */
export function histogramSpec(): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    params: [{ name: "titleText", value: "" }, { name: "subtitleText", value: "" }],
    title: { text: { expr: "titleText" }, subtitle: { expr: "subtitleText" }, fontSize: 12, anchor: "start" },
    background: "white", padding: 6, config: CONFIG,
    hconcat: [
      { width: 260, height: 110, data: { name: "bins" }, mark: { type: "bar", color: "#4c78a8", stroke: "white", strokeWidth: 0.3 },
        encoding: { x: { field: "label", type: "ordinal", sort: null, title: null, axis: { labelAngle: -45, labelFontSize: 8, labelOverlap: true } }, y: { field: "count", type: "quantitative", title: "events", scale: { domain: { unionWith: [0, 1] } }, axis: { tickMinStep: 1, format: "d" } } } },
      { width: 70, height: 110, data: { name: "tails" }, mark: { type: "bar", color: "#d62728" },
        encoding: { x: { field: "label", type: "ordinal", sort: null, title: "tails", axis: { labelAngle: -45, labelFontSize: 8 } }, y: { field: "count", type: "quantitative", title: null, scale: { domain: { unionWith: [0, 1] } }, axis: { tickMinStep: 1, format: "d" } } } },
    ],
    resolve: { scale: { y: "independent" } },
  } as unknown as TopLevelSpec;
}

function fmtEdge(x: number): string {
  const a = Math.abs(x);
  return a !== 0 && (a < 0.01 || a >= 1e4) ? x.toExponential(0) : String(+x.toFixed(2));
}

export function histogramData(name: string, h: ReturnType<Histogram["toJSON"]>) {
  const total = h.counts.reduce((a, b) => a + b, 0) + h.underflow + h.overflow + h.missing;
  return {
    data: {
      bins: h.counts.map((count, i) => ({ label: `${fmtEdge(h.edges[i])}–${fmtEdge(h.edges[i + 1])}`, count })),
      tails: [
        { label: `< ${fmtEdge(h.edges[0])}`, count: h.underflow },
        { label: `> ${fmtEdge(h.edges[h.edges.length - 1])}`, count: h.overflow },
        { label: "missing", count: h.missing },
      ],
    },
    signals: { titleText: name, subtitleText: `${total} values; below ${h.underflow}, above ${h.overflow}, missing ${h.missing}` },
  };
}

let histTemplate: FigureTemplate | undefined;
/** The histogram chart's template (one per process). */
export function histogramTemplate(): FigureTemplate {
  return (histTemplate ??= new FigureTemplate(histogramSpec()));
}

/** A histogram chart as a PNG data URL. */
export async function histogramPng(name: string, h: ReturnType<Histogram["toJSON"]>): Promise<string> {
  return `data:image/png;base64,${svgToPng(await histogramTemplate().svg(histogramData(name, h))).toString("base64")}`;
}

const statsTemplates = new Map<string, FigureTemplate>();
/** The statistics figure's template for an axis setting (one per process). */
export function sconeStatsTemplate(timeRange: [number, number], waveRange: [number, number]): FigureTemplate {
  const key = JSON.stringify([timeRange, waveRange]);
  let t = statsTemplates.get(key);
  if (!t) statsTemplates.set(key, (t = new FigureTemplate(sconeStatsSpec(timeRange, waveRange))));
  return t;
}

/** The mean image of each cluster plane, as PNG data URLs of heat maps with their value range. */
export function planeImages(mean: Record<string, (number | null)[][]>): { plane: string; url: string; lo: number; hi: number }[] {
  return Object.entries(mean).map(([plane, m]) => {
    const h = m.length, w = m[0]?.length ?? 0;
    // channels up, time ticks across, as the event figures draw clusters
    const t = new Float64Array(h * w);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) t[c * h + r] = m[r][c] ?? NaN;
    const [lo, hi] = finiteRange(t);
    return { plane, url: heatmap(t, w, h, "viridis", lo, hi > lo ? hi : lo + 1, "lower", 3, 6).url, lo, hi };
  });
}
