// `inspect` and `verify`: look into one input without writing anything.
import type { RecordBatch } from "apache-arrow";
import { SCONE_DEFAULTS, type SconeOptions, SconeBatcher, METRICS, sconeSchema, isSconeRecord } from "./datasets/scone.js";
import { ExampleSchemaInference } from "./datasets/generic-tfrecord.js";
import { ArrowsmithError, isArrowsmithError } from "./errors.js";
import { decodeExample, type FeatureValue, WireError } from "./formats/example.js";
import { firstRecordKinds, locate } from "./pipeline/convert-file.js";
import { parseNpyHeader } from "./formats/npy.js";
import { npzCompression, openNpz } from "./pipeline/npz-task.js";
import { maskedCrcOf, openStream, tfrecordWindows } from "./sources.js";
import { kernels } from "./wasm.js";

export interface InspectResult {
  file: string;
  format: "tfrecord";
  compression: string;
  size: number;
  kind: "scone" | "generic";
  records: number;
  schema: { name: string; type: string; nullable: boolean; metadata?: Record<string, string> }[];
  schemaMetadata: Record<string, string>;
  first: Record<string, unknown>[];
  problems: { offset?: number; record?: number; code: string; message: string }[];
}

function featureJson(v: FeatureValue): unknown {
  switch (v.kind) {
    case "int64": return { int64: Array.from(v.values, (x) => x.toString()) };
    case "float": return { float: Array.from(v.values) };
    case "bytes": return { bytes: v.values.map((b) => (b.length <= 64 ? Buffer.from(b).toString("base64") : { bytes: b.length })) };
    default: return { none: [] };
  }
}

function describeSchema(schema: import("apache-arrow").Schema): InspectResult["schema"] {
  return schema.fields.map((f) => ({
    name: f.name, type: String(f.type), nullable: f.nullable,
    ...(f.metadata.size ? { metadata: Object.fromEntries(f.metadata) } : {}),
  }));
}

/** Scans the whole file (CRCs checked), and decodes the first `n` records. */
export async function inspectTFRecord(file: string, n = 3, opts: SconeOptions = SCONE_DEFAULTS): Promise<InspectResult> {
  const k = kernels();
  const mark = k.mark();
  try {
    const input = openStream(file, undefined, (b) => maskedCrcOf(k, b));
    const first: Record<string, unknown>[] = [];
    const problems: InspectResult["problems"] = [];
    const kinds = await firstRecordKinds(k, file);
    const kind: "scone" | "generic" = !kinds || isSconeRecord(kinds) ? "scone" : "generic";
    let records = 0;
    const inference = new ExampleSchemaInference();
    const rows: Record<string, unknown>[] = [];
    const collect = (b: RecordBatch) => {
      for (let i = 0; i < b.numRows; i++) {
        const row: Record<string, unknown> = {};
        for (const name of ["id", "label", "z", "z_err", ...METRICS.map((m) => m.name), "record"]) {
          const v = b.getChild(name)!.get(i);
          row[name] = typeof v === "bigint" ? v.toString() : v;
        }
        rows.push(row);
      }
    };
    // made before the windows: allocating wasm memory later would detach their views
    const batcher = kind === "scone" ? new SconeBatcher(k, { ...opts, batchRows: Math.max(1, n) }, file, collect) : undefined;
    try {
      for await (const w of tfrecordWindows(k, input, { verify: true })) {
        for (const f of w.frames) {
          records++;
          if (f.error) { problems.push({ offset: f.offset, record: f.index, code: f.error.code, message: f.error.detail }); continue; }
          try {
            if (first.length < n) {
              let feats: Map<string, FeatureValue>;
              try {
                feats = decodeExample(w.bytes, f.start, f.start + f.length);
              } catch (e) {
                if (e instanceof WireError) throw new ArrowsmithError("protobuf", `malformed tf.train.Example: ${e.detail}`, { file, offset: f.offset, record: f.index });
                throw e;
              } first.push(Object.fromEntries([...feats].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, v]) => [key, featureJson(v)])));
            }
            if (kind === "generic") inference.add(w.bytes, f, file);
            else if (batcher && rows.length < n) batcher.add(w.bytes, w.ptr, f, file);
          } catch (e) {
            if (!isArrowsmithError(e)) throw e;
            const at = locate(e, file, f);
            problems.push({ offset: at.offset, record: at.record, code: at.code, message: at.detail });
          }
        }
      }
    } catch (e) {
      if (!isArrowsmithError(e)) throw e;
      problems.push({ offset: e.offset, record: e.record, code: e.code, message: e.detail });
    }
    batcher?.flush();
    const schema = kind === "generic" ? inference.schema(file) : sconeSchema(opts);
    if (kind === "scone") rows.slice(0, n).forEach((r, i) => { if (first[i]) first[i] = { ...r, features: Object.keys(first[i]) }; });
    return {
      file, format: "tfrecord", compression: input.compression, size: input.fileSize, kind, records,
      schema: describeSchema(schema), schemaMetadata: Object.fromEntries(schema.metadata), first, problems,
    };
  } finally {
    k.release(mark);
  }
}

export interface VerifyResult {
  file: string;
  compression: string;
  size: number;
  records: number;
  ok: boolean;
  problems: { offset?: number; record?: number; code: string; message: string }[];
}

/** Framing and both CRCs of every record; nothing decoded, nothing written. */
export async function verifyTFRecord(file: string): Promise<VerifyResult> {
  const k = kernels();
  const mark = k.mark();
  const problems: VerifyResult["problems"] = [];
  let records = 0;
  try {
    const input = openStream(file, undefined, (b) => maskedCrcOf(k, b));
    try {
      for await (const w of tfrecordWindows(k, input, { verify: true })) {
        for (const f of w.frames) {
          records++;
          if (f.error) problems.push({ offset: f.offset, record: f.index, code: f.error.code, message: f.error.detail });
        }
      }
    } catch (e) {
      if (!isArrowsmithError(e)) throw e;
      problems.push({ offset: e.offset, record: e.record, code: e.code, message: e.detail });
    }
    return { file, compression: input.compression, size: input.fileSize, records, ok: problems.length === 0, problems };
  } finally {
    k.release(mark);
  }
}

/** Structure of an NPZ: the central directory, each member's CRC-32, and each .npy header. */
export function verifyNpz(file: string): VerifyResult {
  const problems: VerifyResult["problems"] = [];
  let members = 0;
  let size = 0;
  let compression = "none";
  try {
    const input = openNpz(file, true);
    size = input.size;
    compression = npzCompression(input.zip);
    try {
      for (const e of input.zip?.entries ?? []) {
        try {
          const bytes = input.zip!.read(e);
          if (e.name.endsWith(".npy")) parseNpyHeader(bytes, { file, member: e.name, deflated: e.method !== 0 }, bytes.length);
        } catch (err) {
          if (!isArrowsmithError(err)) throw err;
          problems.push({ offset: err.offset, code: err.code, message: err.detail });
        }
        members++;
      }
    } finally {
      input.close();
    }
  } catch (err) {
    if (!isArrowsmithError(err)) throw err;
    problems.push({ offset: err.offset, code: err.code, message: err.detail });
  }
  return { file, compression, size, records: members, ok: problems.length === 0, problems };
}
