// The statistics of a whole SCONE dataset, accumulated over every event during the conversion:
// class counts, redshift, per-class sums and sums of squares of the flux maps (in wasm, from the
// source float64 values), a histogram of every quality metric over fixed edges, the events with the
// lowest coverage and S/N, and per-file counts. A task builds one (`SconeTap`), its result carries
// the JSON, and the main thread merges them (`SconeStats.merge`).
import type { RecordBatch } from "apache-arrow";
import { column, columnBuffers } from "../arrow.js";
import type { FluxSums, SconeOptions } from "../datasets/scone.js";
import type { Kernels } from "../wasm.js";
import type { SconeEvent } from "./figures/scone.js";
import { Counts, Histogram, linearEdges, Lowest, Moments, SumArray } from "./accumulators.js";

/** How many of the lowest-coverage and lowest-S/N events the report keeps. */
export const LOWEST_K = 6;
export const LOWEST_METRICS = ["coverage_fraction", "snr_mean"] as const;

/** Decades from 10^a to 10^b, `per` bins each. */
function logEdges(a: number, b: number, per: number): number[] {
  const n = (b - a) * per, step = (b - a) / n;
  return Array.from({ length: n + 1 }, (_, i) => 10 ** (i === n ? b : a + i * step));
}

const SIGNED_LOG = [...logEdges(-3, 6, 1).reverse().map((x) => -x), ...logEdges(-3, 6, 1)];

/**
 * The fixed bin edges of each metric's histogram (the same for every file, task and shard, so
 * histograms add). Fractions: 20 bins over [0, 1]. snr_mean, snr_median: 25 bins over [0, 50], the
 * S/N colour scale. max_flux, total_flux: 4 bins a decade over [1e-3, 1e6] (zero and negative values
 * are the underflow). peak_flux_mjd, lc_peak_mjd: 36 bins over the time axis; peak_flux_wavelength,
 * spectrum_peak_wavelength: one bin per wavelength bin.
 * nonfinite_values: [0, 1, 10, 100, 1000, 10000, 100000). redshift: 60 bins over [0, 3].
 * Any other metric: decades on both sides of zero, ±[1e-3, 1e6].
 */
export function sconeEdges(metric: string, o: SconeOptions): readonly number[] {
  // the same few dozen arrays for every task of a run: made once (histograms only read them)
  const key = `${metric}\0${o.bins}\0${o.timeRange}\0${o.wavelengthRange}`;
  let e = edgeCache.get(key);
  if (!e) edgeCache.set(key, (e = Object.freeze(makeSconeEdges(metric, o))));
  return e;
}

const edgeCache = new Map<string, readonly number[]>();

function makeSconeEdges(metric: string, o: SconeOptions): number[] {
  const [nw, nt] = o.bins;
  if (/fraction|coverage/.test(metric)) return linearEdges(0, 1, 20);
  switch (metric) {
    case "snr_mean": case "snr_median": return linearEdges(0, 50, 25);
    case "max_flux": case "total_flux": return logEdges(-3, 6, 4);
    case "peak_flux_mjd": case "lc_peak_mjd": return linearEdges(o.timeRange[0], o.timeRange[1], Math.min(36, nt));
    case "peak_flux_wavelength": case "spectrum_peak_wavelength": {
      const step = nw > 1 ? (o.wavelengthRange[1] - o.wavelengthRange[0]) / (nw - 1) : 1;
      return linearEdges(o.wavelengthRange[0] - step / 2, o.wavelengthRange[1] + step / 2, nw);
    }
    case "nonfinite_values": return [0, 1, 10, 100, 1000, 10000, 100000];
    case "redshift": return linearEdges(0, 3, 60);
    default: return SIGNED_LOG;
  }
}

/**
 * The bounds a run's next tasks get for the lowest lists (TaskOptions.lowestBelow): per metric,
 * the LOWEST_K-th smallest value among the lists of the tasks finished so far. An event whose
 * value is above it has LOWEST_K events of those tasks strictly before it, so it is in no merged
 * list whatever the other tasks hold: a task skips it, and the merged lists (and the events kept
 * for their figures) are the same as without the bounds. Later tasks then keep a few events
 * instead of the ~k·ln(n/k) that enter a list started empty, each with a copy of its two maps.
 */
export class LowestBounds {
  private readonly values = new Map<string, number[]>();

  /** Adds the lists of a finished task's statistics. */
  add(stats: { kind: string } | undefined): void {
    // any task's statistics (stats.ts' StatsJson, not imported: stats.ts imports this module)
    if (stats?.kind !== "scone") return;
    for (const [metric, items] of Object.entries((stats as SconeStatsJson).lowest)) {
      const v = [...(this.values.get(metric) ?? []), ...items.map((it) => Number(it.value))].sort((a, b) => a - b);
      this.values.set(metric, v.slice(0, LOWEST_K));
    }
  }

  /**
   * Of a finished task's kept events (its `lowestEvents`, beside its statistics), those that can
   * still be in a merged list: listed by the task with a value at most the bound known now. The
   * others are let go as soon as later tasks push them out, instead of being held to the end
   * with their maps: their memory is freed, and a worker's next events reuse it (fresh memory
   * costs a page fault per 4 KiB here).
   */
  stillListed<E extends { source: string; record: number }>(stats: { kind: string } | undefined, events: E[]): E[] {
    if (stats?.kind !== "scone" || !events.length) return events;
    const bounds = this.get() ?? {};
    const wanted = new Set<string>();
    for (const [metric, items] of Object.entries((stats as SconeStatsJson).lowest)) {
      const bound = bounds[metric] ?? Infinity;
      for (const it of items) if (Number(it.value) <= bound) wanted.add(`${it.source}\0${it.record}`);
    }
    return events.filter((e) => wanted.has(`${e.source}\0${e.record}`));
  }

  /** The bounds known so far (metrics with fewer than LOWEST_K values have none), or undefined. */
  get(): Record<string, number> | undefined {
    const out: Record<string, number> = {};
    let any = false;
    for (const [metric, v] of this.values) if (v.length >= LOWEST_K) { out[metric] = v[LOWEST_K - 1]; any = true; }
    return any ? out : undefined;
  }
}

/** Per input file: events, classes and mean coverage and S/N. */
export interface FileStats {
  events: number;
  classes: Counts;
  coverage: Moments;
  snr: Moments;
}

export class SconeStats {
  readonly kind = "scone";
  classes = new Counts();
  redshift = new Moments();
  redshiftHist: Histogram;
  /** label → per-pixel sums and sums of squares of flux (wavelength-major, nw × nt). */
  flux = new Map<string, SumArray>();
  metrics = new Map<string, Histogram>();
  lowest = new Map<string, Lowest>();
  files = new Map<string, FileStats>();

  constructor(readonly opts: Pick<SconeOptions, "bins" | "timeRange" | "wavelengthRange">, metricNames: string[]) {
    this.redshiftHist = new Histogram(sconeEdges("redshift", opts as SconeOptions));
    for (const m of metricNames) this.metrics.set(m, new Histogram(sconeEdges(m, opts as SconeOptions)));
    for (const m of LOWEST_METRICS) if (metricNames.includes(m)) this.lowest.set(m, new Lowest(LOWEST_K));
  }

  get events(): number {
    return this.classes.total;
  }

  file(source: string): FileStats {
    let f = this.files.get(source);
    if (!f) this.files.set(source, (f = { events: 0, classes: new Counts(), coverage: new Moments(), snr: new Moments() }));
    return f;
  }

  merge(o: SconeStats): void {
    this.classes.merge(o.classes);
    this.redshift.merge(o.redshift);
    this.redshiftHist.merge(o.redshiftHist);
    for (const [k, s] of o.flux) {
      const mine = this.flux.get(k);
      if (mine) mine.merge(s); else this.flux.set(k, SumArray.fromJSON(s.toJSON()));
    }
    for (const [k, h] of o.metrics) {
      const mine = this.metrics.get(k);
      if (mine) mine.merge(h); else this.metrics.set(k, Histogram.fromJSON(h.toJSON()));
    }
    for (const [k, l] of o.lowest) {
      const mine = this.lowest.get(k);
      if (mine) mine.merge(l); else this.lowest.set(k, Lowest.fromJSON(l.k, l.toJSON()));
    }
    for (const [k, f] of o.files) {
      const mine = this.file(k);
      mine.events += f.events; mine.classes.merge(f.classes); mine.coverage.merge(f.coverage); mine.snr.merge(f.snr);
    }
  }

  toJSON(): SconeStatsJson {
    return {
      kind: "scone",
      opts: { bins: this.opts.bins, timeRange: this.opts.timeRange, wavelengthRange: this.opts.wavelengthRange },
      classes: this.classes.toJSON(),
      redshift: this.redshift.toJSON(),
      redshift_hist: this.redshiftHist.toJSON(),
      flux: Object.fromEntries([...this.flux].map(([k, s]) => [k, s.toJSON()])),
      metrics: Object.fromEntries([...this.metrics].map(([k, h]) => [k, h.toJSON()])),
      lowest: Object.fromEntries([...this.lowest].map(([k, l]) => [k, l.toJSON()])),
      files: Object.fromEntries([...this.files].map(([k, f]) => [k, { events: f.events, classes: f.classes.toJSON(), coverage: f.coverage.toJSON(), snr: f.snr.toJSON() }])),
    };
  }

  static fromJSON(j: SconeStatsJson): SconeStats {
    const s = new SconeStats(j.opts, []);
    s.classes = Counts.fromJSON(j.classes);
    s.redshift = Moments.fromJSON(j.redshift);
    s.redshiftHist = Histogram.fromJSON(j.redshift_hist);
    for (const [k, v] of Object.entries(j.flux)) s.flux.set(k, SumArray.fromJSON(v));
    for (const [k, v] of Object.entries(j.metrics)) s.metrics.set(k, Histogram.fromJSON(v));
    for (const [k, v] of Object.entries(j.lowest)) s.lowest.set(k, Lowest.fromJSON(LOWEST_K, v));
    for (const [k, v] of Object.entries(j.files)) {
      s.files.set(k, { events: v.events, classes: Counts.fromJSON(v.classes), coverage: Moments.fromJSON(v.coverage), snr: Moments.fromJSON(v.snr) });
    }
    return s;
  }
}

export interface SconeStatsJson {
  kind: "scone";
  opts: Pick<SconeOptions, "bins" | "timeRange" | "wavelengthRange">;
  classes: Record<string, number>;
  redshift: ReturnType<Moments["toJSON"]>;
  redshift_hist: ReturnType<Histogram["toJSON"]>;
  /** Per class; a task's sums are float64 arrays until written as JSON (`plainStats`). */
  flux: Record<string, ReturnType<SumArray["toJSON"]> | { n: number; sum: Float64Array; sum_sq?: Float64Array }>;
  metrics: Record<string, ReturnType<Histogram["toJSON"]>>;
  lowest: Record<string, ReturnType<Lowest["toJSON"]>>;
  files: Record<string, { events: number; classes: Record<string, number>; coverage: ReturnType<Moments["toJSON"]>; snr: ReturnType<Moments["toJSON"]> }>;
}

interface ClassSlot { sum: number; sq: number; kept: number; pending: boolean; count: number }

/** Classes whose flux sums live in wasm memory (more are summed in JS, slower but the same sums). */
const WASM_CLASSES = 8;

/**
 * A task's accumulator: the batcher takes each event's class sums from it (`region`: the kernel
 * adds the event's source flux values to them in its pixel pass; `image` for a class summed in JS),
 * and `batch` is called with each record batch before it is written. Its wasm regions are
 * allocated up front, under the task's mark: allocating while records are read could grow memory
 * and detach the record window's views. `finish` copies them out before the task releases them.
 */
export class SconeTap implements FluxSums {
  readonly stats: SconeStats;
  private readonly n: number;
  private readonly base: number;
  /**
   * Per class in wasm: its sums, sums of squares and a kept flux map (n f64 each, in one region).
   * Its events come to the kernel in pairs (FluxSums): the first leaves its map at `kept`, the
   * second adds both; `pending` says a map waits there.
   */
  private readonly slots = new Map<number, ClassSlot>();
  /** The class of the last event and its slot (consecutive events often share their class). */
  private lastLabel = NaN;
  private last: ClassSlot | undefined;
  keepMap = 0;
  prevMap = 0;
  private readonly js = new Map<number, SumArray>();
  /**
   * The events that entered a lowest list, by record, with what their figures need: the report
   * draws them from these instead of reading them again from the input (which meant decoding the
   * file up to each of them: seconds per event in a 4 GB shard). An event enters rarely (about
   * k·ln(n/k) times per list), and its two maps are copied (as float32) into one of `keptSlots`
   * slots of wasm memory: memory the worker's earlier tasks have already touched, where a fresh
   * pair of arrays per entry cost ~0.2 ms each (new pages), more than the rest of the report.
   * The kept events are copied out of them at the end, once.
   */
  private readonly kept = new Map<number, { event: Omit<SconeEvent, "flux" | "err">; slot: number }>();
  private readonly keptBase: number;
  private readonly keptSlots: number;
  private readonly freeSlots: number[] = [];

  /** Per metric of a lowest list, the value above which an event is not kept (TaskOptions.lowestBelow). */
  private readonly below = new Map<string, number>();

  constructor(private readonly k: Kernels, opts: SconeOptions, metricNames: string[], private readonly source: string,
              below?: Record<string, number>) {
    this.stats = new SconeStats(opts, metricNames);
    this.n = opts.bins[0] * opts.bins[1];
    // a class's region is its sums, sums of squares and kept map (3 × n × 8 bytes), the sums zeroed
    // as the class first comes: touching all of them up front faulted in pages for classes a file
    // may not have
    this.base = k.alloc(WASM_CLASSES * 3 * this.n * 8);
    // the kept events are pruned back to those listed (at most LOWEST_K a list) when all are taken
    this.keptSlots = this.stats.lowest.size ? 2 * LOWEST_K * this.stats.lowest.size + 1 : 0;
    this.keptBase = this.keptSlots ? k.alloc(this.keptSlots * 2 * this.n * 4) : 0;
    for (let i = this.keptSlots - 1; i >= 0; i--) this.freeSlots.push(i);
    for (const [m, v] of Object.entries(below ?? {})) if (this.stats.lowest.has(m)) this.below.set(m, v);
  }

  /** The float32 flux map (`err` false) or error map of kept-event slot `slot`, as a view of wasm memory. */
  private slotMap(slot: number, err: boolean): Float32Array {
    return new Float32Array(this.k.memory.buffer, this.keptBase + (2 * slot + (err ? 1 : 0)) * this.n * 4, this.n);
  }

  /**
   * The wasm sums of class `label` (its sums of squares follow), counting the event, and `keepMap`
   * or `prevMap` for it; 0 when the class is summed in JS.
   */
  region(label: number): number {
    let r = label === this.lastLabel ? this.last : this.slots.get(label);
    if (!r) {
      if (this.slots.size >= WASM_CLASSES) { this.keepMap = this.prevMap = 0; return 0; }
      const sum = this.base + this.slots.size * 3 * this.n * 8;
      this.k.bytes().fill(0, sum, sum + 2 * this.n * 8);
      this.slots.set(label, (r = { sum, sq: sum + this.n * 8, kept: sum + 2 * this.n * 8, pending: false, count: 0 }));
    }
    this.lastLabel = label;
    this.last = r;
    r.count++;
    if (r.pending) { this.prevMap = r.kept; this.keepMap = 0; }
    else { this.keepMap = r.kept; this.prevMap = 0; }
    r.pending = !r.pending;
    return r.sum;
  }

  /** Adds the flux maps still kept (a class's last event without a second to pair with it). */
  private settle(): void {
    for (const r of this.slots.values()) {
      if (r.pending) this.k.sconeAddKept(r.kept, this.n, r.sum, r.sq);
      r.pending = false;
    }
  }

  /** Adds one event's flux map (interleaved float64 image at wasm `src`) to its class's JS sums. */
  image(src: number, label: number): void {
    let a = this.js.get(label);
    if (!a) this.js.set(label, (a = new SumArray(this.n, true)));
    const img = new Float64Array(this.k.memory.buffer);
    const sq = a.sumSq!;
    if (src % 8 === 0) {
      for (let i = 0, p = src / 8; i < this.n; i++, p += 2) { const f = img[p]; a.sum[i] += f; sq[i] += f * f; }
    } else {
      const dv = new DataView(this.k.memory.buffer);
      for (let i = 0; i < this.n; i++) { const f = dv.getFloat64(src + 16 * i, true); a.sum[i] += f; sq[i] += f * f; }
    }
    a.n++;
  }

  /**
   * Adds a batch's scalars and metrics: a loop per column over its buffer (the per-value work of
   * the report is these loops and the kernel's sums).
   */
  batch(b: RecordBatch): void {
    const s = this.stats;
    const n = b.numRows;
    const f = s.file(this.source);
    f.events += n;
    const labels = columnBuffers(b, "label")!.values as Int32Array;
    const z = columnBuffers(b, "z")!;
    // classes: one count per run of equal labels (events of a shard often come grouped by class)
    for (let r = 0; r < n;) {
      const label = labels[r];
      let end = r + 1;
      while (end < n && labels[end] === label) end++;
      const key = String(label);
      s.classes.add(key, end - r);
      f.classes.add(key, end - r);
      r = end;
    }
    s.redshift.addColumn(z.values, n, z.bits, z.offset);
    s.redshiftHist.addColumn(z.values, n, z.bits, z.offset);
    for (const [name, h] of s.metrics) {
      const c = columnBuffers(b, name);
      if (!c) continue;
      const { values, bits, offset } = c;
      h.addColumn(values, n, bits, offset);
      if (name === "coverage_fraction") f.coverage.addColumn(values, n, bits, offset);
      else if (name === "snr_mean") f.snr.addColumn(values, n, bits, offset);
      const low = s.lowest.get(name);
      if (!low) continue;
      const bound = this.below.get(name) ?? Infinity;
      // what can enter: at most the bound, and below the list's last value once the list is full
      // (NaN never; a value equal to either is settled by `wants` and the bound itself)
      const limit = () => Math.min(bound, low.items.length < low.k ? Infinity : low.items[low.k - 1].value);
      let most = limit();
      for (let r = 0; r < n; r++) {
        const v = values[r];
        if (!(v <= most) || (bits !== null && ((bits[(offset + r) >> 3] >> ((offset + r) & 7)) & 1) === 0)) continue;
        // (an infinite value is never above an infinite bound, so it still enters)
        if (low.wants(v) && !(v > bound)) { this.enter(b, low, v, r); most = limit(); }
      }
    }
  }

  /** Event `r` of `b` enters the lowest list `low` with value `v` (rare: see `kept`). */
  private enter(b: RecordBatch, low: Lowest, v: number, r: number): void {
    const id = String((b.getChild("id")!.data[0].values as BigInt64Array)[r]);
    const record = Number((b.getChild("record")!.data[0].values as BigInt64Array)[r]);
    low.add(v, { id, source: this.source, record });
    const z = column(b, "z")!;
    this.keep(b, r, record, id, (b.getChild("label")!.data[0].values as Int32Array)[r], z.valid(r) ? (z.values[r] as number) : null);
  }

  private keep(b: RecordBatch, r: number, record: number, id: string, label: number, z: number | null): void {
    if (this.kept.has(record)) return;
    // events pushed out of the lists go when every slot is taken: a file in descending order enters every event
    if (!this.freeSlots.length) this.prune();
    const slot = this.freeSlots.pop()!;
    const n = this.n;
    // float32 as `plot` reads them (an f64 conversion rounds the same way the f32 one does)
    const copy = (name: string, err: boolean) => {
      const d = b.getChild(name)!.data[0];
      this.slotMap(slot, err).set((d.children[0].values as Float32Array | Float64Array).subarray((d.offset + r) * n, (d.offset + r + 1) * n));
    };
    copy("flux", false);
    copy("flux_err", true);
    const zErr = b.getChild("z_err")?.get(r) as number | null | undefined;
    const o = this.stats.opts;
    this.kept.set(record, {
      event: { id, label, z, zErr: zErr ?? null, source: this.source, record, bins: o.bins, timeRange: o.timeRange, wavelengthRange: o.wavelengthRange },
      slot,
    });
  }

  /** Drops the kept events that are in no lowest list any more. */
  private prune(): void {
    const listed = new Set<number>();
    for (const l of this.stats.lowest.values()) for (const it of l.items) listed.add(it.key.record);
    for (const [r, e] of this.kept) {
      if (!listed.has(r)) { this.kept.delete(r); this.freeSlots.push(e.slot); }
    }
  }

  /**
   * The events in the lowest lists, with their maps (call after the last batch, before the task's
   * wasm regions are released). Each event's two maps are views of one ArrayBuffer of its own,
   * which a worker transfers to the main thread instead of copying it: one buffer per event
   * (~46 KB) stays under the allocator's mmap threshold, where one buffer for all of them (~0.5 MB
   * for a first task's dozen) was mapped afresh per task and its page faults cost ~2 ms here.
   */
  lowestEvents(): SconeEvent[] {
    this.prune();
    const n = this.n;
    return [...this.kept.values()].map(({ event, slot }) => {
      const maps = new Float32Array(2 * n);
      maps.set(this.slotMap(slot, false));
      maps.set(this.slotMap(slot, true), n);
      return { ...event, flux: maps.subarray(0, n), err: maps.subarray(n) };
    });
  }

  /**
   * The task's statistics (call after the last batch, before the task's wasm regions are
   * released). The flux sums are float64 arrays, each its own buffer, which a worker transfers
   * to the main thread: as JSON arrays they were serialized and read back value by value (~4 ms a
   * task of two classes). `plainStats` makes them JSON arrays where the statistics are written.
   */
  toJSON(): SconeStatsJson {
    this.settle();
    const buf = this.k.memory.buffer;
    const j = this.stats.toJSON();
    for (const [label, r] of this.slots) {
      j.flux[String(label)] = { n: r.count, sum: new Float64Array(buf, r.sum, this.n).slice(), sum_sq: new Float64Array(buf, r.sq, this.n).slice() };
    }
    for (const [label, a] of this.js) j.flux[String(label)] = { n: a.n, sum: a.sum, sum_sq: a.sumSq! };
    return j;
  }
}
