// `inspect` for NPZ archives: the members and their arrays (dtype, shape, order, how stored), the
// kind and metadata layout detected, the output schema, and the first clusters (metadata and
// metrics) or generic rows, computed by the same code that converts them.
import type { RecordBatch, Schema } from "apache-arrow";
import { dictionaryVector } from "./arrow.js";
import { clusterPlanSchema, emitClusters, isClusterArchive, type LayoutName, planClusterBatch } from "./datasets/clusters.js";
import { emitGenericNpz, planGenericNpz } from "./datasets/generic-npz.js";
import { isArrowsmithError } from "./errors.js";
import { npzArrays, npzHeader } from "./formats/npy.js";
import { defaultClusterSchema, npzCompression, openNpz } from "./pipeline/npz-task.js";
import { kernels } from "./wasm.js";

export interface NpzArrayInfo {
  name: string;
  member: string;
  descr?: string;
  dtype?: string;
  shape?: number[];
  fortran_order?: boolean;
  npy_version?: string;
  zip_method: string;
  bytes: number;
  compressed_bytes: number;
  error?: { code: string; message: string };
}

export interface NpzInspectResult {
  file: string;
  format: "npz";
  size: number;
  compression: string;
  kind: "clusters" | "generic" | "empty";
  arrays: NpzArrayInfo[];
  /** Clusters: how many, the image shape and the metadata layout. */
  clusters?: number;
  image_shape?: [number, number];
  layout?: { name: string; how: string; order: string };
  /** Generic: rows and the 0-d arrays kept in the schema metadata. */
  rows?: number;
  schema: { name: string; type: string; nullable: boolean; metadata?: Record<string, string> }[];
  schemaMetadata: Record<string, string>;
  first: Record<string, unknown>[];
  warnings: string[];
  problems: { offset?: number; code: string; message: string }[];
}

function describeSchema(schema: Schema): NpzInspectResult["schema"] {
  return schema.fields.map((f) => ({
    name: f.name, type: String(f.type), nullable: f.nullable,
    ...(f.metadata.size ? { metadata: Object.fromEntries(f.metadata) } : {}),
  }));
}

function jsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (v && typeof v === "object" && "toArray" in v) {
    const a = Array.from((v as { toArray(): ArrayLike<unknown> }).toArray());
    return a.length > 16 ? { values: a.length } : a.map(jsonValue);
  }
  return v;
}

/** Reads the archive (CRCs checked) and describes it; problems are reported, not thrown. */
export function inspectNpz(file: string, n = 3, opts: { metadataLayout?: "auto" | LayoutName } = {}): NpzInspectResult {
  const k = kernels();
  const mark = k.mark();
  const problems: NpzInspectResult["problems"] = [];
  const warnings: string[] = [];
  const first: Record<string, unknown>[] = [];
  const input = openNpz(file);
  try {
    const zip = input.zip;
    const base = { file, format: "npz" as const, size: input.size, compression: npzCompression(zip) };
    if (!zip) {
      const schema = defaultClusterSchema(opts.metadataLayout ?? "auto", "f32");
      warnings.push("empty file (0 bytes): converted as an empty cluster batch");
      return { ...base, kind: "empty", arrays: [], schema: describeSchema(schema), schemaMetadata: Object.fromEntries(schema.metadata), first, warnings, problems };
    }
    const arrays: NpzArrayInfo[] = zip.entries.map((e) => {
      const info: NpzArrayInfo = {
        name: e.name.replace(/\.npy$/, ""), member: e.name, zip_method: e.method === 0 ? "stored" : e.method === 8 ? "deflate" : `method ${e.method}`,
        bytes: e.size, compressed_bytes: e.compressedSize,
      };
      if (!e.name.endsWith(".npy")) return info;
      try {
        const h = npzHeader(zip, e);
        Object.assign(info, { descr: h.dtype.raw, dtype: h.dtype.name, shape: [...h.shape], fortran_order: h.fortranOrder, npy_version: h.version });
      } catch (err) {
        if (!isArrowsmithError(err)) throw err;
        info.error = { code: err.code, message: err.detail };
        problems.push({ offset: err.offset, code: err.code, message: err.message });
      }
      return info;
    });
    const collect = (b: RecordBatch) => {
      for (let i = 0; i < b.numRows && first.length < n; i++) {
        const row: Record<string, unknown> = {};
        for (const f of b.schema.fields) {
          if (f.name === "image" || f.name === "source") continue;
          row[f.name] = jsonValue(b.getChild(f.name)!.get(i));
        }
        first.push(row);
      }
    };
    const source = dictionaryVector([file.slice(file.lastIndexOf("/") + 1)]);
    if (isClusterArchive(zip)) {
      let schema: Schema | undefined;
      const result = { ...base, kind: "clusters" as const, arrays, first, warnings, problems };
      try {
        const b = planClusterBatch(k, zip, { metadataLayout: opts.metadataLayout ?? "auto" });
        schema = clusterPlanSchema(b, "f32");
        emitClusters(k, zip, b, schema, source, collect, { precision: "f32", maxRows: n });
        return {
          ...result, clusters: b.n, image_shape: [b.height, b.width], layout: { name: b.layout.layout.name, how: b.layout.how, order: b.layout.layout.what },
          schema: describeSchema(schema), schemaMetadata: Object.fromEntries(schema.metadata),
        };
      } catch (err) {
        if (!isArrowsmithError(err)) throw err;
        if (!problems.some((p) => p.message === err.message)) problems.push({ offset: err.offset, code: err.code, message: err.message });
        return { ...result, schema: [], schemaMetadata: {} };
      }
    }
    try {
      const plan = planGenericNpz(zip, npzArrays(zip));
      emitGenericNpz(zip, plan, source, collect, undefined, n);
      return { ...base, kind: "generic", arrays, rows: plan.rows, schema: describeSchema(plan.schema), schemaMetadata: Object.fromEntries(plan.schema.metadata), first, warnings, problems };
    } catch (err) {
      if (!isArrowsmithError(err)) throw err;
      if (!problems.some((p) => p.message === err.message)) problems.push({ offset: err.offset, code: err.code, message: err.message });
      return { ...base, kind: "generic", arrays, schema: [], schemaMetadata: {}, first, warnings, problems };
    }
  } finally {
    input.close();
    k.release(mark);
  }
}

/** The text form of `inspect` for an NPZ (the TFRecord one's style). */
export function renderNpzInspect(r: NpzInspectResult): string {
  const shape = (s?: number[]) => (s ? `(${s.join(", ")}${s.length === 1 ? "," : ""})` : "?");
  const head = r.kind === "clusters" && r.clusters !== undefined
    ? `kind clusters, ${r.clusters} clusters of ${r.image_shape![0]}×${r.image_shape![1]}, metadata layout ${r.layout!.name} (${r.layout!.how}: ${r.layout!.order})`
    : r.kind === "generic" && r.rows !== undefined ? `kind generic, ${r.rows} rows` : `kind ${r.kind}`;
  return [
    `${r.file}: NPZ (${r.compression}), ${r.size} bytes, ${head}`,
    ...(r.arrays.length ? ["arrays:"] : []),
    ...r.arrays.map((a) => `  ${a.name}: ${a.error ? `${a.error.code}: ${a.error.message}` : `${a.dtype} '${a.descr}' ${shape(a.shape)}${a.fortran_order ? " Fortran order" : ""}`}, ${a.zip_method}, ${a.bytes} bytes${a.zip_method === "deflate" ? ` (${a.compressed_bytes} compressed)` : ""}`),
    ...(r.schema.length ? ["schema:"] : []),
    ...r.schema.map((f) => `  ${f.name}: ${f.type}${f.nullable ? " (nullable)" : ""}${f.metadata?.["ARROW:extension:metadata"] ? ` tensor ${f.metadata["ARROW:extension:metadata"]}` : ""}`),
    ...(r.schemaMetadata["arrowsmith:npz_scalars"] && r.schemaMetadata["arrowsmith:npz_scalars"] !== "{}" ? [`0-d arrays (schema metadata): ${r.schemaMetadata["arrowsmith:npz_scalars"]}`] : []),
    ...(r.first.length ? [`first ${r.first.length} ${r.kind === "clusters" ? "cluster(s)" : "row(s)"}:`, ...r.first.map((x) => "  " + JSON.stringify(x))] : []),
    ...r.warnings.map((w) => `warning: ${w}`),
    ...(r.problems.length ? [`problems (${r.problems.length}):`, ...r.problems.map((p) => `  ${p.code}: ${p.message}`)] : []),
  ].join("\n");
}
