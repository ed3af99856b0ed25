// CSV of the scalar and metric columns, one row per event (tensor columns are left out). By
// default numbers are written in full (shortest round-trip form), not rounded; nulls are empty
// fields; strings are quoted when they need it. A column may bring its own formatting and the
// file its own separator (SCONE's scone-tools dialect), and files beside the main one may be
// written from the same batches (SCONE's light curves and spectra, src/datasets/scone.ts).
import { DataType, type RecordBatch, type Schema, type Vector } from "apache-arrow";
import { AtomicFile } from "./atomic.js";
import type { Sink, SinkResult } from "./sink.js";

/** A CSV column: its header and how to read its value from a batch row. */
export interface CsvColumn {
  header: string;
  value(batch: RecordBatch, row: number): unknown;
  /** The cell text (default: full precision, "nan", quoted when needed). */
  format?(v: unknown): string;
}

/** One CSV file's layout. */
export interface CsvSpec {
  columns: CsvColumn[];
  /** Field separator (default ","). */
  sep?: string;
  /** Files written beside the main one, named `<stem><suffix>.csv`, with the tensor columns they hold. */
  beside?: { suffix: string; columns: CsvColumn[]; sep?: string; holds: string[] }[];
}

const enc = new TextEncoder();

export function cell(v: unknown): string {
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

class CsvFile {
  readonly file: AtomicFile;
  private readonly sep: string;
  private readonly format: ((v: unknown) => string)[];

  constructor(path: string, private readonly columns: CsvColumn[], sep = ",") {
    this.file = new AtomicFile(path);
    this.sep = sep;
    this.format = columns.map((c) => c.format ?? cell);
    this.file.write(enc.encode(columns.map((c) => cell(c.header)).join(sep) + "\n"));
  }

  write(batch: RecordBatch): void {
    const lines: string[] = [];
    const cols = this.columns, fmt = this.format;
    for (let r = 0; r < batch.numRows; r++) {
      let line = "";
      for (let j = 0; j < cols.length; j++) line += (j ? this.sep : "") + fmt[j](cols[j].value(batch, r));
      lines.push(line);
    }
    if (lines.length) this.file.write(enc.encode(lines.join("\n") + "\n"));
  }
}

export class CsvSink implements Sink {
  private readonly files: CsvFile[] = [];
  private rows = 0;

  private readonly dropped: string[];

  constructor(path: string, spec: CsvSpec | CsvColumn[], dropped: string[] = []) {
    const s: CsvSpec = Array.isArray(spec) ? { columns: spec } : spec;
    const held = new Set((s.beside ?? []).flatMap((b) => b.holds));
    this.dropped = dropped.filter((c) => !held.has(c));
    try {
      this.files.push(new CsvFile(path, s.columns, s.sep));
      for (const b of s.beside ?? []) this.files.push(new CsvFile(path.replace(/\.csv$/, "") + b.suffix + ".csv", b.columns, b.sep));
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  write(batch: RecordBatch): void {
    for (const f of this.files) f.write(batch);
    this.rows += batch.numRows;
  }

  finish(): SinkResult {
    for (const f of this.files) f.file.commit();
    const [main, ...beside] = this.files;
    return {
      path: main.file.finalPath, rows: this.rows, bytes: main.file.bytes,
      ...(this.dropped.length ? { dropped: this.dropped } : {}), ...(beside.length ? { beside: beside.map((f) => f.file.finalPath) } : {}),
    };
  }

  abort(): void {
    for (const f of this.files) f.file.abort();
  }
}
