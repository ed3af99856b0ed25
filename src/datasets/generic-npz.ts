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
import {
  type NpyDtype, type NpyHeader, type NpzArray, NPZ_WHOLE_LIMIT, NpzRowReader, npyRowBytes, npyValues, parseNpyHeader, npzContext,
  rowContiguous, type NpyTypedArray,
} from "../formats/npy.js";
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

/** Bytes of values per window of rows (and per record batch) of a generic NPZ. */
export const GENERIC_WINDOW_BYTES = 32 << 20;

/** Where one column's rows come from: a window buffer refilled from the member, or the whole array (Fortran order). */
type ColumnSource =
  | { reader: NpzRowReader; buffer: ArrayBuffer; header: NpyHeader }
  | { whole: NpyTypedArray | string[] | Uint8Array[] };

/**
 * Reads the column arrays side by side, a window of rows at a time (each member front to back, so
 * memory follows the window, not the arrays: four 1 GiB arrays take what four small ones do), and
 * emits one record batch per window of about `batchBytes` of values, up to `maxRows` rows (the rest
 * is still read, so every member's CRC-32 is checked). Big-endian values are swapped and bools made
 * 0/1 in the window. A Fortran-order array with more than one dimension has no contiguous rows: it
 * is read whole (up to NPZ_WHOLE_LIMIT) and transposed. Returns the rows emitted.
 */
export function emitGenericNpz(zip: ZipArchive, plan: GenericNpzPlan, source: Vector<Utf8>, emit: (b: RecordBatch) => void,
                               batchBytes = GENERIC_WINDOW_BYTES, maxRows = plan.rows): number {
  const n = plan.rows;
  const stop = Math.min(n, maxRows);
  const fields = plan.schema.fields;
  const rowBytes = plan.columns.reduce((a, c) => a + npyRowBytes(c.array.header), 0);
  if (rowBytes > NPZ_WHOLE_LIMIT) {
    throw new ArrowsmithError("too_large", `one row of the arrays is ${rowBytes} bytes, over the ${NPZ_WHOLE_LIMIT} read at a time`,
      { file: zip.file, hint: "the generic kind makes one row per index of the first dimension; this archive's rows are too large for that" });
  }
  const step = Math.max(1, Math.min(n, Math.floor(batchBytes / Math.max(1, rowBytes))));
  const sources: ColumnSource[] = [];
  try {
    for (const c of plan.columns) {
      const h = c.array.header;
      if (rowContiguous(h)) {
        sources.push({ reader: new NpzRowReader(zip, c.array), buffer: new ArrayBuffer(step * npyRowBytes(h)), header: h });
      } else {
        if (c.array.entry.size > NPZ_WHOLE_LIMIT) {
          throw new ArrowsmithError("too_large",
            `member "${c.array.entry.name}" holds ${c.array.entry.size} bytes in Fortran order, which has no contiguous rows to read in windows: at most ${NPZ_WHOLE_LIMIT} bytes are read whole`,
            { file: zip.file, offset: c.array.entry.centralOffset, hint: "re-save the array in C order (np.ascontiguousarray)" });
        }
        const npy = zip.read(c.array.entry);
        sources.push({ whole: npyValues(parseNpyHeader(npy, npzContext(zip, c.array.entry)), npy) });
      }
    }
    const rows = new BigInt64Array(step);
    const words = new Int32Array(rows.buffer);
    const zeros = new Int32Array(step);
    for (let s = 0; s < n; s += step) {
      const len = Math.min(step, n - s);
      const windows = sources.map((src) => {
        if ("whole" in src) return undefined;
        const bytes = new Uint8Array(src.buffer, 0, len * src.reader.rowBytes);
        src.reader.read(len, bytes, 0);
        return windowValues(src.header, bytes, len);
      });
      const m = Math.min(stop, s + len) - s;
      if (m <= 0) continue;
      const children = plan.columns.map((c, j) => {
        const src = sources[j], w = windows[j];
        const kind = c.array.header.dtype.kind;
        return w ? columnData(fields[j].type, w, kind, 0, m, c.width) : columnData(fields[j].type, (src as { whole: NpyTypedArray }).whole, kind, s, s + m, c.width);
      });
      for (let i = 0; i < m; i++) words[2 * i] = s + i;
      children.push(dictionaryData(fields[fields.length - 2].type, source, zeros.subarray(0, m), m));
      children.push(primitiveData(fields[fields.length - 1].type, rows.subarray(0, m), m));
      emit(recordBatch(plan.schema, children, m));
    }
    for (const src of sources) if ("reader" in src) src.reader.finish();
    return stop;
  } finally {
    for (const src of sources) if ("reader" in src) src.reader.close();
  }
}

/** The values of `rows` C-order rows in `bytes` (swapped to native order in place, bools as 0/1). */
function windowValues(h: NpyHeader, bytes: Uint8Array, rows: number): NpyTypedArray | string[] | Uint8Array[] {
  const count = rows * (h.shape.slice(1).reduce((a, d) => a * d, 1));
  return npyValues({ ...h, shape: [count], count, byteLength: bytes.length, dataOffset: 0, fortranOrder: false }, bytes, true);
}

/** The schema of an empty or unreadable generic NPZ: provenance only. */
export function emptyGenericSchema(extra: Record<string, string> = {}): Schema {
  return new Schema([
    new Field("source", dictionaryType(0), false, new Map([["description", "input file name"]])),
    new Field("row", new Int64(), false, new Map([["description", "index along the arrays' first dimension"]])),
  ], new Map([["arrowsmith:kind", "generic"], ["arrowsmith:version", VERSION], ...Object.entries(extra)]));
}
