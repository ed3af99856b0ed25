// Parquet files written by the converter, read by two readers that never see our Arrow schema:
// DuckDB (its C++ reader) and hyparquet (pure JS; it reads the Parquet schema only and decodes the
// pages itself). For SCONE, cluster and generic inputs, every column of every row must equal the
// Arrow output of the same input; the Parquet physical, converted and logical types and DuckDB's
// column types must be what the Parquet spec gives for each Arrow type (tables written here, not
// taken from the writer); and each row group's min/max statistics must be those of its rows (NaN
// left out, a zero minimum written as -0 and a zero maximum as +0, as the spec asks).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Decoder } from "@toondepauw/node-zstd";
import {
  Binary, Bool, type Data, DataType, Dictionary, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8, List, makeData,
  RecordBatch, Schema, Struct, Table, Uint16, Uint8, Utf8, type Vector, vectorFromArray,
} from "apache-arrow";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { beforeAll, describe, expect, it } from "vitest";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FILE_DEFAULTS, type FileOptions } from "../src/pipeline/convert-file.ts";
import { ParquetSink, type ParquetOptions } from "../src/sinks/parquet.ts";
import { useDuckDB } from "./duckdb.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const query = useDuckDB();

const zstd = new Decoder();
const compressors = { ZSTD: (input: Uint8Array) => new Uint8Array(zstd.decodeSync(Buffer.from(input))) };

/** What the Parquet spec gives for an Arrow type: physical type, converted and logical annotations. */
function parquetTypeOf(t: DataType): { type: string; converted?: string; logical?: Record<string, unknown> } {
  if (DataType.isInt(t)) {
    if (t.bitWidth === 64) return { type: "INT64" };
    if (t.bitWidth === 32) return { type: "INT32" };
    return { type: "INT32", converted: `${t.isSigned ? "" : "U"}INT_${t.bitWidth}`, logical: { type: "INTEGER", bitWidth: t.bitWidth, isSigned: t.isSigned } };
  }
  if (DataType.isFloat(t)) return { type: t.precision === 1 ? "FLOAT" : "DOUBLE" };
  if (DataType.isBool(t)) return { type: "BOOLEAN" };
  if (DataType.isUtf8(t) || (DataType.isDictionary(t) && DataType.isUtf8(t.dictionary))) return { type: "BYTE_ARRAY", converted: "UTF8", logical: { type: "STRING" } };
  if (DataType.isBinary(t)) return { type: "BYTE_ARRAY" };
  throw new Error(`no Parquet type in this table for ${t}`);
}

/** DuckDB's name for the column type it reads back for an Arrow type. */
function duckTypeOf(t: DataType): string {
  if (DataType.isList(t) || DataType.isFixedSizeList(t)) return `${duckTypeOf(t.children[0].type)}[]`;
  if (DataType.isInt(t)) return (t.isSigned ? "" : "U") + ({ 8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT" } as Record<number, string>)[t.bitWidth];
  if (DataType.isFloat(t)) return t.precision === 1 ? "FLOAT" : "DOUBLE";
  if (DataType.isBool(t)) return "BOOLEAN";
  if (DataType.isUtf8(t) || DataType.isDictionary(t)) return "VARCHAR";
  if (DataType.isBinary(t)) return "BLOB";
  throw new Error(`no DuckDB type in this table for ${t}`);
}

const isList = (t: DataType) => DataType.isList(t) || DataType.isFixedSizeList(t);

/** A cell of the Arrow table as plain JS: lists as arrays, binary as hex (so toEqual compares -0 and NaN exactly). */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (typeof v === "object" && "toArray" in (v as object)) return Array.from((v as Vector).toArray() as ArrayLike<unknown>, plain);
  return v;
}

/** A reader's cell in the same form: BigInt where Arrow has 64-bit integers, numbers for the rest. */
function like(v: unknown, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (isList(t)) return (v as unknown[]).map((x) => like(x, t.children[0].type));
  if (DataType.isInt(t) && t.bitWidth === 64) return BigInt(v as number | bigint);
  if (DataType.isInt(t)) return Number(v);
  if (DataType.isBinary(t)) return Buffer.from(v as Uint8Array).toString("hex");
  return v;
}

function column(t: Table, f: Field): unknown[] {
  const c = t.getChild(f.name)!;
  return Array.from({ length: t.numRows }, (_, r) => plain(c.get(r)));
}

/** min/max the spec asks for: NaN and nulls left out; for floats a zero min is -0 and a zero max +0. */
function minMax(values: unknown[], float: boolean): { min: number | bigint; max: number | bigint } | undefined {
  let min: number | bigint | undefined, max: number | bigint | undefined;
  for (const v of values) {
    if (v === null || (typeof v === "number" && Number.isNaN(v))) continue;
    const x = v as number | bigint;
    if (min === undefined || x < min) min = x;
    if (max === undefined || x > max) max = x;
  }
  if (min === undefined || max === undefined) return undefined;
  if (float && min === 0) min = -0;
  if (float && max === 0) max = 0;
  return { min, max };
}

/** DuckDB: column types, every value of `select *`, each row group's null counts and min/max; returns how many min/max it compared. */
async function viaDuckDB(p: string, want: Table, name: string): Promise<number> {
  let checkedStats = 0;
  const types = await query(`describe select * from '${p}'`);
  expect(types.map((r) => `${r.column_name}: ${r.column_type}`), name).toEqual(want.schema.fields.map((f) => `${f.name}: ${duckTypeOf(f.type)}`));
  const rows = await query(`select * from '${p}'`);
  expect(rows.length, name).toBe(want.numRows);
  for (const f of want.schema.fields) {
    const got = rows.map((r) => like(r[f.name], f.type));
    expect(got, `${name}.${f.name}`).toEqual(column(want, f));
  }
  // statistics of the scalar number columns, per row group, against that group's rows
  const meta = await query(`select row_group_id g, row_group_num_rows n, path_in_schema c, stats_min_value mn, stats_max_value mx, stats_null_count nc
                            from parquet_metadata('${p}') order by row_group_id, column_id`);
  let start = 0;
  for (let g = 0; meta.some((m) => Number(m.g) === g); g++) {
    const group = meta.filter((m) => Number(m.g) === g);
    const n = Number(group[0].n);
    for (const f of want.schema.fields) {
      if (isList(f.type)) continue;
      const values = column(want, f).slice(start, start + n);
      const m = group.find((x) => x.c === f.name)!;
      expect(Number(m.nc), `${name}.${f.name} group ${g} null count`).toBe(values.filter((v) => v === null).length);
      if (!DataType.isInt(f.type) && !DataType.isFloat(f.type)) continue;
      const mm = minMax(values, DataType.isFloat(f.type));
      if (!mm) {
        expect(m.mn ?? null, `${name}.${f.name} group ${g}: no min without values`).toBe(null);
        continue;
      }
      // DuckDB prints floats in their shortest form and leaves infinite bounds out
      const num = (s: unknown) => (s === null ? null : DataType.isInt(f.type) && f.type.bitWidth === 64 ? BigInt(s as string)
        : DataType.isFloat(f.type) && f.type.precision === 1 ? Math.fround(Number(s)) : Number(s));
      for (const [got, bound, what] of [[num(m.mn), mm.min, "min"], [num(m.mx), mm.max, "max"]] as const) {
        expect(got, `${name}.${f.name} group ${g} ${what}`).toBe(got === null && (bound === Infinity || bound === -Infinity) ? null : bound);
      }
      checkedStats++;
    }
    start += n;
  }
  expect(start, name).toBe(want.numRows);
  return checkedStats;
}

/**
 * hyparquet: the Parquet physical, converted and logical types, null counts and min/max as stored,
 * and every value. Returns the rows of each row group.
 */
async function viaHyparquet(p: string, want: Table, name: string): Promise<number[]> {
  const file = readFileSync(p);
  const buf = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  const meta = parquetMetadata(buf);
  expect(Number(meta.num_rows), name).toBe(want.numRows);
  // schema elements depth-first after the root: a list is group (LIST) > repeated group > element
  const schema = meta.schema.slice(1);
  let i = 0;
  for (const f of want.schema.fields) {
    const e = schema[i++];
    expect(e.name).toBe(f.name);
    expect(e.repetition_type, `${name}.${f.name}`).toBe(f.nullable ? "OPTIONAL" : "REQUIRED");
    let leafType = f.type, leaf = e;
    if (isList(f.type)) {
      expect([e.converted_type, e.logical_type?.type, e.num_children], `${name}.${f.name}`).toEqual(["LIST", "LIST", 1]);
      const mid = schema[i++];
      expect([mid.repetition_type, mid.num_children, mid.type], `${name}.${f.name} repeated group`).toEqual(["REPEATED", 1, undefined]);
      leaf = schema[i++];
      leafType = f.type.children[0].type;
      expect(leaf.repetition_type).toBe(f.type.children[0].nullable ? "OPTIONAL" : "REQUIRED");
    }
    const spec = parquetTypeOf(leafType);
    expect({ type: leaf.type, converted: leaf.converted_type, logical: leaf.logical_type }, `${name}.${f.name}`).toEqual(spec);
  }
  expect(i).toBe(schema.length);
  // statistics as stored (hyparquet decodes the bytes by the physical type): per row group,
  // null counts of the scalar columns, exact min/max of the number columns (-0 and ±Infinity included)
  let start = 0;
  for (const [g, group] of meta.row_groups.entries()) {
    const n = Number(group.num_rows);
    for (const f of want.schema.fields) {
      if (isList(f.type)) continue;
      const st = group.columns.find((x) => x.meta_data!.path_in_schema.join(".") === f.name)!.meta_data!.statistics;
      const values = column(want, f).slice(start, start + n);
      expect(Number(st?.null_count), `${name}.${f.name} group ${g} null count`).toBe(values.filter((v) => v === null).length);
      if (!DataType.isInt(f.type) && !DataType.isFloat(f.type)) continue;
      const mm = minMax(values, DataType.isFloat(f.type));
      const as = (v: unknown) => (v === undefined ? undefined : like(v, f.type));
      expect({ min: as(st?.min_value), max: as(st?.max_value) }, `${name}.${f.name} group ${g}`).toEqual(mm ?? { min: undefined, max: undefined });
    }
    start += n;
  }
  expect(start).toBe(want.numRows);
  const rows = (await parquetReadObjects({ file: buf, compressors, utf8: false })) as Record<string, unknown>[];
  expect(rows.length).toBe(want.numRows);
  for (const f of want.schema.fields) {
    expect(rows.map((r) => like(r[f.name], f.type)), `${name}.${f.name}`).toEqual(column(want, f));
  }
  return meta.row_groups.map((g) => Number(g.num_rows));
}

interface Case { name: string; inputs: string[]; opts: Partial<FileOptions> }
const SCONE = join(FIXTURES, "scone");
const CLUSTERS = join(FIXTURES, "clusters");
const cases: Case[] = [
  { name: "SCONE f32", inputs: [SCONE], opts: {} },
  { name: "SCONE f64, two events a row group", inputs: [SCONE], opts: { scone: { ...SCONE_DEFAULTS, precision: "f64" }, sink: { compression: "snappy", rowGroupBytes: 2 * 2 * 5760 * 8 } } },
  { name: "clusters", inputs: [join(CLUSTERS, "dataset"), join(CLUSTERS, "variants")], opts: {} },
  { name: "clusters, small row groups, uncompressed", inputs: [join(CLUSTERS, "variants")], opts: { sink: { compression: "none", rowGroupBytes: 3 * 128 * 16 * 4 } } },
  { name: "generic NPZ", inputs: [join(CLUSTERS, "generic/table.npz")], opts: { kind: "generic" } },
  { name: "generic TFRecord", inputs: [join(FIXTURES, "tfrecord/wire.tfrecord")], opts: { kind: "generic" } },
];

for (const c of cases) {
  describe(`${c.name}: Parquet read by DuckDB and hyparquet equals the Arrow output`, () => {
    const arrowDir = tmp(), parquetDir = tmp();
    let outputs: string[] = [];
    beforeAll(async () => {
      const base = { ...FILE_DEFAULTS, threads: 1, ...c.opts };
      const a = await convert(c.inputs, { ...base, output: arrowDir, format: "arrow" });
      const p = await convert(c.inputs, { ...base, output: parquetDir, format: "parquet" });
      expect(a.problems).toEqual([]);
      expect(p.problems).toEqual([]);
      outputs = readdirSync(arrowDir).filter((f) => f.endsWith(".arrow")).map((f) => f.replace(/\.arrow$/, "")).sort();
      expect(readdirSync(parquetDir).filter((f) => f.endsWith(".parquet") && !f.startsWith("_index.")).map((f) => f.replace(/\.parquet$/, "")).sort()).toEqual(outputs);
      expect(outputs.length).toBeGreaterThan(0);
    }, 120_000);

    it("DuckDB: column types, every value of `select *`, and each row group's statistics", async () => {
      let checked = 0;
      for (const name of outputs) checked += await viaDuckDB(join(parquetDir, `${name}.parquet`), readArrow(join(arrowDir, `${name}.arrow`)), name);
      expect(checked).toBeGreaterThan(0);
    });

    it("hyparquet: Parquet physical, converted and logical types, statistics, row groups and every value", async () => {
      for (const name of outputs) {
        const want = readArrow(join(arrowDir, `${name}.arrow`));
        const sizes = await viaHyparquet(join(parquetDir, `${name}.parquet`), want, name);
        // a row group closes once it holds rowGroupBytes: with tensors of B bytes a row, ceil(rowGroupBytes / B) rows
        const tensorBytes = want.schema.fields.reduce((a, f) => a + (DataType.isFixedSizeList(f.type) ? f.type.listSize * f.type.children[0].type.ArrayType.BYTES_PER_ELEMENT : 0), 0);
        const target = c.opts.sink?.rowGroupBytes;
        const per = target ? Math.ceil(target / tensorBytes) : want.numRows;
        expect(sizes, `${name} rows per row group`).toEqual(Array.from({ length: Math.max(1, Math.ceil(want.numRows / per)) }, (_, k) => Math.min(per, want.numRows - k * per)));
      }
    });
  });
}

/** Data pages of each column chunk, counted by walking the page headers with hyparquet's decoder. */
function pagesPerChunk(path: string): number[][] {
  const file = readFileSync(path);
  const buf = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  const view = new DataView(buf);
  return parquetMetadata(buf).row_groups.map((g) => g.columns.map((col) => {
    const m = col.meta_data!;
    const reader = { view, offset: Number(m.dictionary_page_offset ?? m.data_page_offset) };
    const end = reader.offset + Number(m.total_compressed_size);
    let pages = 0;
    while (reader.offset < end) {
      const h = parquetHeader(reader);
      if (h.type === "DATA_PAGE" || h.type === "DATA_PAGE_V2") pages++;
      reader.offset += h.compressed_page_size;
    }
    expect(reader.offset).toBe(end);
    return pages;
  }));
}

// Every Arrow type the Parquet sink takes, with nulls in each nullable column: small and unsigned
// integers, floats with -0, NaN and infinities, a column whose only zero is +0, a dictionary column
// of several entries with nulls (as the cluster plane and interaction columns), strings, binary,
// lists with null and empty rows, fixed-size lists with null rows.
describe("Parquet of every column type, in one row group and in many small ones", () => {
  const n = 37;
  const valid = (i: number) => i % 3 !== 1;
  const pick = <T,>(f: (i: number) => T) => Array.from({ length: n }, (_, i) => (valid(i) ? f(i) : null));
  function batch(): RecordBatch {
    const cols: [string, Vector][] = [
      ["i8", vectorFromArray(pick((i) => i * 7 - 128), new Int8())],
      ["i16", vectorFromArray(Array.from({ length: n }, (_, i) => i * 900 - 32768), new Int16())],
      ["u8", vectorFromArray(Array.from({ length: n }, (_, i) => 255 - i), new Uint8())],
      ["u16", vectorFromArray(pick((i) => 65535 - i * 1000), new Uint16())],
      ["i32", vectorFromArray(pick((i) => i * 7 - 100), new Int32())],
      ["i64", vectorFromArray(pick((i) => BigInt(i) * 3_000_000_000n - 10n), new Int64())],
      ["f32", vectorFromArray(pick((i) => (i === 4 ? NaN : i === 9 ? -Infinity : i === 12 ? -0 : i / 3 - 5)), new Float32())],
      ["f64", vectorFromArray(pick((i) => (i === 0 ? -0 : i === 3 ? Infinity : Math.PI * i)), new Float64())],
      ["zero", vectorFromArray(pick((i) => i), new Float64())],
      ["b", vectorFromArray(pick((i) => i % 5 === 0), new Bool())],
      ["plane", vectorFromArray(pick((i) => "UVX"[(i >> 1) % 3]), new Dictionary(new Utf8(), new Int32()))],
      ["s", vectorFromArray(pick((i) => "x".repeat(i % 6) + "é"), new Utf8())],
      ["bin", vectorFromArray(pick((i) => new Uint8Array([i, 0, 255])), new Binary())],
      ["l", vectorFromArray(pick((i) => Array.from({ length: i % 4 }, (_, j) => BigInt(i * 10 + j - 20))), new List(new Field("item", new Int64(), false)))],
      ["fl", vectorFromArray(pick((i) => [i, -i, i / 2]), new FixedSizeList(3, new Field("item", new Float32(), false)))],
    ];
    const fields = cols.map(([name, v]) => new Field(name, v.type, name !== "i16" && name !== "u8"));
    const children = cols.map(([, v]) => v.data[0] as Data);
    const schema = new Schema(fields);
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
  }

  for (const [config, opts] of [["one", { compression: "zstd" }], ["many", { compression: "snappy", rowGroupBytes: 400, pageBytes: 16 }]] as [string, ParquetOptions][]) {
    it(`${config}: DuckDB and hyparquet read every value, type and statistic`, async () => {
      const b = batch();
      const want = new Table([b, b.slice(5, 30)]);
      expect(want.getChild("plane")!.nullCount).toBeGreaterThan(0);
      expect(new Set(want.getChild("plane")!.toArray()).size).toBe(4); // U, V, X and null
      const p = join(tmp(), `${config}.parquet`);
      const sink = new ParquetSink(p, b.schema, opts);
      for (const x of want.batches) sink.write(x);
      expect(sink.finish().rows).toBe(n + 25);
      expect(await viaDuckDB(p, want, config)).toBeGreaterThan(0);
      const groups = await viaHyparquet(p, want, config);
      const pages = pagesPerChunk(p);
      if (config === "one") {
        expect(groups).toEqual([n + 25]);
      } else {
        // several row groups, and pages of about 16 bytes: the 8-byte i64 column of a group of k rows
        // (a third of them null) cannot fit one page
        expect(groups.length).toBeGreaterThanOrEqual(3);
        const i64 = want.schema.fields.findIndex((f) => f.name === "i64");
        for (const [g, k] of groups.entries()) if (k >= 4) expect(pages[g][i64], `group ${g} of ${k} rows`).toBeGreaterThan(1);
        expect(pages.flat().reduce((a, x) => a + x, 0)).toBeGreaterThan(pages.flat().length);
      }
    });
  }
});
