// The statistics of a whole DUNE cluster dataset, accumulated over every cluster during the
// conversion: plane, ES/CC, Marley and main-track counts, histograms of energies, positions,
// pixel sums and non-zero pixels over fixed edges, and the per-pixel sum of the images of each
// plane (in wasm) for the mean image per plane.
import { type Data, DataType, type RecordBatch } from "apache-arrow";
import { columnBuffers, columnData } from "../arrow.js";
import type { Kernels } from "../wasm.js";
import { Counts, Histogram, jnum, linearEdges, SumArray } from "./accumulators.js";

function logEdges(a: number, b: number, per: number): number[] {
  const n = (b - a) * per, step = (b - a) / n;
  return Array.from({ length: n + 1 }, (_, i) => 10 ** (i === n ? b : a + i * step));
}

/**
 * Fixed edges. Energies (MeV): 50 bins over [0, 100]. Positions (cm): x and y 32 bins over
 * [-800, 800], z 36 bins over [-800, 6400] (a DUNE far-detector module and some margin).
 * pixel_sum: 4 bins a decade over [1, 1e7]; pixel_max: 4 a decade over [1, 1e5] (zero is the
 * underflow); nonzero_pixels: powers of two, [0, 1, 2, 4, …, 65536).
 */
export const CLUSTER_EDGES: Record<string, number[]> = {
  true_nu_energy: linearEdges(0, 100, 50),
  true_particle_energy: linearEdges(0, 100, 50),
  true_pos_x: linearEdges(-800, 800, 32),
  true_pos_y: linearEdges(-800, 800, 32),
  true_pos_z: linearEdges(-800, 6400, 36),
  pixel_sum: logEdges(0, 7, 4),
  pixel_max: logEdges(0, 5, 4),
  nonzero_pixels: [0, ...Array.from({ length: 17 }, (_, i) => 2 ** i)],
};

const FLAGS = ["is_marley", "is_main_track"] as const;

export class ClusterStats {
  readonly kind = "clusters";
  clusters = 0;
  planes = new Counts();
  interactions = new Counts();
  flags: Record<(typeof FLAGS)[number], Counts> = { is_marley: new Counts(), is_main_track: new Counts() };
  histograms = new Map<string, Histogram>(Object.entries(CLUSTER_EDGES).map(([k, e]) => [k, new Histogram(e)]));
  /** plane → per-pixel sums of its images (time ticks × channels). */
  images = new Map<string, SumArray>();
  shape: [number, number] = [0, 0];
  files = new Map<string, { clusters: number; planes: Counts }>();

  merge(o: ClusterStats): void {
    this.clusters += o.clusters;
    this.planes.merge(o.planes);
    this.interactions.merge(o.interactions);
    for (const f of FLAGS) this.flags[f].merge(o.flags[f]);
    for (const [k, h] of o.histograms) this.histograms.get(k)!.merge(h);
    for (const [k, a] of o.images) {
      const mine = this.images.get(k);
      // batches of another image size keep their own entry
      if (mine && mine.length === a.length) mine.merge(a);
      else if (!mine) this.images.set(k, SumArray.fromJSON(a.toJSON()));
    }
    if (!this.shape[0]) this.shape = o.shape;
    for (const [k, f] of o.files) {
      const mine = this.files.get(k);
      if (mine) { mine.clusters += f.clusters; mine.planes.merge(f.planes); } else this.files.set(k, { clusters: f.clusters, planes: Counts.fromJSON(f.planes.toJSON()) });
    }
  }

  toJSON(): ClusterStatsJson {
    return {
      kind: "clusters", clusters: this.clusters, shape: this.shape,
      planes: this.planes.toJSON(), interactions: this.interactions.toJSON(),
      flags: { is_marley: this.flags.is_marley.toJSON(), is_main_track: this.flags.is_main_track.toJSON() },
      histograms: Object.fromEntries([...this.histograms].map(([k, h]) => [k, h.toJSON()])),
      images: Object.fromEntries([...this.images].map(([k, a]) => [k, a.toJSON()])),
      files: Object.fromEntries([...this.files].map(([k, f]) => [k, { clusters: f.clusters, planes: f.planes.toJSON() }])),
    };
  }

  static fromJSON(j: ClusterStatsJson): ClusterStats {
    const s = new ClusterStats();
    s.clusters = j.clusters; s.shape = j.shape;
    s.planes = Counts.fromJSON(j.planes); s.interactions = Counts.fromJSON(j.interactions);
    s.flags = { is_marley: Counts.fromJSON(j.flags.is_marley), is_main_track: Counts.fromJSON(j.flags.is_main_track) };
    for (const [k, h] of Object.entries(j.histograms)) s.histograms.set(k, Histogram.fromJSON(h));
    for (const [k, a] of Object.entries(j.images)) s.images.set(k, SumArray.fromJSON(a));
    for (const [k, f] of Object.entries(j.files)) s.files.set(k, { clusters: f.clusters, planes: Counts.fromJSON(f.planes) });
    return s;
  }
}

export interface ClusterStatsJson {
  kind: "clusters";
  clusters: number;
  shape: [number, number];
  planes: Record<string, number>;
  interactions: Record<string, number>;
  flags: { is_marley: Record<string, number>; is_main_track: Record<string, number> };
  histograms: Record<string, ReturnType<Histogram["toJSON"]>>;
  /** Per plane; a task's sums are float64 arrays until written as JSON (`plainStats`). */
  images: Record<string, ReturnType<SumArray["toJSON"]> | { n: number; sum: Float64Array }>;
  files: Record<string, { clusters: number; planes: Record<string, number> }>;
}

/**
 * A task's accumulator, fed each record batch before it is written. The three planes' sums are
 * allocated up front: allocating while batches are emitted could grow memory and detach the views
 * of the images being written.
 */
export const MEAN_IMAGE_MAX_PIXELS = 1 << 20;

/** The planes in the order of their index (the metadata's plane_id), as the mean-image sums are laid out. */
const PLANE_ORDER = ["U", "V", "X"] as const;

export class ClusterTap {
  readonly stats = new ClusterStats();
  private readonly regions = new Map<string, { sum: number; count: number }>();
  private base = 0;
  /** Whether the converter's image kernel adds the images to the plane sums (`kernelSums`). */
  private summed = false;
  constructor(private readonly k: Kernels, private readonly source: string, private readonly hw: number) {
    // the mean image per plane takes 3 × 8 bytes a pixel: kept for images up to 1 Mi pixels (real
    // clusters are 128 × 16 or 128 × 32); a larger image would make the report, not the data,
    // decide the memory (8200 × 8192 images took 1.6 GB here), so it is left out of the report
    if (hw > MEAN_IMAGE_MAX_PIXELS) return;
    const base = (this.base = k.alloc(3 * hw * 8));
    k.bytes().fill(0, base, base + 3 * hw * 8);
    PLANE_ORDER.forEach((p, i) => this.regions.set(p, { sum: base + i * hw * 8, count: 0 }));
  }

  /**
   * The plane sums (U, V, X, hw float64 each) for the converter's image kernel to add each float32
   * image to while it is in cache (ClusterEmitOptions.meanImages), or 0 when there are none; from
   * then on `batch` only counts. Not for float64 images: their sums are of the float64 values.
   */
  kernelSums(): number {
    if (this.base) this.summed = true;
    return this.base;
  }

  batch(b: RecordBatch): void {
    const s = this.stats;
    const n = b.numRows;
    const img = b.getChild("image")!.data[0];
    const hw = (img.type as { listSize: number }).listSize;
    if (!s.shape[0]) {
      const meta = JSON.parse(b.schema.metadata.get("arrowsmith:image") ?? "{}") as { height?: number; width?: number };
      s.shape = [meta.height ?? 0, meta.width ?? 0];
    }
    const file = this.stats.files.get(this.source) ?? { clusters: 0, planes: new Counts() };
    this.stats.files.set(this.source, file);
    // one loop per column over its buffers: a closure call per row and histogram was ~0.4 µs a
    // cluster, 5% of its conversion
    countValues(b, "interaction", "unknown", s.interactions);
    for (const name of Object.keys(CLUSTER_EDGES)) {
      const h = s.histograms.get(name)!;
      const c = columnBuffers(b, name);
      const d = columnData(b, name);
      if (c && d && (c.values instanceof Float64Array || c.values instanceof Float32Array || c.values instanceof Int32Array) && !DataType.isDictionary(d.type) && !DataType.isBool(d.type)) {
        h.addColumn(c.values, n, c.bits, c.offset);
      } else if (d) {
        const v = numbers(b, name)!;
        for (let r = 0; r < n; r++) h.add(v(r));
      }
    }
    for (const f of FLAGS) {
      const yes = countTrue(b, f);
      if (yes) s.flags[f].add("true", yes);
      if (n - yes) s.flags[f].add("false", n - yes);
    }
    const plane = strings(b, "plane", "null");
    const values = img.children[0].values as Float32Array | Float64Array;
    // a run of rows of one plane at a time (a batch file holds one plane); its images are added
    // here only when the image kernel did not add them (float64 images), each pixel in row order
    for (let r = 0, e: number; r < n; r = e) {
      const p = plane(r);
      for (e = r + 1; e < n && plane(e) === p;) e++;
      s.planes.add(p, e - r);
      file.planes.add(p, e - r);
      const reg = this.regions.get(p);
      if (!reg || hw !== this.hw) continue;
      reg.count += e - r;
      if (this.summed) continue;
      const at = (img.offset + r) * hw;
      const sum = new Float64Array(this.k.memory.buffer, reg.sum, hw);
      for (let q = at, end = at + (e - r) * hw; q < end; q += hw) for (let i = 0; i < hw; i++) sum[i] += values[q + i];
    }
    s.clusters += n;
    file.clusters += n;
  }
  /**
   * The task's statistics (after the last batch, before the task's wasm regions are released).
   * The mean-image sums are float64 arrays, each its own buffer, which a worker transfers to the
   * main thread rather than serializing value by value; `plainStats` makes them JSON arrays where
   * statistics are written.
   */
  toJSON(): ClusterStatsJson {
    const j = this.stats.toJSON();
    for (const [p, r] of this.regions) {
      if (r.count) j.images[p] = { n: r.count, sum: new Float64Array(this.k.memory.buffer, r.sum, this.hw).slice() };
    }
    return j;
  }
}

/** Whether row r of a batch column (one Data, as the converter builds them) is valid. */
function validity(d: Data): (r: number) => boolean {
  const bm = d.nullBitmap, off = d.offset;
  return d.nullCount > 0 && bm && bm.length ? (r) => ((bm[(off + r) >> 3] >> ((off + r) & 7)) & 1) === 1 : () => true;
}

/** Row r of a dictionary column as a string (`none` for a null or a missing column), as `String(v.get(r) ?? none)`. */
function strings(b: RecordBatch, name: string, none: string): (r: number) => string {
  const v = b.getChild(name);
  if (!v) return () => none;
  const d = v.data[0];
  const dict = d.dictionary ? Array.from({ length: d.dictionary.length }, (_, i) => String(d.dictionary!.get(i))) : undefined;
  if (!dict) return (r) => String(v.get(r) ?? none);
  const idx = d.values as ArrayLike<number>, off = d.offset, ok = validity(d);
  return (r) => (ok(r) ? dict[idx[off + r]] : none);
}

/** Row r of a numeric column as a number, or null, as `Number(v.get(r))`. */
function numbers(b: RecordBatch, name: string): ((r: number) => number | null) | undefined {
  const v = b.getChild(name);
  if (!v) return undefined;
  const d = v.data[0];
  const values = d.values as ArrayLike<number | bigint> | undefined, off = d.offset, ok = validity(d);
  if (!values || DataType.isBool(d.type) || DataType.isDictionary(d.type)) return (r) => { const x = v.get(r); return x === null ? null : Number(x); };
  return (r) => (ok(r) ? Number(values[off + r]) : null);
}

/** Adds the values of a dictionary column to `counts` (`none` for a null or a missing column): counted by index, named once. */
function countValues(b: RecordBatch, name: string, none: string, counts: Counts): void {
  const n = b.numRows;
  const v = b.getChild(name);
  const d = v?.data[0];
  if (!v || !d || !d.dictionary) {
    const get = strings(b, name, none);
    for (let r = 0; r < n; r++) counts.add(get(r));
    return;
  }
  const idx = d.values as Int32Array, off = d.offset, dn = d.dictionary.length;
  const per = new Array<number>(dn + 1).fill(0);
  if (d.nullCount > 0 && d.nullBitmap) {
    const bm = d.nullBitmap;
    for (let r = 0; r < n; r++) per[((bm[(off + r) >> 3] >> ((off + r) & 7)) & 1) === 1 ? idx[off + r] : dn]++;
  } else {
    for (let r = 0; r < n; r++) per[idx[off + r]]++;
  }
  for (let i = 0; i < dn; i++) if (per[i]) counts.add(String(d.dictionary.get(i)), per[i]);
  if (per[dn]) counts.add(none, per[dn]);
}

/** The rows of a Bool column that are true (a null or a missing column counts false). */
function countTrue(b: RecordBatch, name: string): number {
  const v = b.getChild(name);
  if (!v) return 0;
  const d = v.data[0];
  const bm = d.values as Uint8Array, off = d.offset, valid = d.nullCount > 0 && d.nullBitmap ? d.nullBitmap : null;
  let yes = 0;
  for (let r = 0, n = b.numRows; r < n; r++) {
    const i = off + r;
    yes += (bm[i >> 3] >> (i & 7)) & (valid === null ? 1 : (valid[i >> 3] >> (i & 7)) & 1);
  }
  return yes;
}

/** The numbers behind the cluster statistics figure (the `_report.json` keys). */
export function clusterReportNumbers(s: ClusterStats) {
  const [h, w] = s.shape;
  return {
    clusters: s.clusters,
    plane_counts: s.planes.toJSON(),
    interaction_counts: s.interactions.toJSON(),
    marley_counts: s.flags.is_marley.toJSON(),
    main_track_counts: s.flags.is_main_track.toJSON(),
    image_shape: s.shape,
    mean_image_by_plane: Object.fromEntries([...s.images].sort().map(([p, a]) => {
      const m = a.mean();
      return [p, Array.from({ length: h }, (_, r) => Array.from({ length: w }, (_, c) => jnum(m[r * w + c])))];
    })),
    histograms: Object.fromEntries([...s.histograms].map(([k, v]) => [k, v.toJSON()])),
    files: Object.fromEntries([...s.files].sort().map(([k, f]) => [k, { clusters: f.clusters, plane_counts: f.planes.toJSON() }])),
  };
}
