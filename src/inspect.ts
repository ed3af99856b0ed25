// `inspect` and `verify`: look into one input without writing anything.
import type { RecordBatch } from "apache-arrow";
import { SCONE_DEFAULTS, type SconeOptions, SconeBatcher, METRICS, sconeSchema, isSconeRecord } from "./datasets/scone.js";
import { ExampleSchemaInference } from "./datasets/generic-tfrecord.js";
import { statSync } from "node:fs";
import type { LayoutName } from "./datasets/clusters.js";
import { isArrowsmithError } from "./errors.js";
import { decodeExample, type FeatureValue } from "./formats/example.js";
import { readRecords } from "./io/records.js";
import { decodeTFRecordTask, detectTFRecordKind, FILE_DEFAULTS, firstRecordKinds } from "./pipeline/convert-file.js";
import { npzCompression, openNpz, readNpzFile } from "./pipeline/npz-task.js";
import { ErrorPolicy } from "./pipeline/policy.js";
import { countingSink } from "./sinks/counting.js";
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
export async function inspectTFRecord(file: string, n = 3, opts: SconeOptions = SCONE_DEFAULTS, maxRecordBytes?: number): Promise<InspectResult> {
  const k = kernels();
  const mark = k.mark();
  try {
    const first: Record<string, unknown>[] = [];
    const kinds = await firstRecordKinds(k, file);
    const kind: "scone" | "generic" = !kinds || isSconeRecord(kinds) ? "scone" : "generic";
    const inference = new ExampleSchemaInference();
    const rows: Record<string, unknown>[] = [];
    const collect = (b: RecordBatch) => {
      for (let i = 0; i < b.numRows; i++) {
        const row: Record<string, unknown> = {};
        for (const name of ["id", "label", "label_name", "z", "z_err", ...METRICS.map((m) => m.name), "record"]) {
          const v = b.getChild(name)!.get(i);
          row[name] = typeof v === "bigint" ? v.toString() : v;
        }
        rows.push(row);
      }
    };
    // made before the windows: allocating wasm memory later would detach their views
    const batcher = kind === "scone" ? new SconeBatcher(k, { ...opts, batchRows: Math.max(1, n) }, file, collect) : undefined;
    const policy = new ErrorPolicy("skip");
    const read = await readRecords(k, file, { verify: true, maxRecordBytes, policy }, (b, ptr, f) => {
      if (first.length < n) {
        const feats = decodeExample(b, f.start, f.start + f.length);
        first.push(Object.fromEntries([...feats].sort(([x], [y]) => (x < y ? -1 : 1)).map(([key, v]) => [key, featureJson(v)])));
      }
      if (kind === "generic") inference.add(b, f, file);
      else if (batcher && rows.length < n) batcher.add(b, ptr, f, file);
    });
    batcher?.flush();
    const schema = kind === "generic" ? inference.schema(file) : sconeSchema(opts);
    if (kind === "scone") rows.slice(0, n).forEach((r, i) => { if (first[i]) first[i] = { ...r, features: Object.keys(first[i]) }; });
    return {
      file, format: "tfrecord", compression: read.compression, size: read.fileSize, kind, records: read.framed,
      schema: describeSchema(schema), schemaMetadata: Object.fromEntries(schema.metadata), first,
      problems: policy.problems.map((p) => ({ offset: p.offset, record: p.record, code: p.code, message: p.message })),
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

/**
 * Every check `convert` makes (framing, both CRCs, the protobuf, the kind's features and image
 * sizes), with the same offsets and messages, and nothing written. `records` counts the records
 * that convert would write.
 */
export async function verifyTFRecord(file: string, opts: { maxRecordBytes?: number; windowBytes?: number; kind?: "scone" | "generic"; scone?: SconeOptions } = {}): Promise<VerifyResult> {
  const k = kernels();
  const kind = opts.kind ?? await detectTFRecordKind(k, file);
  const r = await decodeTFRecordTask(k, { input: file, outName: "", kind },
    { ...FILE_DEFAULTS, onError: "skip", maxRecordBytes: opts.maxRecordBytes, windowBytes: opts.windowBytes, scone: opts.scone ?? FILE_DEFAULTS.scone }, () => countingSink());
  return {
    file, compression: r.compression, size: r.inputBytes, records: r.rows, ok: r.problems.length === 0,
    problems: r.problems.map((p) => ({ offset: p.offset, record: p.record, code: p.code, message: p.message })),
  };
}

/**
 * An NPZ through every check of the conversion (the same reader, with a sink that keeps nothing):
 * the central directory, each member's CRC-32 and .npy header, and for a cluster batch its layout,
 * row counts and the plane its file name declares; for a generic archive the shared row count.
 * `records` is the rows the conversion would write. Problems carry the file's byte offset where
 * one is known, and never a record index (an NPZ has none).
 */
export function verifyNpz(file: string, opts: { kind?: "auto" | "clusters" | "generic"; metadataLayout?: "auto" | LayoutName } = {}): VerifyResult {
  const k = kernels();
  let size = 0;
  let compression = "none";
  try {
    size = statSync(file).size;
    const r = readNpzFile(k, file, { kind: opts.kind ?? "auto", metadataLayout: opts.metadataLayout ?? "auto", precision: "f32", verify: true }, () => countingSink());
    r.sink.finish();
    return { file, compression: r.compression, size: r.size, records: r.rows, ok: true, problems: [] };
  } catch (err) {
    if (!isArrowsmithError(err)) throw err;
    const problem = { ...(err.offset === undefined ? {} : { offset: err.offset }), code: err.code, message: err.detail };
    try {
      const input = openNpz(file, false);
      compression = npzCompression(input.zip);
      input.close();
    } catch { /* the archive itself is unreadable */ }
    return { file, compression, size, records: 0, ok: false, problems: [problem] };
  }
}
