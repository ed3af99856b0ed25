// The `clusters` kind: DUNE supernova-neutrino cluster batches (online-pointing-utils, np.savez):
// `images` (N, H, W) raw ADC counts (rows = time ticks, columns = channels, 0 = empty) and
// `metadata` (N, K) float32 truth per cluster. One row per cluster: the image tensor, the metadata
// decoded by its layout, per-image metrics (assembly/clusters.ts) and provenance.
//
// Both members are read straight into wasm memory; a little-endian float32 C-order `images` (what
// numpy writes) is placed so that its data starts 64-byte aligned and becomes the Arrow tensor
// column without a copy. Other dtypes, byte orders and Fortran order are converted in wasm first.
import { Bool, Dictionary, Field, FixedSizeList, Float32, Float64, Int32, Int64, type RecordBatch, Schema, type Utf8, type Vector } from "apache-arrow";
import { boolData, dictionaryData, dictionaryType, dictionaryVector, primitiveData, recordBatch, tensorData, tensorField } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import { type NpyHeader, NPZ_WHOLE_LIMIT, NpzRowReader, type NpzArray, npyConvertInWasm, npzContext, npzHeader, rowContiguous } from "../formats/npy.js";
import type { ZipArchive, ZipEntry } from "../formats/zip.js";
import { VERSION } from "../version.js";
import type { Kernels } from "../wasm.js";

export type LayoutName = "12" | "11" | "15" | "12alt";
export const LAYOUT_NAMES: readonly LayoutName[] = ["12", "11", "15", "12alt"];

/** Where each quantity sits in a metadata row (column indices). */
export interface MetadataLayout {
  readonly name: LayoutName;
  readonly columns: number;
  readonly what: string;
  readonly marley: number;
  readonly mainTrack: number;
  /** The ES-interaction flag; absent in the 11-column layout. */
  readonly es?: number;
  readonly pos: number;
  /** First of the three direction columns, where the layout has them. */
  readonly dir?: number;
  /** First of the three momentum columns, where the layout has them. */
  readonly mom?: number;
  readonly nuEnergy: number;
  readonly particleEnergy: number;
  readonly plane: number;
}

/** The productions' metadata layouts (DESIGN.md, "DUNE cluster NPZ batches"). */
export const LAYOUTS: Readonly<Record<LayoutName, MetadataLayout>> = {
  "12": { name: "12", columns: 12, what: "marley, main_track, pos xyz, dir xyz, nu_E, particle_E, plane, es",
    marley: 0, mainTrack: 1, pos: 2, dir: 5, nuEnergy: 8, particleEnergy: 9, plane: 10, es: 11 },
  "11": { name: "11", columns: 11, what: "marley, main_track, pos xyz, dir xyz, nu_E, particle_E, plane",
    marley: 0, mainTrack: 1, pos: 2, dir: 5, nuEnergy: 8, particleEnergy: 9, plane: 10 },
  "15": { name: "15", columns: 15, what: "marley, main_track, pos xyz, dir xyz, mom xyz, nu_E, particle_E, plane, es",
    marley: 0, mainTrack: 1, pos: 2, dir: 5, mom: 8, nuEnergy: 11, particleEnergy: 12, plane: 13, es: 14 },
  "12alt": { name: "12alt", columns: 12, what: "marley, main_track, es, pos xyz, mom xyz, nu_E, particle_E, plane",
    marley: 0, mainTrack: 1, es: 2, pos: 3, mom: 6, nuEnergy: 9, particleEnergy: 10, plane: 11 },
};

export const PLANES = ["U", "V", "X"] as const;
/** The `interaction` dictionary: index = the ES flag. */
export const INTERACTIONS = ["CC", "ES"] as const;

/** The plane a batch's file name declares (`clusters_planeV_batch0003.npz` → 1), if any. */
export function planeFromName(file: string): number | undefined {
  const base = file.slice(file.lastIndexOf("/") + 1);
  const m = /plane([UVX])(?![A-Za-z])/.exec(base);
  return m ? PLANES.indexOf(m[1] as "U") : undefined;
}

/**
 * Why `meta` (n rows of `layout.columns` float32, C order) does not fit the layout, or undefined
 * when it does: flags must be 0 or 1, the plane 0, 1 or 2, and equal to the file name's plane.
 */
export function layoutMismatch(meta: Float32Array, n: number, layout: MetadataLayout, plane?: number): string | undefined {
  const k = layout.columns;
  const flags: [number, string][] = [[layout.marley, "is_marley"], [layout.mainTrack, "is_main_track"]];
  if (layout.es !== undefined) flags.push([layout.es, "is_es_interaction"]);
  for (const [col, name] of flags) {
    for (let i = 0; i < n; i++) {
      const v = meta[i * k + col];
      if (v !== 0 && v !== 1) return `column ${col} (${name}) is ${fmt(v)} in row ${i}, not 0 or 1`;
    }
  }
  const pc = layout.plane;
  for (let i = 0; i < n; i++) {
    const v = meta[i * k + pc];
    if (v !== 0 && v !== 1 && v !== 2) return `column ${pc} (plane_id) is ${fmt(v)} in row ${i}, not 0, 1 or 2`;
    if (plane !== undefined && v !== plane) {
      return `column ${pc} (plane_id) is ${v} (${PLANES[v]}) in row ${i}, but the file name says plane ${PLANES[plane]}`;
    }
  }
  return undefined;
}

function fmt(v: number): string {
  return Number.isNaN(v) ? "NaN" : String(v);
}

export interface ResolvedLayout {
  layout: MetadataLayout;
  /** How it was chosen, for the schema metadata and `inspect`. */
  how: "requested" | "detected" | "default";
}

/**
 * The metadata layout of a batch: the requested one (checked), or the only layout with K columns
 * whose value checks pass. No fit, or more than one, is an ArrowsmithError("layout") naming every
 * layout tried and why it failed. A batch without rows takes the first candidate.
 */
export function resolveLayout(meta: Float32Array, n: number, k: number, requested: "auto" | LayoutName,
                              file: string): ResolvedLayout {
  const plane = planeFromName(file);
  if (requested !== "auto") {
    const layout = LAYOUTS[requested];
    if (layout.columns !== k) {
      throw new ArrowsmithError("layout", `member "metadata.npy" has ${k} columns; --metadata-layout ${requested} has ${layout.columns} (${layout.what})`,
        { file, hint: `try --metadata-layout auto` });
    }
    const why = layoutMismatch(meta, n, layout, plane);
    if (why) throw new ArrowsmithError("layout", `member "metadata.npy" does not fit --metadata-layout ${requested}: ${why}`, { file });
    return { layout, how: "requested" };
  }
  const candidates = LAYOUT_NAMES.map((name) => LAYOUTS[name]).filter((l) => l.columns === k);
  if (!candidates.length) {
    throw new ArrowsmithError("layout",
      `member "metadata.npy" has ${k} columns; no known layout has that many (tried ${LAYOUT_NAMES.map((l) => `${l}: ${LAYOUTS[l].columns} columns`).join(", ")})`,
      { file, hint: "not a cluster batch of a known production; try --kind generic" });
  }
  if (n === 0) return { layout: candidates[0], how: "default" };
  const tried = candidates.map((layout) => ({ layout, why: layoutMismatch(meta, n, layout, plane) }));
  const fits = tried.filter((t) => !t.why);
  if (fits.length === 1) return { layout: fits[0].layout, how: "detected" };
  if (!fits.length) {
    throw new ArrowsmithError("layout",
      `member "metadata.npy" (${n}, ${k}) fits no layout: tried ${tried.map((t) => `${t.layout.name} (${t.why})`).join("; ")}`,
      { file, hint: "the batch is inconsistent (a wrong plane in the file name, or damaged metadata)" });
  }
  throw new ArrowsmithError("layout",
    `member "metadata.npy" (${n}, ${k}) is ambiguous: its values fit layouts ${fits.map((t) => t.layout.name).join(" and ")} (tried ${tried.map((t) => t.layout.name).join(", ")})`,
    { file, hint: `say which with --metadata-layout ${fits.map((t) => t.layout.name).join("|")}` });
}

// ---------------------------------------------------------------------------------------------
// Schema

export interface ClusterSchemaOptions {
  layout: MetadataLayout;
  height: number;
  width: number;
  precision: "f32" | "f64";
  /** How the layout was chosen (schema metadata). */
  how?: ResolvedLayout["how"];
  /** Extra schema metadata (a warning for an empty file, the source dtype). */
  extra?: Record<string, string>;
}

const desc = (d: string) => new Map([["description", d]]);

/** The per-cluster metrics, one definition each (computed by clusterImages on the float32 image). */
export const CLUSTER_METRICS = [
  { name: "pixel_sum", description: "sum of all pixels in float64 (numpy's image.sum(dtype=float64), bit for bit)" },
  { name: "pixel_max", description: "largest pixel; NaN when any pixel is NaN" },
  { name: "nonzero_pixels", description: "pixels != 0 (NaN counts as non-zero)" },
  { name: "time_first", description: "first time tick (image row) holding a non-zero pixel; null for an empty image" },
  { name: "time_last", description: "last time tick (image row) holding a non-zero pixel; null for an empty image" },
  { name: "channel_first", description: "first channel (image column) holding a non-zero pixel; null for an empty image" },
  { name: "channel_last", description: "last channel (image column) holding a non-zero pixel; null for an empty image" },
] as const;

/** Column names in order for a layout. */
export function clusterColumns(layout: MetadataLayout): string[] {
  return clusterSchema({ layout, height: 1, width: 1, precision: "f32" }).fields.map((f) => f.name);
}

export function clusterSchema(o: ClusterSchemaOptions): Schema {
  const { layout } = o;
  const f32 = (name: string, d: string, nullable = false) => new Field(name, new Float32(), nullable, desc(d));
  const xyz = (prefix: string, what: string) => ["x", "y", "z"].map((a) => f32(`${prefix}_${a}`, `${what}, ${a} component`));
  const metric = CLUSTER_METRICS.map((m, i) =>
    new Field(m.name, i === 0 ? new Float64() : i === 1 ? new Float32() : new Int32(), i >= 3, desc(m.description)));
  const fields = [
    tensorField("image", [o.height, o.width], ["time", "channel"], o.precision === "f64"),
    new Field("is_marley", new Bool(), false, desc("the cluster comes from a MARLEY (supernova neutrino) interaction")),
    new Field("is_main_track", new Bool(), false, desc("the cluster belongs to the main track of its interaction")),
    ...xyz("true_pos", "true position (cm)"),
    ...(layout.dir !== undefined ? xyz("true_dir", "true direction (unit vector)") : []),
    ...(layout.mom !== undefined ? xyz("true_mom", "true particle momentum") : []),
    f32("true_nu_energy", "true neutrino energy (MeV); null where the production wrote -1 (unknown)", true),
    f32("true_particle_energy", "true particle energy (MeV)"),
    new Field("plane", dictionaryType(1), false, desc("readout plane: U, V (induction) or X (collection)")),
    new Field("interaction", dictionaryType(2), true, desc("ES (elastic scattering) or CC; null where the layout has no ES flag")),
    ...metric,
    new Field("source", dictionaryType(0), false, desc("input file name")),
    new Field("row", new Int64(), false, desc("cluster index in the input file")),
  ];
  const [image] = fields;
  image.metadata.set("description", "cluster image: raw ADC counts, rows = time ticks, columns = channels, 0 = empty");
  return new Schema(fields, new Map([
    ["arrowsmith:kind", "clusters"],
    ["arrowsmith:version", VERSION],
    ["arrowsmith:layout", JSON.stringify({ name: layout.name, columns: layout.columns, order: layout.what, how: o.how ?? "requested" })],
    ["arrowsmith:image", JSON.stringify({ height: o.height, width: o.width, dims: ["time", "channel"] })],
    ["arrowsmith:precision", o.precision],
    ...Object.entries(o.extra ?? {}),
  ]));
}

// ---------------------------------------------------------------------------------------------
// Reading a batch into wasm memory

export const IMAGES = "images.npy";
export const METADATA = "metadata.npy";

/** True when the archive holds the two members of a cluster batch. */
export function isClusterArchive(zip: ZipArchive): boolean {
  return !!zip.entry(IMAGES) && !!zip.entry(METADATA);
}

/**
 * A batch whose metadata is read and checked, its layout settled and its images header checked
 * against it: everything that comes before the images, which are read by emitClusters.
 */
export interface ClusterPlan {
  file: string;
  n: number;
  height: number;
  width: number;
  /** Metadata columns (K) and the values as float32, C order, in JS memory. */
  columns: number;
  meta: Float32Array;
  layout: ResolvedLayout;
  images: NpzArray;
  imageDtype: string;
  metadataDtype: string;
}

export interface ClusterReadOptions {
  metadataLayout: "auto" | LayoutName;
}

function member(zip: ZipArchive, name: string): ZipEntry {
  const e = zip.entry(name);
  if (!e) {
    throw new ArrowsmithError("feature", `cluster batch has no member "${name}" (members: ${zip.entries.map((x) => x.name).join(", ") || "none"})`,
      { file: zip.file, hint: "a cluster batch holds images (N, H, W) and metadata (N, K); try --kind generic for other NPZ files" });
  }
  return e;
}

function checkNumeric(zip: ZipArchive, name: string, h: NpyHeader, dims: number, shape: string): void {
  if (h.shape.length !== dims) {
    throw new ArrowsmithError("feature", `member "${name}" has shape (${h.shape.join(", ")}${h.shape.length === 1 ? "," : ""}); a cluster batch needs ${shape}`, { file: zip.file });
  }
  if (h.dtype.code === undefined || h.dtype.kind === "b") {
    throw new ArrowsmithError("feature", `member "${name}" is ${h.dtype.name} ('${h.dtype.raw}'); a cluster batch needs numbers (float32)`, { file: zip.file });
  }
}

/** Reads a member so that its array data starts 64-byte aligned in wasm memory; returns that pointer. */
export function readAligned(k: Kernels, zip: ZipArchive, entry: ZipEntry, h: NpyHeader, why = "it is read whole"): number {
  if (entry.size > NPZ_WHOLE_LIMIT) {
    throw new ArrowsmithError("too_large", `member "${entry.name}" holds ${entry.size} bytes, and ${why}: at most ${NPZ_WHOLE_LIMIT} bytes are read whole`,
      { file: zip.file, offset: entry.centralOffset, hint: "this is not a cluster batch as the productions write them (1,000 clusters, a few MB)" });
  }
  const raw = k.alloc(entry.size + 64);
  const base = Math.ceil((raw + h.dataOffset) / 64) * 64 - h.dataOffset;
  zip.readInto(entry, k.bytes(), base);
  return base + h.dataOffset;
}

/** The metadata member's header and its values as float32 in JS memory (members are small). */
export function readMetadata(k: Kernels, zip: ZipArchive): { header: NpyHeader; entry: ZipEntry; meta: Float32Array } {
  const entry = member(zip, METADATA);
  const header = npzHeader(zip, entry);
  checkNumeric(zip, METADATA, header, 2, "(N, K)");
  const mark = k.mark();
  try {
    const data = readAligned(k, zip, entry, header);
    const out = k.alloc(header.count * 4);
    npyConvertInWasm(k, header, data, out, "f32");
    return { header, entry, meta: new Float32Array(k.bytes().buffer, out, header.count).slice() };
  } catch (e) {
    throw placeNpy(e, zip, entry);
  } finally {
    k.release(mark);
  }
}

function placeNpy(e: unknown, zip: ZipArchive, entry: ZipEntry): unknown {
  if (e instanceof ArrowsmithError && !e.file) return e.at({ file: zip.file, offset: npzContext(zip, entry).offset });
  return e;
}

/** The images member's header, checked against the metadata's row count. */
export function imagesHeader(zip: ZipArchive, rows: number): { header: NpyHeader; entry: ZipEntry } {
  const entry = member(zip, IMAGES);
  const header = npzHeader(zip, entry);
  checkNumeric(zip, IMAGES, header, 3, "(N, H, W)");
  if (header.shape[0] !== rows) {
    throw new ArrowsmithError("schema",
      `member "images.npy" has ${header.shape[0]} clusters but "metadata.npy" has ${rows} rows`, { file: zip.file, hint: "the batch is inconsistent" });
  }
  return { header, entry };
}

/**
 * Reads and checks what comes before the images: the metadata (read whole: N × K float32), its
 * layout, and the images header against it. Nothing of the images is read yet.
 */
export function planClusterBatch(k: Kernels, zip: ZipArchive, opts: ClusterReadOptions): ClusterPlan {
  const md = readMetadata(k, zip);
  const [n, cols] = md.header.shape;
  const im = imagesHeader(zip, n);
  const layout = resolveLayout(md.meta, n, cols, opts.metadataLayout, zip.file);
  const [, height, width] = im.header.shape;
  return {
    file: zip.file, n, height, width, columns: cols, meta: md.meta, layout, images: { name: "images", entry: im.entry, header: im.header },
    imageDtype: im.header.dtype.descr, metadataDtype: md.header.dtype.descr,
  };
}

/** The output schema of a planned batch. */
export function clusterPlanSchema(p: ClusterPlan, precision: "f32" | "f64", extra: Record<string, string> = {}): Schema {
  return clusterSchema({ layout: p.layout.layout, how: p.layout.how, height: p.height, width: p.width, precision, extra });
}

// ---------------------------------------------------------------------------------------------
// Record batches

/** Image bytes (source or output, whichever is wider) per window of rows: one record batch each. */
export const CLUSTER_WINDOW_BYTES = 32 << 20;

export interface ClusterEmitOptions {
  precision: "f32" | "f64";
  /** Bytes of images per window (and record batch); default CLUSTER_WINDOW_BYTES. */
  windowBytes?: number;
  /** Emit only the first rows (the rest is still read and checked). */
  maxRows?: number;
  /**
   * The dataset report's mean-image sums (ClusterTap.kernelSums: planes U, V, X, h*w float64
   * each): every emitted float32 image is added to its plane's as the image kernel reads it.
   * Ignored with precision f64 (the report sums the float64 values then).
   */
  meanImages?: number;
}

/**
 * Reads the images a window of rows at a time into wasm memory (the member is C order: a window is
 * contiguous), converts them to native float32 (and float64 with precision f64) where the dtype
 * needs it, computes the metrics, and emits one record batch per window. Memory follows the window,
 * not the member: a 4 GB images member takes what a 32 MiB one does. A little-endian float32 window
 * becomes the tensor column without a copy; `emit` must write each batch before returning
 * (Sink.write does). The member's CRC-32 is checked after its last row, so a damaged member fails
 * after its batches were emitted: the caller's sink is aborted then. A Fortran-order member has no
 * contiguous rows and is read whole (up to NPZ_WHOLE_LIMIT). Returns the clusters with a non-finite pixel.
 */
export function emitClusters(k: Kernels, zip: ZipArchive, p: ClusterPlan, schema: Schema, source: Vector<Utf8>,
                             emit: (batch: RecordBatch) => void, o: ClusterEmitOptions): number {
  const it = clusterBatches(k, zip, p, schema, source, o);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    emit(r.value);
  }
}

/**
 * emitClusters as a generator: each window's record batch is yielded, the non-finite count
 * returned. With `o.buffers` 2 the windows alternate between two sets of wasm regions, so a batch
 * stays valid while the next one is made: a consumer that writes behind (Sink.writeBehind) waits
 * for the batch before last to be written (Sink.ready) before asking for the next.
 */
export function* clusterBatches(k: Kernels, zip: ZipArchive, p: ClusterPlan, schema: Schema, source: Vector<Utf8>,
                                o: ClusterEmitOptions & { buffers?: 1 | 2 }): Generator<RecordBatch, number, void> {
  const { n, layout: { layout: L }, meta, columns: K } = p;
  const h = p.images.header;
  const hw = p.height * p.width;
  const f64 = o.precision === "f64";
  const rowIn = hw * h.dtype.itemSize;
  const rowOut = hw * (f64 ? 8 : 4);
  const rowMax = Math.max(rowIn, rowOut, 1);
  if (rowMax > NPZ_WHOLE_LIMIT) {
    throw new ArrowsmithError("too_large", `member "images.npy": one cluster image of ${p.height} × ${p.width} is ${rowMax} bytes, over the ${NPZ_WHOLE_LIMIT} read at a time`,
      { file: zip.file, offset: p.images.entry.centralOffset });
  }
  const window = Math.max(1, Math.min(n, Math.floor((o.windowBytes ?? CLUSTER_WINDOW_BYTES) / rowMax)));
  const stop = Math.min(n, o.maxRows ?? n);

  const column = (c: number) => {
    const out = new Float32Array(n);
    for (let i = 0, q = c; i < n; i++, q += K) out[i] = meta[q];
    return out;
  };
  const flag = (c: number) => {
    const out = new Uint8Array(n);
    for (let i = 0, q = c; i < n; i++, q += K) out[i] = meta[q] !== 0 ? 1 : 0;
    return out;
  };
  const marley = flag(L.marley);
  const main = flag(L.mainTrack);
  const triple = (c: number | undefined) => (c === undefined ? [] : [column(c), column(c + 1), column(c + 2)]);
  const floats = [...triple(L.pos), ...triple(L.dir), ...triple(L.mom)];
  const nu = column(L.nuEnergy);
  const nuValid = new Uint8Array(n);
  for (let i = 0; i < n; i++) nuValid[i] = nu[i] === -1 ? 0 : 1;
  const pe = column(L.particleEnergy);
  const plane = new Int32Array(n);
  for (let i = 0, q = L.plane; i < n; i++, q += K) plane[i] = meta[q];
  const es = new Int32Array(n);
  const esValid = new Uint8Array(n);
  if (L.es !== undefined) {
    for (let i = 0, q = L.es; i < n; i++, q += K) es[i] = meta[q];
    esValid.fill(1);
  }
  const rows = new BigInt64Array(n);
  const rowWords = new Int32Array(rows.buffer);
  for (let i = 0; i < n; i++) rowWords[2 * i] = i;
  const planeDict = dictionaryVector([...PLANES]);
  const esDict = dictionaryVector([...INTERACTIONS]);
  const zeros = new Int32Array(window);
  const sets = o.buffers === 2 && n > window ? 2 : 1;
  const nonEmpties = Array.from({ length: sets }, () => new Uint8Array(window));
  const fields = schema.fields;

  const mark = k.mark();
  let reader: NpzRowReader | undefined;
  try {
    // every region is allocated before the first view is made: nothing grows memory afterwards
    let wholeF32 = 0, wholeF64 = 0;
    const raws: number[] = [], convs: number[] = [], convF64s: number[] = [];
    if (rowContiguous(h)) {
      reader = new NpzRowReader(zip, p.images);
      for (let b = 0; b < sets; b++) {
        const raw = k.alloc(window * rowIn);
        raws.push(raw);
        convs.push(h.dtype.descr === "<f4" || h.dtype.descr === ">f4" ? raw : k.alloc(window * hw * 4));
        convF64s.push(f64 ? k.alloc(window * hw * 8) : 0);
      }
    } else {
      let data: number;
      try {
        data = readAligned(k, zip, p.images.entry, h, "its Fortran order has no contiguous rows to read in windows");
      } catch (e) {
        throw placeNpy(e, zip, p.images.entry);
      }
      if (f64) {
        wholeF64 = k.alloc(h.count * 8);
        npyConvertInWasm(k, h, data, wholeF64, "f64");
      }
      wholeF32 = k.alloc(h.count * 4);
      npyConvertInWasm(k, h, data, wholeF32, "f32");
    }
    const metricSets = Array.from({ length: sets }, () => ({ sum: k.alloc(window * 8), max: k.alloc(window * 4), nonzero: k.alloc(window * 4), extent: k.alloc(window * 16) }));
    const meanImages = !f64 && o.meanImages ? o.meanImages : 0;
    const planesAt = meanImages ? k.alloc(window * 4) : 0;
    const buf = k.memory.buffer;
    let nonfinite = 0;
    for (let s = 0, w = 0; s < n; s += window, w++) {
      const len = Math.min(window, n - s);
      const set = w % sets;
      const { sum, max, nonzero, extent } = metricSets[set];
      const sums = new Float64Array(buf, sum, window);
      const nonEmpty = nonEmpties[set];
      const raw = raws[set], conv = convs[set], convF64 = convF64s[set];
      let f32At: number, f64At: number | undefined;
      if (reader) {
        reader.read(len, k.bytes(), raw);
        const wh: NpyHeader = { ...h, shape: [len * hw], count: len * hw, byteLength: len * rowIn, fortranOrder: false };
        if (f64) npyConvertInWasm(k, wh, raw, convF64, "f64"); // before the in-place float32 conversion below
        if (h.dtype.descr !== "<f4") npyConvertInWasm(k, wh, raw, conv, "f32");
        f32At = conv;
        f64At = f64 ? convF64 : undefined;
      } else {
        f32At = wholeF32 + s * hw * 4;
        f64At = f64 ? wholeF64 + s * hw * 8 : undefined;
      }
      const e = Math.min(stop, s + len);
      if (meanImages && s < e) new Int32Array(buf, planesAt, e - s).set(plane.subarray(s, e));
      k.clusterImages(f32At, len, p.height, p.width, 0, sum, max, nonzero, extent, meanImages, planesAt, Math.max(0, e - s));
      // float32 pixels summed in float64 cannot overflow: only NaN/inf pixels make the sum non-finite
      for (let i = 0; i < len; i++) if (!Number.isFinite(sums[i])) nonfinite++;
      if (s >= e) continue;
      const m = e - s;
      const images = f64At !== undefined ? new Float64Array(buf, f64At, m * hw) : new Float32Array(buf, f32At, m * hw);
      const nz = new Int32Array(buf, nonzero, m);
      const ext = new Int32Array(buf, extent, 4 * len);
      for (let i = 0; i < m; i++) nonEmpty[i] = nz[i] !== 0 ? 1 : 0;
      let f = 0;
      const next = () => fields[f++].type;
      const children = [tensorData(next() as FixedSizeList, images, m)];
      next();
      children.push(boolData(marley.subarray(s, e), m));
      next();
      children.push(boolData(main.subarray(s, e), m));
      for (const c of floats) children.push(primitiveData(next(), c.subarray(s, e), m));
      children.push(primitiveData(next(), nu.subarray(s, e), m, nuValid.subarray(s, e)));
      children.push(primitiveData(next(), pe.subarray(s, e), m));
      children.push(dictionaryData(next() as Dictionary<Utf8, Int32>, planeDict, plane.subarray(s, e), m));
      children.push(dictionaryData(next() as Dictionary<Utf8, Int32>, esDict, es.subarray(s, e), m, esValid.subarray(s, e)));
      children.push(primitiveData(next(), sums.subarray(0, m), m));
      children.push(primitiveData(next(), new Float32Array(buf, max, m), m));
      children.push(primitiveData(next(), nz, m));
      for (let q = 0; q < 4; q++) children.push(primitiveData(next(), ext.subarray(q * len, q * len + m), m, nonEmpty.subarray(0, m)));
      children.push(dictionaryData(next() as Dictionary<Utf8, Int32>, source, zeros.subarray(0, m), m));
      children.push(primitiveData(next(), rows.subarray(s, e), m));
      if (f !== fields.length) throw new ArrowsmithError("internal", `cluster batch built ${f} columns for a schema of ${fields.length}`);
      yield recordBatch(schema, children, m);
    }
    if (reader) {
      try {
        reader.finish();
      } catch (e) {
        throw placeNpy(e, zip, p.images.entry);
      }
    }
    return nonfinite;
  } finally {
    reader?.close();
    k.release(mark);
  }
}

export { dictionaryVector };
