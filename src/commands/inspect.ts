// `arrowsmith inspect`: one file's schema, record count, first records and their metrics.
import { inspectTFRecord, type InspectResult } from "../inspect.js";
import { detectContainer } from "../datasets/kinds.js";
import { inspectNpz, type NpzInspectResult, renderNpzInspect } from "../inspect-npz.js";
import { checkInputFile } from "../pipeline/inputs.js";
import { type CommandRun, sconeOptions } from "./command.js";

export interface InspectCommandOptions {
  records: number;
  timeRange?: [number, number];
  maxRecordBytes?: number;
}

export type InspectCommandResult = { format: "npz"; result: NpzInspectResult } | { format: "tfrecord"; result: InspectResult };

export async function runInspect(file: string, o: InspectCommandOptions): Promise<InspectCommandResult> {
  // a folder, FIFO, socket or device is refused by name before anything opens it
  checkInputFile(file);
  // by the file's bytes: an Arrow/Parquet output or any other file is refused here, by name
  if (detectContainer(file) === "npz") return { format: "npz", result: inspectNpz(file, o.records) };
  return { format: "tfrecord", result: await inspectTFRecord(file, o.records, sconeOptions({ precision: "f32", timeRange: o.timeRange }), o.maxRecordBytes) };
}

export function renderTFRecordInspect(r: InspectResult): string {
  return [
    `${r.file}: TFRecord (${r.compression}), ${r.size} bytes, ${r.records} records, kind ${r.kind}`,
    "schema:",
    ...r.schema.map((f) => `  ${f.name}: ${f.type}${f.nullable ? " (nullable)" : ""}${f.metadata?.["ARROW:extension:metadata"] ? ` tensor ${f.metadata["ARROW:extension:metadata"]}` : ""}`),
    ...(r.schemaMetadata["arrowsmith:axes"] ? [`axes: ${r.schemaMetadata["arrowsmith:axes"]}`] : []),
    `first ${r.first.length} record(s):`,
    ...r.first.map((x) => "  " + JSON.stringify(x)),
    ...(r.problems.length ? [`problems (${r.problems.length}):`, ...r.problems.map((p) => `  byte ${p.offset}, record ${p.record}: ${p.message}`)] : []),
  ].join("\n");
}

export const inspectCommand: CommandRun<InspectCommandResult> = {
  run: ([file], o) => runInspect(file as string, o as unknown as InspectCommandOptions),
  outcome: (r) => (r.result.problems.length ? "failure" : "ok"),
  text: (r) => (r.format === "npz" ? renderNpzInspect(r.result) : renderTFRecordInspect(r.result)),
  json: (r) => r.result,
};
