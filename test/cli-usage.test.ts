// What a user meets first: usage errors (one line and where to read more), help that is true,
// warnings for options without effect and columns a format leaves out, one unit convention, and a
// demo that cleans up after itself. Runs the real binary (dist/src/cli.js).
import { spawnSync } from "node:child_process";
import { existsSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { BYTES_PER_THREAD } from "../src/pipeline/convert.ts";
import { formatBytes, formatRate } from "../src/units.ts";
import { FIXTURES, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, flat: r.stdout.replace(/\s+/g, " ") };
}

const SCONE = join(FIXTURES, "scone/heatmaps_0000.tfrecord");
const NPZ = join(FIXTURES, "npz/clusters_savez.npz");

describe("usage errors", () => {
  it("print the message and where the help is, not the whole help", () => {
    const cases: [string[], string, RegExp][] = [
      [["convert", SCONE, "-o", tmp(), "--format", "xml"], "convert", /argument 'xml' is invalid/],
      [["convert", SCONE], "convert", /required option '-o, --output <dir>'/],
      [["convert", SCONE, "-o", tmp(), "--threads", "0"], "convert", /--threads must be an integer ≥ 1/],
      [["convert", SCONE, "-o", tmp(), "--nope"], "convert", /unknown option '--nope'/],
      [["inspect"], "inspect", /missing required argument 'file'/],
      [["generate", "mnist", "-o", tmp()], "generate", /value 'mnist' is invalid/],
      [["convert", "/nonexistent/x.tfrecord", "-o", tmp()], "convert", /input not found/],
    ];
    for (const [args, cmd, message] of cases) {
      const r = run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr, args.join(" ")).not.toContain("Options:");
      const lines = r.stderr.trim().split("\n");
      expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
      expect(lines.at(-1)).toBe(`see arrowsmith ${cmd} --help`);
      expect(r.stdout).toBe("");
    }
    const top = run(["nosuch"]);
    expect(top.code).toBe(2);
    expect(top.stderr.trim().split("\n")).toEqual(["error: unknown command 'nosuch'", "see arrowsmith --help"]);
  });
});

describe("help", () => {
  it("generate says what each kind writes and what --compression means for it", () => {
    const r = run(["generate", "--help"]);
    expect(r.code).toBe(0);
    expect(r.flat).not.toContain("realistic SCONE heatmaps");
    expect(r.flat).toContain("DUNE cluster NPZ batches");
    expect(r.flat).toMatch(/scone: the whole file as one gzip or zlib stream/);
    expect(r.flat).toMatch(/clusters: every member deflated, as np\.savez_compressed/);
  });

  it("convert shows the defaults of --time-range and --bins from the library, and how --threads is chosen", () => {
    for (const cmd of ["convert", "inspect"]) {
      const r = run([cmd, "--help"]);
      expect(r.flat).toContain(`--time-range <t0,t1> SCONE time axis in days from peak (default: ${SCONE_DEFAULTS.timeRange.join(",")})`);
    }
    const r = run(["convert", "--help"]);
    expect(r.flat).toContain(`(default: ${SCONE_DEFAULTS.bins.join(",")})`);
    expect(r.flat).not.toContain("all cores");
    expect(r.flat).toContain(`one per ${BYTES_PER_THREAD / 2 ** 20} MiB of input`);
    expect(r.flat).toMatch(/--compression <c> Parquet compression \(Parquet output only\)/);
  });

  it("lists demo (npm start)", () => {
    expect(run(["--help"]).flat).toMatch(/demo \[options\] generate a small dataset of each kind/);
  });
});

// --no-report: these check the warnings, not the report (a page per run costs seconds on a busy machine)
describe("options without effect and columns left out are said", () => {
  it("--compression with a non-Parquet format warns; the default does not", () => {
    for (const format of ["arrow", "arrow-stream", "csv"]) {
      const r = run(["convert", SCONE, "--no-report", "-o", tmp(), "--format", format, "--compression", "snappy"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`arrowsmith: warning: --compression applies to Parquet output only: --format ${format} ignores it`);
    }
    const p = run(["convert", SCONE, "--no-report", "-o", tmp(), "--format", "parquet", "--compression", "snappy"]);
    expect(p.stderr).not.toContain("warning");
    const a = run(["convert", SCONE, "--no-report", "-o", tmp()]);
    expect(a.stderr).toBe("");
  }, 180_000);

  it("CSV names the tensor columns it leaves out, on stderr and in --json", () => {
    const s = run(["convert", SCONE, "--no-report", "-o", tmp(), "--format", "csv"]);
    expect(s.code).toBe(0);
    expect(s.stderr).toContain("arrowsmith: warning: CSV holds the scalar and metric columns only: flux, flux_err left out");
    const c = run(["convert", NPZ, "--no-report", "-o", tmp(), "--format", "csv", "--json"]);
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).warnings).toEqual([expect.stringContaining(": image left out")]);
    const f64 = run(["convert", SCONE, "--no-report", "-o", tmp(), "--format", "csv", "--precision", "f64"]);
    expect(f64.stderr).toContain("--precision sets the tensor columns, which CSV leaves out");
    const plain = run(["convert", SCONE, "--no-report", "-o", tmp(), "--format", "csv", "--tensor-type", "plain"]);
    expect(plain.stderr).toContain("--tensor-type sets the tensor columns, which CSV leaves out");
    expect(JSON.parse(run(["convert", SCONE, "--no-report", "-o", tmp(), "--json"]).stdout).warnings).toEqual([]);
  }, 180_000);
});

describe("units", () => {
  it("sizes are binary and named so; a small output is not 0.0", () => {
    expect(formatBytes(0)).toBe("0 bytes");
    expect(formatBytes(1)).toBe("1 byte");
    expect(formatBytes(1023)).toBe("1023 bytes");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(127.4 * 2 ** 20)).toBe("127.4 MiB");
    expect(formatBytes(4.02 * 2 ** 30)).toBe("4.02 GiB");
    expect(formatRate(2 ** 20 * 1478)).toBe("1478 MiB/s");
    expect(formatRate(2 ** 20 * 2.5)).toBe("2.5 MiB/s");
  });

  it("convert, stats and --json use them", () => {
    const csv = run(["convert", SCONE, "-o", tmp(), "--format", "csv"]);
    expect(csv.stdout).toMatch(/\d events\/s, [\d.]+ MiB\/s\)\nwrote \d+(\.\d)? (bytes|KiB) to /);
    expect(csv.stdout).not.toMatch(/\bMB\b/);
    const stats = run(["stats", join(FIXTURES, "scone")]);
    expect(stats.stdout).toMatch(/events, [\d.]+ (KiB|MiB)\n/);
    const clusters = run(["stats", join(FIXTURES, "clusters/dataset")]);
    expect(clusters.stdout).toMatch(/Total size: [\d.]+ MiB\n/);
    expect(clusters.stdout).toMatch(/bytes \([\d.]+ KiB\)\n/);
    for (const out of [stats.stdout, clusters.stdout]) expect(out).not.toMatch(/\b[KM]B\b/);
    const j = JSON.parse(run(["convert", SCONE, "-o", tmp(), "--json"]).stdout);
    expect(j.mib_per_second).toBeCloseTo(j.input_bytes / j.seconds / 2 ** 20, 6);
    expect(j).not.toHaveProperty("mb_per_second");
  });
});

describe("demo (npm start)", () => {
  it("removes its temporary folder and says so; -o keeps the files", () => {
    const t = tmp();
    const r = run(["demo"], { TMPDIR: t });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("all cores");
    expect(r.stdout).toMatch(/\nremoved the demo files \([\d.]+ MiB\) with \S+arrowsmith-demo-\S+; arrowsmith demo -o <dir> keeps them\n$/);
    // what stays is only the folder of the report and figures the demo shows, named in its output
    // and small (the converted data, ~130 MiB, is gone)
    const left = readdirSync(t);
    expect(left.filter((n) => !n.startsWith("arrowsmith-demo-figures-"))).toEqual([]);
    for (const n of left) {
      expect(r.stdout).toContain(join(t, n));
      const bytes = readdirSync(join(t, n)).reduce((a, f) => a + statSync(join(t, n, f)).size, 0);
      expect(bytes).toBeLessThan(16 << 20);
    }
    const keep = join(tmp(), "demo");
    const k = run(["demo", "-o", keep]);
    expect(k.code).toBe(0);
    expect(k.stdout).toContain(`the demo files (`);
    expect(existsSync(join(keep, "arrow-0"))).toBe(true);
  }, 120_000);
});
