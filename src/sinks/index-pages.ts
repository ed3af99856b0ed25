// A reader for the columns of our own `_index.parquet` files, straight from their pages: the layout
// that our ParquetSink writes for the index (v1 data pages, snappy or none, RLE definition levels
// for nullable columns, PLAIN INT32/INT64/FLOAT values, RLE_DICTIONARY indices into a PLAIN
// dictionary of strings). Values land in typed arrays, with no JS value per row, which is what
// makes reading 1.9 M rows back (--resume with an index, merge, find) fast; hyparquet builds
// arrays of boxed values and BigInts for them. Anything else (another codec, encoding or page
// type) returns undefined, and the caller reads the file with hyparquet instead.
import { createRequire } from "node:module";
// its snappy decoder alone: the whole package (~30 modules, ~60 ms of CPU) is loaded only to read an index
import { snappyUncompress } from "hyparquet/src/snappy.js";

/** One column's values over every row of the file (`valid`: nullable columns, 1 where not null). */
export type IndexColumn =
  | { kind: "int64"; values: BigInt64Array }
  | { kind: "number"; values: Float64Array }
  | { kind: "int32"; values: Int32Array }
  | { kind: "float"; values: Float32Array; valid: Uint8Array }
  | { kind: "dict"; values: Int32Array; strings: string[] };

interface ChunkMeta {
  type: string;
  codec: string;
  num_values: bigint | number;
  data_page_offset: bigint | number;
  dictionary_page_offset?: bigint | number;
  total_compressed_size: bigint | number;
  path_in_schema: string[];
}

export interface IndexFileMeta {
  num_rows: bigint | number;
  schema: { name: string; repetition_type?: string }[];
  row_groups: { num_rows: bigint | number; columns: { meta_data?: ChunkMeta }[] }[];
}

/** The layout is not the one this reader knows. */
class Unknown extends Error {}

/** Thrift compact protocol: just what a PageHeader needs (numbers and nested structs; the rest skipped). */
class Thrift {
  constructor(private readonly b: Uint8Array, public p: number) {}
  varint(): number {
    let v = 0, mul = 1, x;
    do {
      if (this.p >= this.b.length) throw new Unknown();
      x = this.b[this.p++];
      v += (x & 0x7f) * mul;
      mul *= 128;
    } while (x & 0x80);
    return v;
  }
  zigzag(): number {
    const v = this.varint();
    return v % 2 ? -(v + 1) / 2 : v / 2;
  }
  /** A struct as field id → number, or nested struct for the ids in `nested`. */
  struct(nested: Record<number, Record<number, number>> = {}): Record<number, number | Record<number, number>> {
    const out: Record<number, number | Record<number, number>> = {};
    let id = 0;
    for (;;) {
      const h = this.b[this.p++];
      if (h === undefined) throw new Unknown();
      if (h === 0) return out;
      const type = h & 0x0f;
      id = h >> 4 ? id + (h >> 4) : this.zigzag();
      if (type === 12 && nested[id]) out[id] = this.struct() as Record<number, number>;
      else if (type === 5 || type === 6 || type === 3 || type === 4) out[id] = this.value(type) as number;
      else this.skip(type);
    }
  }
  private value(type: number): number {
    if (type === 3) return this.b[this.p++];
    return this.zigzag();
  }
  private skip(type: number): void {
    switch (type) {
      case 1: case 2: return; // bool in the header
      case 3: this.p++; return;
      case 4: case 5: case 6: this.varint(); return;
      case 7: this.p += 8; return;
      case 8: { const n = this.varint(); this.p += n; return; }
      case 9: case 10: {
        const h = this.b[this.p++];
        const n = h >> 4 === 15 ? this.varint() : h >> 4;
        for (let i = 0; i < n; i++) this.skip(h & 0x0f);
        return;
      }
      case 12: this.struct(); return;
      default: throw new Unknown();
    }
  }
}

/** RLE / bit-packed hybrid values of `width` bits into out[at, at + n). */
function hybrid(b: Uint8Array, p: number, end: number, width: number, out: Int32Array | Uint8Array, at: number, n: number): void {
  const bytes = (width + 7) >> 3;
  const mask = width === 32 ? -1 : (1 << width) - 1;
  let i = 0;
  while (i < n) {
    if (p >= end) throw new Unknown();
    let h = 0, mul = 1, x;
    do { x = b[p++]; h += (x & 0x7f) * mul; mul *= 128; } while (x & 0x80);
    if (h % 2 === 0) {
      const count = h / 2;
      let v = 0;
      for (let k = 0; k < bytes; k++) v |= b[p++] << (8 * k);
      for (let k = 0; k < count && i < n; k++) out[at + i++] = v;
    } else {
      const count = ((h - 1) / 2) * 8;
      let bit = 0;
      for (let k = 0; k < count; k++) {
        let v = 0;
        for (let got = 0; got < width;) {
          const byte = b[p + (bit >> 3)];
          const take = Math.min(8 - (bit & 7), width - got);
          v |= ((byte >> (bit & 7)) & ((1 << take) - 1)) << got;
          got += take;
          bit += take;
        }
        if (i < n) out[at + i++] = v & mask;
      }
      p += (bit + 7) >> 3;
    }
  }
}

const decoder = new TextDecoder();

// the loops over values, one typed array kind each (a function handling several kinds reads them all slowly)

function countValid(valid: Uint8Array, row: number, n: number): number {
  let c = 0;
  for (let k = 0; k < n; k++) c += valid[row + k];
  return c;
}

/** Chunk dictionary indices → file-wide string ids. */
function remap(values: Int32Array, row: number, n: number, dict: number[]): void {
  for (let k = row; k < row + n; k++) {
    const id = dict[values[k]];
    if (id === undefined) throw new Unknown();
    values[k] = id;
  }
}

/** int64 values (as 32-bit halves) to numbers; they must be below 2^53. */
function int64Numbers(out: Float64Array, row: number, n: number, lo: Uint32Array, hi: Int32Array): void {
  for (let k = 0; k < n; k++) {
    const h = hi[2 * k + 1];
    if (h < -0x200000 || h >= 0x200000) throw new Unknown(); // not exact as a number
    out[row + k] = h * 0x1_0000_0000 + lo[2 * k];
  }
}

/** The non-null values, each to its row. */
function spreadFloats(out: Float32Array, valid: Uint8Array, row: number, n: number, f: Float32Array): void {
  for (let k = 0, v = 0; k < n; k++) if (valid[row + k]) out[row + k] = f[v++];
}

/** The snappy addon's uncompress (as the writer's compress), else hyparquet's JavaScript one. */
let nativeSnappy: ((b: Buffer) => Buffer) | null | undefined;
function unsnappy(raw: Uint8Array, size: number): Uint8Array {
  if (nativeSnappy === undefined) {
    try {
      const snappy = createRequire(import.meta.url)("snappy") as { uncompressSync(b: Buffer, o: { asBuffer: true; copyOutputData: boolean }): Buffer };
      nativeSnappy = (b) => snappy.uncompressSync(b, { asBuffer: true, copyOutputData: true });
    } catch {
      nativeSnappy = null;
    }
  }
  if (nativeSnappy) {
    const out = nativeSnappy(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
    if (out.length !== size) throw new Unknown();
    return out;
  }
  const page = new Uint8Array(size);
  snappyUncompress(raw, page);
  return page;
}

/**
 * The columns `names` of the file (its bytes and hyparquet's reading of its footer), or undefined
 * when a column is laid out otherwise than our writer lays out the index. `numbers`: INT64 columns
 * to give as float64 (their values are below 2^53: record, offset, row).
 */
export function readIndexColumns(file: Uint8Array, meta: IndexFileMeta, names: readonly string[], numbers: ReadonlySet<string>): Map<string, IndexColumn> | undefined {
  try {
    const out = new Map<string, IndexColumn>();
    for (const name of names) out.set(name, column(file, meta, name, numbers.has(name)));
    return out;
  } catch (e) {
    if (e instanceof Unknown) return undefined;
    throw e;
  }
}

function column(file: Uint8Array, meta: IndexFileMeta, name: string, asNumber: boolean): IndexColumn {
  const rows = Number(meta.num_rows);
  const leaf = meta.schema.find((s) => s.name === name);
  const ci = meta.schema.slice(1).indexOf(leaf!);
  if (!leaf || ci < 0) throw new Unknown();
  const nullable = leaf.repetition_type === "OPTIONAL";
  const first = meta.row_groups[0]?.columns[ci]?.meta_data;
  const type = first?.type ?? "INT64";
  let col: IndexColumn;
  if (type === "INT64") col = asNumber ? { kind: "number", values: new Float64Array(rows) } : { kind: "int64", values: new BigInt64Array(rows) };
  else if (type === "INT32") col = { kind: "int32", values: new Int32Array(rows) };
  else if (type === "FLOAT") col = { kind: "float", values: new Float32Array(rows), valid: new Uint8Array(rows) };
  else if (type === "BYTE_ARRAY") col = { kind: "dict", values: new Int32Array(rows), strings: [] };
  else throw new Unknown();
  if (nullable !== (col.kind === "float")) throw new Unknown();
  const stringIds = new Map<string, number>();
  let row = 0;
  for (const rg of meta.row_groups) {
    const m = rg.columns[ci]?.meta_data;
    if (!m || m.type !== type || m.path_in_schema.length !== 1 || m.path_in_schema[0] !== name) throw new Unknown();
    if (m.codec !== "SNAPPY" && m.codec !== "UNCOMPRESSED") throw new Unknown();
    let p = Number(m.dictionary_page_offset ?? m.data_page_offset);
    const end = p + Number(m.total_compressed_size);
    const groupEnd = row + Number(rg.num_rows);
    let dict: number[] | undefined; // chunk dictionary index → file-wide string id
    while (row < groupEnd) {
      if (p >= end) throw new Unknown();
      const t = new Thrift(file, p);
      const h = t.struct({ 5: {}, 7: {} });
      const pageType = h[1] as number, size = h[2] as number, csize = h[3] as number;
      const at = t.p;
      if (at + csize > file.length) throw new Unknown();
      const raw = file.subarray(at, at + csize);
      const page = m.codec === "SNAPPY" ? unsnappy(raw, size) : raw;
      p = at + csize;
      if (pageType === 2) { // dictionary page: PLAIN strings
        if (col.kind !== "dict") throw new Unknown();
        const dh = h[7] as Record<number, number>;
        dict = [];
        let q = 0;
        for (let k = 0; k < dh[1]; k++) {
          const len = page[q] | (page[q + 1] << 8) | (page[q + 2] << 16) | (page[q + 3] << 24);
          const s = decoder.decode(page.subarray(q + 4, q + 4 + len));
          q += 4 + len;
          let id = stringIds.get(s);
          if (id === undefined) { id = col.strings.length; col.strings.push(s); stringIds.set(s, id); }
          dict.push(id);
        }
        continue;
      }
      if (pageType !== 0) throw new Unknown();
      const dh = h[5] as Record<number, number>;
      const n = dh[1], encoding = dh[2];
      if (row + n > groupEnd) throw new Unknown();
      let q = 0;
      let present = n;
      if (col.kind === "float") {
        const len = page[0] | (page[1] << 8) | (page[2] << 16) | (page[3] << 24);
        hybrid(page, 4, 4 + len, 1, col.valid, row, n);
        q = 4 + len;
        present = countValid(col.valid, row, n);
      }
      if (col.kind === "dict") {
        if ((encoding !== 8 && encoding !== 2) || !dict) throw new Unknown();
        hybrid(page, q + 1, page.length, page[q], col.values, row, n);
        remap(col.values, row, n, dict);
        row += n;
        continue;
      }
      if (encoding !== 0) throw new Unknown();
      const width = col.kind === "int64" || col.kind === "number" ? 8 : 4;
      if (q + width * present > page.length) throw new Unknown();
      // the PLAIN values, copied to an aligned buffer and read through typed views
      const vals = new Uint8Array(page.subarray(q, q + width * present)).buffer; // a copy (a Buffer's slice is a view)
      if (col.kind === "int64") {
        col.values.set(new BigInt64Array(vals), row);
      } else if (col.kind === "number") {
        int64Numbers(col.values, row, n, new Uint32Array(vals), new Int32Array(vals));
      } else if (col.kind === "int32") {
        col.values.set(new Int32Array(vals), row);
      } else {
        spreadFloats(col.values, col.valid, row, n, new Float32Array(vals));
      }
      row += n;
    }
  }
  if (row !== rows) throw new Unknown();
  return col;
}
