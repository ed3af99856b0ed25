// CSV of the scalar and metric columns, one row per event (tensor columns are left out). Numbers
// are written in full (shortest round-trip form), not rounded; nulls are empty fields; strings
// are quoted when they need it. For SCONE the header uses the names SCONE's own export tool
// writes where we compute the same quantity (see SCONE_CSV in src/datasets/scone.ts).
import { DataType, type RecordBatch, type Schema, type Vector } from "apache-arrow";
import { AtomicFile } from "./atomic.js";
import type { Sink, SinkResult } from "./sink.js";

/** A CSV column: its header and how to read its value from a batch row. */
export interface CsvColumn {
  header: string;
  value(batch: RecordBatch, row: number): unknown;
}

const enc = new TextEncoder();

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Every column that is not a list/tensor, under its own name. */
export function scalarColumns(schema: Schema): CsvColumn[] {
  return schema.fields
    .filter((f) => !DataType.isFixedSizeList(f.type) && !DataType.isList(f.type))
    .map((f) => ({ header: f.name, value: (b: RecordBatch, r: number) => (b.getChild(f.name) as Vector | null)?.get(r) }));
}

/** The tensor and list columns, which CSV leaves out. */
export function listColumns(schema: Schema): string[] {
  return schema.fields.filter((f) => DataType.isFixedSizeList(f.type) || DataType.isList(f.type)).map((f) => f.name);
}

export class CsvSink implements Sink {
  private readonly file: AtomicFile;
  private rows = 0;

  constructor(path: string, private readonly columns: CsvColumn[], private readonly dropped: string[] = []) {
    this.file = new AtomicFile(path);
    this.file.write(enc.encode(columns.map((c) => cell(c.header)).join(",") + "\n"));
  }

  write(batch: RecordBatch): void {
    const lines: string[] = [];
    for (let r = 0; r < batch.numRows; r++) lines.push(this.columns.map((c) => cell(c.value(batch, r))).join(","));
    if (lines.length) this.file.write(enc.encode(lines.join("\n") + "\n"));
    this.rows += batch.numRows;
  }

  finish(): SinkResult {
    this.file.commit();
    return { path: this.file.finalPath, rows: this.rows, bytes: this.file.bytes, ...(this.dropped.length ? { dropped: this.dropped } : {}) };
  }

  abort(): void {
    this.file.abort();
  }
}
