// The `generic` kind for NPZ archives: arrays that share a leading dimension N become the columns
// of an N-row table.
//   shape (N,)       → one value per row: Float32/64, Int8..64, Uint8..64, Bool, Utf8 (U), Binary (S)
//   shape (N, ...)   → FixedSizeList of the rest, flattened in C order; numeric ones carry the
//                      arrow.fixed_shape_tensor metadata with the rest of the shape
//   shape ()         → a 0-d array has no leading dimension to share, so it is not a column: its
//                      value goes into the schema metadata (`arrowsmith:npz_scalars`), with its descr
// Arrays whose leading dimensions differ are an error. Object arrays are refused when their
// headers are read (src/formats/npy.ts), before anything else happens.
import {
  Binary, Bool, type DataType, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8, makeData, type RecordBatch,
  Schema, Uint16, Uint32, Uint64, Uint8, Utf8, type Data, vectorFromArray, type Vector,
} from "apache-arrow";
import { boolData, dictionaryData, dictionaryType, primitiveData, recordBatch, TENSOR_EXTENSION } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import { type NpyDtype, type NpyHeader, type NpzArray, npyValues, parseNpyHeader, npzContext, type NpyTypedArray } from "../formats/npy.js";
import type { ZipArchive } from "../formats/zip.js";
import { VERSION } from "../version.js";

function valueType(d: NpyDtype): DataType {
  switch (d.kind + d.itemSize) {
    case "f4": return new Float32();
    case "f8": return new Float64();
    case "i1": return new Int8();
    case "i2": return new Int16();
    case "i4": return new Int32();
    case "i8": return new Int64();
    case "u1": return new Uint8();
    case "u2": return new Uint16();
    case "u4": return new Uint32();
    case "u8": return new Uint64();
  }
  if (d.kind === "b") return new Bool();
  if (d.kind === "U") return new Utf8();
  if (d.kind === "S") return new Binary();
  throw new ArrowsmithError("internal", `no Arrow type for dtype ${d.descr}`);
}

const shapeText = (s: readonly number[]) => `(${s.join(", ")}${s.length === 1 ? "," : ""})`;

export interface GenericNpzColumn {
  name: string;
  array: NpzArray;
  /** Values per row (1 for an (N,) array). */
  width: number;
}

export interface GenericNpzPlan {
  schema: Schema;
  rows: number;
  columns: GenericNpzColumn[];
  /** 0-d arrays: name → { descr, value } (also in the schema metadata). */
  scalars: Record<string, { descr: string; value: unknown }>;
}

/** A 0-d array's value as JSON: int64 as a string, non-finite floats as "NaN"/"Infinity", bytes as hex. */
function scalarJson(h: NpyHeader, npy: Uint8Array): unknown {
  const v = npyValues(h, npy);
  const x = (v as ArrayLike<unknown>)[0];
  if (h.dtype.kind === "b") return x === 1;
  if (typeof x === "bigint") return x.toString();
  if (typeof x === "number") return Number.isFinite(x) ? x : String(x);
  if (x instanceof Uint8Array) return Buffer.from(x).toString("hex");
  return x;
}

/** The table an archive's arrays make, or an ArrowsmithError("schema") when they share no leading dimension. */
export function planGenericNpz(zip: ZipArchive, arrays: NpzArray[]): GenericNpzPlan {
  const scalars: GenericNpzPlan["scalars"] = {};
  const columns: GenericNpzColumn[] = [];
  let rows: number | undefined;
  let first: NpzArray | undefined;
  for (const a of arrays) {
    const h = a.header;
    if (h.shape.length === 0) {
      const npy = zip.read(a.entry);
      scalars[a.name] = { descr: h.dtype.descr, value: scalarJson(parseNpyHeader(npy, npzContext(zip, a.entry)), npy) };
      continue;
    }
    if (rows === undefined) { rows = h.shape[0]; first = a; }
    else if (h.shape[0] !== rows) {
      throw new ArrowsmithError("schema",
        `arrays do not share a leading dimension: "${first!.name}" is ${shapeText(first!.header.shape)}, "${a.name}" is ${shapeText(h.shape)}`,
        { file: zip.file, hint: "the generic kind makes one row per index of the first dimension, which all arrays must have" });
    }
    columns.push({ name: a.name, array: a, width: h.shape.slice(1).reduce((x, y) => x * y, 1) });
  }
  const names = new Set(columns.map((c) => c.name));
  const provenance = (want: string) => (names.has(want) ? `_${want}` : want);
  const fields = columns.map((c) => {
    const h = c.array.header;
    const item = valueType(h.dtype);
    const meta = new Map([["npy:descr", h.dtype.raw], ["npy:shape", JSON.stringify(h.shape)]]);
    if (h.shape.length === 1) return new Field(c.name, item, false, meta);
    const rest = h.shape.slice(1);
    if (h.dtype.kind === "f" || h.dtype.kind === "i" || h.dtype.kind === "u") {
      meta.set("ARROW:extension:name", TENSOR_EXTENSION);
      meta.set("ARROW:extension:metadata", JSON.stringify({ shape: rest }));
    }
    return new Field(c.name, new FixedSizeList(c.width, new Field("item", item, false)), false, meta);
  });
  fields.push(new Field(provenance("source"), dictionaryType(0), false, new Map([["description", "input file name"]])));
  fields.push(new Field(provenance("row"), new Int64(), false, new Map([["description", "index along the arrays' first dimension"]])));
  const schema = new Schema(fields, new Map([
    ["arrowsmith:kind", "generic"],
    ["arrowsmith:version", VERSION],
    ["arrowsmith:npz_arrays", JSON.stringify(arrays.map((a) => ({ name: a.name, descr: a.header.dtype.raw, shape: a.header.shape, fortran_order: a.header.fortranOrder })))],
    ["arrowsmith:npz_scalars", JSON.stringify(scalars)],
  ]));
  return { schema, rows: rows ?? 0, columns, scalars };
}

function columnData(type: DataType, values: NpyTypedArray | string[] | Uint8Array[], kind: string, s: number, e: number, width: number): Data {
  const len = e - s;
  const leaf = (t: DataType, from: number, to: number): Data => {
    if (kind === "b") return boolData((values as Uint8Array).subarray(from, to), to - from);
    if (kind === "U" || kind === "S") return vectorFromArray((values as unknown[]).slice(from, to) as never, t).data[0];
    return primitiveData(t, (values as NpyTypedArray).subarray(from, to), to - from);
  };
  if (!(type instanceof FixedSizeList)) return leaf(type, s, e);
  const child = leaf(type.children[0].type, s * width, e * width);
  return makeData({ type, length: len, nullCount: 0, child });
}

/**
 * Reads every column array (whole, into JS memory: npyValues swaps and transposes as needed) and
 * emits record batches of about `batchBytes` of values, up to `maxRows` rows. Returns the rows written.
 */
export function emitGenericNpz(zip: ZipArchive, plan: GenericNpzPlan, source: Vector<Utf8>, emit: (b: RecordBatch) => void,
                               batchBytes = 32 << 20, maxRows = plan.rows): number {
  const n = Math.min(plan.rows, maxRows);
  const fields = plan.schema.fields;
  const values = plan.columns.map((c) => {
    const npy = zip.read(c.array.entry);
    return npyValues(parseNpyHeader(npy, npzContext(zip, c.array.entry)), npy);
  });
  const rowBytes = plan.columns.reduce((a, c) => a + c.width * Math.max(1, c.array.header.dtype.itemSize), 0);
  const step = Math.max(1, Math.floor(batchBytes / Math.max(1, rowBytes)));
  for (let s = 0; s < n; s += step) {
    const e = Math.min(n, s + step);
    const len = e - s;
    const children = plan.columns.map((c, j) => columnData(fields[j].type, values[j], c.array.header.dtype.kind, s, e, c.width));
    const rows = new BigInt64Array(len);
    const words = new Int32Array(rows.buffer);
    for (let i = 0; i < len; i++) words[2 * i] = s + i;
    children.push(dictionaryData(fields[fields.length - 2].type, source, new Int32Array(len), len));
    children.push(primitiveData(fields[fields.length - 1].type, rows, len));
    emit(recordBatch(plan.schema, children, len));
  }
  return n;
}

/** The schema of an empty or unreadable generic NPZ: provenance only. */
export function emptyGenericSchema(extra: Record<string, string> = {}): Schema {
  return new Schema([
    new Field("source", dictionaryType(0), false, new Map([["description", "input file name"]])),
    new Field("row", new Int64(), false, new Map([["description", "index along the arrays' first dimension"]])),
  ], new Map([["arrowsmith:kind", "generic"], ["arrowsmith:version", VERSION], ...Object.entries(extra)]));
}
