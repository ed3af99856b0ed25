// The record loop reads the next window on the thread pool while the current one is decoded
// (uncompressed files). It must hand out exactly the records, offsets, indices and bytes that
// reading window after window in one thread does: windows smaller than a record (the window
// grows), a few records per window, byte ranges of a shard, and a file cut inside a record.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readRecords } from "../src/io/records.ts";
import { ErrorPolicy } from "../src/pipeline/policy.ts";
import { kernels } from "../src/wasm.ts";
import { FIXTURES, tmp } from "./helpers.ts";

const shard = join(FIXTURES, "scone/heatmaps_0000.tfrecord");

async function visits(path: string, readAhead: boolean, o: { windowBytes?: number; startOffset?: number; endOffset?: number; startIndex?: number; onError?: "fail" | "skip" } = {}) {
  const k = kernels();
  const mark = k.mark();
  const seen: string[] = [];
  const policy = new ErrorPolicy(o.onError ?? "fail");
  try {
    const r = await readRecords(k, path, { verify: true, readAhead, policy, ...o }, (bytes, _ptr, f) => {
      seen.push(`${f.index}@${f.offset}:${createHash("sha1").update(bytes.subarray(f.start, f.start + f.length)).digest("hex")}`);
    });
    return { seen, records: r.records, skipped: r.skipped, problems: policy.problems.map((p) => `${p.code} ${p.offset} ${p.record}`) };
  } finally {
    k.release(mark);
  }
}

describe("read-ahead in the record loop", () => {
  for (const windowBytes of [30_000, 100_000, 300_000, undefined]) {
    it(`window ${windowBytes ?? "default"}: the same records as reading in one thread`, async () => {
      const one = await visits(shard, false, { windowBytes });
      expect(one.records).toBeGreaterThan(3);
      expect(await visits(shard, true, { windowBytes })).toEqual(one);
    });
  }

  it("byte ranges: the same records, and the ranges together are the whole file", async () => {
    const all = await visits(shard, false);
    const cut = all.seen[2].split("@")[1].split(":")[0];
    const a = await visits(shard, true, { windowBytes: 100_000, endOffset: Number(cut) });
    const b = await visits(shard, true, { windowBytes: 100_000, startOffset: Number(cut), startIndex: 2 });
    expect([...a.seen, ...b.seen]).toEqual(all.seen);
  });

  it("a file cut inside a record: the records before it, then the same problem", async () => {
    const dir = tmp();
    const bytes = readFileSync(shard);
    const p = join(dir, "cut.tfrecord");
    writeFileSync(p, bytes.subarray(0, bytes.length - 5000));
    const one = await visits(p, false, { windowBytes: 100_000, onError: "skip" });
    expect(one.skipped).toBe(1);
    expect(await visits(p, true, { windowBytes: 100_000, onError: "skip" })).toEqual(one);
  });
});
