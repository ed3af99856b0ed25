// The `scone` kind: SCONE heatmap records (helenqu/scone) → one row per event with the flux and
// flux_err tensors, the scalars, the summary metrics (defined once, in scone/metrics.ts; the kernel
// that computes them is assembly/scone.ts) and provenance.
import { Float32, Float64, Int32, Int64, type RecordBatch, Schema, type Vector, type Utf8, type FixedSizeList, Field } from "apache-arrow";
import { dictionaryData, dictionaryType, dictionaryVector, primitiveData, recordBatch, tensorData, tensorField } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import type { CsvColumn, CsvSpec } from "../sinks/csv.js";
import { pyFixed, pyRepr } from "../sinks/pyformat.js";
import { type FeatureRef, forEachBytes, forEachFloat, forEachInt64, scanExample } from "../formats/example.js";
import type { Frame } from "../formats/tfrecord.js";
import { VERSION } from "../version.js";
import type { Kernels } from "../wasm.js";
import { SCONE_DEFAULTS, type SconeExtra, type SconeOptions } from "./scone-options.js";
import { KEY_ID, KEY_IMAGE, KEY_LABEL, KEY_Z, KEY_ZERR, keyCode } from "./scone-scalars.js";
import { type Axes, binsWithin, LABEL_NAMES, labelNameIndex, linspace, METRICS, nearestBin, NONFINITE_SLOT, SLOTS } from "./scone/metrics.js";

export { METRICS };

export { SCONE_DEFAULTS, type SconeExtra, type SconeOptions };

const M_SLOTS = SLOTS.length;

/** The metric columns `opts` asks for (none with metrics: false). */
function metricsOf(opts: SconeOptions): typeof METRICS {
  return opts.metrics === false ? [] : METRICS;
}

/** The axes of `opts`, as numpy's linspace gives them. */
export function sconeAxes(opts: SconeOptions): Axes {
  return { wave: linspace(opts.wavelengthRange[0], opts.wavelengthRange[1], opts.bins[0]), time: linspace(opts.timeRange[0], opts.timeRange[1], opts.bins[1]) };
}

/**
 * The kernel's parameters: the peak-spectrum time bins [argmin|t+10|, argmin|t-20|) and the blue
 * (3000-5000 Å) and red (6000-10000 Å) wavelength bins, as scone_tools selects them.
 */
export function sconeParams(opts: SconeOptions): Int32Array {
  const ax = sconeAxes(opts);
  const [nw, nt] = opts.bins;
  return Int32Array.from([nearestBin(ax.time, nt, -10), nearestBin(ax.time, nt, 20), ...binsWithin(ax.wave, nw, 3000, 5000), ...binsWithin(ax.wave, nw, 6000, 10000)]);
}

/** The metric columns of a SCONE schema: the metric table's, in schema order. */
export function sconeMetricNames(schema: Schema): string[] {
  const metrics = new Set(METRICS.map((m) => m.name));
  return schema.fields.map((f) => f.name).filter((n) => metrics.has(n));
}

/** A column of the batch, looked up once per batch (CSV reads it cell by cell). */
function child(name: string): (b: RecordBatch) => Vector {
  let last: RecordBatch | undefined, vec: Vector | undefined;
  return (b) => {
    if (b !== last) { last = b; vec = b.getChild(name)!; }
    return vec!;
  };
}

/** Element i of a float64 tensor column's row r. */
function tensorElement(name: string, len: number, i: number): (b: RecordBatch, r: number) => number {
  const c = child(name);
  return (b, r) => {
    const d = c(b).data[0];
    const values = d.children[0];
    return (values.values as Float64Array)[values.offset + (d.offset + r) * len + i];
  };
}

const asText = (v: unknown) => String(v);
const fixed3 = (v: unknown) => (v === null || v === undefined ? "" : pyFixed(v as number, 3));
const repr = (v: unknown) => pyRepr(v as number);

/**
 * The CSV layout: scone_tools' 40 summary columns first (its names and order), then ours
 * (nonfinite_values, source, record). With csvDialect "scone-tools", only the 40, space-separated
 * and printed as pandas' to_csv(float_format="%.3f", index=False, sep=' ') prints them. The
 * extras go to <name>_lightcurves.csv and <name>_spectra.csv, as the tool writes them
 * (pandas' default to_csv: comma-separated, floats as Python's repr).
 */
export function sconeCsvSpec(opts: SconeOptions): CsvSpec {
  const tool = opts.csvDialect === "scone-tools";
  const col = (header: string, name: string, format?: (v: unknown) => string): CsvColumn => {
    const c = child(name);
    return { header, value: (b, r) => c(b).get(r), ...(tool && format ? { format } : {}) };
  };
  const columns = [
    col("snid", "id", asText), col("label", "label", asText), col("label_name", "label_name", asText),
    col("redshift", "z", fixed3), col("redshift_err", "z_err", fixed3),
    ...metricsOf(opts).filter((m) => !tool || !m.ours).map((m) => col(m.name, m.name, m.type === "f64" ? fixed3 : asText)),
    ...(tool ? [] : [col("source", "source"), col("record", "record")]),
  ];
  const ax = sconeAxes(opts);
  const [nw, nt] = opts.bins;
  const snid = child("id");
  const extra = (axisName: string, axis: (i: number) => number, n: number, width: number, value: string, err: string) => {
    const cols: CsvColumn[] = [{ header: "snid", value: (b, r) => snid(b).get(r), format: asText }];
    for (let i = 0; i < n; i++) {
      const at = String(i).padStart(width, "0");
      const x = axis(i);
      cols.push({ header: `${axisName}_${at}`, value: () => x, format: repr });
      cols.push({ header: `flux_${at}`, value: tensorElement(value, n, i), format: repr });
      cols.push({ header: `flux_err_${at}`, value: tensorElement(err, n, i), format: repr });
    }
    return cols;
  };
  const x = new Set(opts.extras ?? []);
  return {
    columns, sep: tool ? " " : ",",
    beside: [
      ...(x.has("lightcurves") ? [{ suffix: "_lightcurves", columns: extra("mjd", ax.time, nt, 3, "light_curve", "light_curve_err"), holds: ["light_curve", "light_curve_err"] }] : []),
      ...(x.has("spectra") ? [{ suffix: "_spectra", columns: extra("wavelength", ax.wave, nw, 2, "peak_spectrum", "peak_spectrum_err"), holds: ["peak_spectrum", "peak_spectrum_err"] }] : []),
    ],
  };
}

export const SCONE_COLUMNS = ["id", "label", "label_name", "z", "z_err", "flux", "flux_err", ...METRICS.map((m) => m.name), "source", "record"];

/** The extras' tensor columns in schema order: name, length axis, and which extra adds them. */
function extraColumns(opts: SconeOptions): { name: string; along: "time" | "wavelength"; description: string }[] {
  const x = new Set(opts.extras ?? []);
  return [
    ...(x.has("lightcurves") ? [
      { name: "light_curve", along: "time" as const, description: "flux summed over wavelength per time bin" },
      { name: "light_curve_err", along: "time" as const, description: "sqrt of flux_err^2 summed over wavelength per time bin" },
    ] : []),
    ...(x.has("spectra") ? [
      { name: "peak_spectrum", along: "wavelength" as const, description: "mean flux per wavelength bin over the time bins nearest -10 to 20 days (end excluded)" },
      { name: "peak_spectrum_err", along: "wavelength" as const, description: "sqrt of the mean flux_err^2 over the same bins" },
    ] : []),
  ];
}

export function sconeSchema(opts: SconeOptions): Schema {
  const [nw, nt] = opts.bins;
  const f64 = opts.precision === "f64";
  const dims = ["wavelength", "time"];
  const fields = [
    new Field("id", new Int64(), false, new Map([["description", "SNID"]])),
    new Field("label", new Int32(), false, new Map([["description", "class: 0 = non-Ia, 1 = Ia (0..K-1 in categorical runs)"]])),
    new Field("label_name", dictionaryType(1), false, new Map([["description", "SNIa when label is 1, else Non-Ia (as scone_tools names them)"]])),
    new Field("z", new Float32(), true, new Map([["description", "redshift; null in files without it"]])),
    new Field("z_err", new Float32(), true, new Map([["description", "redshift error; null in files without it"]])),
    tensorField("flux", [nw, nt], dims, f64),
    tensorField("flux_err", [nw, nt], dims, f64),
    ...extraColumns(opts).map((c) => withDescription(tensorField(c.name, [c.along === "time" ? nt : nw], [c.along], true), c.description)),
    ...metricsOf(opts).map((m) => new Field(m.name, m.type === "f64" ? new Float64() : new Int32(), false, new Map([["description", m.description]]))),
    new Field("source", dictionaryType(0), false, new Map([["description", "input file name"]])),
    new Field("record", new Int64(), false, new Map([["description", "record index in the input file"]])),
  ];
  const axes = {
    wavelength: { unit: "Angstrom", start: opts.wavelengthRange[0], stop: opts.wavelengthRange[1], bins: nw },
    time: { unit: "days from peak", start: opts.timeRange[0], stop: opts.timeRange[1], bins: nt },
  };
  return new Schema(fields, new Map([
    ["arrowsmith:kind", "scone"],
    ["arrowsmith:version", VERSION],
    ["arrowsmith:axes", JSON.stringify(axes)],
    ["arrowsmith:precision", opts.precision],
  ]));
}

function withDescription(f: Field, description: string): Field {
  return new Field(f.name, f.type, f.nullable, new Map([...f.metadata, ["description", description]]));
}

/** True when an Example's feature names and kinds look like a SCONE heatmap record. */
export function isSconeRecord(kinds: Map<string, string>): boolean {
  return kinds.get("image_raw") === "bytes" && kinds.get("id") === "int64" && kinds.get("label") === "int64";
}

export { KEY_ID, KEY_IMAGE, KEY_LABEL, KEY_Z, KEY_ZERR, keyCode };

/**
 * Per-class sums and sums of squares of the flux maps (the dataset report's), kept by the caller:
 * each event's class is asked for its region once, just before the kernel runs.
 */
export interface FluxSums {
  /**
   * The wasm pointer of the nw × nt float64 sums of class `label`, its sums of squares right
   * after them; 0 when that class is summed in JS instead (then `image` is called). Sets `keepMap`
   * and `prevMap` for the event's kernel call (sconeEvent): the class's events are added in pairs.
   */
  region(label: number): number;
  /** Where the kernel leaves this event's flux map for the next event of its class to add (0: none). */
  readonly keepMap: number;
  /** A flux map kept by an earlier event of the class, to add before this event's (0: none). */
  readonly prevMap: number;
  /** Adds the event's flux (interleaved float64 image at wasm `src`) to the JS sums of class `label`. */
  image(src: number, label: number): void;
}

export interface RecordFailure {
  error: ArrowsmithError;
}

/**
 * Collects SCONE events into record batches: decodes each record in the window where it lies,
 * runs the kernel from there into the batch's tensor regions in wasm memory, and hands full
 * batches to `emit` (which must write them before returning: the regions are then reused).
 */
export class SconeBatcher {
  readonly schema: Schema;
  readonly capacity: number;
  private readonly nw: number;
  private readonly nt: number;
  private readonly size: number;
  private readonly bpe: number;
  private readonly imageBytes: number;
  private readonly fluxPtr: number;
  private readonly errPtr: number;
  private readonly metricsPtr: number;
  private readonly scratchPtr: number;
  private readonly paramsPtr: number;
  /** Regions of the extras' columns (light curve, its error, peak spectrum, its error); 0 when off. */
  private readonly extraPtrs: [number, number, number, number];
  private readonly axes: Axes;
  private readonly dict: Vector<Utf8>;
  private readonly labelDict: Vector<Utf8>;
  /** The kernel's full pass runs (metrics, or extras, wanted). */
  private readonly summary: boolean;
  private rows = 0;
  private ids!: BigInt64Array;
  private idWords!: Int32Array;
  private labels!: Int32Array;
  private z!: Float32Array;
  private zErr!: Float32Array;
  private zValid!: Uint8Array;
  private zErrValid!: Uint8Array;
  private records!: BigInt64Array;
  private readonly refs: (FeatureRef | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined];
  private readonly visit: (ks: number, ke: number, ref: FeatureRef) => void;
  private window!: Uint8Array;
  /**
   * The dataset statistics' per-class flux sums, when the report is on: the kernel adds each
   * event's exact source flux values to them in its pixel pass.
   */
  sums?: FluxSums;
  /** Events written so far, and events with non-finite values. */
  events = 0;
  nonfiniteEvents = 0;

  constructor(private readonly k: Kernels, readonly opts: SconeOptions, source: string,
              private readonly emit: (batch: RecordBatch) => void) {
    const exported = k.metricSlots;
    if (exported !== M_SLOTS) {
      throw new ArrowsmithError("internal", `the SCONE kernel writes ${exported} metric slots, the metric table reads ${M_SLOTS}`, { hint: "rebuild: npm run build" });
    }
    this.schema = sconeSchema(opts);
    [this.nw, this.nt] = opts.bins;
    this.size = this.nw * this.nt;
    this.bpe = opts.precision === "f64" ? 8 : 4;
    this.imageBytes = this.size * 2 * 8;
    // ~16 MiB of wasm memory a batch: tensors, metrics and extras (small images make many rows);
    // each conversion thread holds one
    const x = new Set(opts.extras ?? []);
    const rowBytes = 2 * this.size * this.bpe + M_SLOTS * 8 + (x.has("lightcurves") ? 16 * this.nt : 0) + (x.has("spectra") ? 16 * this.nw : 0);
    this.capacity = opts.batchRows ?? Math.max(1, Math.floor((16 << 20) / rowBytes));
    this.fluxPtr = k.alloc(this.capacity * this.size * this.bpe);
    this.errPtr = k.alloc(this.capacity * this.size * this.bpe);
    this.metricsPtr = k.alloc(this.capacity * M_SLOTS * 8);
    this.scratchPtr = k.alloc(k.sconeScratchBytes(this.nw, this.nt));
    const params = sconeParams(opts);
    this.paramsPtr = k.alloc(params.byteLength);
    k.bytes().set(new Uint8Array(params.buffer), this.paramsPtr);
    const lc = x.has("lightcurves") ? this.capacity * this.nt * 8 : 0;
    const sp = x.has("spectra") ? this.capacity * this.nw * 8 : 0;
    this.extraPtrs = [lc && k.alloc(lc), lc && k.alloc(lc), sp && k.alloc(sp), sp && k.alloc(sp)];
    this.axes = sconeAxes(opts);
    this.dict = dictionaryVector([source]);
    this.labelDict = dictionaryVector([...LABEL_NAMES]);
    this.summary = opts.metrics !== false || x.size > 0;
    this.visit = (ks, ke, ref) => {
      const code = keyCode(this.window, ks, ke);
      if (code) this.refs[code] = ref;
    };
    this.resetColumns();
  }

  private resetColumns(): void {
    const c = this.capacity;
    this.ids = new BigInt64Array(c);
    this.idWords = new Int32Array(this.ids.buffer);
    this.labels = new Int32Array(c);
    this.z = new Float32Array(c);
    this.zErr = new Float32Array(c);
    this.zValid = new Uint8Array(c);
    this.zErrValid = new Uint8Array(c);
    this.records = new BigInt64Array(c);
    this.rows = 0;
  }

  /**
   * Adds the record of `frame` (data at window[frame.start..]), whose window starts at wasm
   * pointer `ptr`. Throws an ArrowsmithError (with file, offset, record) for a bad record; the
   * batch is then unchanged.
   */
  add(window: Uint8Array, ptr: number, frame: Frame, file: string): void {
    const refs = this.refs;
    refs[1] = refs[2] = refs[3] = refs[4] = refs[5] = undefined;
    this.window = window;
    const where = { file, offset: frame.offset, record: frame.index };
    // a malformed message throws a WireError here or below; the caller places it at this record
    scanExample(window, frame.start, frame.start + frame.length, this.visit);
    const row = this.rows;
    // id and label: one int64 each, kept as 32-bit halves (no BigInt per event)
    this.int64(refs[KEY_ID], "id", where, (lo, hi) => { this.idWords[2 * row] = lo; this.idWords[2 * row + 1] = hi; });
    this.int64(refs[KEY_LABEL], "label", where, (lo, hi) => {
      if ((hi === 0 && lo <= 0x7fffffff) || (hi === 0xffffffff && lo >= 0x80000000)) this.labels[row] = lo | 0;
      else throw new ArrowsmithError("feature", "feature label does not fit in int32", where);
    });
    this.float(refs[KEY_Z], "z", where, this.z, this.zValid, row);
    this.float(refs[KEY_ZERR], "z_err", where, this.zErr, this.zErrValid, row);
    const img = refs[KEY_IMAGE] as FeatureRef | undefined;
    if (!img) throw new ArrowsmithError("feature", "feature image_raw is missing", { ...where, hint: "not a SCONE heatmap record; try --kind generic" });
    if (img.kind !== "bytes") throw new ArrowsmithError("feature", `feature image_raw is a ${img.kind} list, expected bytes`, where);
    let imgStart = -1, imgLen = 0;
    const n = forEachBytes(window, img, (s, e) => { imgStart = s; imgLen = e - s; });
    if (n !== 1) throw new ArrowsmithError("feature", `feature image_raw has ${n} values, expected 1`, where);
    if (imgLen !== this.imageBytes) {
      throw new ArrowsmithError("image_size", `image_raw has ${imgLen} bytes, expected ${this.imageBytes} (float64 × ${this.nw} × ${this.nt} × 2)`, {
        ...where, hint: imgLen % 16 === 0 ? `the bins may differ: ${imgLen / 16} pixels per channel; set the bins to match` : "the image is damaged",
      });
    }
    const out = row * this.size * this.bpe;
    const [lc, lcErr, spec, specErr] = this.extraPtrs;
    const sum = this.sums ? this.sums.region(this.labels[row]) : 0;
    const lcAt = row * this.nt * 8, specAt = row * this.nw * 8;
    this.k.sconeEvent(ptr + imgStart, this.nw, this.nt, this.fluxPtr + out, this.errPtr + out,
      this.bpe === 8, this.summary ? this.metricsPtr + row * M_SLOTS * 8 : 0, this.scratchPtr, this.paramsPtr,
      lc && lc + lcAt, lcErr && lcErr + lcAt, spec && spec + specAt, specErr && specErr + specAt,
      sum, sum && sum + this.size * 8, sum && this.sums!.prevMap, sum && this.sums!.keepMap);
    if (this.sums && !sum) this.sums.image(ptr + imgStart, this.labels[row]);
    this.records[row] = BigInt(frame.index);
    this.rows++;
    if (this.rows === this.capacity) this.flush();
  }

  private int64(ref: FeatureRef | undefined, name: string, where: { file: string; offset: number; record: number },
                set: (lo: number, hi: number) => void): void {
    if (!ref) throw new ArrowsmithError("feature", `feature ${name} is missing`, { ...where, hint: "not a SCONE heatmap record; try --kind generic" });
    if (ref.kind !== "int64") throw new ArrowsmithError("feature", `feature ${name} is a ${ref.kind} list, expected int64`, where);
    let lo = 0, hi = 0;
    const n = forEachInt64(this.window, ref, (a, b) => { lo = a; hi = b; });
    if (n !== 1) throw new ArrowsmithError("feature", `feature ${name} has ${n} values, expected 1`, where);
    set(lo, hi);
  }

  private float(ref: FeatureRef | undefined, name: string, where: { file: string; offset: number; record: number },
                col: Float32Array, valid: Uint8Array, row: number): void {
    if (!ref) { valid[row] = 0; col[row] = 0; return; }
    if (ref.kind !== "float") throw new ArrowsmithError("feature", `feature ${name} is a ${ref.kind} list, expected float`, where);
    let v = 0;
    const n = forEachFloat(this.window, ref, (x) => { v = x; });
    if (n === 0) { valid[row] = 0; col[row] = 0; return; }
    if (n !== 1) throw new ArrowsmithError("feature", `feature ${name} has ${n} values, expected 1`, where);
    col[row] = v;
    valid[row] = 1;
  }

  /** Emits the rows collected so far as one record batch. */
  flush(): void {
    const n = this.rows;
    if (n === 0) return;
    const buf = this.k.memory.buffer;
    const f64 = this.bpe === 8;
    const tensor = (ptr: number) => (f64 ? new Float64Array(buf, ptr, n * this.size) : new Float32Array(buf, ptr, n * this.size));
    const m = new Float64Array(buf, this.metricsPtr, n * M_SLOTS);
    const fields = this.schema.fields;
    const byName = (name: string) => fields.find((f) => f.name === name)!;
    const metricCols = metricsOf(this.opts).map((metric) => {
      const type = byName(metric.name).type;
      const col = metric.type === "i32" ? new Int32Array(n) : new Float64Array(n);
      for (let r = 0; r < n; r++) col[r] = metric.value(m, r * M_SLOTS, this.axes);
      return primitiveData(type, col, n);
    });
    if (this.summary) for (let r = 0; r < n; r++) if (m[r * M_SLOTS + NONFINITE_SLOT] > 0) this.nonfiniteEvents++;
    const labelNames = new Int32Array(n);
    for (let r = 0; r < n; r++) labelNames[r] = labelNameIndex(this.labels[r]);
    const [lc, lcErr, spec, specErr] = this.extraPtrs;
    const extras = [[lc, this.nt], [lcErr, this.nt], [spec, this.nw], [specErr, this.nw]]
      .filter(([p]) => p)
      .map(([p, len], j) => tensorData(fields[7 + j].type as FixedSizeList, new Float64Array(buf, p, n * len), n));
    const children = [
      primitiveData(fields[0].type, this.ids.subarray(0, n), n),
      primitiveData(fields[1].type, this.labels.subarray(0, n), n),
      dictionaryData(fields[2].type, this.labelDict, labelNames, n),
      primitiveData(fields[3].type, this.z.subarray(0, n), n, this.zValid),
      primitiveData(fields[4].type, this.zErr.subarray(0, n), n, this.zErrValid),
      tensorData(fields[5].type as FixedSizeList, tensor(this.fluxPtr), n),
      tensorData(fields[6].type as FixedSizeList, tensor(this.errPtr), n),
      ...extras,
      ...metricCols,
      dictionaryData(byName("source").type, this.dict, new Int32Array(n), n),
      primitiveData(byName("record").type, this.records.subarray(0, n), n),
    ];
    const batch = recordBatch(this.schema, children, n);
    this.emit(batch);
    this.events += n;
    this.resetColumns();
  }
}
