// Finds the events to draw: reads inputs (SCONE TFRecords, cluster NPZ batches) or a converted
// folder's Arrow files, and keeps the events a selection names (SNIDs, `file:row`, the first N of
// each file, or a metric condition), with everything their figures need. Decoding reuses the
// conversion's batchers, so a figure shows exactly what `convert` writes.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { type RecordBatch, RecordBatchReader, type Schema } from "apache-arrow";
import { clusterPlanSchema, emitClusters, isClusterArchive, planClusterBatch } from "../datasets/clusters.js";
import { dictionaryVector } from "../arrow.js";
import { SCONE_DEFAULTS, type SconeOptions, SconeBatcher, isSconeRecord } from "../datasets/scone.js";
import { ArrowsmithError } from "../errors.js";
import { featureKinds } from "../datasets/generic-tfrecord.js";
import { isNpz } from "../pipeline/plan.js";
import { expandInputs } from "../pipeline/inputs.js";
import { openNpz } from "../pipeline/npz-task.js";
import { readRecords, STOP } from "../io/records.js";
import { ErrorPolicy } from "../pipeline/policy.js";
import type { Kernels } from "../wasm.js";
import type { SconeEvent } from "./figures/scone.js";
import type { ClusterEvent } from "./figures/clusters.js";

export type PlotEvent = SconeEvent | ClusterEvent;

export type CompareOp = "<" | "<=" | ">" | ">=" | "==" | "!=";

/** A metric condition, `coverage_fraction < 0.2`. */
export interface Condition {
  metric: string;
  op: CompareOp;
  value: number;
}

export interface Selection {
  /** SCONE SNIDs (decimal strings). */
  ids?: string[];
  /** Clusters: file base name (or path) → rows. */
  rows?: { file: string; row: number }[];
  /** SCONE: record indices (in every file given). */
  records?: number[];
  /** The first N selected events of each file. */
  sample?: number;
  where?: Condition;
}

/** Parses `--where "<metric> <op> <number>"`. */
export function parseCondition(text: string): Condition {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>|=)\s*(\S+)\s*$/.exec(text);
  const value = m ? Number(m[3]) : NaN;
  if (!m || !Number.isFinite(value)) {
    throw new ArrowsmithError("usage", `--where "${text}" is not "<metric> <op> <number>"`, { hint: 'e.g. --where "coverage_fraction < 0.2" (ops: < <= > >= == !=)' });
  }
  return { metric: m[1], op: (m[2] === "=" ? "==" : m[2]) as CompareOp, value };
}

export function test(c: Condition, v: number | null | undefined): boolean {
  if (v === null || v === undefined || Number.isNaN(v)) return false;
  switch (c.op) {
    case "<": return v < c.value;
    case "<=": return v <= c.value;
    case ">": return v > c.value;
    case ">=": return v >= c.value;
    case "==": return v === c.value;
    default: return v !== c.value;
  }
}

/** Parses `--id`: SNIDs (`1009,1521`) or cluster rows (`clusters_planeX_batch0000.npz:12`). */
export function parseIds(text: string): Pick<Selection, "ids" | "rows"> {
  const ids: string[] = [], rows: { file: string; row: number }[] = [];
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^(.+):(\d+)$/.exec(part);
    if (m) rows.push({ file: m[1], row: Number(m[2]) });
    else if (/^-?\d+$/.test(part)) ids.push(BigInt(part).toString());
    else throw new ArrowsmithError("usage", `--id ${part}: expected a SNID (integer) or file:row`);
  }
  return { ...(ids.length ? { ids } : {}), ...(rows.length ? { rows } : {}) };
}

/** A file to read events from. */
export interface EventSource {
  path: string;
  kind: "tfrecord" | "npz" | "arrow";
}

/**
 * The files behind the command line's inputs: data files, folders of them, or a converted folder
 * (its Arrow outputs, or when it has none, the inputs its manifest names).
 */
export function eventSources(args: string[]): EventSource[] {
  const out: EventSource[] = [];
  for (const a of args) {
    if (existsSync(a) && statSync(a).isDirectory() && existsSync(join(a, "_manifest.json"))) {
      const arrow = readdirSync(a).filter((n) => /\.arrows?$/.test(n) && !n.startsWith(".")).sort();
      if (arrow.length) { for (const n of arrow) out.push({ path: resolve(a, n), kind: "arrow" }); continue; }
      const manifest = JSON.parse(readFileSync(join(a, "_manifest.json"), "utf8")) as { inputs?: { path?: string; input?: string }[] };
      const named = (manifest.inputs ?? []).map((i) => i.path ?? i.input).filter((p): p is string => !!p && existsSync(p));
      if (!named.length) throw new ArrowsmithError("usage", `${a} holds no Arrow outputs and its inputs are gone`, { hint: "pass the input files instead" });
      for (const p of named) out.push({ path: p, kind: isNpz(p) ? "npz" : "tfrecord" });
      continue;
    }
    if (/\.arrows?$/.test(a) && existsSync(a)) { out.push({ path: resolve(a), kind: "arrow" }); continue; }
    for (const p of expandInputs([a])) out.push({ path: p, kind: isNpz(p) ? "npz" : "tfrecord" });
  }
  return out;
}

export interface ReadOptions {
  scone: SconeOptions;
  metadataLayout: "auto" | "12" | "11" | "15" | "12alt";
  /** Keep only every `stride`-th selected event, starting at `offset` (to share a file's figures between workers). */
  stride?: number;
  offset?: number;
}

export interface ReadResult {
  events: PlotEvent[];
  /** Records that could not be read (skipped, with why). */
  problems: string[];
  /** Selected SNIDs or rows found in this file. */
  found: string[];
}

/** The selected events of one file. */
export async function readEvents(k: Kernels, src: EventSource, sel: Selection, o: ReadOptions): Promise<ReadResult> {
  const mark = k.mark();
  try {
    if (src.kind === "npz") return readClusters(k, src.path, sel, o);
    if (src.kind === "arrow") return await readArrow(src.path, sel, o);
    return await readScone(k, src.path, sel, o);
  } finally {
    k.release(mark);
  }
}

/** Decides per event, in file order; `done()` is true once nothing more can be selected. */
class Picker {
  private taken = 0;
  readonly found: string[] = [];
  private readonly ids?: Set<string>;
  private readonly records?: Set<number>;
  /** Clusters: input base name → rows wanted. */
  private readonly rows?: Map<string, Set<number>>;
  private readonly wanted: number;
  constructor(private readonly sel: Selection, private readonly file: string, private readonly o: ReadOptions) {
    if (sel.ids) this.ids = new Set(sel.ids);
    if (sel.records) this.records = new Set(sel.records);
    this.wanted = this.ids?.size ?? this.records?.size ?? 0;
    if (sel.rows) {
      this.rows = new Map();
      for (const r of sel.rows) {
        const name = basename(r.file);
        const set = this.rows.get(name) ?? new Set<number>();
        set.add(r.row);
        this.rows.set(name, set);
      }
      // a data file only holds its own rows; an Arrow file holds rows of any input
      this.wanted = file ? this.rows.get(file)?.size ?? 0 : sel.rows.length;
    }
  }
  /** True when the event (key: SNID or row) is selected and falls to this reader's share. */
  pick(key: string, metric: (name: string) => number | null | undefined, source = this.file, record = -1): boolean {
    if (this.ids && !this.ids.has(key)) return false;
    if (this.records && !this.records.has(record)) return false;
    if (this.rows && !this.rows.get(source)?.has(Number(key))) return false;
    if (this.sel.where && !test(this.sel.where, metric(this.sel.where.metric))) return false;
    if (this.sel.sample !== undefined && this.taken >= this.sel.sample) return false;
    const i = this.taken++;
    this.found.push(this.rows ? `${source}:${key}` : key);
    return i % (this.o.stride ?? 1) === (this.o.offset ?? 0);
  }
  done(): boolean {
    if (this.sel.sample !== undefined && this.taken >= this.sel.sample) return true;
    if ((this.ids || this.rows || this.records) && !this.sel.where && this.sel.sample === undefined && this.found.length >= this.wanted) return true;
    return false;
  }
  /** True when this file can hold none of the selected events. */
  get none(): boolean {
    return (this.rows !== undefined && this.wanted === 0) || (this.ids !== undefined && this.rows === undefined && this.wanted === 0);
  }
}

function checkMetric(schema: Schema, c: Condition | undefined, file: string): void {
  if (!c) return;
  if (!schema.fields.some((f) => f.name === c.metric)) {
    const numeric = schema.fields.filter((f) => /Float|Int/.test(String(f.type)) && !String(f.type).includes("FixedSizeList")).map((f) => f.name);
    throw new ArrowsmithError("usage", `--where: no column ${c.metric}`, { file, hint: `columns: ${numeric.join(", ")}` });
  }
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : typeof v === "bigint" ? Number(v) : (v as number);
}

function sconeFromBatch(b: RecordBatch, r: number, scone: SconeOptions, source: string, metricNames: string[]): SconeEvent {
  const n = scone.bins[0] * scone.bins[1];
  // batches read back from a file may start at an offset into their buffers
  const tensor = (name: string) => {
    const d = b.getChild(name)!.data[0];
    return (d.children[0].values as Float32Array | Float64Array).slice((d.offset + r) * n, (d.offset + r + 1) * n);
  };
  const metrics: Record<string, number | null> = {};
  for (const m of metricNames) metrics[m] = num(b.getChild(m)?.get(r));
  return {
    id: String(b.getChild("id")!.get(r)), label: Number(b.getChild("label")!.get(r)),
    z: num(b.getChild("z")!.get(r)), zErr: num(b.getChild("z_err")!.get(r)),
    source, record: Number(b.getChild("record")!.get(r)),
    bins: scone.bins, timeRange: scone.timeRange, wavelengthRange: scone.wavelengthRange,
    flux: tensor("flux"), err: tensor("flux_err"), metrics,
  };
}

const SCONE_FIXED = new Set(["id", "label", "z", "z_err", "flux", "flux_err", "source", "record"]);

async function readScone(k: Kernels, path: string, sel: Selection, o: ReadOptions): Promise<ReadResult> {
  const source = basename(path);
  const events: PlotEvent[] = [];
  const problems: string[] = [];
  const picker = new Picker(sel, source, o);
  if (picker.none || sel.rows) return { events, problems, found: [] };
  let metricNames: string[] = [];
  const emit = (b: RecordBatch) => {
    for (let r = 0; r < b.numRows; r++) {
      const id = String(b.getChild("id")!.get(r));
      if (picker.pick(id, (m) => num(b.getChild(m)?.get(r)), source, Number(b.getChild("record")!.get(r)))) events.push(sconeFromBatch(b, r, o.scone, source, metricNames));
    }
  };
  // a small batch: selection is decided every few records, so --sample stops early
  const batcher = new SconeBatcher(k, { ...o.scone, precision: "f32", batchRows: sel.sample !== undefined ? Math.min(64, sel.sample) : 64 }, source, emit);
  metricNames = batcher.schema.fields.map((f) => f.name).filter((n) => !SCONE_FIXED.has(n));
  checkMetric(batcher.schema, sel.where, path);
  let checked = false;
  const policy = new ErrorPolicy("skip");
  await readRecords(k, path, { verify: true, policy }, (bytes, ptr, f) => {
    if (!checked) {
      checked = true;
      if (!isSconeRecord(featureKinds(bytes, f))) throw new ArrowsmithError("usage", "not a SCONE heatmap file: plot draws SCONE events and cluster batches", { file: path });
    }
    batcher.add(bytes, ptr, f, path);
    return picker.done() ? STOP : undefined;
  });
  for (const p of policy.problems) problems.push(`${p.file}: ${p.record !== undefined ? `record ${p.record}: ` : ""}${p.message}`);
  batcher.flush();
  return { events, problems, found: picker.found };
}

function readClusters(k: Kernels, path: string, sel: Selection, o: ReadOptions): ReadResult {
  const events: PlotEvent[] = [];
  const picker = new Picker(sel, basename(path), o);
  if (picker.none || sel.ids) return { events, problems: [], found: [] };
  const npz = openNpz(path, true);
  try {
    if (!npz.zip) return { events, problems: [], found: [] };
    if (!isClusterArchive(npz.zip)) throw new ArrowsmithError("usage", "not a cluster batch (no images.npy and metadata.npy)", { file: path });
    const b = planClusterBatch(k, npz.zip, { metadataLayout: o.metadataLayout });
    const schema = clusterPlanSchema(b, "f32");
    checkMetric(schema, sel.where, path);
    const source = basename(path);
    emitClusters(k, npz.zip, b, schema, dictionaryVector([source]), (batch) => {
      for (let r = 0; r < batch.numRows; r++) {
        const row = Number(batch.getChild("row")!.get(r));
        if (picker.pick(String(row), (m) => num(batch.getChild(m)?.get(r)))) events.push(clusterFromBatch(batch, r, source, b.height, b.width));
      }
    }, { precision: "f32" });
    return { events, problems: [], found: picker.found };
  } finally {
    npz.close();
  }
}

const CLUSTER_METRIC_NAMES = ["pixel_sum", "pixel_max", "nonzero_pixels", "time_first", "time_last", "channel_first", "channel_last"];

function clusterFromBatch(b: RecordBatch, r: number, source: string, h: number, w: number): ClusterEvent {
  const img = b.getChild("image")!.data[0].children[0].values as Float32Array | Float64Array;
  const get = (n: string) => b.getChild(n)?.get(r);
  const metrics: Record<string, number | null> = {};
  for (const m of CLUSTER_METRIC_NAMES) metrics[m] = num(get(m));
  const offset = b.getChild("image")!.data[0].offset;
  return {
    source, row: Number(get("row")), height: h, width: w,
    image: img.slice((offset + r) * h * w, (offset + r + 1) * h * w),
    plane: String(get("plane")), interaction: get("interaction") ?? null,
    isMarley: !!get("is_marley"), isMainTrack: !!get("is_main_track"),
    nuEnergy: num(get("true_nu_energy")), particleEnergy: num(get("true_particle_energy")), metrics,
  };
}

/** Events from a converted folder's Arrow file (IPC file or stream), any kind arrowsmith writes. */
async function readArrow(path: string, sel: Selection, o: ReadOptions): Promise<ReadResult> {
  const { createReadStream } = await import("node:fs");
  const reader = await RecordBatchReader.from(createReadStream(path));
  const schema = reader.schema as Schema;
  const kind = schema.metadata.get("arrowsmith:kind");
  const events: PlotEvent[] = [];
  const picker = new Picker(sel, "", o);
  checkMetric(schema, sel.where, path);
  if (kind === "scone") {
    const axes = JSON.parse(schema.metadata.get("arrowsmith:axes") ?? "null") as { wavelength: { start: number; stop: number; bins: number }; time: { start: number; stop: number; bins: number } } | null;
    const scone: SconeOptions = axes
      ? { ...SCONE_DEFAULTS, bins: [axes.wavelength.bins, axes.time.bins], timeRange: [axes.time.start, axes.time.stop], wavelengthRange: [axes.wavelength.start, axes.wavelength.stop] }
      : o.scone;
    const metricNames = schema.fields.map((f) => f.name).filter((n) => !SCONE_FIXED.has(n));
    for await (const b of reader) {
      for (let r = 0; r < b.numRows; r++) {
        const id = String(b.getChild("id")!.get(r));
        if (picker.pick(id, (m) => num(b.getChild(m)?.get(r)))) events.push(sconeFromBatch(b, r, scone, String(b.getChild("source")!.get(r)), metricNames));
      }
      if (picker.done()) break;
    }
  } else if (kind === "clusters") {
    const img = JSON.parse(schema.metadata.get("arrowsmith:image") ?? "{}") as { height?: number; width?: number };
    for await (const b of reader) {
      for (let r = 0; r < b.numRows; r++) {
        const row = Number(b.getChild("row")!.get(r));
        const source = String(b.getChild("source")!.get(r));
        if (picker.pick(String(row), (m) => num(b.getChild(m)?.get(r)), source)) events.push(clusterFromBatch(b, r, source, img.height ?? 128, img.width ?? 16));
      }
      if (picker.done()) break;
    }
  } else {
    throw new ArrowsmithError("usage", `${basename(path)} is not a SCONE or cluster table (kind ${kind ?? "unknown"})`, { file: path });
  }
  return { events, problems: [], found: picker.found };
}
