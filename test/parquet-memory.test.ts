// What a Parquet sink holds besides its row group: a page buffer per column and, for a page out on
// the thread pool, a copy of its bytes. SCONE output has 40 scalar metric columns whose row-group
// chunk is a few KB; a buffer of a whole page (1 MiB) for each, and another for each of their
// pages compressing on the pool, made every conversion thread hold ~80 MB for nothing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Float64, Table, tableFromIPC, vectorFromArray } from "apache-arrow";
import { readParquet } from "parquet-wasm";
import { expect, it } from "vitest";
import { ParquetSink } from "../src/sinks/parquet.ts";
import { tmp } from "./helpers.ts";

const COLUMNS = 40;
const MiB = 1 << 20;

it("a sink of 40 small columns holds far less than a page per column, pages on the pool included", async () => {
  const dir = tmp("parquet-memory");
  const batches = Array.from({ length: 6 }, (_, b) => new Table(Object.fromEntries(Array.from({ length: COLUMNS },
    (_, c) => [`m${c}`, vectorFromArray(Array.from({ length: 200 }, (_, r) => (b * 200 + r) * 0.5 + c), new Float64())]))).batches[0]);
  const schema = batches[0].schema;
  const before = process.memoryUsage().arrayBuffers;
  // row groups of two batches: every column sends a page to the pool at each row group's end
  const sink = new ParquetSink(join(dir, "m.parquet"), schema, { compression: "zstd", rowGroupBytes: 2 * 200 * 8 * COLUMNS });
  for (const b of batches) {
    sink.write(b);
    await sink.ready();
  }
  await sink.drain();
  // the sink is still open: its buffers are all alive here
  const held = process.memoryUsage().arrayBuffers - before;
  sink.finish();
  expect(held).toBeLessThan(8 * MiB);
  const back = tableFromIPC(readParquet(readFileSync(join(dir, "m.parquet"))).intoIPCStream());
  const want = new Table(batches);
  expect(back.numRows).toBe(want.numRows);
  for (const f of schema.fields) expect(back.getChild(f.name)!.toArray()).toEqual(want.getChild(f.name)!.toArray());
});
