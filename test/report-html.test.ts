// _report.html in a real browser (Debian's chromium, started by the test through playwright-core's
// DevTools driver): no script error, nothing fetched from the network, every image loaded, a
// screenshot that is not blank; and `arrowsmith report` rebuilding both files without converting.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FIXTURES, tmp } from "./helpers.ts";
import { decodePng, regionColours } from "./png.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const scone = { ...SCONE_DEFAULTS, timeRange: [-30, 150] as [number, number] };

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("_report.html", () => {
  it.skipIf(!CHROMIUM)(`opens in headless Chromium with every image loaded and no error${CHROMIUM ? "" : " (skipped: no chromium; apt-get install chromium)"}`, async () => {
    const out = tmp();
    await convert([join(FIXTURES, "scone")], { ...FILE_DEFAULTS, scone, output: out, threads: 1 });
    await convert([join(FIXTURES, "clusters", "dataset")], { ...FILE_DEFAULTS, output: join(out, "clusters"), threads: 1 });
    const { chromium } = await import("playwright-core");
    for (const page of [join(out, "_report.html"), join(out, "clusters", "_report.html")]) {
      const profile = tmp("arrowsmith-chromium-");
      const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 1600 },
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
      });
      try {
        const p = await ctx.newPage();
        const errors: string[] = [];
        const fetched: string[] = [];
        p.on("pageerror", (e) => errors.push(String(e)));
        p.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
        p.on("request", (r) => { if (!/^(file|data):/.test(r.url())) fetched.push(r.url()); });
        await p.goto(`file://${page}`, { waitUntil: "load" });
        expect(errors).toEqual([]);
        expect(fetched).toEqual([]);
        const imgs = await p.$$eval("img", (all) => all.map((i) => ({ alt: i.alt, ok: i.complete && i.naturalWidth > 0 })));
        expect(imgs.length).toBeGreaterThan(5);
        expect(imgs.filter((i) => !i.ok)).toEqual([]);
        const shot = decodePng(await p.screenshot({ fullPage: false }));
        expect(regionColours(shot, [0, 0, 1, 1]).size).toBeGreaterThan(100);
      } finally {
        await ctx.close();
        rmSync(profile, { recursive: true, force: true });
      }
    }
  }, 300_000);

  it("arrowsmith report rebuilds both files from the folder, and from the inputs, with the same numbers", async () => {
    const out = tmp();
    await convert([join(FIXTURES, "scone")], { ...FILE_DEFAULTS, scone, output: out, threads: 1 });
    const first = JSON.parse(readFileSync(join(out, "_report.json"), "utf8"));
    // the conversion draws the lowest events from the maps its workers kept, the rebuild reads them
    // again from the inputs: a figure for every listed event both ways
    const lowestFigures = (html: string) => [...html.matchAll(/<img alt="SNID [^"]*" src="([^"]+)"/g)].map((m) => m[1]);
    const converted = lowestFigures(readFileSync(join(out, "_report.html"), "utf8"));
    expect(converted.length).toBe(Object.values(first.lowest as Record<string, unknown[]>).flat().length);
    rmSync(join(out, "_report.html"));
    const r = run("report", out, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).from).toBe("saved");
    expect(existsSync(join(out, "_report.html"))).toBe(true);
    expect(lowestFigures(readFileSync(join(out, "_report.html"), "utf8")).length).toBe(converted.length);
    const again = JSON.parse(readFileSync(join(out, "_report.json"), "utf8"));
    for (const k of ["events", "class_counts", "redshift_mean", "mean_flux", "std_flux", "histograms", "lowest"]) expect(again[k], k).toEqual(first[k]);
    const other = tmp();
    const i = run("report", join(FIXTURES, "scone"), "-o", other, "--time-range", "-30,150", "--json");
    expect(i.code).toBe(0);
    expect(JSON.parse(i.stdout).from).toBe("inputs");
    const fromInputs = JSON.parse(readFileSync(join(other, "_report.json"), "utf8"));
    for (const k of ["events", "class_counts", "redshift_mean", "mean_flux", "histograms", "lowest"]) expect(fromInputs[k], k).toEqual(first[k]);
  }, 300_000);
});
