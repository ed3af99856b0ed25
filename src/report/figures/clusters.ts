// A DUNE cluster's figure: its image (time ticks across, channels up, raw ADC in viridis, empty
// pixels white) with plane, ES/CC, Marley, main-track and energies in the title and its metrics
// below.
import type { TopLevelSpec } from "vega-lite";
import { VEGA_SCHEME } from "../colormaps.js";
import { finiteRange, heatmap } from "../png.js";
import { FigureTemplate, FONT_FAMILY, type FigureData } from "../render.js";

export interface ClusterEvent {
  source: string;
  row: number;
  /** rows = time ticks, columns = channels, C order. */
  height: number;
  width: number;
  image: Float32Array | Float64Array;
  plane: string;
  interaction: string | null;
  isMarley: boolean;
  isMainTrack: boolean;
  nuEnergy: number | null;
  particleEnergy: number | null;
  metrics: Record<string, number | null>;
}

export function clusterTitle(e: ClusterEvent): string {
  const mev = (x: number | null) => (x === null ? "unknown" : `${x.toFixed(2)} MeV`);
  return [
    `${e.source}:${e.row}`, `plane ${e.plane}`, e.interaction ?? "ES/CC unknown", e.isMarley ? "Marley" : "not Marley",
    e.isMainTrack ? "main track" : "not main track", `Eν ${mev(e.nuEnergy)}`, `E ${mev(e.particleEnergy)}`,
  ].join(" | ");
}

export function clusterSubtitle(e: ClusterEvent): string {
  const m = e.metrics;
  const f = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? "—" : Number.isInteger(x) ? String(x) : x.toFixed(d));
  return `pixel_sum ${f(m.pixel_sum)}   pixel_max ${f(m.pixel_max)}   nonzero_pixels ${f(m.nonzero_pixels)}   ` +
    `time ${f(m.time_first)}..${f(m.time_last)}   channel ${f(m.channel_first)}..${f(m.channel_last)}`;
}

export function clusterSpec(height: number, width: number, size = 1): TopLevelSpec {
  const W = Math.round(Math.min(900, Math.max(300, height * 5)) * size);
  const H = Math.round(Math.max(120, width * 10) * size);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    params: [{ name: "titleText", value: "" }, { name: "subtitleText", value: "" }],
    title: { text: { expr: "titleText" }, subtitle: { expr: "subtitleText" }, fontSize: size < 0.8 ? 10 : 13, anchor: "middle" },
    background: "white",
    padding: 8,
    config: { font: FONT_FAMILY, view: { stroke: "#888" }, axis: { grid: false } },
    width: W,
    height: H,
    layer: [
      {
        data: { name: "image" },
        mark: { type: "image", aspect: false, smooth: false },
        encoding: {
          x: { field: "x", type: "quantitative", title: "Time tick", scale: { domain: [0, height], nice: false, zero: false } },
          x2: { field: "x2" },
          y: { field: "y", type: "quantitative", title: "Channel", scale: { domain: [0, width], nice: false, zero: false } },
          y2: { field: "y2" },
          url: { field: "url" },
        },
      },
      {
        data: { name: "image_range" },
        mark: { type: "point", opacity: 0 },
        encoding: {
          x: { value: 0 }, y: { value: 0 },
          color: { field: "v", type: "quantitative", scale: { scheme: VEGA_SCHEME.viridis, zero: false, nice: false }, legend: { title: "ADC", gradientLength: Math.max(60, H - 20) } },
        },
      },
    ],
  } as unknown as TopLevelSpec;
}

/** The image transposed to channels × time ticks (time across), empty pixels left white. */
export function clusterFigureData(e: ClusterEvent): FigureData {
  const { height: h, width: w, image } = e;
  const t = new Float64Array(h * w);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) t[c * h + r] = image[r * w + c] === 0 ? NaN : image[r * w + c];
  let [lo, hi] = finiteRange(t);
  if (lo === hi) hi = lo + 1;
  const r = heatmap(t, w, h, "viridis", lo, hi, "lower", 4, 8, [255, 255, 255]);
  return {
    data: { image: [{ x: 0, x2: h, y: 0, y2: w, url: r.url }], image_range: [{ v: lo }, { v: hi }] },
    signals: { titleText: clusterTitle(e), subtitleText: clusterSubtitle(e) },
  };
}

const templates = new Map<string, FigureTemplate>();

export function clusterTemplate(e: Pick<ClusterEvent, "height" | "width">, size = 1): FigureTemplate {
  const key = `${e.height}x${e.width}@${size}`;
  let t = templates.get(key);
  if (!t) templates.set(key, (t = new FigureTemplate(clusterSpec(e.height, e.width, size))));
  return t;
}
