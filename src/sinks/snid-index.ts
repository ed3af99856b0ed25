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
import { ParquetSink } from "./parquet.js";

export const INDEX_FILE = "_index.parquet";
/** What marks an index file as ours (schema metadata, copied into the Parquet footer). */
const MARK = "arrowsmith:index";

export const shardIndexName = (s: Shard) => `_index.${shardTag(s)}.parquet`;
export const SHARD_INDEX = /^_index\.shard-(\d+)-of-(\d+)\.parquet$/;

/** The index rows of one output file, in its row order (row i of the output is element i). */
export interface IndexPart {
  /** The input file, as the manifest names it. */
  source: string;
  /** The output file's name in the folder. */
  output: string;
  n: number;
  ids: BigInt64Array;
  labels: Int32Array;
  z: Float32Array;
  zValid: Uint8Array;
  zErr: Float32Array;
  zErrValid: Uint8Array;
  /** Record index in the input, and byte offset of the record's length field (in the decompressed stream). */
  records: Float64Array;
  offsets: Float64Array;
}

export const INDEX_COLUMNS = ["id", "label", "z", "z_err", "source", "record", "offset", "output", "row"] as const;

function emptyPart(source: string, output: string, capacity: number): IndexPart {
  return {
    source, output, n: 0, ids: new BigInt64Array(capacity), labels: new Int32Array(capacity), z: new Float32Array(capacity),
    zValid: new Uint8Array(capacity), zErr: new Float32Array(capacity), zErrValid: new Uint8Array(capacity),
    records: new Float64Array(capacity), offsets: new Float64Array(capacity),
  };
}

/** A part with room for `capacity` rows, keeping the rows it has. */
function grown(p: IndexPart, capacity: number): IndexPart {
  const q = emptyPart(p.source, p.output, capacity);
  q.n = p.n;
  q.ids.set(p.ids.subarray(0, p.n));
  q.labels.set(p.labels.subarray(0, p.n));
  q.z.set(p.z.subarray(0, p.n));
  q.zValid.set(p.zValid.subarray(0, p.n));
  q.zErr.set(p.zErr.subarray(0, p.n));
  q.zErrValid.set(p.zErrValid.subarray(0, p.n));
  q.records.set(p.records.subarray(0, p.n));
  q.offsets.set(p.offsets.subarray(0, p.n));
  return q;
}

/** The part trimmed to its rows (what crosses the thread boundary). */
function trimmed(p: IndexPart): IndexPart {
  return p.n === p.ids.length ? p : grown(p, p.n);
}

/** Builds an IndexPart row by row (growing by doubling). */
export class IndexBuilder {
  private part: IndexPart;
  constructor(source: string, output: string) {
    this.part = emptyPart(source, output, 1024);
  }

  get rows(): number {
    return this.part.n;
  }

  /** Room for one more row; returns its position. */
  next(): number {
    if (this.part.n === this.part.ids.length) this.part = grown(this.part, this.part.n * 2);
    return this.part.n++;
  }

  get current(): IndexPart {
    return this.part;
  }

  finish(): IndexPart {
    return trimmed(this.part);
  }
}

function validAt(bitmap: Uint8Array | null | undefined, nulls: number, offset: number, i: number): number {
  if (!bitmap || !bitmap.length || nulls === 0) return 1;
  const j = offset + i;
  return (bitmap[j >> 3] >> (j & 7)) & 1;
}

/**
 * The index tap of a SCONE task: `offset` is told each record the batcher took (in order), and
 * `batch` each record batch it emits; the rows of both come in the same order.
 */
export class IndexTap {
  private readonly b: IndexBuilder;
  private offsets = new Float64Array(1024);
  private pending = 0;
  private done = 0;

  constructor(source: string, output: string) {
    this.b = new IndexBuilder(source, output);
  }

  /** The record at this byte offset is going into the batch. */
  readonly offset = (o: number): void => {
    if (this.pending === this.offsets.length) {
      const next = new Float64Array(this.offsets.length * 2);
      next.set(this.offsets);
      this.offsets = next;
    }
    this.offsets[this.pending++] = o;
  };

  /** The record told last was refused: it is in no batch. */
  drop(): void {
    this.pending--;
  }

  /** A batch of SCONE rows (columns id, label, z, z_err, record), in the order of the offsets told. */
  batch(rb: RecordBatch): void {
    const col = (name: string) => rb.getChild(name)!.data[0];
    const id = col("id"), label = col("label"), z = col("z"), zErr = col("z_err"), record = col("record");
    const ids = id.values as BigInt64Array, labels = label.values as Int32Array;
    const zs = z.values as Float32Array, zErrs = zErr.values as Float32Array, records = record.values as BigInt64Array;
    for (let i = 0; i < rb.numRows; i++) {
      const r = this.b.next();
      const p = this.b.current;
      p.ids[r] = ids[id.offset + i];
      p.labels[r] = labels[label.offset + i];
      p.zValid[r] = validAt(z.nullBitmap, z.nullCount, z.offset, i);
      p.z[r] = zs[z.offset + i];
      p.zErrValid[r] = validAt(zErr.nullBitmap, zErr.nullCount, zErr.offset, i);
      p.zErr[r] = zErrs[zErr.offset + i];
      p.records[r] = Number(records[record.offset + i]);
      p.offsets[r] = this.offsets[this.done + i];
    }
    this.done += rb.numRows;
  }

  finish(): IndexPart {
    if (this.done !== this.pending) {
      throw new ArrowsmithError("internal", `the index saw ${this.pending} records taken but ${this.done} rows written`, { file: this.b.current.source });
    }
    return this.b.finish();
  }
}

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

/** Writes the parts, in order, as one index file (atomically: temporary name, then rename). */
export function writeIndex(path: string, parts: IndexPart[]): { rows: number; bytes: number } {
  const schema = indexSchema();
  const sources = [...new Set(parts.map((p) => p.source))];
  const outputs = [...new Set(parts.map((p) => p.output))];
  const srcDict = dictionaryVector(sources), outDict = dictionaryVector(outputs);
  const srcOf = new Map(sources.map((s, i) => [s, i])), outOf = new Map(outputs.map((s, i) => [s, i]));
  const sink = new ParquetSink(path, schema, { compression: "snappy" });
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

/** Reads an index file back into parts, one per output file in file order. */
export async function readIndex(path: string): Promise<IndexPart[]> {
  const { parquetRead } = await import("hyparquet");
  if (!(await isOurIndex(path))) {
    throw new ArrowsmithError("usage", `${path} is not an index written by arrowsmith`, { file: path, hint: "convert the inputs again, or run arrowsmith find on the input files" });
  }
  const bytes = readFileSync(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const cols = new Map<string, unknown[]>();
  await parquetRead({
    file, columns: [...INDEX_COLUMNS],
    onChunk: (c) => {
      const list = cols.get(c.columnName) ?? [];
      list[c.rowStart] = c.columnData;
      cols.set(c.columnName, list);
    },
  });
  const column = (name: string): ArrayLike<unknown> => {
    const chunks = (cols.get(name) ?? []).filter(Boolean) as ArrayLike<unknown>[];
    if (chunks.length === 1) return chunks[0];
    const out: unknown[] = [];
    for (const c of chunks) for (let i = 0; i < c.length; i++) out.push(c[i]);
    return out;
  };
  const [id, label, z, zErr, source, record, offset, output, row] = INDEX_COLUMNS.map(column);
  const parts: IndexPart[] = [];
  let b: IndexBuilder | undefined;
  for (let i = 0; i < id.length; i++) {
    const out = output[i] as string, src = source[i] as string;
    if (!b || b.current.output !== out || b.current.source !== src) {
      if (b) parts.push(b.finish());
      b = new IndexBuilder(src, out);
    }
    const r = b.next();
    if (r !== Number(row[i])) throw new ArrowsmithError("usage", `${path}: the rows of ${out} are not in order`, { file: path, hint: "convert again to rewrite the index" });
    const p = b.current;
    p.ids[r] = BigInt(id[i] as bigint);
    p.labels[r] = Number(label[i]);
    const zi = z[i], ze = zErr[i];
    p.zValid[r] = zi === null || zi === undefined ? 0 : 1;
    p.z[r] = p.zValid[r] ? Number(zi) : 0;
    p.zErrValid[r] = ze === null || ze === undefined ? 0 : 1;
    p.zErr[r] = p.zErrValid[r] ? Number(ze) : 0;
    p.records[r] = Number(record[i]);
    p.offsets[r] = Number(offset[i]);
  }
  if (b) parts.push(b.finish());
  return parts;
}

/** The index files of a folder: the run's `_index.parquet`, else the shards' (merge not run yet). */
export function indexFilesIn(dir: string, names: string[]): string[] {
  if (names.includes(INDEX_FILE)) return [join(dir, INDEX_FILE)];
  return names.filter((n) => SHARD_INDEX.test(n)).sort().map((n) => join(dir, n));
}
