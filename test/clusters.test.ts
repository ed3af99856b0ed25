// DUNE cluster batches and generic NPZ archives against what numpy wrote and computed
// (test/fixtures/make_cluster_fixtures.py): every image (SHA-256 of numpy's float32 and float64
// bytes per cluster), every metadata field decoded by its layout, numpy's metrics, the layouts
// detected or refused, the errors of broken batches, the statistics of
// online-pointing-utils' load_batched_cluster_data.py, inspect, and the generator (read back by numpy).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Table } from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { dictionaryVector } from "../src/arrow.ts";
import { clusterColumns, clusterPlanSchema, emitClusters, LAYOUTS, layoutMismatch, planClusterBatch, planeFromName, resolveLayout } from "../src/datasets/clusters.ts";
import { generateClusters } from "../src/generate-clusters.ts";
import { inspectNpz } from "../src/inspect-npz.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS, type FileOptions } from "../src/pipeline/convert-file.ts";
import { openNpz } from "../src/pipeline/npz-task.ts";
import { openSink } from "../src/sinks/open-sync.ts";
import { kernels } from "../src/wasm.ts";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { clusterStats, pyFixed, renderClusterStats } from "../src/stats-clusters.ts";
import { EXTERNAL, FIXTURES, HAVE_EXTERNAL, NO_EXTERNAL, num, readArrow, tmp } from "./helpers.ts";

const DIR = join(FIXTURES, "clusters");
type Cluster = Record<string, unknown> & { row: number; image_f32_sha256: string; image_f64_sha256: string };
interface ExpectedFile { layout: string; rows: number; height: number; width: number; compressed: boolean; images_dtype: string; fortran: boolean; clusters: Cluster[] }
const expected: {
  files: Record<string, ExpectedFile>;
  stats: Record<string, Record<string, unknown> & { lines: string[] }>;
  generic: Record<string, { rows: number; columns: Record<string, { descr: string; shape: number[]; values: unknown[] }>; scalars: Record<string, unknown> }>;
} = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8"));

const sha = (a: ArrayBufferView) => createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex");
const stem = (rel: string) => basename(rel).replace(/\.npz$/, "");
const opts = (o: Partial<FileOptions> = {}) => ({ ...FILE_DEFAULTS, threads: 1, ...o });
const METRIC_KEYS = ["pixel_sum", "pixel_max", "nonzero_pixels", "time_first", "time_last", "channel_first", "channel_last"];

function checkFile(t: Table, rel: string, precision: "f32" | "f64"): void {
  const e = expected.files[rel];
  expect(t.numRows, rel).toBe(e.rows);
  const names = t.schema.fields.map((f) => f.name);
  expect(names).toEqual(clusterColumns(LAYOUTS[e.layout as keyof typeof LAYOUTS]));
  expect(JSON.parse(t.schema.metadata.get("arrowsmith:layout")!).name).toBe(e.layout);
  const image = t.schema.fields[0];
  expect(image.metadata.get("ARROW:extension:name")).toBe("arrow.fixed_shape_tensor");
  expect(JSON.parse(image.metadata.get("ARROW:extension:metadata")!)).toEqual({ shape: [e.height, e.width], dim_names: ["time", "channel"] });
  expect(image.type.children[0].name).toBe("item");
  expect(image.type.listSize).toBe(e.height * e.width);
  const col = (name: string) => t.getChild(name)!;
  for (const c of e.clusters) {
    const r = c.row;
    const img = col("image").get(r)!.toArray() as Float32Array | Float64Array;
    expect(img.BYTES_PER_ELEMENT).toBe(precision === "f64" ? 8 : 4);
    expect(sha(img), `${rel} image ${r}`).toBe(precision === "f64" ? c.image_f64_sha256 : c.image_f32_sha256);
    for (const [key, want] of Object.entries(c)) {
      if (key === "row" || key.startsWith("image_")) continue;
      const got = col(key).get(r);
      if (METRIC_KEYS.includes(key) && typeof want === "string") {
        // "NaN" / "Infinity" / "-Infinity": the exact special value (Object.is: NaN equals NaN only).
        expect(got, `${rel} row ${r} ${key}`).toBe(num(want));
        continue;
      }
      expect(got, `${rel} row ${r} ${key}`).toBe(want);
    }
    expect(col("source").get(r)).toBe(basename(rel));
    expect(col("row").get(r)).toBe(BigInt(r));
  }
}

describe("cluster batches → Arrow", () => {
  // windowBytes 1: one row per window, so every batch is read as many row windows (as a member
  // too large for memory is), stored and deflate, every dtype, byte order and Fortran order
  for (const [precision, windowBytes] of [["f32", undefined], ["f64", undefined], ["f32", 1], ["f64", 1]] as const) {
    for (const folder of ["dataset", "variants"]) {
      describe(`${folder} (${precision}${windowBytes ? ", one row per window" : ""})`, () => {
        let out: string;
        beforeAll(async () => {
          out = tmp();
          const s = await convert([join(DIR, folder)], opts({ output: out, scone: { ...SCONE_DEFAULTS, precision }, windowBytes }));
          expect(s.problems).toEqual([]);
        });
        for (const rel of Object.keys(expected.files).filter((f) => f.startsWith(folder + "/"))) {
          it(`${rel}: every image, metadata field and metric equals numpy's`, () => {
            checkFile(readArrow(join(out, `${stem(rel)}.arrow`)), rel, precision);
          });
        }
      });
    }
  }

  it("worker threads write the same outputs as one thread", async () => {
    const one = tmp(), two = tmp();
    await convert([join(DIR, "variants")], opts({ output: one }));
    const s = await convert([join(DIR, "variants")], opts({ output: two, threads: 2 }));
    expect(s.threads).toBe(2);
    for (const f of readdirSync(one).filter((x) => x.endsWith(".arrow"))) {
      expect(Buffer.compare(readFileSync(join(one, f)), readFileSync(join(two, f))), f).toBe(0);
    }
  });

  it("batches cut into several record batches hold the same rows", () => {
    const rel = "dataset/clusters_planeU_batch0000.npz";
    const k = kernels();
    const mark = k.mark();
    const input = openNpz(join(DIR, rel));
    try {
      const b = planClusterBatch(k, input.zip!, { metadataLayout: "auto" });
      const schema = clusterPlanSchema(b, "f32");
      const out = join(tmp(), "x.arrow");
      const sink = openSink("arrow", out, schema, { compression: "none" });
      let batches = 0;
      emitClusters(k, input.zip!, b, schema, dictionaryVector([basename(rel)]), (batch) => { sink.write(batch); batches++; },
        { precision: "f32", windowBytes: 4 * b.height * b.width * 4 });
      sink.finish();
      expect(batches).toBe(2);
      checkFile(readArrow(out), rel, "f32");
    } finally {
      input.close();
      k.release(mark);
    }
  });

  it("a 0-byte batch is an empty table of the default schema (a warning, not an error)", async () => {
    const out = tmp();
    const s = await convert([join(DIR, "dataset/clusters_planeX_batch0001.npz")], opts({ output: out }));
    expect(s.problems).toEqual([]);
    const t = readArrow(join(out, "clusters_planeX_batch0001.arrow"));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toEqual(clusterColumns(LAYOUTS["12"]));
    expect(t.schema.metadata.get("arrowsmith:warning")).toMatch(/0 bytes/);
    const m = JSON.parse(readFileSync(join(out, "_manifest.json"), "utf8"));
    expect(m.inputs[0]).toMatchObject({ size: 0, records: 0, kind: "clusters" });
  });

  it("the manifest counts clusters per batch", async () => {
    const out = tmp();
    await convert([join(DIR, "dataset")], opts({ output: out }));
    const m = JSON.parse(readFileSync(join(out, "_manifest.json"), "utf8"));
    const rows = Object.fromEntries(m.inputs.map((i: { input: string; records: number }) => [basename(i.input), i.records]));
    for (const [rel, e] of Object.entries(expected.files)) if (rel.startsWith("dataset/")) expect(rows[basename(rel)]).toBe(e.rows);
    expect(m.inputs.find((i: { input: string }) => i.input.endsWith("clusters_planeV_batch0000.npz")).compression).toBe("deflate");
  });
});

describe("metadata layouts", () => {
  it("detects each layout from K and the values; 12alt in a plane-U batch is not taken for 12", async () => {
    const r = inspectNpz(join(DIR, "variants/clusters_planeU_batch0120.npz"));
    expect(r.layout).toMatchObject({ name: "12alt", how: "detected" });
    expect(inspectNpz(join(DIR, "variants/clusters_planeV_batch0100.npz")).layout?.name).toBe("11");
    expect(inspectNpz(join(DIR, "variants/clusters_planeX_batch0150.npz")).layout?.name).toBe("15");
  });

  it("the 11-column layout has no ES flag: interaction is null", async () => {
    const out = tmp();
    await convert([join(DIR, "variants/clusters_planeV_batch0100.npz")], opts({ output: out }));
    const t = readArrow(join(out, "clusters_planeV_batch0100.arrow"));
    expect(t.getChild("interaction")!.nullCount).toBe(3);
    expect(t.schema.fields.some((f) => f.name.startsWith("true_mom"))).toBe(false);
  });

  it("--metadata-layout is checked against K and the values", async () => {
    const ok = tmp();
    await convert([join(DIR, "variants/clusters_planeU_batch0120.npz")], opts({ output: ok, metadataLayout: "12alt" }));
    expect(JSON.parse(readArrow(join(ok, "clusters_planeU_batch0120.arrow")).schema.metadata.get("arrowsmith:layout")!).how).toBe("requested");
    await expect(convert([join(DIR, "variants/clusters_planeU_batch0120.npz")], opts({ output: tmp(), metadataLayout: "12" })))
      .rejects.toMatchObject({ code: "layout", message: expect.stringMatching(/does not fit --metadata-layout 12: column 10 \(plane_id\)/) });
    await expect(convert([join(DIR, "variants/clusters_planeX_batch0150.npz")], opts({ output: tmp(), metadataLayout: "12" })))
      .rejects.toMatchObject({ code: "layout", message: expect.stringMatching(/has 15 columns; --metadata-layout 12 has 12/) });
  });

  it("an ambiguous 12-column batch names both layouts and the option", async () => {
    const e = await convert([join(DIR, "bad/clusters_ambiguous.npz")], opts({ output: tmp() })).catch((x) => x);
    expect(e).toMatchObject({ code: "layout", file: join(DIR, "bad/clusters_ambiguous.npz") });
    expect(e.message).toMatch(/ambiguous.*fit layouts 12 and 12alt \(tried 12, 12alt\)/);
    expect(e.message).toContain("--metadata-layout 12|12alt");
    // told which, it converts
    const out = tmp();
    await convert([join(DIR, "bad/clusters_ambiguous.npz")], opts({ output: out, metadataLayout: "12alt" }));
    expect(readArrow(join(out, "clusters_ambiguous.arrow")).getChild("true_mom_x")!.get(0)).toBe(0.5);
  });

  it("inconsistent batches say which layouts were tried and why each failed", async () => {
    const e = await convert([join(DIR, "bad/clusters_planeU_batch0666.npz")], opts({ output: tmp() })).catch((x) => x);
    expect(e.code).toBe("layout");
    expect(e.message).toMatch(/fits no layout: tried 12 \(column 10 \(plane_id\) is 2 \(X\) in row 0, but the file name says plane U\); 12alt \(column 2/);
    const f = await convert([join(DIR, "bad/clusters_noplane.npz")], opts({ output: tmp() })).catch((x) => x);
    expect(f.message).toMatch(/column 10 \(plane_id\) is 5 in row 0, not 0, 1 or 2/);
    const g = await convert([join(DIR, "bad/k13.npz")], opts({ output: tmp(), kind: "clusters" })).catch((x) => x);
    expect(g).toMatchObject({ code: "layout" });
    expect(g.message).toMatch(/13 columns; no known layout.*12: 12 columns, 11: 11 columns, 15: 15 columns, 12alt: 12 columns/);
  });

  it("value checks (unit)", () => {
    expect(planeFromName("/a/clusters_planeV_batch0003.npz")).toBe(1);
    expect(planeFromName("clusters_planeX.npz")).toBe(2);
    expect(planeFromName("planes.npz")).toBeUndefined();
    const row12 = Float32Array.of(1, 0, 5, 6, 7, 0.6, 0.8, 0, -1, 3.5, 2, 1);
    expect(layoutMismatch(row12, 1, LAYOUTS["12"])).toBeUndefined();
    expect(layoutMismatch(row12, 1, LAYOUTS["12alt"])).toMatch(/column 2 \(is_es_interaction\) is 5/);
    expect(layoutMismatch(Float32Array.of(NaN, ...row12.slice(1)), 1, LAYOUTS["12"])).toMatch(/is NaN in row 0/);
    expect(resolveLayout(row12, 1, 12, "auto", "x_planeX.npz")).toEqual({ layout: LAYOUTS["12"], how: "detected" });
    expect(() => resolveLayout(row12, 1, 12, "auto", "x_planeU.npz")).toThrow(/file name says plane U/);
    expect(resolveLayout(new Float32Array(0), 0, 12, "auto", "x.npz")).toEqual({ layout: LAYOUTS["12"], how: "default" });
  });
});

describe("broken batches", () => {
  const bad = (name: string) => join(DIR, "bad", name);

  it("missing members, disagreeing row counts, wrong dtypes: code, file and member", async () => {
    await expect(convert([bad("only_images.npz")], opts({ output: tmp(), kind: "clusters" })))
      .rejects.toMatchObject({ code: "feature", file: bad("only_images.npz"), message: expect.stringContaining('no member "metadata.npy"') });
    await expect(convert([bad("rows_disagree.npz")], opts({ output: tmp() })))
      .rejects.toMatchObject({ code: "schema", file: bad("rows_disagree.npz"), message: expect.stringContaining('"images.npy" has 1 clusters but "metadata.npy" has 2 rows') });
    await expect(convert([bad("bool_images.npz")], opts({ output: tmp() })))
      .rejects.toMatchObject({ code: "feature", message: expect.stringContaining('member "images.npy" is bool') });
  });

  it("a damaged member fails its CRC-32; --no-verify reads it; --on-error skip writes no output for it, lists and counts it", async () => {
    const file = bad("clusters_planeX_batch0777.npz");
    await expect(convert([file], opts({ output: tmp() }))).rejects.toMatchObject({ code: "member_crc", file, message: expect.stringContaining("images.npy") });
    const nv = tmp();
    const s = await convert([file], opts({ output: nv, verify: false }));
    expect(s.events).toBe(1);
    const out = tmp();
    const k = await convert([file, join(DIR, "dataset/clusters_planeU_batch0001.npz")], opts({ output: out, onError: "skip" }));
    expect(k.problems).toEqual([expect.objectContaining({ code: "member_crc", file, skipped: "file" })]);
    // a refused input has no output file (not an empty one with an assumed schema)
    expect(readdirSync(out).filter((f) => !f.startsWith("_")).sort()).toEqual(["clusters_planeU_batch0001.arrow"]);
    expect(readArrow(join(out, "clusters_planeU_batch0001.arrow")).numRows).toBe(2);
    expect(readFileSync(join(out, "_errors.jsonl"), "utf8")).toContain("member_crc");
    const m = JSON.parse(readFileSync(join(out, "_manifest.json"), "utf8"));
    expect(m.totals.skipped).toBe(1);
    expect(m.totals.outputs).toBe(1);
    expect(m.inputs.find((e: { input: string }) => e.input === file)).toMatchObject({ records: 0, skipped: 1, outputs: [] });
  });

  it("a truncated archive is an error naming the file", async () => {
    const dir = tmp();
    const bytes = readFileSync(join(DIR, "dataset/clusters_planeU_batch0001.npz"));
    writeFileSync(join(dir, "clusters_planeU_batch0002.npz"), bytes.subarray(0, 9000));
    await expect(convert([join(dir, "clusters_planeU_batch0002.npz")], opts({ output: join(dir, "o") })))
      .rejects.toMatchObject({ code: "truncated", file: join(dir, "clusters_planeU_batch0002.npz") });
  });

  it("--kind scone on an NPZ is bad usage", async () => {
    await expect(convert([join(DIR, "dataset/clusters_planeU_batch0001.npz")], opts({ output: tmp(), kind: "scone" }))).rejects.toMatchObject({ code: "usage" });
  });
});

describe("generic NPZ", () => {
  it("read in windows of one row, every fixture archive gives the same table (or the same refusal) as one window", async () => {
    const files = [join(DIR, "generic/table.npz"), ...readdirSync(join(FIXTURES, "npz")).filter((f) => f.endsWith(".npz")).map((f) => join(FIXTURES, "npz", f))];
    const values = (t: Table) => t.schema.fields.map((f) => {
      const col = t.getChild(f.name)!;
      const norm = (v: unknown): unknown => (v && typeof v === "object" && "toArray" in (v as object) ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), norm)
        : typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : Number.isNaN(v) ? "NaN" : v);
      return Array.from({ length: t.numRows }, (_, r) => norm(col.get(r)));
    });
    let compared = 0;
    for (const file of files) {
      const one = tmp(), many = tmp();
      const a = await convert([file], opts({ output: one, kind: "generic" })).catch((e) => e);
      const b = await convert([file], opts({ output: many, kind: "generic", windowBytes: 1 })).catch((e) => e);
      if (a instanceof Error) {
        expect((b as { code?: string }).code, file).toBe((a as { code?: string }).code);
        continue;
      }
      const name = `${stem(file)}.arrow`;
      const ta = readArrow(join(one, name)), tb = readArrow(join(many, name));
      expect(tb.numRows, file).toBe(ta.numRows);
      expect(tb.batches.length, file).toBe(Math.max(1, ta.numRows));
      expect(values(tb), file).toEqual(values(ta));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(5);
  });

  it("arrays sharing a leading dimension become columns; 0-d arrays go to the schema metadata", async () => {
    const out = tmp();
    const s = await convert([join(DIR, "generic/table.npz")], opts({ output: out }));
    expect(s.results[0].kind).toBe("generic");
    const t = readArrow(join(out, "table.arrow"));
    const exp = expected.generic["generic/table.npz"];
    expect(t.numRows).toBe(exp.rows);
    expect(t.schema.fields.map((f) => f.name)).toEqual([...Object.keys(exp.columns).sort((a, b) => order(a) - order(b)), "source", "row"]);
    for (const [name, c] of Object.entries(exp.columns)) {
      const col = t.getChild(name)!;
      c.values.forEach((want, r) => {
        let got = col.get(r) as unknown;
        if (got && typeof got === "object" && "toArray" in (got as object)) got = Array.from((got as { toArray(): ArrayLike<unknown> }).toArray());
        const norm = (v: unknown): unknown => (Array.isArray(v) ? v.map(norm) : typeof v === "bigint" ? v.toString()
          : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v);
        const w = (v: unknown): unknown => (Array.isArray(v) ? v.map(w) : typeof v === "string" && c.descr.includes("f") ? num(v) : v);
        expect(norm(got), `${name}[${r}]`).toEqual(typeof want === "boolean" ? want : w(want));
      });
      if (c.shape.length > 1 && c.descr !== "|b1") {
        expect(JSON.parse(t.schema.fields.find((f) => f.name === name)!.metadata.get("ARROW:extension:metadata")!)).toEqual({ shape: c.shape.slice(1) });
      }
    }
    expect(JSON.parse(t.schema.metadata.get("arrowsmith:npz_scalars")!)).toEqual(exp.scalars);
    function order(name: string): number {
      return ["ids", "energy", "flags", "labels", "raw", "grid", "fort", "small"].indexOf(name);
    }
  });

  it.skipIf(!HAVE_EXTERNAL)(`numpy's own sample archives (stored and deflate): x (4, 3) int64 rows, foo a 0-d '<U3' in the metadata${NO_EXTERNAL}`, async () => {
    for (const name of ["numpy_py3-arr-savez.npz", "numpy_py3-arr-savez-compressed.npz"]) {
      const out = tmp();
      await convert([join(EXTERNAL, name)], opts({ output: out }));
      const t = readArrow(join(out, name.replace(/\.npz$/, ".arrow")));
      expect(t.numRows).toBe(4);
      expect([0, 1, 2, 3].map((r) => Array.from(t.getChild("x")!.get(r)!.toArray() as BigInt64Array, Number))).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]);
      expect(JSON.parse(t.schema.metadata.get("arrowsmith:npz_scalars")!)).toEqual({ foo: { descr: "<U3", value: "bar" } });
    }
  });

  it.skipIf(!HAVE_EXTERNAL)(`object arrays are refused before anything is unpickled (auto, generic and clusters kinds)${NO_EXTERNAL}`, async () => {
    for (const kind of ["auto", "generic", "clusters"] as const) {
      await expect(convert([join(EXTERNAL, "test_cc_bg_planeU.npz")], opts({ output: tmp(), kind })))
        .rejects.toMatchObject({ code: "refused", file: join(EXTERNAL, "test_cc_bg_planeU.npz"), message: expect.stringContaining("pickle") });
    }
  });

  it("a cluster-less archive under --kind auto is generic; arrays of different lengths are a schema error", async () => {
    const out = tmp();
    const s = await convert([join(DIR, "bad/only_images.npz")], opts({ output: out }));
    expect(s.results[0].kind).toBe("generic");
    expect(readArrow(join(out, "only_images.arrow")).getChild("images")!.type.listSize).toBe(2048);
    await expect(convert([join(FIXTURES, "npz/dtypes.npz")], opts({ output: tmp() }))).rejects.toMatchObject({ code: "schema" });
  });
});

describe("stats (load_batched_cluster_data.py's figures)", () => {
  it("equal what the script's logic computes with numpy, and print its lines", () => {
    const exp = expected.stats.dataset;
    const files = readdirSync(join(DIR, "dataset")).map((f) => join(DIR, "dataset", f)).sort();
    const s = clusterStats(files);
    expect(s).toMatchObject({
      batch_files: exp.total_batch_files, total_clusters: exp.total_clusters, total_size_bytes: exp.total_size,
      total_size_mb: exp.total_size_mb, avg_batch_size_mb: exp.avg_batch_size_mb, avg_clusters_per_batch: exp.avg_clusters_per_batch,
      avg_bytes_per_cluster: exp.avg_bytes_per_cluster,
    });
    const planes = exp.plane_counts as Record<string, number>;
    for (const p of ["U", "V", "X"] as const) expect(s.planes[p]).toEqual({ count: planes[p], percent: (100 * planes[p]) / s.total_clusters });
    expect(s.marley.count).toBe(exp.marley_count);
    expect(s.main_track.count).toBe(exp.main_track_count);
    expect(s.interactions.ES.count).toBe(exp.es_count);
    expect(s.interactions.CC.count).toBe(exp.cc_count);
    expect(s.interactions.unknown.count).toBe(0);
    expect(s.empty_batches.map((f) => basename(f))).toEqual(["clusters_planeX_batch0001.npz"]);
    const text = renderClusterStats(s, "dataset").split("\n");
    // the same figures; the script calls bytes/1024/1024 "MB" and bytes/1024 "KB", we say MiB and KiB
    for (const line of exp.lines as string[]) {
      const ours = line.replace(/ MB$/, " MiB").replace(/ KB\)$/, " KiB)");
      expect(text, line).toContain(ours);
    }
  });

  it("an empty folder, an empty batch alone, and layouts without the ES flag do not crash", () => {
    const none = clusterStats([]);
    expect(none).toMatchObject({ batch_files: 0, total_clusters: 0, avg_bytes_per_cluster: 0, avg_clusters_per_batch: 0 });
    expect(renderClusterStats(none, "x")).toContain("Marley clusters: 0 (0.0%)");
    const empty = clusterStats([join(DIR, "dataset/clusters_planeX_batch0001.npz")]);
    expect(empty).toMatchObject({ batch_files: 1, total_clusters: 0, total_size_bytes: 0 });
    const v = clusterStats(readdirSync(join(DIR, "variants")).map((f) => join(DIR, "variants", f)));
    expect(v.total_clusters).toBe(Object.entries(expected.files).filter(([f]) => f.startsWith("variants/")).reduce((a, [, e]) => a + e.rows, 0));
    expect(v.interactions.unknown.count).toBe(3);
    expect(v.layouts).toEqual({ "11": 1, "12": 4, "12alt": 2, "15": 1 });
    expect(v.image_shapes).toEqual({ "128x16": 21, "128x32": 3 });
  });

  it("unreadable batches are problems, left out of the figures; other archives are not batches", () => {
    // like the script, stats reads only the metadata member: damage inside images.npy is not seen here
    const s = clusterStats([join(DIR, "bad/clusters_planeX_batch0777.npz"), join(DIR, "bad/rows_disagree.npz"), join(DIR, "bad/clusters_noplane.npz"),
      join(DIR, "generic/table.npz"), join(DIR, "dataset/clusters_planeU_batch0001.npz")]);
    expect(s.total_clusters).toBe(3);
    expect(s.batch_files).toBe(2);
    expect(s.problems.map((p) => p.code)).toEqual(["schema", "layout"]);
    expect(s.not_batches.map((f) => basename(f))).toEqual(["table.npz"]);
    expect(renderClusterStats(s, "x")).toMatch(/Problems \(2, left out of the figures\)/);
  });

  it("pyFixed rounds like Python's format (ties to even)", () => {
    expect([pyFixed(2.5, 0), pyFixed(3.5, 0), pyFixed(1158.5, 0), pyFixed(0.125, 2), pyFixed(0.375, 2), pyFixed(0.105, 2), pyFixed(42.10526, 1)])
      .toEqual(["2", "4", "1158", "0.12", "0.38", "0.10", "42.1"]);
  });
});

describe("inspect", () => {
  it("lists arrays, the layout and the first clusters with their metrics", () => {
    const rel = "variants/clusters_planeU_batch0900.npz";
    const r = inspectNpz(join(DIR, rel), 2);
    expect(r.kind).toBe("clusters");
    expect(r.arrays.map((a) => [a.name, a.descr, a.shape])).toEqual([["images", ">f4", [3, 128, 16]], ["metadata", ">f4", [3, 12]]]);
    expect(r.first).toHaveLength(2);
    const want = expected.files[rel].clusters[1];
    for (const key of ["pixel_sum", "nonzero_pixels", "time_first", "channel_last", "plane", "interaction", "true_pos_y"]) expect(r.first[1][key]).toEqual(want[key]);
    expect(r.problems).toEqual([]);
  });

  it("reports empty files", () => {
    expect(inspectNpz(join(DIR, "dataset/clusters_planeX_batch0001.npz")).kind).toBe("empty");
  });

  it.skipIf(!HAVE_EXTERNAL)(`reports refused members and generic archives${NO_EXTERNAL}`, () => {
    const refused = inspectNpz(join(EXTERNAL, "test_cc_bg_planeU.npz"));
    expect(refused.problems[0].code).toBe("refused");
    expect(refused.arrays[0].error?.code).toBe("refused");
    const g = inspectNpz(join(EXTERNAL, "numpy_py3-arr-savez.npz"), 2);
    expect(g).toMatchObject({ kind: "generic", rows: 4 });
    expect(g.first[1]).toMatchObject({ x: ["3", "4", "5"], row: "1" });
  });
});

describe("generate clusters", () => {
  it("writes np.savez batches numpy reads, named per plane, with a shorter last batch", async () => {
    const dir = tmp();
    const paths = generateClusters(join(dir, "s"), { files: 5, events: 20, seed: 4 });
    generateClusters(join(dir, "c"), { files: 2, events: 9, seed: 4, compressed: true });
    expect(paths.map((p) => basename(p))).toEqual([
      "clusters_planeU_batch0000.npz", "clusters_planeU_batch0001.npz", "clusters_planeV_batch0000.npz", "clusters_planeV_batch0001.npz", "clusters_planeX_batch0000.npz"]);
    const py = spawnSync("/usr/bin/python3", ["-c", `
import numpy as np, glob, json, zipfile, sys
out = {}
for f in sorted(glob.glob(sys.argv[1] + "/*/*.npz")):
    with np.load(f, allow_pickle=False) as z:
        im, me = z["images"], z["metadata"]
    methods = sorted({i.compress_type for i in zipfile.ZipFile(f).infolist()})
    out[f.split("/")[-2] + "/" + f.split("/")[-1]] = [list(im.shape), im.dtype.str, list(me.shape), sorted(set(me[:, 10].tolist())), int((im != 0).sum()), methods, float(im.sum(dtype=np.float64))]
print(json.dumps(out))`, dir], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    const got = JSON.parse(py.stdout);
    expect(got["s/clusters_planeU_batch0000.npz"].slice(0, 4)).toEqual([[20, 128, 16], "<f4", [20, 12], [0]]);
    expect(got["s/clusters_planeU_batch0001.npz"][0][0]).toBeLessThan(20);
    expect(got["s/clusters_planeX_batch0000.npz"][3]).toEqual([2]);
    expect(got["c/clusters_planeV_batch0000.npz"][5]).toEqual([8]);
    expect(got["s/clusters_planeV_batch0000.npz"][5]).toEqual([0]);
    for (const v of Object.values(got) as unknown[][]) expect(v[4]).toBeGreaterThan(0);
    // and they convert, with numpy's sums
    const out = tmp();
    const s = await convert([join(dir, "s")], opts({ output: out }));
    expect(s.problems).toEqual([]);
    const t = readArrow(join(out, "clusters_planeV_batch0000.arrow"));
    let sum = 0;
    for (let r = 0; r < t.numRows; r++) sum += t.getChild("pixel_sum")!.get(r) as number;
    expect(sum).toBeCloseTo(got["s/clusters_planeV_batch0000.npz"][6], 6);
  });

  it("is reproducible from its seed", () => {
    const a = tmp(), b = tmp();
    generateClusters(a, { files: 1, events: 4, seed: 9 });
    generateClusters(b, { files: 1, events: 4, seed: 9 });
    expect(Buffer.compare(readFileSync(join(a, "clusters_planeU_batch0000.npz")), readFileSync(join(b, "clusters_planeU_batch0000.npz")))).toBe(0);
  });
});
