// The SNID index of a converted folder, `_index.parquet`: one row per SCONE event with where it
// came from (source file, record, byte offset) and where it went (output file, row), so that an
// event is found without a scan. Parquet rather than Arrow IPC because DuckDB, Spark, pandas and
// polars all read it (DuckDB has no Arrow IPC file reader), and one file of 1.9 M rows is
// ~30 MB. Its name starts with `_`, which dataset readers (pyarrow.dataset, Spark) skip.
//
// The rows of a task are collected in its worker by an IndexTap (a few typed arrays, ~40 bytes an
// event), sent back with the task's summary, and written once, when the run ends.
import { readFileSync, readSync, openSync, closeSync, fstatSync } from "node:fs";
import { join } from "node:path";
import { type RecordBatch, Schema, Field, Int32, Int64, Float32 } from "apache-arrow";
import { dictionaryData, dictionaryType, dictionaryVector, primitiveData, recordBatch } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import { type Shard, shardTag } from "../scale/shards.js";
import { type IndexColumn, type IndexFileMeta, readIndexColumns } from "./index-pages.js";

export const INDEX_FILE = "_index.parquet";
/** What marks an index file as ours (schema metadata, copied into the Parquet footer). */
const MARK = "arrowsmith:index";

export const shardIndexName = (s: Shard) => `_index.${shardTag(s)}.parquet`;
export const SHARD_INDEX = /^_index\.shard-(\d+)-of-(\d+)\.parquet$/;

export { emptyPart, IndexBuilder, INDEX_COLUMNS, type IndexPart, IndexTap } from "./index-tap.js";
import { emptyPart, INDEX_COLUMNS, type IndexPart } from "./index-tap.js";

function indexSchema(): Schema {
  return new Schema([
    new Field("id", new Int64(), false),
    new Field("label", new Int32(), false),
    new Field("z", new Float32(), true),
    new Field("z_err", new Float32(), true),
    new Field("source", dictionaryType(0), false),
    new Field("record", new Int64(), false),
    new Field("offset", new Int64(), false),
    new Field("output", dictionaryType(1), false),
    new Field("row", new Int64(), false),
  ], new Map([[MARK, "1"], ["arrowsmith:index:columns", "offset: byte offset of the record in the (decompressed) input; row: row in the output file"]]));
}

const ROWS_PER_BATCH = 1 << 16;
const INDEX_ROW_GROUP_BYTES = 4 << 20;

/** Writes the parts, in order, as one index file (atomically: temporary name, then rename). */
export async function writeIndex(path: string, parts: IndexPart[]): Promise<{ rows: number; bytes: number }> {
  // imported here: a worker loads this module for IndexTap only, and needs no Parquet writer
  const { ParquetSink } = await import("./parquet.js");
  const schema = indexSchema();
  const sources = [...new Set(parts.map((p) => p.source))];
  const outputs = [...new Set(parts.map((p) => p.output))];
  const srcDict = dictionaryVector(sources), outDict = dictionaryVector(outputs);
  const srcOf = new Map(sources.map((s, i) => [s, i])), outOf = new Map(outputs.map((s, i) => [s, i]));
  // small row groups (~90,000 rows): `find` decodes only the groups that hold its SNIDs
  const sink = new ParquetSink(path, schema, { compression: "snappy", rowGroupBytes: INDEX_ROW_GROUP_BYTES, pagesInFlight: 0 });
  try {
    for (const p of parts) {
      for (let s = 0; s < p.n; s += ROWS_PER_BATCH) {
        const e = Math.min(p.n, s + ROWS_PER_BATCH), n = e - s;
        const rows = new BigInt64Array(n), records = new BigInt64Array(n), offsets = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          rows[i] = BigInt(s + i);
          records[i] = BigInt(p.records[s + i]);
          offsets[i] = BigInt(p.offsets[s + i]);
        }
        const f = schema.fields;
        sink.write(recordBatch(schema, [
          primitiveData(f[0].type, p.ids.subarray(s, e), n),
          primitiveData(f[1].type, p.labels.subarray(s, e), n),
          primitiveData(f[2].type, p.z.subarray(s, e), n, p.zValid.subarray(s, e)),
          primitiveData(f[3].type, p.zErr.subarray(s, e), n, p.zErrValid.subarray(s, e)),
          dictionaryData(f[4].type as ReturnType<typeof dictionaryType>, srcDict, new Int32Array(n).fill(srcOf.get(p.source)!), n),
          primitiveData(f[5].type, records, n),
          primitiveData(f[6].type, offsets, n),
          dictionaryData(f[7].type as ReturnType<typeof dictionaryType>, outDict, new Int32Array(n).fill(outOf.get(p.output)!), n),
          primitiveData(f[8].type, rows, n),
        ], n));
      }
    }
    const r = sink.finish();
    return { rows: r.rows, bytes: r.bytes };
  } catch (e) {
    sink.abort();
    throw e;
  }
}

/** The key-value metadata of a Parquet file's footer, or undefined when it is not a Parquet file. */
async function footerKeys(path: string): Promise<Map<string, string> | undefined> {
  const { parquetMetadata } = await import("hyparquet");
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 12) return undefined;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    if (tail.toString("latin1", 4) !== "PAR1") return undefined;
    const len = tail.readUInt32LE(0);
    if (len + 8 > size) return undefined;
    const buf = Buffer.alloc(len + 8);
    readSync(fd, buf, 0, len + 8, size - len - 8);
    const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    return new Map((meta.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? ""]));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** True when the file at `path` is an index arrowsmith wrote. */
export async function isOurIndex(path: string): Promise<boolean> {
  return (await footerKeys(path))?.has(MARK) ?? false;
}

type Column = ArrayLike<unknown> & { subarray?: (s: number, e: number) => ArrayLike<unknown> };

interface OpenedIndex {
  path: string;
  file: ArrayBuffer;
  metadata: Awaited<ReturnType<typeof import("hyparquet").parquetMetadataAsync>>;
}

/** The index file's bytes and footer, once checked to be ours. */
async function openIndex(path: string): Promise<OpenedIndex> {
  const { parquetMetadata } = await import("hyparquet");
  if (!(await isOurIndex(path))) {
    throw new ArrowsmithError("usage", "not an index written by arrowsmith", { file: path, hint: "convert the inputs again, or run arrowsmith find on the input files" });
  }
  const bytes = readFileSync(path);
  // a file read whole has a buffer of its own (no copy needed)
  const file = (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
  return { path, file, metadata: parquetMetadata(file) };
}

/**
 * Whole columns of an index file by name (with `rows`, the decoded pages holding those rows: the
 * element i of each column is then row `start` + i).
 */
async function readColumns(opened: OpenedIndex, columns: readonly string[], rows?: { rowStart: number; rowEnd: number }): Promise<{ cols: Map<string, Column>; start: number }> {
  const { parquetRead } = await import("hyparquet");
  const { path, file, metadata } = opened;
  const chunks = new Map<string, { rowStart: number; data: Column }[]>();
  await parquetRead({
    file, metadata, columns: [...columns], ...rows,
    onChunk: (c) => {
      const list = chunks.get(c.columnName) ?? [];
      list.push({ rowStart: c.rowStart, data: c.columnData as Column });
      chunks.set(c.columnName, list);
    },
  });
  // each column's pages hold rows of their own: columns of different widths break into pages at
  // different rows, so every column is cut to start at the latest first row among them
  const joined = new Map<string, { rowStart: number; data: Column }>();
  let start = 0;
  for (const [name, list] of chunks) {
    list.sort((a, b) => a.rowStart - b.rowStart);
    for (let i = 1; i < list.length; i++) {
      if (list[i].rowStart !== list[i - 1].rowStart + list[i - 1].data.length) {
        throw new ArrowsmithError("internal", `index column ${name} decoded with a gap before row ${list[i].rowStart}`, { file: opened.path });
      }
    }
    start = Math.max(start, list[0].rowStart);
    if (list.length === 1) { joined.set(name, list[0]); continue; }
    const n = list.reduce((a, c) => a + c.data.length, 0);
    const first = list[0].data;
    // typed chunks (ids, labels, records, offsets, rows) join into one typed array; others (nullable floats, strings) into an array
    const ctor = ArrayBuffer.isView(first) ? (first.constructor as new (n: number) => Column & { set(a: ArrayLike<unknown>, at: number): void }) : undefined;
    if (ctor) {
      const all = new ctor(n);
      let at = 0;
      for (const c of list) { all.set(c.data, at); at += c.data.length; }
      joined.set(name, { rowStart: list[0].rowStart, data: all });
    } else {
      const all: unknown[] = [];
      for (const c of list) for (let i = 0; i < c.data.length; i++) all.push(c.data[i]);
      joined.set(name, { rowStart: list[0].rowStart, data: all });
    }
  }
  const out = new Map<string, Column>();
  for (const [name, { rowStart, data }] of joined) {
    const skip = start - rowStart;
    out.set(name, skip === 0 ? data : data.subarray ? data.subarray(skip, data.length) : Array.prototype.slice.call(data, skip));
  }
  return { cols: out, start };
}

/** The index columns that are read as numbers (int64 in the file, always below 2^53). */
const NUMBERS: ReadonlySet<string> = new Set(["record", "offset", "row"]);

/** Columns of our own layout read from the pages (see index-pages.ts), or undefined for another layout. */
function ownColumns(opened: OpenedIndex, names: readonly string[]): Map<string, IndexColumn> | undefined {
  return readIndexColumns(new Uint8Array(opened.file), opened.metadata as unknown as IndexFileMeta, names, NUMBERS);
}

/** Parts from columns in typed arrays: runs of rows of one output and source. */
function partsOf(path: string, cols: Map<string, IndexColumn>): IndexPart[] {
  const get = <K extends IndexColumn["kind"]>(name: string, kind: K) => {
    const c = cols.get(name)!;
    if (c.kind !== kind) throw new ArrowsmithError("internal", `index column ${name} read as ${c.kind}`, { file: path });
    return c as Extract<IndexColumn, { kind: K }>;
  };
  const id = get("id", "int64").values, label = get("label", "int32").values, z = get("z", "float"), zErr = get("z_err", "float");
  const source = get("source", "dict"), output = get("output", "dict");
  const record = get("record", "number").values, offset = get("offset", "number").values, row = get("row", "number").values;
  const parts: IndexPart[] = [];
  const n = id.length;
  for (let s = 0; s < n;) {
    let e = s + 1;
    while (e < n && output.values[e] === output.values[s] && source.values[e] === source.values[s]) e++;
    const p = emptyPart(source.strings[source.values[s]], output.strings[output.values[s]], e - s);
    p.n = e - s;
    for (let i = s; i < e; i++) {
      if (row[i] !== i - s) throw new ArrowsmithError("usage", `the rows of ${p.output} are not in order`, { file: path, hint: "convert again to rewrite the index" });
    }
    p.ids.set(id.subarray(s, e));
    p.labels.set(label.subarray(s, e));
    p.z.set(z.values.subarray(s, e));
    p.zValid.set(z.valid.subarray(s, e));
    p.zErr.set(zErr.values.subarray(s, e));
    p.zErrValid.set(zErr.valid.subarray(s, e));
    p.records.set(record.subarray(s, e));
    p.offsets.set(offset.subarray(s, e));
    parts.push(p);
    s = e;
  }
  return parts;
}

/** Reads an index file back into parts, one per output file in file order (`hyparquet`: without the page reader of our own layout). */
export async function readIndex(path: string, o: { hyparquet?: boolean } = {}): Promise<IndexPart[]> {
  const opened = await openIndex(path);
  const own = o.hyparquet ? undefined : ownColumns(opened, INDEX_COLUMNS);
  if (own) return partsOf(path, own);
  const { cols } = await readColumns(opened, INDEX_COLUMNS);
  const [id, label, z, zErr, source, record, offset, output, row] = INDEX_COLUMNS.map((c) => cols.get(c) ?? []);
  const parts: IndexPart[] = [];
  const n = id.length;
  for (let s = 0; s < n;) {
    // one part: a run of rows of one output (the dictionary gives every row of a value the same string)
    let e = s + 1;
    while (e < n && output[e] === output[s] && source[e] === source[s]) e++;
    const p = emptyPart(source[s] as string, output[s] as string, e - s);
    p.n = e - s;
    for (let i = s; i < e; i++) {
      const r = i - s;
      if (Number(row[i]) !== r) throw new ArrowsmithError("usage", `the rows of ${p.output} are not in order`, { file: path, hint: "convert again to rewrite the index" });
      p.ids[r] = id[i] as bigint;
      p.labels[r] = label[i] as number;
      const zi = z[i], ze = zErr[i];
      if (zi !== null && zi !== undefined) { p.z[r] = zi as number; p.zValid[r] = 1; }
      if (ze !== null && ze !== undefined) { p.zErr[r] = ze as number; p.zErrValid[r] = 1; }
      p.records[r] = Number(record[i]);
      p.offsets[r] = Number(offset[i]);
    }
    parts.push(p);
    s = e;
  }
  return parts;
}

/** One row of an index. */
export interface IndexRow {
  id: bigint;
  label: number;
  z: number | null;
  z_err: number | null;
  source: string;
  record: number;
  offset: number;
  output: string;
  row: number;
}

/**
 * The rows of `ids` in an index file: the id column is read whole, the other columns only in the
 * row groups that hold a match.
 */
export async function lookupIndex(path: string, ids: Set<bigint>, o: { hyparquet?: boolean } = {}): Promise<IndexRow[]> {
  const opened = await openIndex(path);
  // the id column from the pages (our own layout), else by hyparquet; the matching rows by hyparquet
  const own = o.hyparquet ? undefined : ownColumns(opened, ["id"])?.get("id")?.values;
  const idCol = own ?? (await readColumns(opened, ["id"])).cols.get("id") ?? [];
  const out: IndexRow[] = [];
  for (let at = 0; at < idCol.length; at++) {
    if (!ids.has(idCol[at] as bigint)) continue;
    const { cols, start } = await readColumns(opened, INDEX_COLUMNS, { rowStart: at, rowEnd: at + 1 });
    const v = (name: string) => cols.get(name)![at - start];
    const num = (x: unknown) => (x === null || x === undefined ? null : Number(x));
    out.push({
      id: v("id") as bigint, label: Number(v("label")), z: num(v("z")), z_err: num(v("z_err")), source: String(v("source")),
      record: Number(v("record")), offset: Number(v("offset")), output: String(v("output")), row: Number(v("row")),
    });
  }
  return out;
}

/** The index files of a folder: the run's `_index.parquet`, else the shards' (merge not run yet). */
export function indexFilesIn(dir: string, names: string[]): string[] {
  if (names.includes(INDEX_FILE)) return [join(dir, INDEX_FILE)];
  return names.filter((n) => SHARD_INDEX.test(n)).sort().map((n) => join(dir, n));
}
