// --tensor-type plain: polars (nodejs-polars, a reader that is not ours) reads our Arrow IPC file,
// IPC stream and Parquet outputs, tensor columns included, with the values apache-arrow reads from
// the default (extension-typed) output; and it refuses the extension-typed files, as the README says.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Table, tableFromIPC, type Vector } from "apache-arrow";
import pl from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import type { OutputFormat, TensorType } from "../src/sinks/sink.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const INPUTS = [join(FIXTURES, "scone/heatmaps_0000.tfrecord"), join(FIXTURES, "npz/clusters_savez.npz")];
const STEMS = ["heatmaps_0000", "clusters_savez"];
const EXT: Record<string, string> = { arrow: ".arrow", "arrow-stream": ".arrows", parquet: ".parquet" };

async function convertAs(format: OutputFormat, tensorType: TensorType): Promise<string> {
  const out = tmp();
  await convert(INPUTS, { ...FILE_DEFAULTS, output: out, format, threads: 1, sink: { compression: "zstd", tensorType } });
  return out;
}

function readPolars(path: string, format: string): pl.DataFrame {
  // nodejs-polars takes a path only when it ends in .ipc; anything else is read as inline data
  if (format === "parquet") return pl.readParquet(path);
  return format === "arrow" ? pl.readIPC(readFileSync(path)) : pl.readIPCStream(readFileSync(path));
}

/** A column's values as plain JS: numbers (int64 too), strings, booleans, null, number[] per tensor. */
function arrowValues(t: Table, name: string): unknown[] {
  const v = t.getChild(name) as Vector;
  return Array.from({ length: t.numRows }, (_, i) => {
    const x = v.get(i);
    if (x === null || typeof x !== "object") return typeof x === "bigint" ? Number(x) : x;
    return Array.from(x as Iterable<number>);
  });
}

function polarsValues(df: pl.DataFrame, name: string): unknown[] {
  return (df.getColumn(name).toArray() as unknown[]).map((x) => (typeof x === "bigint" ? Number(x) : x));
}

describe("--tensor-type plain: polars reads the outputs", () => {
  for (const format of ["arrow", "arrow-stream", "parquet"] as const) {
    it(`${format}: every column, tensors included, equals what apache-arrow reads from the extension-typed file`, async () => {
      const [reference, plain] = [await convertAs("arrow", "extension"), await convertAs(format, "plain")];
      for (const stem of STEMS) {
        const ref = readArrow(join(reference, stem + ".arrow"));
        const df = readPolars(join(plain, stem + EXT[format]), format);
        expect(df.columns).toEqual(ref.schema.fields.map((f) => f.name));
        expect(df.height).toBe(ref.numRows);
        const tensors = ref.schema.fields.filter((f) => f.metadata.get("ARROW:extension:name") === "arrow.fixed_shape_tensor");
        expect(tensors.length, stem).toBeGreaterThan(0);
        for (const f of tensors) expect(String(df.getColumn(f.name).dtype), f.name).toMatch(/FixedSizeList\(DataType\(Float32\),\d+\)/);
        for (const f of ref.schema.fields) expect(polarsValues(df, f.name), `${stem}.${f.name}`).toEqual(arrowValues(ref, f.name));
        // the same FixedSizeList, only without the extension keys
        if (format !== "parquet") {
          const t = tableFromIPC(readFileSync(join(plain, stem + EXT[format])));
          for (const f of tensors) {
            const g = t.schema.fields.find((x) => x.name === f.name)!;
            expect(String(g.type)).toBe(String(f.type));
            expect([...g.metadata.keys()].filter((k) => k.startsWith("ARROW:extension:"))).toEqual([]);
            // the shape and dimension names stay, under our own key
            expect(g.metadata.get("arrowsmith:tensor")).toBe(f.metadata.get("ARROW:extension:metadata"));
          }
        }
      }
    });
  }

  it("polars refuses the default extension-typed Arrow and Parquet files (scalars alone too)", async () => {
    for (const format of ["arrow", "parquet"] as const) {
      const out = await convertAs(format, "extension");
      expect(() => readPolars(join(out, "heatmaps_0000" + EXT[format]), format), format).toThrow(/arrow\.fixed_shape_tensor/);
    }
    const out = await convertAs("parquet", "extension");
    expect(() => pl.scanParquet(join(out, "heatmaps_0000.parquet")).select("id").collectSync()).toThrow(/arrow\.fixed_shape_tensor/);
  });

  it("convert --tensor-type plain from the command line, recorded in the manifest", () => {
    const out = tmp();
    const r = spawnSync(process.execPath, [CLI, "convert", INPUTS[0], "-o", out, "--format", "parquet", "--tensor-type", "plain", "--quiet"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(readPolars(join(out, "heatmaps_0000.parquet"), "parquet").getColumn("flux").length).toBe(6);
    expect(JSON.parse(readFileSync(join(out, "_manifest.json"), "utf8")).options.tensor_type).toBe("plain");
  });
});
