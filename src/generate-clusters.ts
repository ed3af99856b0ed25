// Synthetic DUNE cluster batches for the demo, CLI tests and benchmarks, written the way np.savez
// writes them so that numpy (and every reader of real batches) opens them:
// - `.npy` members: format 1.0, the header dict padded with spaces to a multiple of 64 bytes;
// - ZIP: stored (np.savez) or deflate (np.savez_compressed), members in the order given, each local
//   header with a ZIP64 extra field holding the sizes (numpy opens members with force_zip64=True)
//   that the central directory lacks, dates 1980-01-01 00:00 (zipfile's default, so a seed always
//   gives the same bytes), version 2.0, Unix permissions 0600.
// Images follow the fixtures' cluster_image: a few pulse-like hits (a ramp of ADC counts up from 60
// to a peak of 70..600 and back, 2..17 ticks long) along time on random channels.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { LAYOUTS, type LayoutName, PLANES } from "./datasets/clusters.js";
import { ArrowsmithError } from "./errors.js";
import { crc32 } from "./io/zip-codec.js";
import { refuseExisting, Rng } from "./generate.js";

export interface NpyArraySpec {
  /** Member name without ".npy". */
  name: string;
  descr: string;
  shape: number[];
  /** C-order data bytes, exactly count × itemsize. */
  data: Uint8Array;
}

/** An .npy header (format 1.0) for C-order data, as numpy.lib.format writes it. */
export function npyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  if (total - 10 > 0xffff) throw new ArrowsmithError("internal", "npy header too long for format 1.0");
  dict = dict.padEnd(total - 10 - 1, " ") + "\n";
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, (total - 10) & 0xff, (total - 10) >> 8]);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  return out;
}

const DOS_DATE_1980 = 0x0021; // 1980-01-01
const ZIP_VERSION = 20;

/** Writes `arrays` as an .npz the way np.savez (or np.savez_compressed) does. */
export function writeNpz(path: string, arrays: NpyArraySpec[], compressed = false): number {
  const fd = openSync(path, "w");
  let pos = 0;
  const write = (b: Uint8Array) => {
    let off = 0;
    while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    pos += b.length;
  };
  const central: Uint8Array[] = [];
  try {
    for (const a of arrays) {
      const header = npyHeader(a.descr, a.shape);
      const size = header.length + a.data.length;
      const crc = crc32(a.data, crc32(header));
      let body: Uint8Array[] = [header, a.data];
      if (compressed) {
        const npy = new Uint8Array(size);
        npy.set(header);
        npy.set(a.data, header.length);
        body = [deflateRawSync(npy)];
      }
      const csize = body.reduce((s, b) => s + b.length, 0);
      if (size > 0xfffffffe || csize > 0xfffffffe || pos > 0xfffffffe) throw new ArrowsmithError("usage", "generated member too large for this writer (4 GiB)");
      const name = new TextEncoder().encode(`${a.name}.npy`);
      const local = new Uint8Array(30 + name.length + 20);
      const lv = new DataView(local.buffer);
      lv.setUint32(0, 0x04034b50, true);
      lv.setUint16(4, ZIP_VERSION, true);
      lv.setUint16(6, 0, true);
      lv.setUint16(8, compressed ? 8 : 0, true);
      lv.setUint16(10, 0, true);
      lv.setUint16(12, DOS_DATE_1980, true);
      lv.setUint32(14, crc, true);
      lv.setUint32(18, csize, true);
      lv.setUint32(22, size, true);
      lv.setUint16(26, name.length, true);
      lv.setUint16(28, 20, true);
      local.set(name, 30);
      // ZIP64 extra: id 1, 16 bytes: uncompressed then compressed size
      lv.setUint16(30 + name.length, 1, true);
      lv.setUint16(32 + name.length, 16, true);
      lv.setBigUint64(34 + name.length, BigInt(size), true);
      lv.setBigUint64(42 + name.length, BigInt(csize), true);
      const cd = new Uint8Array(46 + name.length);
      const cv = new DataView(cd.buffer);
      cv.setUint32(0, 0x02014b50, true);
      cv.setUint16(4, 0x0300 | ZIP_VERSION, true); // made by: Unix, 2.0
      cv.setUint16(6, ZIP_VERSION, true);
      cv.setUint16(10, compressed ? 8 : 0, true);
      cv.setUint16(14, DOS_DATE_1980, true);
      cv.setUint32(16, crc, true);
      cv.setUint32(20, csize, true);
      cv.setUint32(24, size, true);
      cv.setUint16(28, name.length, true);
      cv.setUint32(38, 0o600 << 16, true);
      cv.setUint32(42, pos, true);
      cd.set(name, 46);
      central.push(cd);
      write(local);
      for (const b of body) write(b);
    }
    const cdOffset = pos;
    for (const c of central) write(c);
    const end = new Uint8Array(22);
    const ev = new DataView(end.buffer);
    ev.setUint32(0, 0x06054b50, true);
    ev.setUint16(8, arrays.length, true);
    ev.setUint16(10, arrays.length, true);
    ev.setUint32(12, pos - cdOffset, true);
    ev.setUint32(16, cdOffset, true);
    write(end);
  } finally {
    closeSync(fd);
  }
  return pos;
}

/** One cluster image (h × w float32, row = time tick): 1..5 pulse-like hits, as the fixtures draw them. */
export function clusterImage(rng: Rng, h: number, w: number, out: Float32Array): void {
  out.fill(0);
  const hits = rng.int(1, 6);
  for (let k = 0; k < hits; k++) {
    const ch = rng.int(0, w);
    const t0 = rng.int(0, Math.max(1, h - 18));
    const tot = rng.int(2, 18);
    const peak = rng.uniform(70, 600);
    // np.interp(arange(tot), [0, 0.3 tot, tot - 1], [60, peak, 60]) cast to float32
    const x1 = tot * 0.3, x2 = tot - 1;
    for (let j = 0; j < tot && t0 + j < h; j++) {
      const v = j <= x1 ? 60 + ((peak - 60) * j) / x1 : peak + ((60 - peak) * (j - x1)) / (x2 - x1);
      const at = (t0 + j) * w + ch;
      out[at] = Math.max(out[at], Math.fround(v));
    }
  }
}

export interface ClusterGenerateOptions {
  /** Batch files in all, spread over the planes U, V, X in turn. */
  files: number;
  /** Clusters per batch. */
  events: number;
  seed: number;
  /** np.savez_compressed (deflate) instead of np.savez (stored). */
  compressed?: boolean;
  height?: number;
  width?: number;
  layout?: LayoutName;
  /** Fraction of ES clusters (the rest CC). */
  esFraction?: number;
  /** Replace files of the same names (default: refuse before writing anything). */
  overwrite?: boolean;
}

/**
 * Writes `clusters_plane{U,V,X}_batchNNNN.npz` batches (file f goes to plane "UVX"[f % 3], as its
 * batch f / 3); the last batch of a plane with more than one is shorter, as in real productions.
 * Returns the paths.
 */
export function generateClusters(dir: string, o: ClusterGenerateOptions): string[] {
  if (!(o.files >= 1) || !(o.events >= 0)) throw new ArrowsmithError("usage", "--files must be ≥ 1 and --events ≥ 0");
  const h = o.height ?? 128, w = o.width ?? 16;
  const layout = LAYOUTS[o.layout ?? "12"];
  const K = layout.columns;
  const batchPath = (f: number) => join(dir, `clusters_plane${PLANES[f % 3]}_batch${String(Math.floor(f / 3)).padStart(4, "0")}.npz`);
  refuseExisting(Array.from({ length: o.files }, (_, f) => batchPath(f)), o.overwrite);
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(o.seed);
  const perPlane = [0, 1, 2].map((p) => Math.floor((o.files - p + 2) / 3));
  const paths: string[] = [];
  const image = new Float32Array(h * w);
  for (let f = 0; f < o.files; f++) {
    const plane = f % 3;
    const index = Math.floor(f / 3);
    const last = perPlane[plane] > 1 && index === perPlane[plane] - 1;
    const n = last ? Math.max(1, Math.floor(o.events * rng.uniform(0.2, 0.9))) : o.events;
    const images = new Float32Array(n * h * w);
    const meta = new Float32Array(n * K);
    for (let i = 0; i < n; i++) {
      clusterImage(rng, h, w, image);
      images.set(image, i * h * w);
      const m = meta.subarray(i * K, (i + 1) * K);
      const marley = rng.random() < 0.2 ? 1 : 0;
      m[layout.marley] = marley;
      m[layout.mainTrack] = rng.random() < 0.1 ? 1 : 0;
      for (let a = 0; a < 3; a++) m[layout.pos + a] = rng.uniform(-300, 300);
      const d = [rng.normal(), rng.normal(), rng.normal()];
      const norm = Math.hypot(d[0], d[1], d[2]) || 1;
      const pe = Math.fround(rng.uniform(0.5, 50));
      for (let a = 0; a < 3; a++) {
        if (layout.dir !== undefined) m[layout.dir + a] = d[a] / norm;
        if (layout.mom !== undefined) m[layout.mom + a] = (d[a] / norm) * pe;
      }
      m[layout.nuEnergy] = marley ? rng.uniform(5, 60) : -1;
      m[layout.particleEnergy] = pe;
      m[layout.plane] = plane;
      if (layout.es !== undefined) m[layout.es] = rng.random() < (o.esFraction ?? 0.6) ? 1 : 0;
    }
    const path = batchPath(f);
    writeNpz(path, [
      { name: "images", descr: "<f4", shape: [n, h, w], data: new Uint8Array(images.buffer) },
      { name: "metadata", descr: "<f4", shape: [n, K], data: new Uint8Array(meta.buffer) },
    ], o.compressed ?? false);
    paths.push(path);
  }
  return paths.sort();
}
