// The real binary (dist/src/cli.js, built by `npm run build`): output, stderr and exit codes.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("arrowsmith CLI", () => {
  it("is built", () => expect(existsSync(CLI)).toBe(true));

  it("--help lists the commands", () => {
    const r = run("--help");
    expect(r.code).toBe(0);
    for (const c of ["convert", "inspect", "verify", "stats", "generate", "bench"]) expect(r.stdout).toContain(c);
  });

  it("convert --json prints one JSON object and exits 0", () => {
    const out = tmp();
    const r = run("convert", join(FIXTURES, "scone"), "-o", out, "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.events).toBe(18);
    expect(j.files).toBe(5);
    expect(readdirSync(out).sort()).toEqual(["_index.parquet", "_manifest.json", "_report.html", "_report.json", "heatmaps_0000.arrow", "heatmaps_0001.arrow", "heatmaps_0002.arrow", "heatmaps_0003.arrow", "legacy_0000.arrow"]);
  });

  it("bad usage exits 2 with a message", () => {
    const a = run("convert", "/nonexistent/x.tfrecord", "-o", tmp());
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("input not found");
    const b = run("convert", join(FIXTURES, "scone"), "-o", tmp(), "--format", "xml");
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/xml.*invalid|Allowed choices/i);
    const c = run("convert", join(FIXTURES, "scone"));
    expect(c.code).toBe(2);
  });

  it("a corrupt record exits 1 naming file, offset and record; no partial output", () => {
    const exp = JSON.parse(readFileSync(join(FIXTURES, "scone/expected.json"), "utf8")).files[0].events;
    const dir = tmp();
    const bytes = readFileSync(join(FIXTURES, "scone/heatmaps_0000.tfrecord"));
    bytes[exp[4].offset + 12 + 777] ^= 0x10;
    const p = join(dir, "heatmaps_9999.tfrecord");
    writeFileSync(p, bytes);
    const out = join(dir, "out");
    const r = run("convert", p, "-o", out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(p);
    expect(r.stderr).toContain(`byte ${exp[4].offset}`);
    expect(r.stderr).toContain("record 4");
    expect(r.stderr).toContain("--on-error skip");
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(readdirSync(out)).toEqual([]);

    const s = run("convert", p, "-o", out, "--on-error", "skip", "--json");
    expect(s.code).toBe(3);
    expect(JSON.parse(s.stdout).problems).toHaveLength(1);
    expect(readArrow(join(out, "heatmaps_9999.arrow")).numRows).toBe(exp.length - 1);
  });

  it("inspect shows the schema, count and first records", () => {
    const r = run("inspect", join(FIXTURES, "scone/heatmaps_0000.tfrecord"), "--records", "2", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.records).toBe(6);
    expect(j.kind).toBe("scone");
    expect(j.first).toHaveLength(2);
    expect(j.first[0]).toHaveProperty("coverage_fraction");
    const t = run("inspect", join(FIXTURES, "scone/heatmaps_0000.tfrecord"));
    expect(t.stdout).toContain("flux: FixedSizeList[5760]<Float32>");
  });

  it("verify exits 0 on good files and 1 on a damaged one", () => {
    expect(run("verify", join(FIXTURES, "scone")).code).toBe(0);
    const dir = tmp();
    const bytes = readFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord"));
    writeFileSync(join(dir, "cut.tfrecord"), bytes.subarray(0, bytes.length - 10));
    const r = run("verify", join(dir, "cut.tfrecord"));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL");
  });

  it("generate scone writes shards that convert (gzip too)", () => {
    const dir = tmp();
    expect(run("generate", "scone", "-o", join(dir, "g"), "--files", "2", "--events", "5", "--compression", "gzip").code).toBe(0);
    expect(readdirSync(join(dir, "g")).sort()).toEqual(["heatmaps_0000.tfrecord.gz", "heatmaps_0001.tfrecord.gz"]);
    const r = run("convert", join(dir, "g"), "-o", join(dir, "o"), "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).events).toBe(10);
    const stats = run("stats", join(dir, "g"), "--json");
    expect(JSON.parse(stats.stdout).events).toBe(10);
  });
});

describe("package", () => {
  it("the library entry point loads and exposes the API", async () => {
    const lib = await import("../src/index.ts");
    for (const name of ["convert", "inspectTFRecord", "inspectNpz", "sconeStats", "clusterStats", "generateScone", "generateClusters", "ArrowsmithError"]) {
      expect(typeof (lib as Record<string, unknown>)[name], name).toBe("function");
    }
  });

  it("runtime dependencies stay what they should be", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    // figures: Vega-Lite → Vega (SVG), resvg (PNG), pdfkit + svg-to-pdfkit (PDF); hyparquet reads _index.parquet back;
    // pako decodes a damaged gzip/zlib member again (src/io/inflate.ts)
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@resvg/resvg-js", "@toondepauw/node-zstd", "apache-arrow", "commander", "fflate", "hyparquet", "pako", "pdfkit",
      "piscina", "snappy", "svg-to-pdfkit", "tinyglobby", "vega", "vega-lite"]);
    for (const v of [...Object.values(pkg.dependencies), ...Object.values(pkg.devDependencies)]) expect(v).toMatch(/^\d/);
  });
});
