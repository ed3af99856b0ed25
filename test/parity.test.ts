// Parity with scone_tools' extract_tfrecord_info.py: every one of its 40 summary columns, for every
// event of the SCONE fixtures and of parity/awkward.tfrecord (events made to hit each quirk of its
// numpy arithmetic), against the numpy implementation of the tool's function in
// test/fixtures/make_scone_parity.py; the same values in Arrow and Parquet; the scone-tools CSV
// dialect and the light-curve and spectrum CSVs byte-identical to what pandas wrote from the same
// numbers; and the kernel's metric slots against the metric table.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Table } from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { SconeBatcher, SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { METRICS, SLOTS } from "../src/datasets/scone/metrics.ts";
import type { ArrowsmithError } from "../src/errors.ts";
import { Kernels } from "../src/wasm.ts";
import { useDuckDB } from "./duckdb.ts";
import { close, FIXTURES, num, readArrow, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Cell = number | string | null;
interface ExpectedEvent { [column: string]: Cell | Cell[] | undefined; what?: string }
const expected: { files: { file: string; events: ExpectedEvent[] }[] } = JSON.parse(readFileSync(join(FIXTURES, "parity/expected.json"), "utf8"));
const golden = (name: string) => readFileSync(join(FIXTURES, "parity", name));
/** The tool's 40 column names, from the header pandas wrote. */
const TOOL_COLUMNS = golden("awkward_summary.csv").toString().split("\n")[0].split(" ");
const INPUTS = expected.files.map((f) => join(FIXTURES, f.file));
const stem = (f: string) => f.split("/").pop()!.replace(/\.(gz|zz)$/, "").replace(/\.tfrecord$/, "");
/** Arrow column holding each of the tool's columns (ours keep the feature names). */
const ARROW_NAME: Record<string, string> = { snid: "id", redshift: "z", redshift_err: "z_err" };
const arrowName = (c: string) => ARROW_NAME[c] ?? c;

/** A default-dialect CSV cell as a number (nan/inf spelled out, empty = null). */
function csvNumber(s: string): number | null {
  if (s === "") return null;
  if (s === "nan") return NaN;
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  return Number(s);
}

function readCsv(path: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.length);
  return { header: lines[0].split(","), rows: lines.slice(1).map((l) => l.split(",")) };
}

/** Both NaN, or equal (integers exactly, floats within 1e-9 relative). */
function same(got: number | null, want: number | null, exact: boolean): boolean {
  if (got === null || want === null) return got === want;
  if (Number.isNaN(want)) return Number.isNaN(got);
  return exact ? got === want : close(got, want, 1e-9);
}

describe("scone_tools parity: the 40 summary columns", () => {
  const query = useDuckDB();
  let csvDir: string, arrowDir: string, parquetDir: string;
  beforeAll(() => {
    csvDir = tmp(); arrowDir = tmp(); parquetDir = tmp();
    for (const [dir, format] of [[csvDir, "csv"], [arrowDir, "arrow"], [parquetDir, "parquet"]]) {
      const r = run("convert", ...INPUTS, "-o", dir, "--format", format, "--extras", "lightcurves,spectra", "--threads", "1", "--quiet");
      // CSV leaves out flux and flux_err (and says so); the extras go to the files beside it
      expect(r.stderr).toBe(format === "csv" ? "arrowsmith: warning: CSV holds the scalar and metric columns only: flux, flux_err left out (--format arrow or parquet keeps them)\n" : "");
      expect(r.code).toBe(0);
    }
  }, 120_000);

  it("the tool's columns come first in CSV, in its order", () => {
    expect(TOOL_COLUMNS).toHaveLength(40);
    const { header } = readCsv(join(csvDir, "awkward.csv"));
    expect(header.slice(0, 40)).toEqual(TOOL_COLUMNS);
    expect(header.slice(40)).toEqual(["nonfinite_values", "source", "record"]);
  });

  for (const file of expected.files) {
    it(`${file.file}: every column in convert --format csv equals numpy's (${file.events.length} events)`, () => {
      const { header, rows } = readCsv(join(csvDir, `${stem(file.file)}.csv`));
      expect(rows).toHaveLength(file.events.length);
      const bad: string[] = [];
      let exact = 0, compared = 0;
      for (const [r, e] of file.events.entries()) {
        for (const c of TOOL_COLUMNS) {
          const cell = rows[r][header.indexOf(c)];
          const want = e[c] as Cell;
          const where = `${file.file} event ${r}${e.what ? ` (${e.what})` : ""} ${c}`;
          if (c === "label_name") { if (cell !== want) bad.push(`${where}: ${cell} vs ${want}`); continue; }
          if (c === "snid") { if (cell !== String(want)) bad.push(`${where}: ${cell} vs ${want}`); continue; }
          // legacy files have no redshift: null here, NaN in the tool's frame
          const got = (c === "redshift" || c === "redshift_err") && cell === "" ? NaN : csvNumber(cell);
          const w = num(want);
          const isInt = typeof want === "number" && Number.isInteger(want) && !METRICS.some((m) => m.name === c && m.type === "f64");
          compared++;
          if (Object.is(got, w) || (Number.isNaN(w) && Number.isNaN(got))) exact++;
          if (!same(got, w, isInt)) bad.push(`${where}: ${cell} vs ${want}`);
        }
      }
      expect(bad.slice(0, 10)).toEqual([]);
      // sums follow numpy's pairwise order: in practice every value is bit-identical
      expect(exact).toBe(compared);
    });
  }

  it("Arrow and Parquet hold the same values as the CSV, with descriptions", async () => {
    for (const file of expected.files) {
      const s = stem(file.file);
      const t: Table = readArrow(join(arrowDir, `${s}.arrow`));
      const { header, rows } = readCsv(join(csvDir, `${s}.csv`));
      const pq = await query(`select * from read_parquet('${join(parquetDir, `${s}.parquet`)}') order by record`);
      expect(pq).toHaveLength(t.numRows);
      for (const c of [...TOOL_COLUMNS, "nonfinite_values"]) {
        const name = arrowName(c);
        const field = t.schema.fields.find((f) => f.name === name)!;
        expect(field, name).toBeDefined();
        if (METRICS.some((m) => m.name === name)) expect(field.metadata.get("description"), name).toBeTruthy();
        for (let r = 0; r < t.numRows; r++) {
          const a = t.getChild(name)!.get(r);
          const p = pq[r][name];
          if (c === "label_name") { expect([a, p]).toEqual([rows[r][header.indexOf(c)], rows[r][header.indexOf(c)]]); continue; }
          const v = typeof a === "bigint" ? Number(a) : (a as number | null);
          const fromCsv = csvNumber(rows[r][header.indexOf(c)]);
          const pv = typeof p === "bigint" ? Number(p) : (p as number | null);
          const ok = (x: number | null) => Object.is(x, fromCsv) || (x !== null && fromCsv !== null && Number.isNaN(x) && Number.isNaN(fromCsv))
            || (x === fromCsv);
          if (!ok(v) || !ok(pv)) expect(`${s}[${r}].${name}: arrow ${v}, parquet ${pv}`).toBe(`csv ${fromCsv}`);
        }
      }
    }
  });

  it("light curves and peak spectra: tensor columns equal numpy's", () => {
    const t = readArrow(join(arrowDir, "awkward.arrow"));
    const events = expected.files[0].events;
    for (const [name, len] of [["light_curve", 180], ["light_curve_err", 180], ["peak_spectrum", 32], ["peak_spectrum_err", 32]] as const) {
      const field = t.schema.fields.find((f) => f.name === name)!;
      expect(JSON.parse(field.metadata.get("ARROW:extension:metadata")!).shape).toEqual([len]);
      for (const [r, e] of events.entries()) {
        const got = Array.from(t.getChild(name)!.get(r)!.toArray() as Float64Array);
        const want = (e[name] as Cell[]).map(num);
        expect(got.map(String), `${name}[${r}] (${e.what})`).toEqual(want.map(String));
      }
    }
  });

  it("--csv-dialect scone-tools and the extras' CSVs are byte-identical to what pandas wrote", () => {
    const out = tmp();
    const r = run("convert", join(FIXTURES, "parity/awkward.tfrecord"), "-o", out, "--format", "csv", "--csv-dialect", "scone-tools", "--extras", "lightcurves,spectra", "--quiet");
    expect(r.code).toBe(0);
    expect(readdirSync(out).filter((n) => !n.startsWith("_")).sort()).toEqual(["awkward.csv", "awkward_lightcurves.csv", "awkward_spectra.csv"]);
    expect(readFileSync(join(out, "awkward.csv")).equals(golden("awkward_summary.csv"))).toBe(true);
    expect(readFileSync(join(out, "awkward_lightcurves.csv")).equals(golden("awkward_lightcurves.csv"))).toBe(true);
    expect(readFileSync(join(out, "awkward_spectra.csv")).equals(golden("awkward_spectra.csv"))).toBe(true);
  });

  it("--no-metrics: the same tensors and scalars, without the metric columns", () => {
    const out = tmp();
    const r = run("convert", join(FIXTURES, "parity/awkward.tfrecord"), "-o", out, "--no-metrics", "--quiet");
    expect(r.code).toBe(0);
    const t = readArrow(join(out, "awkward.arrow"));
    const full = readArrow(join(arrowDir, "awkward.arrow"));
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id", "label", "label_name", "z", "z_err", "flux", "flux_err", "source", "record"]);
    for (const name of ["id", "label", "label_name", "z", "z_err", "flux", "flux_err", "record"]) {
      for (let row = 0; row < t.numRows; row++) expect(String(t.getChild(name)!.get(row)), `${name}[${row}]`).toBe(String(full.getChild(name)!.get(row)));
    }
  });

  it("--extras refuses an unknown name", () => {
    const r = run("convert", join(FIXTURES, "parity/awkward.tfrecord"), "-o", tmp(), "--extras", "lightcurve");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown extra "lightcurve"');
  });
});

describe("the SCONE metric table", () => {
  it("names every slot the kernel exports, at the kernel's index", () => {
    const k = new Kernels();
    const slots = k.metricSlotConstants();
    expect(Object.keys(slots).sort()).toEqual(SLOTS.map((s) => `M_${s}`).sort());
    for (const [i, s] of SLOTS.entries()) expect(slots[`M_${s}`], s).toBe(i);
    expect(k.metricSlots).toBe(SLOTS.length);
  });

  it("the batcher refuses a kernel with another slot count", () => {
    const k = new Kernels();
    const fake = Object.create(k, {
      metricSlots: { value: SLOTS.length + 1 },
      alloc: { value: () => { throw new Error("allocated"); } },
    }) as Kernels;
    let err: ArrowsmithError | undefined;
    try { new SconeBatcher(fake, SCONE_DEFAULTS, "x", () => {}); } catch (e) { err = e as ArrowsmithError; }
    expect(err?.code).toBe("internal");
    expect(err?.message).toContain(`${SLOTS.length + 1} metric slots`);
  });

  it("has one column per tool quantity and marks ours", () => {
    const names = METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(METRICS.filter((m) => m.ours).map((m) => m.name)).toEqual(["nonfinite_values"]);
    expect(["snid", "label", "label_name", "redshift", "redshift_err", ...names.filter((n) => n !== "nonfinite_values")]).toEqual(TOOL_COLUMNS);
  });
});
