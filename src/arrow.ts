// Zero-copy RecordBatch building: columns are made with makeData over typed arrays we already
// hold (for images, views of wasm memory that the sink writes before the memory is reused).
// Arrow JS has no extension-type API, so tensor columns carry the canonical
// `arrow.fixed_shape_tensor` extension metadata on their field, which pyarrow recognises.
import {
  Binary, Bool, type DataType, Dictionary, Field, FixedSizeList, Float32, Float64, Int32, Int64, makeData,
  RecordBatch, Schema, Struct, Utf8, type Data, vectorFromArray, type Vector,
} from "apache-arrow";

export const TENSOR_EXTENSION = "arrow.fixed_shape_tensor";

/** A FixedSizeList<Float32|Float64> field whose values are row-major tensors of `shape`. */
export function tensorField(name: string, shape: number[], dimNames: string[] | undefined, f64: boolean): Field {
  const size = shape.reduce((a, b) => a * b, 1);
  const item = new Field("item", f64 ? new Float64() : new Float32(), false);
  const meta: Record<string, unknown> = { shape };
  if (dimNames) meta.dim_names = dimNames;
  return new Field(name, new FixedSizeList(size, item), false, new Map([
    ["ARROW:extension:name", TENSOR_EXTENSION],
    ["ARROW:extension:metadata", JSON.stringify(meta)],
  ]));
}

/**
 * The schema without the `ARROW:extension:*` field metadata (`--tensor-type plain`): tensors stay
 * the same FixedSizeList, which readers that refuse unknown extension types (polars) read as
 * fixed-size arrays. The tensor's shape and dimension names stay, as `arrowsmith:tensor`.
 */
export function withoutExtensions(schema: Schema): Schema {
  const plain = (m: Map<string, string>) => {
    const out = new Map([...m].filter(([k]) => !k.startsWith("ARROW:extension:")));
    const shape = m.get("ARROW:extension:metadata");
    if (m.get("ARROW:extension:name") === TENSOR_EXTENSION && shape !== undefined) out.set("arrowsmith:tensor", shape);
    return out;
  };
  return new Schema(schema.fields.map((f) => new Field(f.name, f.type, f.nullable, plain(f.metadata))), schema.metadata);
}

/** Tensor column data over `values` (n rows of `size` elements each). */
export function tensorData(type: FixedSizeList, values: Float32Array | Float64Array, n: number): Data {
  const child = makeData({ type: type.children[0].type as Float32, length: n * type.listSize, nullCount: 0, data: values as Float32Array });
  return makeData({ type, length: n, nullCount: 0, child });
}

/** A validity bitmap from one byte per row (1 = valid); returns [bitmap, nullCount]. */
export function bitmap(valid: Uint8Array, n: number): [Uint8Array, number] {
  const bits = new Uint8Array(((n + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) bits[i >> 3] |= 1 << (i & 7); else nulls++;
  }
  return [bits, nulls];
}

export function primitiveData<T extends DataType>(type: T, values: ArrayLike<unknown> & ArrayBufferView, n: number,
                                                  valid?: Uint8Array): Data<T> {
  if (!valid) return makeData({ type, length: n, nullCount: 0, data: values } as never) as Data<T>;
  const [nullBitmap, nullCount] = bitmap(valid, n);
  return makeData({ type, length: n, nullCount, nullBitmap: nullCount ? nullBitmap : undefined, data: values } as never) as Data<T>;
}

/** Bool column from one byte per row. */
export function boolData(values: Uint8Array, n: number, valid?: Uint8Array): Data<Bool> {
  const [bits] = bitmap(values, n);
  if (!valid) return makeData({ type: new Bool(), length: n, nullCount: 0, data: bits });
  const [nullBitmap, nullCount] = bitmap(valid, n);
  return makeData({ type: new Bool(), length: n, nullCount, nullBitmap: nullCount ? nullBitmap : undefined, data: bits });
}

/**
 * A dictionary-encoded utf8 column type. One dictionary vector is made per output file and reused
 * for every batch, so the IPC writer emits it once.
 */
export function dictionaryType(id: number): Dictionary<Utf8, Int32> {
  return new Dictionary(new Utf8(), new Int32(), id, false);
}

export function dictionaryVector(values: string[]): Vector<Utf8> {
  return vectorFromArray(values, new Utf8());
}

export function dictionaryData(type: Dictionary<Utf8, Int32>, dict: Vector<Utf8>, indices: Int32Array, n: number,
                               valid?: Uint8Array): Data<Dictionary<Utf8, Int32>> {
  if (!valid) return makeData({ type, length: n, nullCount: 0, data: indices, dictionary: dict });
  const [nullBitmap, nullCount] = bitmap(valid, n);
  return makeData({ type, length: n, nullCount, nullBitmap: nullCount ? nullBitmap : undefined, data: indices, dictionary: dict });
}

/**
 * A RecordBatch of `n` rows from one Data per schema field, each `n` long. Made without the
 * RecordBatch constructor: it re-derives the schema through Schema.assign, which looks up every
 * field by name among all the others (quadratic: one record with 100,000 features took 30 s).
 * Every child here already has the batch's length, which is all that pass would fix.
 */
export function recordBatch(schema: Schema, children: Data[], n: number): RecordBatch {
  const data = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  if (children.length !== schema.fields.length || children.some((c) => c.length !== n)) return new RecordBatch(schema, data);
  return Object.assign(Object.create(RecordBatch.prototype) as RecordBatch, { schema, data, _metadata: new Map() });
}

/** One column's values and validity in a batch this conversion built (offset 0). */
export function column(b: RecordBatch, name: string): { values: ArrayLike<number | bigint>; valid: (r: number) => boolean } | undefined {
  const v = b.getChild(name);
  if (!v) return undefined;
  const d = v.data[0];
  const bits = d.nullBitmap;
  const off = d.offset;
  return {
    values: d.values as ArrayLike<number | bigint>,
    valid: d.nullCount > 0 && bits ? (r) => ((bits[(off + r) >> 3] >> ((off + r) & 7)) & 1) === 1 : () => true,
  };
}

/** Values of a numeric column as the builders keep them, for loops over whole columns. */
export type NumericValues = Float64Array | Float32Array | Int32Array;

/**
 * One numeric column's value buffer and validity bitmap in a batch this conversion built: value
 * r is `values[r]`, valid when `bits` is null or bit `offset + r` of it is set.
 */
export function columnBuffers(b: RecordBatch, name: string): { values: NumericValues; bits: Uint8Array | null; offset: number } | undefined {
  const d = columnData(b, name);
  if (!d) return undefined;
  return { values: d.values as NumericValues, bits: d.nullCount > 0 && d.nullBitmap ? d.nullBitmap : null, offset: d.offset };
}

/**
 * The Data of the first column named `name` (undefined if none), as `b.getChild(name)?.data[0]`
 * for the one-chunk columns of a record batch, without its cost: getChild searches the fields by
 * name and wraps the column in a new Vector each call (~1 µs; the report reads ~40 columns a
 * batch). The index comes from the schema, once per schema.
 */
export function columnData(b: RecordBatch, name: string): Data | undefined {
  let index = fieldIndex.get(b.schema);
  if (!index) {
    index = new Map();
    b.schema.fields.forEach((f, i) => { if (!index!.has(f.name)) index!.set(f.name, i); });
    fieldIndex.set(b.schema, index);
  }
  const i = index.get(name);
  return i === undefined ? undefined : b.data.children[i];
}

const fieldIndex = new WeakMap<Schema, Map<string, number>>();

export { Binary, Bool, Field, Float32, Float64, Int32, Int64, Schema, Utf8 };
