// Turns a figure (a Vega-Lite spec plus its data) into SVG, PNG or PDF. The spec is compiled and
// parsed once per process; each figure gets a new Vega view of the parsed spec with its data sets
// and signals (a view reused from figure to figure carried layout state over to the next figure).
// SVG is Vega's own renderer; PNG is resvg (a Rust SVG renderer shipped as a native npm package
// per platform, nothing downloaded at install); PDF is pdfkit drawing the same SVG through
// svg-to-pdfkit, so all three agree.
import { existsSync } from "node:fs";
import "./native-memory.js";
import * as vega from "vega";
import * as vl from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import { registerSchemes } from "./colormaps.js";
import { encodePng } from "./png.js";

export type FigureFormat = "png" | "svg" | "pdf";
export const FIGURE_FORMATS: readonly FigureFormat[] = ["png", "svg", "pdf"];

/** What one figure puts into its template: named data sets and signal values. */
export interface FigureData {
  data: Record<string, object[]>;
  signals?: Record<string, unknown>;
}

/**
 * Fonts: a subset of DejaVu Sans (Latin, Greek, the math signs on our axes) shipped in assets/fonts.
 * resvg-js re-reads a font file for every text run it shapes (~800 per figure); the full 760 kB
 * DejaVuSans.ttf made that half of a figure's time, the 26 kB subset a small part of it.
 */
// from dist/src/report/render.js three folders up; from src/report/render.ts or the plot worker's
// bundle, dist/src/plot-worker.bundle.js, two
const FONT_DIR = new URL(import.meta.url.includes("/dist/src/report/") ? "../../../assets/fonts/" : "../../assets/fonts/", import.meta.url);
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => new URL(f, FONT_DIR).pathname).filter((f) => existsSync(f));
export const FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif";

/**
 * A compiled figure template: the Vega-Lite spec compiled and parsed once, and a new Vega view of
 * it for each figure. A view reused from figure to figure kept state of the figures before it, so
 * a figure's bytes depended on what the same process had drawn earlier: positions the layout had
 * set (a panel 1 px elsewhere), the order of a discrete axis's categories (first seen first), a
 * legend label's place. A new view costs ~25 ms of CPU more per five-panel figure.
 */
export class FigureTemplate {
  private readonly runtime: vega.Runtime;

  constructor(spec: vl.TopLevelSpec) {
    registerSchemes();
    const compiled = vl.compile(spec).spec;
    this.runtime = vega.parse(compiled);
  }

  /** The figure as SVG text. */
  async svg(fig: FigureData): Promise<string> {
    const view = new vega.View(this.runtime, { renderer: "none" });
    try {
      for (const [name, values] of Object.entries(fig.data)) view.data(name, values);
      for (const [name, value] of Object.entries(fig.signals ?? {})) view.signal(name, value);
      await view.runAsync();
      return cleanSvg(await view.toSVG());
    } finally {
      view.finalize();
    }
  }

  /** The figure in `format`, as bytes. `scale` multiplies the SVG size for PNG. */
  async render(fig: FigureData, format: FigureFormat, scale = 1): Promise<Buffer> {
    const svg = await this.svg(fig);
    if (format === "svg") return Buffer.from(svg);
    if (format === "png") return svgToPng(svg, scale);
    return svgToPdf(svg);
  }
}

/**
 * The SVG as we write it, in one pass over the text:
 * - Vega numbers the gradients and clip paths from counters shared by the whole process (and
 *   vega.resetSVGDefIds does not reach them: vega-view renders with its own copy of
 *   vega-scenegraph), so the same figure came out with other ids depending on what had been drawn
 *   before it: they are numbered again in the order they first appear in this SVG;
 * - resvg drops the whole style of an image when it meets `pixelated`: that is removed
 *   (optimizeSpeed, kept, is the nearest-neighbour scaling the heat maps need).
 */
export function cleanSvg(svg: string): string {
  const ids = new Map<string, string>();
  const counts = new Map<string, number>();
  return svg.replace(/image-rendering: pixelated;|(id="|url\(#)(p_gradient_|gradient_|clip)(\d+)(?=[")])/g, (_, pre?: string, kind?: string, n?: string) => {
    if (pre === undefined) return "";
    let id = ids.get(kind! + n);
    if (id === undefined) {
      const k = counts.get(kind!) ?? 0;
      counts.set(kind!, k + 1);
      ids.set(kind! + n, (id = kind! + k));
    }
    return pre + id;
  });
}

export function svgToPng(svg: string, scale = 1): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: FONT_FILES.length ? { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: "DejaVu Sans" } : { loadSystemFonts: true },
  });
  const img = r.render();
  // resvg-js's own asPng (the `deflate` crate at its default level) took ~24 ms a figure; Node's
  // zlib at level 3 takes ~6 ms and writes smaller files (185 → 114 kB), pixels unchanged
  return encodePng(img.pixels, img.width, img.height, 4, 3);
}

/** One-page PDF of the SVG at its own size (1 SVG px = 1 pt); the heat maps stay embedded PNGs. */
export async function svgToPdf(svg: string): Promise<Buffer> {
  // pdfkit takes ~0.3 s of CPU to load: only for PDF figures
  const [{ default: PDFDocument }, { default: SVGtoPDF }] = await Promise.all([import("pdfkit"), import("svg-to-pdfkit")]);
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  const w = m ? Number(m[1]) : 800, h = m ? Number(m[2]) : 600;
  const doc = new PDFDocument({ size: [w, h], margin: 0, compress: true, info: { Producer: "arrowsmith" } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve) => {
    doc.on("data", (c) => chunks.push(c));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
  });
  SVGtoPDF(doc, svg, 0, 0, { width: w, height: h, assumePt: true });
  doc.end();
  return done;
}
