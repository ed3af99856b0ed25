// Dataset statistics of DUNE cluster batches: what online-pointing-utils'
// scripts/load_batched_cluster_data.py (get_dataset_info and its __main__) prints, from the same
// inputs: batch files, total clusters, total size (the script's "MB" is bytes / 1024 / 1024: the
// same figures, labelled MiB as everywhere in arrowsmith, src/units.ts), average batch size,
// clusters per batch, bytes per cluster, the plane distribution, Marley and main-track counts; plus
// the interaction types DESIGN.md asks for (ES, CC, unknown where the layout has no ES flag).
//
// Where it differs from the script, on purpose: the plane, flags and ES columns come from each
// batch's detected layout (the script reads column 10 as the plane, right only for 11 and 12
// columns); a 0-byte batch counts as a batch file with no clusters and a warning (the script
// crashes in np.load), as does an empty folder (the script crashes on a missing key); a batch that
// cannot be read is reported and left out of every figure. Only the metadata member is read.
import { basename } from "node:path";
import { isClusterArchive, type LayoutName, PLANES, readMetadata, imagesHeader, resolveLayout } from "./datasets/clusters.js";
import { isArrowsmithError } from "./errors.js";
import { openNpz } from "./pipeline/npz-task.js";
import { kernels } from "./wasm.js";

export interface Count {
  count: number;
  /** 100 × count / total clusters (0 when there are none). */
  percent: number;
}

export interface ClusterStats {
  kind: "clusters";
  batch_files: number;
  total_clusters: number;
  total_size_bytes: number;
  total_size_mb: number;
  avg_batch_size_mb: number;
  avg_clusters_per_batch: number;
  avg_bytes_per_cluster: number;
  planes: Record<"U" | "V" | "X", Count>;
  interactions: { ES: Count; CC: Count; unknown: Count };
  marley: Count;
  main_track: Count;
  /** Batch files per metadata layout, and clusters per image shape ("128x16"). */
  layouts: Record<string, number>;
  image_shapes: Record<string, number>;
  empty_batches: string[];
  /** NPZ files without `images` and `metadata` (not cluster batches): left out, as the script's glob would. */
  not_batches: string[];
  problems: { file?: string; offset?: number; code: string; message: string }[];
}

export interface ClusterStatsOptions {
  metadataLayout?: "auto" | LayoutName;
  verify?: boolean;
}

/** Statistics over the given NPZ files (already expanded from folders and globs). */
export function clusterStats(files: string[], opts: ClusterStatsOptions = {}): ClusterStats {
  const k = kernels();
  const planes = [0, 0, 0];
  let es = 0, cc = 0, unknown = 0, marley = 0, main = 0, clusters = 0, bytes = 0, batches = 0;
  const layouts: Record<string, number> = {};
  const shapes: Record<string, number> = {};
  const empty: string[] = [], notBatches: string[] = [];
  const problems: ClusterStats["problems"] = [];
  for (const file of files) {
    const mark = k.mark();
    let input: ReturnType<typeof openNpz> | undefined;
    try {
      input = openNpz(file, opts.verify ?? true);
      const zip = input.zip;
      if (!zip) {
        empty.push(file);
        batches++;
        continue;
      }
      if (!isClusterArchive(zip)) {
        notBatches.push(file);
        continue;
      }
      const { header, meta } = readMetadata(k, zip);
      const [n, cols] = header.shape;
      const im = imagesHeader(zip, n);
      const { layout } = resolveLayout(meta, n, cols, opts.metadataLayout ?? "auto", file);
      // all checks passed: the batch counts
      batches++;
      bytes += input.size;
      clusters += n;
      layouts[layout.name] = (layouts[layout.name] ?? 0) + 1;
      const shape = `${im.header.shape[1]}x${im.header.shape[2]}`;
      shapes[shape] = (shapes[shape] ?? 0) + n;
      for (let i = 0, row = 0; i < n; i++, row += cols) {
        planes[meta[row + layout.plane]]++;
        if (meta[row + layout.marley] !== 0) marley++;
        if (meta[row + layout.mainTrack] !== 0) main++;
        if (layout.es === undefined) unknown++;
        else if (meta[row + layout.es] === 1) es++;
        else cc++;
      }
    } catch (e) {
      if (!isArrowsmithError(e)) throw e;
      problems.push({ file: e.file ?? file, offset: e.offset, code: e.code, message: e.message });
    } finally {
      input?.close();
      k.release(mark);
    }
  }
  const pct = (count: number): Count => ({ count, percent: clusters > 0 ? (100 * count) / clusters : 0 });
  return {
    kind: "clusters",
    batch_files: batches,
    total_clusters: clusters,
    total_size_bytes: bytes,
    total_size_mb: bytes / 1024 / 1024,
    avg_batch_size_mb: batches ? bytes / batches / 1024 / 1024 : 0,
    avg_clusters_per_batch: batches ? clusters / batches : 0,
    avg_bytes_per_cluster: clusters > 0 ? bytes / clusters : 0,
    planes: { U: pct(planes[0]), V: pct(planes[1]), X: pct(planes[2]) },
    interactions: { ES: pct(es), CC: pct(cc), unknown: pct(unknown) },
    marley: pct(marley),
    main_track: pct(main),
    layouts, image_shapes: shapes, empty_batches: empty, not_batches: notBatches, problems,
  };
}

/**
 * Python's `f"{x:.{digits}f}"`: the decimal nearest to the binary value, ties to even. JS toFixed
 * rounds exact ties up (2.5 → "3", Python "2"), which an average of clusters per batch can hit.
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  if (Math.abs(x) >= 1e21) return x.toFixed(digits);
  // toFixed(100) is the exact decimal expansion of any double this large (the ones printed here)
  const exact = x.toFixed(100);
  const dot = exact.indexOf(".");
  const tail = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return x.toFixed(digits);
  const kept = digits ? exact.slice(0, dot + 1 + digits) : exact.slice(0, dot);
  // an exact tie: keep an even last digit, else toFixed rounds away from zero to the even one
  return Number(kept[kept.length - 1]) % 2 === 0 ? kept : x.toFixed(digits);
}

/** The script's report (without its emoji), with the interaction types and notes added. */
export function renderClusterStats(s: ClusterStats, label: string): string {
  const c = (x: Count) => `${x.count} (${pyFixed(x.percent, 1)}%)`;
  const lines = [
    `Dataset: ${label}`,
    "",
    "Dataset Statistics:",
    `  Batch files: ${s.batch_files}`,
    `  Total clusters: ${s.total_clusters}`,
    `  Total size: ${pyFixed(s.total_size_mb, 2)} MiB`,
    `  Avg batch size: ${pyFixed(s.avg_batch_size_mb, 2)} MiB`,
    `  Avg clusters per batch: ${pyFixed(s.avg_clusters_per_batch, 0)}`,
    `  Avg bytes per cluster: ${pyFixed(s.avg_bytes_per_cluster, 0)} bytes (${pyFixed(s.avg_bytes_per_cluster / 1024, 2)} KiB)`,
    "",
    "  Plane distribution:",
    ...PLANES.map((p) => `    ${p}: ${c(s.planes[p])}`),
    "",
    "  Interaction types:",
    `    ES: ${c(s.interactions.ES)}`,
    `    CC: ${c(s.interactions.CC)}`,
    ...(s.interactions.unknown.count ? [`    unknown: ${c(s.interactions.unknown)} (layouts without an ES flag)`] : []),
    "",
    `  Marley clusters: ${c(s.marley)}`,
    `  Main track clusters: ${c(s.main_track)}`,
  ];
  const notes: string[] = [];
  if (Object.keys(s.layouts).length) notes.push(`  Metadata layouts: ${Object.entries(s.layouts).map(([l, n]) => `${l} (${n} file${n === 1 ? "" : "s"})`).join(", ")}`);
  if (Object.keys(s.image_shapes).length) notes.push(`  Image shapes: ${Object.entries(s.image_shapes).map(([sh, n]) => `${sh} (${n} clusters)`).join(", ")}`);
  if (s.empty_batches.length) notes.push(`  Empty batches (0 bytes): ${s.empty_batches.length}: ${s.empty_batches.map((f) => basename(f)).join(", ")}`);
  if (s.not_batches.length) notes.push(`  Not cluster batches (left out): ${s.not_batches.map((f) => basename(f)).join(", ")}`);
  if (!s.batch_files && !s.problems.length) notes.push("  No cluster batch files found.");
  if (notes.length) lines.push("", ...notes);
  if (s.problems.length) lines.push("", `  Problems (${s.problems.length}, left out of the figures):`, ...s.problems.map((p) => `    ${p.message}`));
  return lines.join("\n");
}
