// The plot workers start from one bundled file (dist/src/plot-worker.bundle.js, written by the
// build) when it is there and not older than plot-worker.js. The bundle sits one folder above
// render.js, whose font folder is found relative to its own file: figures drawn by the bundle
// must be the bytes that plot-worker.js draws (text shaped with the shipped fonts, not without).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const BUNDLE = new URL("../dist/src/plot-worker.bundle.js", import.meta.url).pathname;
const PLAIN = new URL("../dist/src/report/plot-worker.js", import.meta.url).pathname;
const dir = tmp("arrowsmith-plot-bundle-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function plot(out: string, format: string): Map<string, Buffer> {
  const r = spawnSync(process.execPath, [CLI, "plot", join(FIXTURES, "scone", "heatmaps_0000.tfrecord"), "-o", out, "--sample", "2", "--format", format, "--threads", "1"], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return new Map(readdirSync(out).map((f) => [f, readFileSync(join(out, f))]));
}

describe("the bundled plot worker", () => {
  it("finds the shipped fonts from where it sits", () => {
    // the system may have DejaVu Sans too (then a wrong folder draws the same bytes): the folder
    // the bundle computes must hold the shipped files
    const m = /FONT_DIR = new URL\((.*), import\.meta\.url\);/.exec(readFileSync(BUNDLE, "utf8"));
    expect(m).not.toBeNull();
    const url = pathToFileURL(BUNDLE).href;
    const rel = new Function("url", `return ${m![1].replace(/import\.meta\.url/g, "url")}`)(url) as string;
    expect(existsSync(new URL("DejaVuSans.ttf", new URL(rel, url)))).toBe(true);
  });

  it("draws the same bytes as plot-worker.js", () => {
    const b = statSync(BUNDLE);
    expect(b.mtimeMs).toBeGreaterThanOrEqual(statSync(PLAIN).mtimeMs);
    const bundled = plot(join(dir, "bundled"), "svg");
    const png = plot(join(dir, "bundled-png"), "png");
    // the bundle made older than plot-worker.js: the pool starts plot-worker.js instead
    const old = new Date(statSync(PLAIN).mtimeMs - 60_000);
    utimesSync(BUNDLE, old, old);
    try {
      const plain = plot(join(dir, "plain"), "svg");
      const plainPng = plot(join(dir, "plain-png"), "png");
      expect(bundled.size).toBeGreaterThan(0);
      expect([...bundled.keys()]).toEqual([...plain.keys()]);
      for (const [f, bytes] of bundled) expect(Buffer.compare(bytes, plain.get(f)!), f).toBe(0);
      for (const [f, bytes] of png) expect(Buffer.compare(bytes, plainPng.get(f)!), f).toBe(0);
      // text drawn with the shipped DejaVu subset
      expect([...bundled.values()][0].toString()).toContain("DejaVu Sans");
    } finally {
      utimesSync(BUNDLE, b.atime, b.mtime);
    }
  }, 120_000);
});
