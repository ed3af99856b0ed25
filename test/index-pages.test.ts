// Reading `_index.parquet` back from its pages (our own layout: sinks/index-pages.ts) gives exactly
// what hyparquet gives, on an index of several row groups, sources and outputs, with null
// redshifts, negative and 63-bit ids and offsets beyond 2^32; and DuckDB (not ours) reads the same
// rows from the file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parquetMetadata } from "hyparquet";
import { beforeAll, describe, expect, it } from "vitest";
import { readIndexColumns } from "../src/sinks/index-pages.ts";
import { type IndexPart, lookupIndex, readIndex, writeIndex } from "../src/sinks/snid-index.ts";
import { useDuckDB } from "./duckdb.ts";
import { tmp } from "./helpers.ts";

function part(f: number, n: number, first: bigint): IndexPart {
  const p: IndexPart = {
    source: `/data/scone/heatmaps_${f}.tfrecord`, output: `heatmaps_${f}.part-${f % 3}.arrow`, n,
    ids: new BigInt64Array(n), labels: new Int32Array(n), z: new Float32Array(n), zValid: new Uint8Array(n),
    zErr: new Float32Array(n), zErrValid: new Uint8Array(n), records: new Float64Array(n), offsets: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    p.ids[i] = i % 1000 === 7 ? -(first + BigInt(i)) : i % 1000 === 8 ? 2n ** 62n + BigInt(i) : first + BigInt(i);
    p.labels[i] = (i * 7) % 11 - 3;
    p.zValid[i] = i % 13 ? 1 : 0;
    p.z[i] = p.zValid[i] ? Math.fround(i / 997) : 0;
    p.zErrValid[i] = i % 5 ? 1 : 0;
    p.zErr[i] = p.zErrValid[i] ? Math.fround(1 / (i + 1)) : 0;
    p.records[i] = i;
    p.offsets[i] = i * 92345 + (f === 2 ? 2 ** 40 : 0);
  }
  return p;
}

/** Part by part, field by field, as bytes (a deep equal of 270,000-element arrays is slow). */
function same(a: IndexPart[], b: IndexPart[]): void {
  expect(a.map((p) => [p.source, p.output, p.n])).toEqual(b.map((p) => [p.source, p.output, p.n]));
  const fields = ["ids", "labels", "z", "zValid", "zErr", "zErrValid", "records", "offsets"] as const;
  a.forEach((p, i) => {
    for (const f of fields) {
      const x = p[f], y = b[i][f];
      expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), `${p.output} ${f}`).toBe(true);
    }
  });
}

describe("the SNID index read back from its pages", () => {
  const query = useDuckDB();
  const path = join(tmp("arrowsmith-index-pages-"), "_index.parquet");
  const parts = [part(0, 120_000, 1000n), part(1, 5, 10n ** 12n), part(2, 150_000, 5n), part(3, 1, 0n)];
  beforeAll(async () => {
    await writeIndex(path, parts);
  });

  it("equals hyparquet's reading and what was written, row for row", async () => {
    const bytes = new Uint8Array(readFileSync(path));
    const meta = parquetMetadata(bytes.buffer as ArrayBuffer);
    expect(meta.row_groups.length).toBeGreaterThan(2);
    // our layout is recognised (not silently read by the fallback)
    expect(readIndexColumns(bytes, meta as never, ["id", "z", "source"], new Set())).toBeDefined();
    const own = await readIndex(path);
    const hyp = await readIndex(path, { hyparquet: true });
    expect(own.length).toBe(4);
    same(own, hyp);
    same(own, parts);
  });

  it("lookupIndex finds the same rows both ways, and DuckDB reads them too", async () => {
    const want = new Set([1000n + 17n, -(1000n + 1007n), 2n ** 62n + 1008n, 5n + 149_999n, 10n ** 12n + 4n, 0n, 424242424242n]);
    const own = await lookupIndex(path, want);
    expect(own).toEqual(await lookupIndex(path, want, { hyparquet: true }));
    const rows = await query(`select id, label, z, z_err, source, record, "offset", output, row from read_parquet('${path}') where id in (${[...want].join(",")})`);
    expect(rows.length).toBe(8); // 1017 and 5+149999 are in two parts each; 424242424242 in none
    const key = (r: { id: unknown; source: unknown; row: unknown }) => `${r.id} ${r.source} ${r.row}`;
    const duck = rows.map((r) => ({
      id: BigInt(String(r.id)), label: Number(r.label), z: r.z === null ? null : Number(r.z), z_err: r.z_err === null ? null : Number(r.z_err),
      source: r.source, record: Number(r.record), offset: Number(r.offset), output: r.output, row: Number(r.row),
    })).sort((a, b) => key(a).localeCompare(key(b)));
    expect([...own].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(duck);
  });
});
