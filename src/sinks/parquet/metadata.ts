// Parquet's Thrift structures that a writer emits (parquet-format's parquet.thrift): the field ids
// and enum values below are the format's, and only the fields we fill are modelled.
import { CT, ThriftWriter } from "./thrift.js";

export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
export const ConvertedType = { UTF8: 0, LIST: 3, UINT_8: 11, UINT_16: 12, INT_8: 15, INT_16: 16 } as const;
export const Encoding = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1, ZSTD: 6 } as const;
export const PageType = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

/** LogicalType union members (field ids of the union): STRING and LIST are empty structs. */
export const LogicalType = { STRING: 1, LIST: 3, INTEGER: 10 } as const;

export interface SchemaElement {
  name: string;
  type?: number;
  repetition?: number;
  numChildren?: number;
  convertedType?: number;
  logicalType?: number;
  /** IntType of an INTEGER logical type (8/16-bit and unsigned integers stored as INT32). */
  int?: { bits: number; signed: boolean };
}

export interface Statistics {
  nullCount: number;
  min?: Uint8Array;
  max?: Uint8Array;
}

export interface ColumnMeta {
  type: number;
  encodings: number[];
  path: string[];
  codec: number;
  numValues: number;
  uncompressedSize: number;
  compressedSize: number;
  dataPageOffset: number;
  dictionaryPageOffset?: number;
  statistics?: Statistics;
}

export interface RowGroupMeta {
  columns: ColumnMeta[];
  totalByteSize: number;
  numRows: number;
  fileOffset: number;
  totalCompressedSize: number;
  ordinal: number;
}

export interface FileMeta {
  schema: SchemaElement[];
  numRows: number;
  rowGroups: RowGroupMeta[];
  keyValue: [string, string][];
  createdBy: string;
  leaves: number;
}

export interface DataPageHeader {
  uncompressedSize: number;
  compressedSize: number;
  numValues: number;
  encoding: number;
}

/** PageHeader of a v1 data page (levels RLE-encoded). */
export function writeDataPageHeader(w: ThriftWriter, h: DataPageHeader): void {
  w.i32(1, PageType.DATA_PAGE);
  w.i32(2, h.uncompressedSize);
  w.i32(3, h.compressedSize);
  w.struct(5);
  w.i32(1, h.numValues);
  w.i32(2, h.encoding);
  w.i32(3, Encoding.RLE);
  w.i32(4, Encoding.RLE);
  w.end();
  w.end();
}

/** PageHeader of a PLAIN dictionary page. */
export function writeDictionaryPageHeader(w: ThriftWriter, uncompressedSize: number, compressedSize: number, numValues: number): void {
  w.i32(1, PageType.DICTIONARY_PAGE);
  w.i32(2, uncompressedSize);
  w.i32(3, compressedSize);
  w.struct(7);
  w.i32(1, numValues);
  w.i32(2, Encoding.PLAIN);
  w.end();
  w.end();
}

function writeSchemaElement(w: ThriftWriter, e: SchemaElement): void {
  w.begin();
  if (e.type !== undefined) w.i32(1, e.type);
  if (e.repetition !== undefined) w.i32(3, e.repetition);
  w.string(4, e.name);
  if (e.numChildren !== undefined) w.i32(5, e.numChildren);
  if (e.convertedType !== undefined) w.i32(6, e.convertedType);
  if (e.logicalType !== undefined) {
    w.struct(10);
    w.struct(e.logicalType);
    if (e.int) {
      w.i8(1, e.int.bits);
      w.bool(2, e.int.signed);
    }
    w.end();
    w.end();
  }
  w.end();
}

function writeColumnMeta(w: ThriftWriter, c: ColumnMeta): void {
  w.i32(1, c.type);
  w.list(2, CT.I32, c.encodings.length);
  for (const e of c.encodings) w.zigzag(e);
  w.list(3, CT.BINARY, c.path.length);
  for (const p of c.path) w.rawBinary(new TextEncoder().encode(p));
  w.i32(4, c.codec);
  w.i64(5, c.numValues);
  w.i64(6, c.uncompressedSize);
  w.i64(7, c.compressedSize);
  w.i64(9, c.dataPageOffset);
  if (c.dictionaryPageOffset !== undefined) w.i64(11, c.dictionaryPageOffset);
  if (c.statistics) {
    const s = c.statistics;
    w.struct(12);
    w.i64(3, s.nullCount);
    if (s.max && s.min) {
      w.binary(5, s.max);
      w.binary(6, s.min);
    }
    w.end();
  }
}

/** Serialises FileMetaData (the footer before the length and the closing magic). */
export function encodeFileMeta(m: FileMeta): Uint8Array {
  const w = new ThriftWriter(4096);
  w.i32(1, 2);
  w.list(2, CT.STRUCT, m.schema.length);
  for (const e of m.schema) writeSchemaElement(w, e);
  w.i64(3, m.numRows);
  w.list(4, CT.STRUCT, m.rowGroups.length);
  for (const rg of m.rowGroups) {
    w.begin();
    w.list(1, CT.STRUCT, rg.columns.length);
    for (const c of rg.columns) {
      w.begin();
      w.i64(2, c.dictionaryPageOffset ?? c.dataPageOffset);
      w.struct(3);
      writeColumnMeta(w, c);
      w.end();
      w.end();
    }
    w.i64(2, rg.totalByteSize);
    w.i64(3, rg.numRows);
    w.i64(5, rg.fileOffset);
    w.i64(6, rg.totalCompressedSize);
    w.i16(7, rg.ordinal);
    w.end();
  }
  w.list(5, CT.STRUCT, m.keyValue.length);
  for (const [k, v] of m.keyValue) {
    w.begin();
    w.string(1, k);
    w.string(2, v);
    w.end();
  }
  w.string(6, m.createdBy);
  // TypeDefinedOrder for every leaf: min/max statistics follow the type's natural order
  w.list(7, CT.STRUCT, m.leaves);
  for (let i = 0; i < m.leaves; i++) {
    w.begin();
    w.struct(1);
    w.end();
    w.end();
  }
  w.end();
  return w.bytes().slice();
}
