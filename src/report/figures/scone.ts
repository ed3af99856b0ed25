// SCONE's five-panel event figure (scone_tools' visualize_tfrecords.py, the layout its users read):
// the normalised flux heat map (viridis, wavelength × days from peak, dashed line at day 0) over two
// thirds of the figure, the flux error (hot) beside it, and below the wavelength-integrated light
// curve with its quadrature error band, the peak spectrum (mean over −10..+20 days) with its band,
// and the S/N map (RdYlGn, 0..50). Title: `SNID | label | z ± z_err`. Physical axes throughout.
import type { TopLevelSpec } from "vega-lite";
import { VEGA_SCHEME, type ColormapName } from "../colormaps.js";
import { finiteRange, heatmap } from "../png.js";
import { FigureTemplate, FONT_FAMILY, type FigureData } from "../render.js";

/** One SCONE event as the figures need it (flux and error in (wavelength, time) C order). */
export interface SconeEvent {
  id: string;
  label: number;
  z: number | null;
  zErr: number | null;
  source: string;
  record: number;
  bins: [number, number];
  timeRange: [number, number];
  wavelengthRange: [number, number];
  flux: Float32Array | Float64Array;
  err: Float32Array | Float64Array;
  metrics?: Record<string, number | null>;
}

export function labelName(label: number): string {
  return label === 1 ? "SNIa" : label === 0 ? "Non-Ia" : `class ${label}`;
}

export function linspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (n === 1 ? a : a + ((b - a) * i) / (n - 1)));
}

/** The visualizer's peak window: [argmin|t + 10|, argmin|t − 20|) over the time axis. */
export function peakWindow(times: number[]): [number, number] {
  const argmin = (x: number) => {
    let best = 0;
    for (let i = 1; i < times.length; i++) if (Math.abs(times[i] - x) < Math.abs(times[best] - x)) best = i;
    return best;
  };
  return [argmin(-10), argmin(20)];
}

const fmt4 = (x: number) => x.toFixed(4);

export function sconeTitle(e: Pick<SconeEvent, "id" | "label" | "z" | "zErr">): string {
  const z = e.z === null ? "z unknown" : `z=${fmt4(e.z)}±${e.zErr === null ? "?" : fmt4(e.zErr)}`;
  return `SNID ${e.id} | ${labelName(e.label)} | ${z}`;
}

const DAYS = "Days from peak";
const WAVE = "Wavelength (Å)";

function heatPanel(name: string, title: string, legend: string, map: ColormapName, width: number, height: number,
                   day0: boolean, x: [number, number], y: [number, number]): object {
  const layers: object[] = [
    {
      data: { name },
      mark: { type: "image", aspect: false, smooth: false },
      encoding: {
        x: { field: "x", type: "quantitative", title: DAYS, scale: { domain: x, nice: false, zero: false } },
        x2: { field: "x2" },
        y: { field: "y", type: "quantitative", title: WAVE, scale: { domain: y, nice: false, zero: false } },
        y2: { field: "y2" },
        url: { field: "url" },
      },
    },
    {
      // an invisible mark that carries the colour scale, so the panel has its colour bar
      data: { name: `${name}_range` },
      mark: { type: "point", opacity: 0 },
      encoding: {
        x: { value: 0 }, y: { value: 0 },
        color: {
          field: "v", type: "quantitative",
          scale: { scheme: VEGA_SCHEME[map], zero: false, nice: false },
          legend: { title: legend, gradientLength: Math.max(60, height - 30), orient: "right" },
        },
      },
    },
  ];
  if (day0) {
    layers.push({
      data: { values: [{ x: 0 }] },
      mark: { type: "rule", strokeDash: [5, 4], color: "red", opacity: 0.6 },
      encoding: { x: { field: "x", type: "quantitative" } },
    });
  }
  return { title, width, height, layer: layers, resolve: { scale: { color: "independent" } } };
}

function bandPanel(name: string, title: string, xTitle: string, yTitle: string, colour: string, x: [number, number],
                   width: number, height: number, day0: boolean): object {
  const enc = { x: { field: "x", type: "quantitative", title: xTitle, scale: { domain: x, nice: false, zero: false } } };
  const layers: object[] = [
    { mark: { type: "area", opacity: 0.3, color: colour }, encoding: { ...enc, y: { field: "lo", type: "quantitative", title: yTitle, scale: { zero: false } }, y2: { field: "hi" } } },
    { mark: { type: "line", color: colour, strokeWidth: 1.5 }, encoding: { ...enc, y: { field: "v", type: "quantitative" } } },
  ];
  if (day0) {
    layers.push({ data: { values: [{ x: 0 }] }, mark: { type: "rule", strokeDash: [5, 4], color: "red", opacity: 0.6 }, encoding: { x: { field: "x", type: "quantitative" } } });
  }
  return { title, width, height, data: { name }, layer: layers };
}

/** The five-panel spec for one axis setting; `size` scales every panel (1 = full figure). */
export function sconeSpec(timeRange: [number, number], waveRange: [number, number], size = 1): TopLevelSpec {
  const W = Math.round(250 * size), H = Math.round(170 * size);
  const fontSize = size < 0.8 ? 9 : 11;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    params: [{ name: "titleText", value: "" }],
    title: { text: { expr: "titleText" }, fontSize: size < 0.8 ? 11 : 15, fontWeight: "bold", anchor: "middle" },
    background: "white",
    padding: 8,
    config: {
      font: FONT_FAMILY,
      view: { stroke: "#888" },
      axis: { labelFontSize: fontSize - 1, titleFontSize: fontSize, grid: true, gridOpacity: 0.3 },
      title: { fontSize: fontSize + 1 },
      legend: { labelFontSize: fontSize - 2, titleFontSize: fontSize - 1, gradientThickness: 10 },
    },
    vconcat: [
      {
        hconcat: [
          heatPanel("flux", "Normalized Flux Heatmap", "Normalized flux", "viridis", 2 * W + 60, 2 * H, true, timeRange, waveRange),
          heatPanel("err", "Flux Error", "Error", "hot", W, 2 * H, false, timeRange, waveRange),
        ],
        resolve: { scale: { color: "independent", x: "independent", y: "independent" }, legend: { color: "independent" } },
      },
      {
        hconcat: [
          bandPanel("lc", "Light Curve", DAYS, "Total flux (all λ)", "#1f4fd6", timeRange, W, H, true),
          bandPanel("spec", "Peak Spectrum", WAVE, "Flux (mean −10..+20 d)", "#d62728", waveRange, W, H, false),
          heatPanel("snr", "Signal-to-Noise", "S/N", "RdYlGn", W, H, false, timeRange, waveRange),
        ],
        resolve: { scale: { color: "independent", x: "independent", y: "independent" }, legend: { color: "independent" } },
      },
    ],
    resolve: { scale: { color: "independent", x: "independent", y: "independent" }, legend: { color: "independent" } },
  } as unknown as TopLevelSpec;
}

/** The numbers one figure shows, computed from the event as the visualizer does. */
export function sconeFigureData(e: SconeEvent): FigureData {
  const [nw, nt] = e.bins;
  const n = nw * nt;
  const { flux, err } = e;
  const times = linspace(e.timeRange[0], e.timeRange[1], nt);
  const waves = linspace(e.wavelengthRange[0], e.wavelengthRange[1], nw);
  // flux / max(flux) when the maximum is positive (numpy's max is NaN when any flux is NaN)
  let mx = -Infinity, nan = false;
  for (let i = 0; i < n; i++) { const v = flux[i]; if (v !== v) nan = true; else if (v > mx) mx = v; }
  const scale = !nan && mx > 0 ? 1 / mx : 1;
  const norm = new Float64Array(n);
  const snr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    norm[i] = flux[i] * scale;
    const s = err[i] > 0 ? flux[i] / err[i] : 0;
    snr[i] = s < 0 ? 0 : s > 100 ? 100 : s;
  }
  const box = { x: e.timeRange[0], x2: e.timeRange[1], y: e.wavelengthRange[0], y2: e.wavelengthRange[1] };
  // the images span the axis ends, as matplotlib's extent=[t0, t1, w0, w1] does
  const raster = (values: ArrayLike<number>, map: ColormapName, lo: number, hi: number) => {
    const r = heatmap(values, nw, nt, map, lo, hi);
    return { img: [{ ...box, url: r.url }], range: [{ v: lo }, { v: hi }] };
  };
  const [flo, fhi] = finiteRange(norm);
  const [elo, ehi] = finiteRange(err);
  const f = raster(norm, "viridis", flo, fhi);
  const er = raster(err, "hot", elo, ehi);
  const s = raster(snr, "RdYlGn", 0, 50);

  const lc: object[] = [];
  for (let t = 0; t < nt; t++) {
    let v = 0, q = 0;
    for (let w = 0; w < nw; w++) { v += flux[w * nt + t]; q += err[w * nt + t] ** 2; }
    const d = Math.sqrt(q);
    lc.push({ x: times[t], v, lo: v - d, hi: v + d });
  }
  const [i0, i1] = peakWindow(times);
  const spec: object[] = [];
  for (let w = 0; w < nw; w++) {
    let v = 0, q = 0;
    for (let t = i0; t < i1; t++) { v += flux[w * nt + t]; q += err[w * nt + t] ** 2; }
    const m = i1 > i0 ? v / (i1 - i0) : NaN;
    const d = i1 > i0 ? Math.sqrt(q / (i1 - i0)) : NaN;
    spec.push({ x: waves[w], v: m, lo: m - d, hi: m + d });
  }
  return {
    data: {
      flux: f.img, flux_range: f.range, err: er.img, err_range: er.range, snr: s.img, snr_range: s.range, lc, spec,
    },
    signals: { titleText: sconeTitle(e) },
  };
}

const templates = new Map<string, FigureTemplate>();

/** The template for an axis setting and size (one per process, reused for every figure). */
export function sconeTemplate(e: Pick<SconeEvent, "timeRange" | "wavelengthRange">, size = 1): FigureTemplate {
  const key = JSON.stringify([e.timeRange, e.wavelengthRange, size]);
  let t = templates.get(key);
  if (!t) templates.set(key, (t = new FigureTemplate(sconeSpec(e.timeRange, e.wavelengthRange, size))));
  return t;
}
