// The `generic` kind for TFRecord files of tf.train.Example: the schema is inferred from every
// record in a first pass (kind, value counts, presence), then a second pass builds the columns.
//   one value in every record        → scalar column (nullable if the feature is sometimes missing)
//   the same count n > 1 everywhere  → FixedSizeList<n>
//   varying counts                   → List
//   int64 → Int64, float → Float32, bytes → Utf8 when every value is valid UTF-8, else Binary
import {
  Binary, Field, FixedSizeList, Float32, Int64, List, makeBuilder, type Builder, type DataType, type RecordBatch, Schema, Utf8,
  type Vector,
} from "apache-arrow";
import { dictionaryData, dictionaryType, dictionaryVector, primitiveData, recordBatch } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import { type FeatureKind, forEachBytes, forEachFloat, forEachInt64, int64, keyString, scanExample, WireError } from "../formats/example.js";
import type { Frame } from "../formats/tfrecord.js";
import { VERSION } from "../version.js";

interface FeatureStats {
  kinds: Set<FeatureKind>;
  present: number;
  minCount: number;
  maxCount: number;
  utf8: boolean;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextDecoder("utf-8");

function isUtf8(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] >= 0x80) {
    try { strictUtf8.decode(b); return true; } catch { return false; }
  }
  return true;
}

function wire<T>(fn: () => T, where: { file: string; offset: number; record: number }): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WireError) throw new ArrowsmithError("protobuf", `malformed tf.train.Example: ${e.detail}`, { ...where, hint: "the record is corrupt; use --on-error skip to drop it" });
    throw e;
  }
}

/** First pass: what each feature looks like across the records. */
export class ExampleSchemaInference {
  readonly stats = new Map<string, FeatureStats>();
  records = 0;

  add(b: Uint8Array, frame: Frame, file: string): void {
    const where = { file, offset: frame.offset, record: frame.index };
    const seen = new Map<string, { kind: FeatureKind; count: number; utf8: boolean }>();
    wire(() => scanExample(b, frame.start, frame.start + frame.length, (ks, ke, ref) => {
      const key = keyString(b, ks, ke);
      let count = 0;
      let ok = true;
      if (ref.kind === "int64") count = forEachInt64(b, ref, () => {});
      else if (ref.kind === "float") count = forEachFloat(b, ref, () => {});
      else if (ref.kind === "bytes") count = forEachBytes(b, ref, (s, e) => { if (ok) ok = isUtf8(b.subarray(s, e)); });
      seen.set(key, { kind: ref.kind, count, utf8: ok });
    }), where);
    for (const [key, f] of seen) {
      let s = this.stats.get(key);
      if (!s) {
        s = { kinds: new Set(), present: 0, minCount: Infinity, maxCount: 0, utf8: true };
        this.stats.set(key, s);
      }
      if (f.kind !== "none") s.kinds.add(f.kind);
      s.present++;
      s.minCount = Math.min(s.minCount, f.count);
      s.maxCount = Math.max(s.maxCount, f.count);
      s.utf8 &&= f.utf8;
    }
    this.records++;
  }

  /** Columns in name order, then `source` and `record`. */
  schema(file: string): Schema {
    const fields: Field[] = [];
    for (const key of [...this.stats.keys()].sort()) {
      const s = this.stats.get(key)!;
      if (s.kinds.size > 1) {
        throw new ArrowsmithError("schema", `feature ${key} is ${[...s.kinds].join(" in some records and ")} in others`, { file, hint: "a generic conversion needs one kind per feature" });
      }
      const kind = [...s.kinds][0] ?? "none";
      if (kind === "none") continue;
      const value: DataType = kind === "int64" ? new Int64() : kind === "float" ? new Float32() : s.utf8 ? new Utf8() : new Binary();
      const nullable = s.present < this.records;
      let type: DataType;
      let shape = "scalar";
      if (s.minCount === 1 && s.maxCount === 1) type = value;
      else if (s.minCount === s.maxCount) { type = new FixedSizeList(s.maxCount, new Field("item", value, false)); shape = `fixed(${s.maxCount})`; }
      else { type = new List(new Field("item", value, false)); shape = "list"; }
      fields.push(new Field(key, type, nullable, new Map([["tfrecord:feature", JSON.stringify({ kind, shape })]])));
    }
    fields.push(new Field("source", dictionaryType(0), false));
    fields.push(new Field("record", new Int64(), false));
    return new Schema(fields, new Map([["arrowsmith:kind", "generic"], ["arrowsmith:version", VERSION]]));
  }
}

/** Second pass: rows into Arrow builders, flushed as record batches. */
export class GenericBatcher {
  private builders: Builder[];
  private readonly names: string[];
  private readonly index = new Map<string, number>();
  private readonly present: Uint8Array;
  private records: number[] = [];
  private rows = 0;
  private bytes = 0;
  private readonly dict: Vector<Utf8>;
  events = 0;

  constructor(readonly schema: Schema, source: string, private readonly emit: (b: RecordBatch) => void,
              private readonly batchBytes = 16 << 20) {
    const feats = schema.fields.slice(0, -2);
    this.names = feats.map((f) => f.name);
    this.names.forEach((n, i) => this.index.set(n, i));
    this.builders = feats.map((f) => makeBuilder({ type: f.type, nullValues: [null, undefined] }));
    this.present = new Uint8Array(feats.length);
    this.dict = dictionaryVector([source]);
  }

  add(b: Uint8Array, frame: Frame, file: string): void {
    const where = { file, offset: frame.offset, record: frame.index };
    this.present.fill(0);
    const values: unknown[] = new Array(this.names.length);
    wire(() => scanExample(b, frame.start, frame.start + frame.length, (ks, ke, ref) => {
      const i = this.index.get(keyString(b, ks, ke));
      if (i === undefined) return;
      const field = this.schema.fields[i];
      const list: unknown[] = [];
      if (ref.kind === "int64") forEachInt64(b, ref, (lo, hi) => list.push(int64(lo, hi)));
      else if (ref.kind === "float") forEachFloat(b, ref, (v) => list.push(v));
      else if (ref.kind === "bytes") forEachBytes(b, ref, (s, e) => list.push(field.type instanceof Utf8 || (field.type.children?.[0]?.type instanceof Utf8) ? utf8.decode(b.subarray(s, e)) : b.slice(s, e)));
      this.bytes += ref.end - ref.start;
      values[i] = field.type instanceof FixedSizeList || field.type instanceof List ? list : list[0];
      this.present[i] = 1;
    }), where);
    for (let i = 0; i < this.builders.length; i++) {
      const v = this.present[i] ? values[i] : null;
      if (v === null && !this.schema.fields[i].nullable) {
        throw new ArrowsmithError("schema", `feature ${this.names[i]} is missing`, where);
      }
      this.builders[i].append(v as never);
    }
    this.records.push(frame.index);
    this.rows++;
    if (this.bytes >= this.batchBytes) this.flush();
  }

  flush(): void {
    const n = this.rows;
    if (!n) return;
    const fields = this.schema.fields;
    const children = this.builders.map((bld) => bld.flush());
    children.push(dictionaryData(fields[fields.length - 2].type, this.dict, new Int32Array(n), n));
    children.push(primitiveData(fields[fields.length - 1].type, BigInt64Array.from(this.records, (r) => BigInt(r)), n));
    this.emit(recordBatch(this.schema, children, n));
    this.events += n;
    this.rows = 0;
    this.bytes = 0;
    this.records = [];
  }
}

/** The kinds and value counts of one record's features (for kind detection and `inspect`). */
export function featureKinds(b: Uint8Array, frame: Frame): Map<string, string> {
  const kinds = new Map<string, string>();
  scanExample(b, frame.start, frame.start + frame.length, (ks, ke, ref) => kinds.set(keyString(b, ks, ke), ref.kind));
  return kinds;
}

