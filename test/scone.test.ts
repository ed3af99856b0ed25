// Every value of the SCONE output against what numpy, Google protobuf and crc32c wrote
// (test/fixtures/make_scone_fixtures.py): ids, labels, redshifts, every pixel of flux and flux_err
// (SHA-256 of numpy's own float32 and float64 planar arrays), and the metrics numpy computed.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, beforeAll } from "vitest";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { METRICS, SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { close, FIXTURES, num, readArrow, tmp } from "./helpers.ts";

interface ExpectedEvent {
  record: number; offset: number; id: number; label: number; z: number | null; z_err: number | null;
  flux_f32_sha256: string; flux_err_f32_sha256: string; flux_f64_sha256: string; flux_err_f64_sha256: string;
  flux_sample: [number, number, number | string][]; flux_err_sample: [number, number, number | string][];
  coverage_fraction: number; temporal_coverage: number; spectral_coverage: number; mean_snr: number | string | null;
  max_flux: number | string; total_flux: number | string; peak_wavelength_bin: number; peak_time_bin: number;
}
interface ExpectedFile { file: string; compression: string; records: number; legacy: boolean; events: ExpectedEvent[] }

const expected: { files: ExpectedFile[] } = JSON.parse(readFileSync(join(FIXTURES, "scone/expected.json"), "utf8"));
const sha = (a: ArrayBufferView) => createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex");
const stem = (f: string) => f.replace(/\.(gz|zz)$/, "").replace(/\.tfrecord$/, "");

for (const precision of ["f32", "f64"] as const) {
  describe(`SCONE → Arrow (${precision})`, () => {
    let out: string;
    beforeAll(async () => {
      out = tmp();
      const s = await convert([join(FIXTURES, "scone")], { ...FILE_DEFAULTS, output: out, scone: { ...SCONE_DEFAULTS, precision } });
      expect(s.problems).toEqual([]);
    });

    for (const file of expected.files) {
      it(`${file.file}: every column equals the source`, () => {
        const t = readArrow(join(out, `${stem(file.file)}.arrow`));
        expect(t.numRows).toBe(file.records);
        // the metric columns are scone_tools' (test/parity.test.ts checks each against numpy)
        expect(t.schema.fields.map((f) => f.name)).toEqual(["id", "label", "label_name", "z", "z_err", "flux", "flux_err", ...METRICS.map((m) => m.name), "source", "record"]);
        const flux = t.getChild("flux")!;
        const err = t.getChild("flux_err")!;
        for (const [r, e] of file.events.entries()) {
          expect(t.getChild("id")!.get(r)).toBe(BigInt(e.id));
          expect(t.getChild("label")!.get(r)).toBe(e.label);
          expect(t.getChild("z")!.get(r)).toBe(e.z);
          expect(t.getChild("z_err")!.get(r)).toBe(e.z_err);
          const fv = flux.get(r)!.toArray() as Float32Array | Float64Array;
          const ev = err.get(r)!.toArray() as Float32Array | Float64Array;
          expect(fv.length).toBe(32 * 180);
          expect(fv.BYTES_PER_ELEMENT).toBe(precision === "f64" ? 8 : 4);
          expect(sha(fv)).toBe(precision === "f64" ? e.flux_f64_sha256 : e.flux_f32_sha256);
          expect(sha(ev)).toBe(precision === "f64" ? e.flux_err_f64_sha256 : e.flux_err_f32_sha256);
          for (const [w, tt, v] of e.flux_sample) {
            const want = precision === "f64" ? num(v)! : Math.fround(num(v)!);
            expect(Object.is(fv[w * 180 + tt], want) || (Number.isNaN(want) && Number.isNaN(fv[w * 180 + tt]))).toBe(true);
          }
          for (const [w, tt, v] of e.flux_err_sample) expect(ev[w * 180 + tt]).toBe(precision === "f64" ? num(v) : Math.fround(num(v)!));
          const m = (name: string) => t.getChild(name)!.get(r) as number | null;
          expect(m("coverage_fraction")).toBe(e.coverage_fraction);
          expect(m("temporal_coverage_fraction")).toBe(e.temporal_coverage);
          expect(m("spectral_coverage_fraction")).toBe(e.spectral_coverage);
          // scone_tools' snr_mean is 0 where the seed's mean_snr had none
          expect(close(m("snr_mean"), num(e.mean_snr) ?? 0), `snr_mean ${m("snr_mean")} vs ${e.mean_snr}`).toBe(true);
          expect(close(m("max_flux"), num(e.max_flux), 0)).toBe(true);
          expect(close(m("total_flux"), num(e.total_flux)), `total_flux ${m("total_flux")} vs ${e.total_flux}`).toBe(true);
          // argmax: the seed's figures ignore NaN pixels (nanargmax); the tool's argmax stops at the first NaN
          if (!Number.isNaN(num(e.max_flux))) {
            expect(m("peak_flux_mjd")).toBeCloseTo(-50 + (180 * e.peak_time_bin) / 179, 9);
            expect(m("peak_flux_wavelength")).toBeCloseTo(3000 + (7100 * e.peak_wavelength_bin) / 31, 9);
          }
          expect(t.getChild("label_name")!.get(r)).toBe(e.label === 1 ? "SNIa" : "Non-Ia");
          expect(t.getChild("source")!.get(r)).toBe(file.file);
          expect(t.getChild("record")!.get(r)).toBe(BigInt(e.record));
        }
      });
    }

    it("tensor columns carry the fixed_shape_tensor extension and the axes", () => {
      const t = readArrow(join(out, "heatmaps_0000.arrow"));
      for (const name of ["flux", "flux_err"]) {
        const f = t.schema.fields.find((x) => x.name === name)!;
        expect(f.metadata.get("ARROW:extension:name")).toBe("arrow.fixed_shape_tensor");
        expect(JSON.parse(f.metadata.get("ARROW:extension:metadata")!)).toEqual({ shape: [32, 180], dim_names: ["wavelength", "time"] });
        expect(f.type.children[0].name).toBe("item");
      }
      const axes = JSON.parse(t.schema.metadata.get("arrowsmith:axes")!);
      // the default time axis is the data-format document's and scone_tools'
      expect(axes.time).toMatchObject({ start: -50, stop: 130, bins: 180 });
      expect(axes.wavelength).toMatchObject({ start: 3000, stop: 10100, bins: 32 });
    });

    it("writes the manifest last with per-input counts", () => {
      const m = JSON.parse(readFileSync(join(out, "_manifest.json"), "utf8"));
      expect(m.inputs.map((i: { records: number }) => i.records)).toEqual(expected.files.map((f) => f.records));
      expect(m.totals.rows).toBe(expected.files.reduce((a, f) => a + f.records, 0));
    });
  });
}

describe("SCONE options", () => {
  it("--time-range moves the time axis and peak_flux_mjd", async () => {
    const out = tmp();
    await convert([join(FIXTURES, "scone/heatmaps_0001.tfrecord")], { ...FILE_DEFAULTS, output: out, scone: { ...SCONE_DEFAULTS, timeRange: [-30, 150] } });
    const t = readArrow(join(out, "heatmaps_0001.arrow"));
    const e = expected.files[1].events[0];
    expect(t.getChild("peak_flux_mjd")!.get(0)).toBeCloseTo(-30 + (180 * e.peak_time_bin) / 179, 9);
    expect(JSON.parse(t.schema.metadata.get("arrowsmith:axes")!).time).toMatchObject({ start: -30, stop: 150 });
  });

  it("bins that disagree with the image size are an error naming the record", async () => {
    const out = tmp();
    await expect(convert([join(FIXTURES, "scone/heatmaps_0001.tfrecord")], { ...FILE_DEFAULTS, output: out, scone: { ...SCONE_DEFAULTS, bins: [32, 100] } }))
      .rejects.toMatchObject({ code: "image_size", record: 0, offset: 0 });
  });
});
