// Parquet output read back by two independent readers: DuckDB (its own C++ Parquet reader) and
// parquet-wasm (arrow-rs, which restores the stored Arrow schema). parquet-readers.test.ts reads the
// converter's Parquet with DuckDB and hyparquet (which ignores the Arrow schema) column by column. The SCONE fixtures go through
// the library to Arrow, their batches through ParquetSink with each compression, and every value
// must come back: against the Arrow output and against numpy's own checksums of the tensors.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  Binary, Bool, type Data, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, List, makeData, RecordBatch,
  Schema, Struct, Table, tableFromIPC, Uint8, Utf8, type Vector, vectorFromArray,
} from "apache-arrow";
import { readParquet } from "parquet-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { generateScone } from "../src/generate.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { type Compression, ParquetSink, type ParquetOptions } from "../src/sinks/parquet.ts";
import { bitWidth, ByteBuf, encodeHybrid, Runs } from "../src/sinks/parquet/encoding.ts";
import { ThriftWriter } from "../src/sinks/parquet/thrift.ts";
import { useDuckDB } from "./duckdb.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

interface ExpectedFile { file: string; records: number; legacy: boolean; events: { flux_f32_sha256: string; flux_err_f32_sha256: string; flux_f64_sha256: string; flux_err_f64_sha256: string }[] }
const expected: { files: ExpectedFile[] } = JSON.parse(readFileSync(join(FIXTURES, "scone/expected.json"), "utf8"));
const stem = (f: string) => f.replace(/\.(gz|zz)$/, "").replace(/\.tfrecord$/, "");
const COMPRESSIONS: Compression[] = ["none", "snappy", "zstd"];
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sha = (a: ArrayBufferView) => createHash("sha256").update(bytesOf(a)).digest("hex");

function writeParquet(path: string, t: Table, opts: ParquetOptions): { rows: number; bytes: number } {
  const sink = new ParquetSink(path, t.schema, opts);
  for (const b of t.batches) sink.write(b);
  return sink.finish();
}

function readBack(path: string): Table {
  return tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
}

/** A value as a comparable string: tensors by their bytes, BigInts and NaN spelled out. */
function key(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "object" && "toArray" in (v as object)) {
    const a = (v as Vector).toArray() as unknown;
    return ArrayBuffer.isView(a) ? Buffer.from(bytesOf(a)).toString("hex") : JSON.stringify(a, (_k, x) => (typeof x === "bigint" ? `${x}n` : x));
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (typeof v === "number" && Number.isNaN(v)) return "NaN";
  if (typeof v === "number" && Object.is(v, -0)) return "-0";
  return String(v);
}

function expectSameTable(got: Table, want: Table): void {
  expect(got.numRows).toBe(want.numRows);
  expect(got.schema.fields.map((f) => `${f.name}: ${f.type} ${f.nullable}`)).toEqual(want.schema.fields.map((f) => `${f.name}: ${f.type} ${f.nullable}`));
  for (const f of want.schema.fields) {
    const a = want.getChild(f.name)!;
    const b = got.getChild(f.name)!;
    for (let r = 0; r < want.numRows; r++) {
      const x = key(a.get(r)), y = key(b.get(r));
      if (x !== y) expect(`${f.name}[${r}] = ${y.slice(0, 80)}`).toBe(`${f.name}[${r}] = ${x.slice(0, 80)}`);
    }
  }
}

const query = useDuckDB();

for (const precision of ["f32", "f64"] as const) {
  describe(`SCONE → Parquet (${precision})`, () => {
    const arrowDir = tmp();
    const out = tmp();
    const tables = new Map<string, Table>();
    beforeAll(async () => {
      await convert([join(FIXTURES, "scone")], { ...FILE_DEFAULTS, output: arrowDir, threads: 1, scone: { ...SCONE_DEFAULTS, precision } });
      for (const f of expected.files) {
        const t = readArrow(join(arrowDir, `${stem(f.file)}.arrow`));
        tables.set(f.file, t);
        for (const c of COMPRESSIONS) writeParquet(join(out, `${stem(f.file)}.${c}.parquet`), t, { compression: c });
        // two rows a row group, one tensor row a page
        writeParquet(join(out, `${stem(f.file)}.small.parquet`), t, { compression: "zstd", rowGroupBytes: 2 * 5760 * 2 * (precision === "f64" ? 8 : 4), pageBytes: 1000 });
      }
    }, 120_000);

    for (const file of expected.files) {
      for (const c of [...COMPRESSIONS, "small"]) {
        it(`${file.file} (${c}): DuckDB reads the rows, scalars, tensors and nulls`, async () => {
          const p = join(out, `${stem(file.file)}.${c}.parquet`);
          const t = tables.get(file.file)!;
          const [agg] = await query(`select count(*)::int n, avg(label) lab, count(z)::int nz, count(z_err)::int nze, sum(coverage_fraction) cov,
                                     min(id)::varchar lo, max(record)::int rec, any_value(source) src from '${p}'`);
          expect(agg.n).toBe(file.records);
          const labels = t.getChild("label")!.toArray() as Int32Array;
          expect(agg.lab).toBeCloseTo(labels.reduce((a, b) => a + b, 0) / labels.length, 12);
          expect(agg.nz).toBe(file.legacy ? 0 : file.records);
          expect(agg.nze).toBe(file.legacy ? 0 : file.records);
          expect(agg.lo).toBe(String(t.getChild("id")!.get(0)));
          expect(agg.rec).toBe(file.records - 1);
          expect(agg.src).toBe(file.file);
          expect(agg.cov).toBeCloseTo((t.getChild("coverage_fraction")!.toArray() as Float64Array).reduce((a, b) => a + b, 0), 9);
          // tensor values: DuckDB lists are 1-based
          const r = file.records - 1;
          const flux = t.getChild("flux")!.get(r)!.toArray() as Float32Array | Float64Array;
          const err = t.getChild("flux_err")!.get(r)!.toArray() as Float32Array | Float64Array;
          const ks = [0, 1, 180, 2879, 5759];
          const [row] = await query(`select len(flux)::int n, ${ks.map((k) => `flux[${1 + k}]::double f${k}, flux_err[${1 + k}]::double e${k}`).join(", ")} from '${p}' where record = ${r}`);
          expect(row.n).toBe(5760);
          for (const k of ks) {
            expect(Object.is(row[`f${k}`], flux[k]) || (Number.isNaN(flux[k]) && Number.isNaN(row[`f${k}`] as number))).toBe(true);
            expect(row[`e${k}`]).toBe(err[k]);
          }
          // column statistics: exact min/max of the scalars, null counts
          const stats = await query(`select path_in_schema p, stats_min_value mn, stats_max_value mx, stats_null_count::int nc from parquet_metadata('${p}') where row_group_id = 0`);
          const st = (name: string) => stats.find((x) => x.p === name)!;
          const ids = t.getChild("id")!.toArray() as BigInt64Array;
          const groupRows = c === "small" ? Math.min(2, file.records) : file.records;
          expect(st("id")).toMatchObject({ mn: String(ids[0]), mx: String(ids[groupRows - 1]) });
          expect(st("record")).toMatchObject({ mn: "0", mx: String(groupRows - 1), nc: 0 });
          expect(st("z").nc).toBe(file.legacy ? groupRows : 0);
          if (c === "small") {
            const [g] = await query(`select count(distinct row_group_id)::int g, max(row_group_num_rows)::int m from parquet_metadata('${p}')`);
            expect(g).toMatchObject({ g: Math.ceil(file.records / 2), m: Math.min(2, file.records) });
          }
        });

        it(`${file.file} (${c}): arrow-rs reads every value back, with the Arrow schema`, () => {
          const want = tables.get(file.file)!;
          const got = readBack(join(out, `${stem(file.file)}.${c}.parquet`));
          expectSameTable(got, want);
          // the tensors are numpy's (SHA-256 of its planar arrays)
          for (const [r, e] of file.events.entries()) {
            expect(sha(got.getChild("flux")!.get(r)!.toArray() as Float32Array)).toBe(precision === "f64" ? e.flux_f64_sha256 : e.flux_f32_sha256);
            expect(sha(got.getChild("flux_err")!.get(r)!.toArray() as Float32Array)).toBe(precision === "f64" ? e.flux_err_f64_sha256 : e.flux_err_f32_sha256);
          }
          for (const name of ["flux", "flux_err"]) {
            const f = got.schema.fields.find((x) => x.name === name)!;
            expect(String(f.type)).toBe(`FixedSizeList[5760]<${precision === "f64" ? "Float64" : "Float32"}>`);
            expect(f.metadata.get("ARROW:extension:name")).toBe("arrow.fixed_shape_tensor");
            expect(JSON.parse(f.metadata.get("ARROW:extension:metadata")!)).toEqual({ shape: [32, 180], dim_names: ["wavelength", "time"] });
          }
          for (const [k, v] of want.schema.metadata) expect(got.schema.metadata.get(k)).toBe(v);
          expect(got.schema.fields.find((f) => f.name === "label")!.metadata.get("description")).toBe(want.schema.fields[1].metadata.get("description"));
        });
      }
    }

    it("zstd and snappy files are smaller than uncompressed ones and name their codec", async () => {
      const size = (c: string) => readFileSync(join(out, `heatmaps_0000.${c}.parquet`)).length;
      expect(size("zstd")).toBeLessThan(size("none"));
      expect(size("snappy")).toBeLessThan(size("none"));
      for (const c of COMPRESSIONS) {
        const rows = await query(`select distinct compression from parquet_metadata('${join(out, `heatmaps_0000.${c}.parquet`)}')`);
        expect(rows.map((r) => r.compression)).toEqual([c === "none" ? "UNCOMPRESSED" : c.toUpperCase()]);
      }
    });
  });
}

describe("Parquet row groups and pages over a larger file", () => {
  const dir = tmp();
  let t: Table;
  beforeAll(async () => {
    const [input] = await generateScone(join(dir, "in"), { files: 1, events: 150, seed: 5 });
    await convert([input], { ...FILE_DEFAULTS, output: join(dir, "arrow"), threads: 1, scone: { ...SCONE_DEFAULTS, batchRows: 64 } });
    t = readArrow(join(dir, "arrow", "heatmaps_0000.arrow"));
    expect(t.batches.length).toBe(3);
  }, 120_000);

  it("row groups close near rowGroupBytes, splitting batches, and every value survives", async () => {
    const p = join(dir, "rg.parquet");
    // ~46 KB of tensors a row: 1 MB row groups hold 22-23 rows
    writeParquet(p, t, { compression: "snappy", rowGroupBytes: 1 << 20, pageBytes: 100_000 });
    const groups = await query(`select row_group_id, any_value(row_group_num_rows)::int n, count(*)::int cols from parquet_metadata('${p}') group by 1 order by 1`);
    expect(groups.length).toBe(Math.ceil(150 / 23));
    expect(groups.reduce((a, g) => a + (g.n as number), 0)).toBe(150);
    for (const g of groups.slice(0, -1)) expect(g.n).toBe(23);
    expectSameTable(readBack(p), t);
    const [s] = await query(`select sum(total_flux) s, count(*)::int n from '${p}' where label = 1`);
    const labels = t.getChild("label")!.toArray() as Int32Array;
    const total = t.getChild("total_flux")!.toArray() as Float64Array;
    expect(s.n).toBe(labels.filter((x) => x === 1).length);
    expect(s.s).toBeCloseTo(total.reduce((a, x, i) => a + (labels[i] === 1 ? x : 0), 0), 6);
  });

  it("extensionMetadata: false leaves the extension keys out of the stored Arrow schema only", () => {
    const p = join(dir, "noext.parquet");
    writeParquet(p, t, { compression: "none", extensionMetadata: false });
    const got = readBack(p);
    const flux = got.schema.fields.find((f) => f.name === "flux")!;
    expect(String(flux.type)).toBe("FixedSizeList[5760]<Float32>");
    expect([...flux.metadata.keys()].filter((k) => k.startsWith("ARROW:"))).toEqual([]);
    expect(got.schema.metadata.get("arrowsmith:axes")).toBe(t.schema.metadata.get("arrowsmith:axes"));
    expect(got.getChild("flux")!.get(7)!.toArray()).toEqual(t.getChild("flux")!.get(7)!.toArray());
  });

  it("the default row group holds the whole file", async () => {
    const p = join(dir, "one.parquet");
    writeParquet(p, t, { compression: "zstd" });
    const [g] = await query(`select count(distinct row_group_id)::int g from parquet_metadata('${p}')`);
    expect(g.g).toBe(1);
    expectSameTable(readBack(p), t);
  });

  it("batch buffers may be overwritten as soon as write returns", () => {
    const p = join(dir, "reuse.parquet");
    const sink = new ParquetSink(p, t.schema, { compression: "none", rowGroupBytes: 4 << 20 });
    for (const b of t.batches) {
      const copy = structuredClone(b.data.children.map((d) => bytesOf(d.values ?? d.children[0].values)));
      sink.write(b);
      for (const d of b.data.children) bytesOf(d.values ?? d.children[0].values).fill(0xff);
      b.data.children.forEach((d, i) => bytesOf(d.values ?? d.children[0].values).set(copy[i]));
    }
    sink.finish();
    expectSameTable(readBack(p), t);
  });
});

// the generic kind's layouts: nullable scalars of every type, strings, lists with nulls and
// empty rows, fixed-size lists with null rows
describe("Parquet column types beyond SCONE", () => {
  const n = 37;
  const valid = (i: number) => i % 3 !== 1;
  const pick = <T,>(f: (i: number) => T) => Array.from({ length: n }, (_, i) => (valid(i) ? f(i) : null));
  const list = (i: number) => Array.from({ length: i % 4 }, (_, j) => BigInt(i * 10 + j - 20));
  function batch(): RecordBatch {
    const cols: [string, Vector][] = [
      ["i32", vectorFromArray(pick((i) => i * 7 - 100), new Int32())],
      ["i64", vectorFromArray(pick((i) => BigInt(i) * 3_000_000_000n - 10n), new Int64())],
      ["i16", vectorFromArray(Array.from({ length: n }, (_, i) => i - 18), new Int16())],
      ["u8", vectorFromArray(Array.from({ length: n }, (_, i) => 250 - i), new Uint8())],
      ["f32", vectorFromArray(pick((i) => (i === 4 ? NaN : i / 3)), new Float32())],
      ["f64", vectorFromArray(pick((i) => (i === 0 ? -0 : i === 3 ? Infinity : Math.PI * i)), new Float64())],
      ["b", vectorFromArray(pick((i) => i % 5 === 0), new Bool())],
      ["s", vectorFromArray(pick((i) => "x".repeat(i % 6) + "é"), new Utf8())],
      ["bin", vectorFromArray(pick((i) => new Uint8Array([i, 0, 255])), new Binary())],
      ["l", vectorFromArray(pick(list), new List(new Field("item", new Int64(), false)))],
      ["fl", vectorFromArray(pick((i) => [i, -i, i / 2]), new FixedSizeList(3, new Field("item", new Float32(), false)))],
    ];
    const fields = cols.map(([name, v]) => new Field(name, v.type, name !== "i16" && name !== "u8"));
    const children = cols.map(([, v]) => v.data[0] as Data);
    const schema = new Schema(fields, new Map([["k", "v"]]));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
  }

  it("every value of every type comes back, across row groups and pages", async () => {
    const dir = tmp();
    const b = batch();
    for (const [name, opts] of [["one", { compression: "zstd" }], ["many", { compression: "snappy", rowGroupBytes: 100, pageBytes: 16 }]] as const) {
      const p = join(dir, `${name}.parquet`);
      const sink = new ParquetSink(p, b.schema, opts);
      sink.write(b);
      sink.write(b.slice(5, 30));
      const r = sink.finish();
      expect(r.rows).toBe(n + 25);
      const got = readBack(p);
      const want = new Table([b, b.slice(5, 30)]);
      expectSameTable(got, want);
      const [d] = await query(`select count(i32)::int a, count(*)::int n, sum(len(l))::int ll, count(l)::int lc, sum(fl[2])::double f from '${p}'`);
      expect(d.n).toBe(n + 25);
      expect(d.a).toBe((want.getChild("i32")!.toArray() as Int32Array).length - want.getChild("i32")!.nullCount);
      expect(d.lc).toBe(want.numRows - want.getChild("l")!.nullCount);
      const l = want.getChild("l")!, fl = want.getChild("fl")!;
      let ll = 0, f = 0;
      for (let r = 0; r < want.numRows; r++) {
        ll += l.get(r)?.length ?? 0;
        const v = fl.get(r);
        if (v) f += v.get(1) as number; // DuckDB lists are 1-based: fl[2] is the second element
      }
      expect(d.ll).toBe(ll);
      expect(d.f).toBe(f);
      const [g] = await query(`select count(distinct row_group_id)::int g from parquet_metadata('${p}')`);
      if (name === "one") expect(g.g).toBe(1);
      else expect(g.g).toBeGreaterThan(5); // 100-byte row groups: a few rows each
    }
  });

  it("unsupported types are refused by name before anything is written", () => {
    const dir = tmp();
    const schema = new Schema([new Field("x", new Struct([new Field("a", new Int32())]))]);
    expect(() => new ParquetSink(join(dir, "x.parquet"), schema, { compression: "none" })).toThrow(/column x of type Struct/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("ParquetSink options and files", () => {
  const schema = new Schema([new Field("a", new Int32(), false)]);

  it("options are checked by name", () => {
    const p = join(tmp(), "x.parquet");
    expect(() => new ParquetSink(p, schema, { compression: "lz4" as Compression })).toThrow("options.compression must be one of zstd, snappy, none, not lz4");
    expect(() => new ParquetSink(p, schema, { compression: "none", rowGroupBytes: 0 })).toThrow("options.rowGroupBytes must be an integer from 1");
    expect(() => new ParquetSink(p, schema, { compression: "none", pageBytes: 1.5 })).toThrow("options.pageBytes must be an integer");
  });

  it("an empty output is a valid file with no row groups", async () => {
    const p = join(tmp(), "empty.parquet");
    const r = new ParquetSink(p, schema, { compression: "zstd" }).finish();
    expect(r).toMatchObject({ rows: 0 });
    expect(r.bytes).toBe(readFileSync(p).length);
    const [c] = await query(`select count(*)::int n from '${p}'`);
    expect(c.n).toBe(0);
    expect(readBack(p).numRows).toBe(0);
  });

  it("nothing appears until finish, and abort leaves nothing", () => {
    const dir = tmp();
    const p = join(dir, "a.parquet");
    const s = new ParquetSink(p, schema, { compression: "none" });
    s.write(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: 2, nullCount: 0, children: [makeData({ type: new Int32(), length: 2, data: new Int32Array([1, 2]) })] })));
    expect(existsSync(p)).toBe(false);
    s.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("Parquet encodings", () => {
  /** Decodes the RLE / bit-packed hybrid (reference for the encoder). */
  function decodeHybrid(b: Uint8Array, width: number, count: number): number[] {
    const out: number[] = [];
    let p = 0;
    const varint = () => { let v = 0, s = 0, x; do { x = b[p++]; v += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80); return v; };
    while (out.length < count) {
      const h = varint();
      if (h % 2 === 0) {
        let v = 0;
        for (let k = 0; k < (width + 7) >> 3; k++) v |= b[p++] << (8 * k);
        for (let k = 0; k < h / 2; k++) out.push(v >>> 0);
      } else {
        const bits = ((h - 1) / 2) * 8 * width;
        for (let i = 0; i < bits / width; i++) {
          let v = 0;
          for (let j = 0; j < width; j++) { const bit = i * width + j; v |= ((b[p + (bit >> 3)] >> (bit & 7)) & 1) << j; }
          out.push(v >>> 0);
        }
        p += ((h - 1) / 2) * width;
      }
    }
    expect(p).toBe(b.length);
    return out.slice(0, count);
  }

  it("the hybrid encoding round-trips runs of every length and width", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const width of [1, 2, 3, 7, 8, 13, 20, 32]) {
      for (let trial = 0; trial < 30; trial++) {
        const runs = new Runs();
        const want: number[] = [];
        for (let r = 0; r < 1 + Math.floor(rnd() * 12); r++) {
          const v = Math.floor(rnd() * 2 ** width) >>> 0;
          const c = rnd() < 0.5 ? 1 + Math.floor(rnd() * 5) : Math.floor(rnd() * 40);
          runs.push(v, c);
          for (let k = 0; k < c; k++) want.push(v);
        }
        const out = new ByteBuf(8);
        encodeHybrid(runs, width, out);
        expect(decodeHybrid(out.bytes(), width, want.length)).toEqual(want);
      }
    }
  });

  it("a tensor row's repetition levels cost a few bytes", () => {
    const runs = new Runs();
    for (let r = 0; r < 3; r++) { runs.push(0, 1); runs.push(1, 5759); }
    const out = new ByteBuf();
    encodeHybrid(runs, bitWidth(1), out);
    expect(out.len).toBeLessThanOrEqual(3 * 5);
    const d = decodeHybrid(out.bytes(), 1, 3 * 5760);
    expect(d.filter((x) => x === 0).length).toBe(3);
    expect(d[5760]).toBe(0);
  });

  it("thrift compact: field deltas, long jumps, zigzag, nesting, lists", () => {
    const w = new ThriftWriter(2);
    w.i32(1, -1);
    w.i64(20, 300);
    w.struct(21);
    w.string(1, "ab");
    w.bool(2, true);
    w.end();
    w.list(22, 5, 16);
    for (let i = 0; i < 16; i++) w.zigzag(i);
    w.end();
    expect(Buffer.from(w.bytes()).toString("hex")).toBe(
      "1501" + "0628d804" + "1c" + "18026162" + "11" + "00" + "19f510" + Array.from({ length: 16 }, (_, i) => (2 * i).toString(16).padStart(2, "0")).join("") + "00");
  });
});
