// Parquet pages compressed on libuv's thread pool give the same file, byte for byte, as pages
// compressed one after the other in the writing thread: with the reading paced by ready() (the
// converter's way), with no turn of the event loop at all (the pages then come back after
// finish() has compressed them itself), and through `convert --format parquet`.
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { setImmediate as tick } from "node:timers/promises";
import { join } from "node:path";
import { type Table, tableFromIPC } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateScone } from "../src/generate.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { type Compression, ParquetSink, type ParquetOptions } from "../src/sinks/parquet.ts";
import { tmp } from "./helpers.ts";

const dir = tmp("arrowsmith-parquet-threads-");
let table: Table;
let input: string;

beforeAll(async () => {
  [input] = await generateScone(join(dir, "in"), { files: 1, events: 120, seed: 4 });
  await convert([input], { ...FILE_DEFAULTS, output: join(dir, "arrow"), threads: 1, report: false });
  table = tableFromIPC(readFileSync(join(dir, "arrow", "heatmaps_0000.arrow")));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// small pages and row groups: many pages in flight, several row groups queued behind them
const small = { rowGroupBytes: 1 << 20, pageBytes: 48 << 10 };

async function write(name: string, opts: ParquetOptions, mode: "paced" | "sync"): Promise<Uint8Array> {
  const p = join(dir, name);
  const s = new ParquetSink(p, table.schema, opts);
  // batches of 8 rows: the reading is paced between them, as between read windows
  for (const b of table.batches.flatMap((x) => Array.from({ length: Math.ceil(x.numRows / 8) }, (_, i) => x.slice(8 * i, 8 * i + 8)))) {
    s.write(b);
    if (mode === "paced") await (s.ready() ?? tick());
  }
  if (mode === "paced") await s.drain();
  s.finish();
  return readFileSync(p);
}

describe("Parquet compression on the thread pool", () => {
  for (const compression of ["zstd", "snappy"] as Compression[]) {
    it(`${compression}: the same bytes whether pages compress on the pool or in this thread`, async () => {
      const zstd = createRequire(import.meta.url)("@toondepauw/node-zstd") as { Encoder: { prototype: { encode: () => unknown } } };
      const snappy = createRequire(import.meta.url)("snappy") as { compress: () => unknown };
      const pooled = compression === "zstd" ? vi.spyOn(zstd.Encoder.prototype, "encode") : vi.spyOn(snappy, "compress");
      try {
        const one = await write(`${compression}-0.parquet`, { compression, ...small, pagesInFlight: 0 }, "paced");
        expect(pooled).not.toHaveBeenCalled();
        const paced = await write(`${compression}-8.parquet`, { compression, ...small }, "paced");
        expect(pooled.mock.calls.length).toBeGreaterThan(20);
        const calls = pooled.mock.calls.length;
        const unpaced = await write(`${compression}-sync.parquet`, { compression, ...small, pagesInFlight: 3 }, "sync");
        expect(pooled.mock.calls.length).toBeGreaterThan(calls);
        expect(one.length).toBeGreaterThan(2 << 20);
        expect(Buffer.compare(paced, one)).toBe(0);
        expect(Buffer.compare(unpaced, one)).toBe(0);
      } finally {
        pooled.mockRestore();
      }
    }, 120_000);
  }

  it("pages filled in one synchronous write wait for a slot on the pool instead of compressing in the writing thread", async () => {
    const zstd = createRequire(import.meta.url)("@toondepauw/node-zstd") as { Encoder: { prototype: { encode: () => unknown; encodeSync: () => unknown } } };
    const pooled = vi.spyOn(zstd.Encoder.prototype, "encode");
    const inThread = vi.spyOn(zstd.Encoder.prototype, "encodeSync");
    try {
      // 8-row batches: each write fills ~8 tensor pages of 48 KiB while only 2 may compress at once
      const p = join(dir, "queued.parquet");
      const s = new ParquetSink(p, table.schema, { compression: "zstd", ...small, pagesInFlight: 2 });
      for (const b of table.batches.flatMap((x) => Array.from({ length: Math.ceil(x.numRows / 8) }, (_, i) => x.slice(8 * i, 8 * i + 8)))) {
        s.write(b);
        await (s.ready() ?? tick());
      }
      await s.drain();
      s.finish();
      // tensor pages (the metric columns' few-KB pages, closed together at each row group's end,
      // may overflow the queue)
      const big = (calls: unknown[][]) => calls.filter(([b]) => (b as Uint8Array).length > 16 << 10).length;
      expect(big(pooled.mock.calls)).toBeGreaterThan(60);
      expect(big(pooled.mock.calls)).toBeGreaterThan(2 * big(inThread.mock.calls));
      const one = await write("queued-ref.parquet", { compression: "zstd", ...small, pagesInFlight: 0 }, "paced");
      expect(Buffer.compare(readFileSync(p), one)).toBe(0);
    } finally {
      pooled.mockRestore();
      inThread.mockRestore();
    }
  }, 120_000);

  it("convert --format parquet writes what the sink writes page by page in one thread", async () => {
    const out = join(dir, "pq");
    await convert([input], { ...FILE_DEFAULTS, output: out, threads: 1, report: false, format: "parquet", sink: { compression: "zstd", tensorType: "extension", rowGroupBytes: 1 << 20 } });
    const p = join(dir, "convert-ref.parquet");
    const s = new ParquetSink(p, table.schema, { compression: "zstd", rowGroupBytes: 1 << 20, pagesInFlight: 0 });
    for (const b of table.batches) s.write(b);
    s.finish();
    const one = readFileSync(p);
    expect(Buffer.compare(readFileSync(join(out, "heatmaps_0000.parquet")), one)).toBe(0);
  }, 120_000);
});
