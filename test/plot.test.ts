// `arrowsmith plot`: the real binary draws SCONE's five-panel figure and a cluster's image; the PNG
// is decoded and its panels found where the layout puts them, by their colour maps' own colours.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { colormap, type ColormapName } from "../src/report/colormaps.ts";
import { FIXTURES, num, tmp } from "./helpers.ts";
import { decodePng, type Image, regionColours } from "./png.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const SCONE = join(FIXTURES, "scone");
const expected = JSON.parse(readFileSync(join(SCONE, "expected.json"), "utf8")) as { files: { file: string; events: Record<string, unknown>[] }[] };

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Share of a region's pixels that are colours of the map (heat maps are drawn nearest-neighbour). */
function shareOf(img: Image, box: [number, number, number, number], map: ColormapName): number {
  const lut = colormap(map);
  const colours = new Set<number>();
  for (let i = 0; i < 256; i++) colours.add((lut[3 * i] << 16) | (lut[3 * i + 1] << 8) | lut[3 * i + 2]);
  let hit = 0, all = 0;
  for (const [c, n] of regionColours(img, box)) { all += n; if (colours.has(c)) hit += n; }
  return hit / all;
}

function countWhere(img: Image, box: [number, number, number, number], f: (r: number, g: number, b: number) => boolean): number {
  let n = 0;
  for (const [c, k] of regionColours(img, box)) if (f(c >> 16, (c >> 8) & 255, c & 255)) n += k;
  return n;
}

describe("plot", () => {
  it("--id draws the five panels of a SNID, where the layout puts them", () => {
    const out = tmp();
    const r = run("plot", SCONE, "-o", out, "--id", "100018");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const files = readdirSync(out);
    expect(files).toEqual(["heatmaps_0000_snid_100018.png"]);
    const img = decodePng(readFileSync(join(out, files[0])));
    expect(img.width).toBeGreaterThan(1000);
    expect(img.height).toBeGreaterThan(600);
    expect(regionColours(img, [0, 0, 1, 1]).size).toBeGreaterThan(500); // not blank
    // flux (viridis, top left two thirds), error (hot, top right), S/N (RdYlGn, bottom right)
    expect(shareOf(img, [0.1, 0.12, 0.5, 0.52], "viridis")).toBeGreaterThan(0.8);
    expect(shareOf(img, [0.76, 0.12, 0.92, 0.52], "hot")).toBeGreaterThan(0.8);
    expect(shareOf(img, [0.65, 0.73, 0.81, 0.9], "RdYlGn")).toBeGreaterThan(0.8);
    // ...and no heat map where the light curve and the spectrum are: a blue line, a red line
    expect(shareOf(img, [0.08, 0.72, 0.26, 0.92], "viridis")).toBeLessThan(0.05);
    expect(countWhere(img, [0.08, 0.72, 0.26, 0.92], (r, g, b) => b > 150 && r < 80 && g < 120)).toBeGreaterThan(200);
    expect(countWhere(img, [0.31, 0.72, 0.53, 0.92], (r, g, b) => r > 180 && g < 80 && b < 80)).toBeGreaterThan(200);
    // and none of those colours at the top left of the S/N panel's place in the flux row's gap
    expect(countWhere(img, [0.31, 0.72, 0.53, 0.92], (r, g, b) => b > 150 && r < 80 && g < 120)).toBeLessThan(20);
  });

  it("--where picks exactly the events numpy's metrics put under the condition", () => {
    const out = tmp();
    const r = run("plot", join(SCONE, "heatmaps_0000.tfrecord"), join(SCONE, "heatmaps_0001.tfrecord"), "-o", out, "--where", "coverage_fraction < 0.79", "--format", "svg");
    expect(r.code).toBe(0);
    const want = expected.files.filter((f) => f.file === "heatmaps_0000.tfrecord" || f.file === "heatmaps_0001.tfrecord")
      .flatMap((f) => f.events.filter((x) => (num(x.coverage_fraction as number) as number) < 0.79).map((x) => `${f.file.replace(".tfrecord", "")}_snid_${x.id}.svg`));
    expect(want.length).toBeGreaterThan(1);
    expect(readdirSync(out).sort()).toEqual(want.sort());
    const svg = readFileSync(join(out, want[0]), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<image /g)?.length).toBe(3);
    expect(svg).toContain("Days from peak");
  });

  it("--sample N takes the first N of each file, on all threads", () => {
    const out = tmp();
    const r = run("plot", SCONE, "-o", out, "--sample", "2", "--threads", "2", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.figures.length).toBe(2 * expected.files.length);
    const firstTwo = expected.files.flatMap((f) => f.events.slice(0, 2).map((x) => String(x.id)));
    for (const id of firstTwo) expect(readdirSync(out).some((n) => n.includes(`_snid_${id}.png`))).toBe(true);
  });

  it("reports SNIDs it could not find (exit 3) and refuses a bad condition (exit 2)", () => {
    const out = tmp();
    const r = run("plot", SCONE, "-o", out, "--id", "100018,999");
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("not found: 999");
    const bad = run("plot", SCONE, "-o", out, "--where", "coverage_fraction <");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--where");
    const none = run("plot", SCONE, "-o", out, "--where", "no_such_metric > 1");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("coverage_fraction");
  });

  it("draws a cluster given as file:row, with its labels in the title", () => {
    const out = tmp();
    const r = run("plot", join(FIXTURES, "clusters", "dataset"), "-o", out, "--id", "clusters_planeX_batch0000.npz:1", "--format", "svg");
    expect(r.code).toBe(0);
    const svg = readFileSync(join(out, "clusters_planeX_batch0000_row1.svg"), "utf8");
    expect(svg).toContain("plane X");
    expect(svg).toContain("Time tick");
    expect(svg).toContain("pixel_sum");
  });

  const pdftoppm = ["/usr/bin/pdftoppm", "/usr/local/bin/pdftoppm"].find((p) => existsSync(p));
  it.skipIf(!pdftoppm)(`--format pdf writes a PDF that pdftoppm renders${pdftoppm ? "" : " (skipped: pdftoppm not installed; apt-get install poppler-utils)"}`, () => {
    const out = tmp();
    const r = run("plot", SCONE, "-o", out, "--id", "100147", "--format", "pdf");
    expect(r.code).toBe(0);
    const pdf = join(out, "heatmaps_0001_snid_100147.pdf");
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe("%PDF-");
    const p = spawnSync(pdftoppm!, ["-png", "-r", "60", "-singlefile", pdf, join(out, "page")], { encoding: "utf8" });
    expect(p.status).toBe(0);
    const img = decodePng(readFileSync(join(out, "page.png")));
    expect(img.width).toBeGreaterThan(500);
    expect(regionColours(img, [0, 0, 1, 1]).size).toBeGreaterThan(200);
    expect(shareOf(img, [0.12, 0.15, 0.48, 0.5], "viridis")).toBeGreaterThan(0.3);
  });
});
