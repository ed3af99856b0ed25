// The colour maps of SCONE's visualizer (matplotlib names), as 256-entry RGB tables for rasters and
// as Vega schemes for the colour bars, so the image and its bar come from one definition. viridis,
// plasma and RdYlGn are Vega's (d3's tables, matplotlib's end points); matplotlib's `hot` is not in
// Vega and is defined here from matplotlib's segment data.
import * as vega from "vega";

export type ColormapName = "viridis" | "plasma" | "hot" | "RdYlGn" | "greys";

/** The Vega scheme name of each map (registered on first use for the ones Vega lacks). */
export const VEGA_SCHEME: Record<ColormapName, string> = {
  viridis: "viridis", plasma: "plasma", hot: "mpl-hot", RdYlGn: "redyellowgreen", greys: "greys",
};

function clip01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** matplotlib's `hot`: red, then green, then blue ramp up (breaks at 0.365079 and 0.746032). */
function hot(t: number): string {
  const r = clip01(t / 0.365079), g = clip01((t - 0.365079) / (0.746032 - 0.365079)), b = clip01((t - 0.746032) / (1 - 0.746032));
  return `rgb(${Math.round(r * 255)}, ${Math.round(g * 255)}, ${Math.round(b * 255)})`;
}

let registered = false;
function register(): void {
  if (registered) return;
  (vega as unknown as { scheme(name: string, f: (t: number) => string): void }).scheme("mpl-hot", hot);
  registered = true;
}

const tables = new Map<ColormapName, Uint8Array>();

/** The map as 256 RGB triples (index = round(255 × t)). */
export function colormap(name: ColormapName): Uint8Array {
  register();
  let lut = tables.get(name);
  if (!lut) {
    const f = (vega as unknown as { scheme(name: string): (t: number) => string }).scheme(VEGA_SCHEME[name]);
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(f(i / 255));
      if (!m) throw new Error(`colour map ${name} gave ${f(i / 255)}`);
      lut[3 * i] = +m[1]; lut[3 * i + 1] = +m[2]; lut[3 * i + 2] = +m[3];
    }
    tables.set(name, lut);
  }
  return lut;
}

/** Registers the schemes Vega lacks (before a spec that names them is parsed). */
export function registerSchemes(): void {
  register();
}
