// Conversion options in one place: defaults, validation naming the option, the resume key.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catchError, FIXTURES, tmp } from "./helpers.ts";
import { convert } from "../src/pipeline/convert.ts";
import { CONVERT_DEFAULTS, type ConvertOptions, manifestOptions, resolveConvertOptions, resumeKey } from "../src/pipeline/options.ts";

const base = () => resolveConvertOptions({ output: "out" });

describe("conversion options", () => {
  it("every option has a default: { output } alone is a complete set", async () => {
    const o = base();
    expect(o).toMatchObject({ ...CONVERT_DEFAULTS, output: "out" });
    const s = await convert([join(FIXTURES, "scone/heatmaps_0001.tfrecord")], { output: tmp() });
    expect(s.manifest.totals.rows).toBe(4);
  });

  it("nested options are merged with their defaults", () => {
    const o = resolveConvertOptions({ output: "o", scone: { precision: "f64" }, sink: { compression: "none" } });
    expect(o.scone.bins).toEqual([32, 180]);
    expect(o.scone.precision).toBe("f64");
    expect(o.sink.compression).toBe("none");
  });

  it.each([
    [{ threads: 0 }, "options.threads must be an integer ≥ 1, not 0"],
    [{ threads: 1.5 }, "options.threads must be an integer ≥ 1, not 1.5"],
    [{ taskBytes: 0 }, "options.taskBytes must be an integer ≥ 65536, not 0"],
    [{ output: "" }, "options.output must be a folder name"],
    [{ format: "xml" }, 'options.format must be one of arrow, arrow-stream, parquet, csv, not "xml"'],
    [{ onError: "ignore" }, "options.onError must be one of fail, skip"],
    [{ kind: "images" }, "options.kind must be one of auto, scone, clusters, generic"],
    [{ metadataLayout: "13" }, "options.metadataLayout must be one of"],
    [{ scone: { precision: "f16" } }, "options.scone.precision must be one of f32, f64"],
    [{ scone: { timeRange: [150, -30] } }, "options.scone.timeRange must be two increasing numbers"],
    [{ scone: { bins: [32, 0] } }, "options.scone.bins must be two positive integers"],
    [{ sink: { compression: "lz4" } }, "options.sink.compression must be one of zstd, snappy, none"],
    [{ resume: "yes" }, "options.resume must be true or false"],
    [{ shard: { index: 2, count: 2 } }, "options.shard.index must be below shard.count (2), not 2"],
  ] as [Record<string, unknown>, string][])("%j is refused: %s", (bad, message) => {
    const e = catchError(() => resolveConvertOptions({ output: "o", ...bad } as never));
    expect(e.code).toBe("usage");
    expect(e.message).toContain(message);
  });

  it("convert() validates: threads 0 and taskBytes 0 throw instead of being bent", async () => {
    for (const bad of [{ threads: 0 }, { taskBytes: 0 }]) {
      await expect(convert([join(FIXTURES, "scone")], { output: tmp(), ...bad })).rejects.toThrow(`options.${Object.keys(bad)[0]} must be`);
    }
  });

  it("the resume key changes with every option that decides the outputs, and with no other", () => {
    const o = base();
    const key = resumeKey(o);
    const changed: Partial<Record<keyof ConvertOptions, unknown>> = {
      format: "parquet", kind: "scone", verify: false, onError: "skip", metadataLayout: "12", windowBytes: 1 << 20,
      scone: { ...o.scone, precision: "f64" }, sink: { ...o.sink, compression: "none" }, taskBytes: 1 << 20, maxRecordBytes: 1 << 20,
    };
    const runOnly: Partial<Record<keyof ConvertOptions, unknown>> = {
      output: "elsewhere", threads: 3, resume: true, overwrite: true, recursive: true, shard: { index: 0, count: 2 }, argv: ["x"], signal: new AbortController().signal, inThread: true, report: false,
      onTask: () => {}, onPlan: () => {}, onWarning: () => {}, progress: new SharedArrayBuffer(16),
    };
    // every option is in one of the two lists: a new option must be placed
    expect(Object.keys({ ...changed, ...runOnly }).sort()).toEqual([...new Set([...Object.keys(o), "threads", "windowBytes", "shard", "argv", "signal", "inThread", "report", "onTask", "onPlan", "onWarning", "progress"])].sort());
    for (const [k, v] of Object.entries(changed)) expect(resumeKey({ ...o, [k]: v }), k).not.toBe(key);
    for (const [k, v] of Object.entries(runOnly)) expect(resumeKey({ ...o, [k]: v }), k).toBe(key);
    // a nested option added later is in the key without any edit here
    expect(resumeKey({ ...o, scone: { ...o.scone, batchRows: 7 } })).not.toBe(key);
    // the order options are spelled in does not matter
    expect(resumeKey({ ...o, scone: { bins: o.scone.bins, ...o.scone } })).toBe(key);
  });

  it("the manifest records every content option by its snake_case leaf name, and the threads used", () => {
    const o = resolveConvertOptions({ output: "o", onError: "skip", sink: { tensorType: "plain" }, scone: { timeRange: [-50, 130] } });
    expect(manifestOptions(o, 3)).toEqual({
      format: "arrow", kind: "auto", verify: true, on_error: "skip", metadata_layout: "auto", task_bytes: o.taskBytes, max_record_bytes: o.maxRecordBytes,
      precision: "f32", time_range: [-50, 130], wavelength_range: [3000, 10100], bins: [32, 180], compression: "zstd", tensor_type: "plain", threads: 3,
    });
  });
});
