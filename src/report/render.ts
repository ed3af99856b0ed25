// Turns a figure (a Vega-Lite spec plus its data) into SVG, PNG or PDF. The spec is compiled and
// parsed once per process; each figure then only swaps the data sets and signals of one Vega view
// and re-runs it (building a view per figure cost ~3× more). SVG is Vega's own renderer; PNG is
// resvg (a Rust SVG renderer shipped as a native npm package per platform, nothing downloaded at
// install); PDF is pdfkit drawing the same SVG through svg-to-pdfkit, so all three agree.
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
const FONT_DIR = new URL(import.meta.url.includes("/dist/") ? "../../../assets/fonts/" : "../../assets/fonts/", import.meta.url);
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => new URL(f, FONT_DIR).pathname).filter((f) => existsSync(f));
export const FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** A compiled figure template: one Vega view reused for every figure drawn from it. */
export class FigureTemplate {
  private readonly view: vega.View;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(spec: vl.TopLevelSpec) {
    registerSchemes();
    const compiled = vl.compile(spec).spec;
    this.view = new vega.View(vega.parse(compiled), { renderer: "none" });
  }

  /** The figure as SVG text. Calls are serialised: the view is shared. */
  svg(fig: FigureData): Promise<string> {
    const run = this.pending.then(async () => {
      for (const [name, values] of Object.entries(fig.data)) this.view.data(name, values);
      for (const [name, value] of Object.entries(fig.signals ?? {})) this.view.signal(name, value);
      // the layout depends on the data (axis label widths): let the view size itself again
      this.view.resize();
      await this.view.runAsync();
      // resvg drops the whole style of an image when it meets `pixelated`; optimizeSpeed (kept) is
      // the nearest-neighbour scaling the heat maps need
      return (await this.view.toSVG()).replaceAll("image-rendering: pixelated;", "");
    });
    this.pending = run.catch(() => undefined);
    return run;
  }

  /** The figure in `format`, as bytes. `scale` multiplies the SVG size for PNG. */
  async render(fig: FigureData, format: FigureFormat, scale = 1): Promise<Buffer> {
    const svg = await this.svg(fig);
    if (format === "svg") return Buffer.from(svg);
    if (format === "png") return svgToPng(svg, scale);
    return svgToPdf(svg);
  }
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
