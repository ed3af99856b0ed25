// The `scone` kind: SCONE heatmap records (helenqu/scone) → one row per event with the flux and
// flux_err tensors, the scalars, the quality metrics and provenance. Every metric is defined once,
// in METRICS below (the kernel that computes it is assembly/scone.ts).
import { Float32, Float64, Int32, Int64, type RecordBatch, Schema, type Vector, type Utf8, type FixedSizeList, Field } from "apache-arrow";
import { dictionaryData, dictionaryType, dictionaryVector, primitiveData, recordBatch, tensorData, tensorField } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import type { CsvColumn } from "../sinks/sink.js";
import { type FeatureRef, forEachBytes, forEachFloat, forEachInt64, keyString, scanExample } from "../formats/example.js";
import type { Frame } from "../formats/tfrecord.js";
import { VERSION } from "../version.js";
import type { Kernels } from "../wasm.js";

export interface SconeOptions {
  precision: "f32" | "f64";
  /** Time axis (days from peak) of the first and last bin: SCONE's current writer uses -30..150. */
  timeRange: [number, number];
  /** Wavelength axis (Å) of the first and last bin. */
  wavelengthRange: [number, number];
  /** Bins: (wavelength, time). */
  bins: [number, number];
  /** Rows per record batch (default: ~32 MiB of tensor data). */
  batchRows?: number;
}

export const SCONE_DEFAULTS: SconeOptions = {
  precision: "f32",
  timeRange: [-30, 150],
  wavelengthRange: [3000, 10100],
  bins: [32, 180],
};

// metric slots written by the kernel (assembly/scone.ts)
const M = { coverage: 0, temporal: 1, spectral: 2, meanSnr: 3, maxFlux: 4, totalFlux: 5, peakW: 6, peakT: 7, nonfinite: 8 };
const M_SLOTS = 9;

type Axes = { wave: (bin: number) => number; time: (bin: number) => number };

interface Metric {
  name: string;
  type: "f64" | "i32";
  nullable: boolean;
  description: string;
  value(m: Float64Array, at: number, axes: Axes): number;
}

/** The per-event quality metrics, computed on the float64 values of the source. */
export const METRICS: Metric[] = [
  { name: "coverage_fraction", type: "f64", nullable: false, description: "count(flux > 0) / (wavelength bins × time bins)", value: (m, a) => m[a + M.coverage] },
  { name: "temporal_coverage", type: "f64", nullable: false, description: "fraction of time bins with any flux > 0", value: (m, a) => m[a + M.temporal] },
  { name: "spectral_coverage", type: "f64", nullable: false, description: "fraction of wavelength bins with any flux > 0", value: (m, a) => m[a + M.spectral] },
  { name: "mean_snr", type: "f64", nullable: true, description: "mean of flux/flux_err over pixels where flux_err > 0 and flux/flux_err > 0; null when there are none", value: (m, a) => m[a + M.meanSnr] },
  { name: "max_flux", type: "f64", nullable: false, description: "max(flux); NaN when any flux is NaN", value: (m, a) => m[a + M.maxFlux] },
  { name: "total_flux", type: "f64", nullable: false, description: "sum(flux)", value: (m, a) => m[a + M.totalFlux] },
  { name: "peak_time", type: "f64", nullable: false, description: "time (days from peak) of the first maximum of flux, NaN pixels ignored", value: (m, a, ax) => ax.time(m[a + M.peakT]) },
  { name: "peak_wavelength", type: "f64", nullable: false, description: "wavelength (Å) of the first maximum of flux, NaN pixels ignored", value: (m, a, ax) => ax.wave(m[a + M.peakW]) },
  { name: "nonfinite_values", type: "i32", nullable: false, description: "count of NaN or infinite values in flux and flux_err (kept as they are)", value: (m, a) => m[a + M.nonfinite] },
];

/**
 * CSV columns: the names SCONE's export tool (extract_tfrecord_info.py) writes where we compute the
 * same quantity, then ours. Values are full precision (the tool rounds to 3 decimals).
 */
export function sconeCsvColumns(): CsvColumn[] {
  const col = (header: string, name: string): CsvColumn => ({ header, value: (b, r) => b.getChild(name)!.get(r) });
  const label = (b: RecordBatch, r: number) => b.getChild("label")!.get(r) as number;
  return [
    col("snid", "id"), col("label", "label"),
    { header: "label_name", value: (b, r) => (label(b, r) === 1 ? "SNIa" : label(b, r) === 0 ? "Non-Ia" : `class ${label(b, r)}`) },
    col("redshift", "z"), col("redshift_err", "z_err"),
    col("total_flux", "total_flux"), col("max_flux", "max_flux"),
    col("peak_flux_wavelength", "peak_wavelength"), col("peak_flux_mjd", "peak_time"),
    col("snr_mean", "mean_snr"),
    col("coverage_fraction", "coverage_fraction"), col("temporal_coverage_fraction", "temporal_coverage"),
    col("spectral_coverage_fraction", "spectral_coverage"),
    col("nonfinite_values", "nonfinite_values"), col("source", "source"), col("record", "record"),
  ];
}

/** The metric columns of a SCONE schema (all but the event's identity, tensors and provenance). */
export function sconeMetricNames(schema: Schema): string[] {
  const fixed = new Set(["id", "label", "z", "z_err", "flux", "flux_err", "source", "record"]);
  return schema.fields.map((f) => f.name).filter((n) => !fixed.has(n));
}

export const SCONE_COLUMNS = ["id", "label", "z", "z_err", "flux", "flux_err", ...METRICS.map((m) => m.name), "source", "record"];

function linspace(start: number, stop: number, n: number): (i: number) => number {
  return (i) => (n === 1 ? start : start + ((stop - start) * i) / (n - 1));
}

export function sconeSchema(opts: SconeOptions): Schema {
  const [nw, nt] = opts.bins;
  const f64 = opts.precision === "f64";
  const dims = ["wavelength", "time"];
  const fields = [
    new Field("id", new Int64(), false, new Map([["description", "SNID"]])),
    new Field("label", new Int32(), false, new Map([["description", "class: 0 = non-Ia, 1 = Ia (0..K-1 in categorical runs)"]])),
    new Field("z", new Float32(), true, new Map([["description", "redshift; null in files without it"]])),
    new Field("z_err", new Float32(), true, new Map([["description", "redshift error; null in files without it"]])),
    tensorField("flux", [nw, nt], dims, f64),
    tensorField("flux_err", [nw, nt], dims, f64),
    ...METRICS.map((m) => new Field(m.name, m.type === "f64" ? new Float64() : new Int32(), m.nullable, new Map([["description", m.description]]))),
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

/** True when an Example's feature names and kinds look like a SCONE heatmap record. */
export function isSconeRecord(kinds: Map<string, string>): boolean {
  return kinds.get("image_raw") === "bytes" && kinds.get("id") === "int64" && kinds.get("label") === "int64";
}

const KEY_ID = 1, KEY_LABEL = 2, KEY_Z = 3, KEY_ZERR = 4, KEY_IMAGE = 5;
function keyCode(b: Uint8Array, s: number, e: number): number {
  // the five names differ in length or first letter: no string is made per record
  const n = e - s;
  const c = b[s];
  if (n === 2 && c === 0x69 && b[s + 1] === 0x64) return KEY_ID;                         // id
  if (n === 5 && c === 0x6c && keyString(b, s, e) === "label") return KEY_LABEL;
  if (n === 1 && c === 0x7a) return KEY_Z;                                               // z
  if (n === 5 && c === 0x7a && keyString(b, s, e) === "z_err") return KEY_ZERR;
  if (n === 9 && c === 0x69 && keyString(b, s, e) === "image_raw") return KEY_IMAGE;
  return 0;
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
  private readonly axes: Axes;
  private readonly dict: Vector<Utf8>;
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
   * Called with each event's source image (wasm pointer to the interleaved float64 image) and
   * label once the event is in the batch: the dataset statistics read the exact source values.
   */
  onImage?: (src: number, label: number) => void;
  /** Events written so far, and events with non-finite values. */
  events = 0;
  nonfiniteEvents = 0;

  constructor(private readonly k: Kernels, readonly opts: SconeOptions, source: string,
              private readonly emit: (batch: RecordBatch) => void) {
    this.schema = sconeSchema(opts);
    [this.nw, this.nt] = opts.bins;
    this.size = this.nw * this.nt;
    this.bpe = opts.precision === "f64" ? 8 : 4;
    this.imageBytes = this.size * 2 * 8;
    this.capacity = opts.batchRows ?? Math.max(1, Math.floor((32 << 20) / (2 * this.size * this.bpe)));
    this.fluxPtr = k.alloc(this.capacity * this.size * this.bpe);
    this.errPtr = k.alloc(this.capacity * this.size * this.bpe);
    this.metricsPtr = k.alloc(this.capacity * M_SLOTS * 8);
    this.scratchPtr = k.alloc(this.nt);
    this.axes = { wave: linspace(opts.wavelengthRange[0], opts.wavelengthRange[1], this.nw), time: linspace(opts.timeRange[0], opts.timeRange[1], this.nt) };
    this.dict = dictionaryVector([source]);
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
    this.k.exports.sconeEvent(ptr + imgStart, this.nw, this.nt, this.fluxPtr + out, this.errPtr + out,
      this.bpe === 8 ? 1 : 0, this.metricsPtr + row * M_SLOTS * 8, this.scratchPtr);
    this.onImage?.(ptr + imgStart, this.labels[row]);
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
    const metricCols = METRICS.map((metric, j) => {
      const f = fields[6 + j];
      if (metric.type === "i32") {
        const col = new Int32Array(n);
        for (let r = 0; r < n; r++) col[r] = metric.value(m, r * M_SLOTS, this.axes);
        return primitiveData(f.type, col, n);
      }
      const col = new Float64Array(n);
      let valid: Uint8Array | undefined;
      for (let r = 0; r < n; r++) {
        const v = metric.value(m, r * M_SLOTS, this.axes);
        // a nullable metric is null where the kernel had no value (NaN)
        if (metric.nullable && Number.isNaN(v)) {
          (valid ??= new Uint8Array(n).fill(1))[r] = 0;
        }
        col[r] = v;
      }
      return primitiveData(f.type, col, n, valid);
    });
    for (let r = 0; r < n; r++) if (m[r * M_SLOTS + M.nonfinite] > 0) this.nonfiniteEvents++;
    const children = [
      primitiveData(fields[0].type, this.ids.subarray(0, n), n),
      primitiveData(fields[1].type, this.labels.subarray(0, n), n),
      primitiveData(fields[2].type, this.z.subarray(0, n), n, this.zValid),
      primitiveData(fields[3].type, this.zErr.subarray(0, n), n, this.zErrValid),
      tensorData(fields[4].type as FixedSizeList, tensor(this.fluxPtr), n),
      tensorData(fields[5].type as FixedSizeList, tensor(this.errPtr), n),
      ...metricCols,
      dictionaryData(fields[6 + METRICS.length].type, this.dict, new Int32Array(n), n),
      primitiveData(fields[7 + METRICS.length].type, this.records.subarray(0, n), n),
    ];
    const batch = recordBatch(this.schema, children, n);
    this.emit(batch);
    this.events += n;
    this.resetColumns();
  }
}
