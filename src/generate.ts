// Synthetic datasets for the demo, tests of the CLI and benchmarks. SCONE heatmaps follow the
// reference generator: a smooth supernova-like surface (Gaussian rise, exponential decline, a
// spectrum whose peak drifts redwards with time) with noise, and masked regions of exact zeros
// (epochs or bands the fit did not reach). Records are tf.train.Example encoded here and framed
// with the CRC32C kernel. The test fixtures, by contrast, are written by Google's protobuf.
import { createWriteStream, lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createDeflate, createGzip } from "node:zlib";
import { ArrowsmithError } from "./errors.js";
import { maskCrc } from "./formats/tfrecord.js";
import { kernels } from "./wasm.js";

/** xoshiro128** seeded by splitmix32: a small, fast, reproducible generator. */
export class Rng {
  private s = new Uint32Array(4);
  private spare: number | undefined;
  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }
  private next(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11);
    return r;
  }
  /** Uniform in [0, 1). */
  random(): number {
    return (this.next() * 2 ** 21 + (this.next() >>> 11)) / 2 ** 53;
  }
  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }
  int(a: number, b: number): number {
    return a + Math.floor(this.random() * (b - a));
  }
  normal(mu = 0, sigma = 1): number {
    if (this.spare !== undefined) { const v = this.spare; this.spare = undefined; return mu + sigma * v; }
    let u = 0, v = 0, s = 0;
    do { u = this.random() * 2 - 1; v = this.random() * 2 - 1; s = u * u + v * v; } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return mu + sigma * u * m;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export const NW = 32;
export const NT = 180;

/** One heatmap: interleaved (32, 180, 2) float64, flux then error, as SCONE's image_raw. */
export function heatmap(rng: Rng, label: number, out: Float64Array): void {
  const t0 = rng.normal(0, 3);
  const [rise, decline] = label ? [rng.uniform(12, 18), rng.uniform(25, 40)] : [rng.uniform(5, 30), rng.uniform(15, 120)];
  const amp = 10 ** rng.uniform(-0.5, 1.5);
  const width = rng.uniform(1200, 2500);
  const cutT = rng.random() < 0.5 ? rng.int(120, 180) : NT;
  const cutW = rng.random() < 0.3 ? rng.int(1, 6) : 0;
  for (let w = 0; w < NW; w++) {
    const wave = 3000 + (7100 * w) / (NW - 1);
    for (let ti = 0; ti < NT; ti++) {
      const t = -30 + (180 * ti) / (NT - 1);
      const lc = t < t0 ? Math.exp(-0.5 * ((t - t0) / rise) ** 2) : Math.exp(-(t - t0) / decline);
      const wpeak = 4500 + 20 * Math.min(120, Math.max(-30, t - t0));
      const spec = Math.exp(-0.5 * ((wave - wpeak) / width) ** 2);
      let flux = amp * lc * spec + rng.normal(0, 0.02 * amp);
      const err = 0.03 * amp + 0.05 * Math.abs(flux) + Math.abs(rng.normal(0, 0.01 * amp));
      if (ti >= cutT || w < cutW) flux = 0;
      const i = (w * NT + ti) * 2;
      out[i] = flux;
      out[i + 1] = err;
    }
  }
}

// --- a minimal tf.train.Example encoder ---

class Writer {
  buf = new Uint8Array(1 << 17);
  len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  varint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (x >= 0x80n) { this.buf[this.len++] = Number(x & 0x7fn) | 0x80; x >>= 7n; }
    this.buf[this.len++] = Number(x);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** A length-delimited field whose content `fill` writes. */
  nested(tag: number, fill: () => void): void {
    this.varint(tag);
    const at = this.len;
    this.ensure(5);
    this.len += 5; // room for the length as a padded 5-byte varint
    fill();
    const n = this.len - at - 5;
    for (let i = 0; i < 4; i++) this.buf[at + i] = ((n >>> (7 * i)) & 0x7f) | 0x80;
    this.buf[at + 4] = (n >>> 28) & 0x7f;
  }
}

export type FeatureSpec = ["int64", (number | bigint)[]] | ["float", number[]] | ["bytes", Uint8Array[]];

/** Encodes a tf.train.Example (packed lists; map entries in the given order). */
export function encodeExample(features: [string, FeatureSpec][]): Uint8Array {
  const w = new Writer();
  const enc = new TextEncoder();
  w.nested(0x0a, () => {
    for (const [key, [kind, values]] of features) {
      w.nested(0x0a, () => {
        const k = enc.encode(key);
        w.varint(0x0a); w.varint(k.length); w.bytes(k);
        w.nested(0x12, () => {
          if (kind === "bytes") w.nested(0x0a, () => { for (const v of values as Uint8Array[]) { w.varint(0x0a); w.varint(v.length); w.bytes(v); } });
          else if (kind === "float") w.nested(0x12, () => w.nested(0x0a, () => w.bytes(new Uint8Array(Float32Array.from(values as number[]).buffer))));
          else w.nested(0x1a, () => w.nested(0x0a, () => { for (const v of values) w.varint(v); }));
        });
      });
    }
  });
  return w.buf.slice(0, w.len);
}

/** Frames `data` as one TFRecord record (CRCs by the wasm kernel). */
export function frameRecord(data: Uint8Array): Uint8Array {
  const k = kernels();
  const out = new Uint8Array(16 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length >>> 0, true);
  dv.setUint32(4, Math.floor(data.length / 2 ** 32), true);
  out.set(data, 12);
  const mark = k.mark();
  try {
    const ptr = k.put(out);
    dv.setUint32(8, maskCrc(k.crc32c(ptr, 8)), true);
    dv.setUint32(12 + data.length, maskCrc(k.crc32c(ptr + 12, data.length)), true);
  } finally {
    k.release(mark);
  }
  return out;
}

export interface GenerateOptions {
  files: number;
  events: number;
  seed: number;
  compression?: "none" | "gzip" | "zlib";
  /** Leave out z and z_err (SCONE's mid-2021 files). */
  legacy?: boolean;
  /** Replace files of the same names (default: refuse before writing anything). */
  overwrite?: boolean;
}

/** Generators never replace a file silently: every name is checked before the first is written. */
export function refuseExisting(paths: string[], overwrite = false): void {
  if (overwrite) return;
  const there = paths.filter((p) => lstatSync(p, { throwIfNoEntry: false }));
  if (there.length) {
    throw new ArrowsmithError("usage", `${there.length} of the files to generate exist already: ${there.slice(0, 3).join(", ")}${there.length > 3 ? ", …" : ""}`, {
      hint: "choose an empty folder, or use --overwrite to replace them",
    });
  }
}

async function writeAll(path: string, compression: GenerateOptions["compression"], overwrite: boolean, produce: (push: (b: Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  const file = createWriteStream(path, { flags: overwrite ? "w" : "wx" });
  const z = compression === "gzip" ? createGzip() : compression === "zlib" ? createDeflate() : undefined;
  const target: NodeJS.WritableStream = z ?? file;
  if (z) z.pipe(file);
  const done = new Promise<void>((res, rej) => { file.on("close", res); file.on("error", rej); });
  await produce(async (b) => {
    if (!target.write(b)) await new Promise<void>((r) => target.once("drain", () => r()));
  });
  target.end();
  await done;
}

/** Writes `heatmaps_NNNN.tfrecord[.gz|.zz]` files; returns their paths. */
export async function generateScone(dir: string, o: GenerateOptions): Promise<string[]> {
  if (!(o.files >= 1) || !(o.events >= 0)) throw new ArrowsmithError("usage", "--files must be ≥ 1 and --events ≥ 0");
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(o.seed);
  const image = new Float64Array(NW * NT * 2);
  const imageBytes = new Uint8Array(image.buffer);
  let snid = 1000 + o.seed * 1_000_000;
  const paths: string[] = [];
  const suffix = o.compression === "gzip" ? ".gz" : o.compression === "zlib" ? ".zz" : "";
  const names = Array.from({ length: o.files }, (_, f) => join(dir, `heatmaps_${String(f).padStart(4, "0")}.tfrecord${suffix}`));
  refuseExisting(names, o.overwrite);
  for (const path of names) {
    await writeAll(path, o.compression, !!o.overwrite, async (push) => {
      for (let e = 0; e < o.events; e++) {
        snid += rng.int(1, 50);
        const label = rng.random() < 0.5 ? 1 : 0;
        heatmap(rng, label, image);
        const feats: [string, FeatureSpec][] = [["id", ["int64", [snid]]], ["label", ["int64", [label]]]];
        if (!o.legacy) feats.push(["z", ["float", [rng.uniform(0.05, 1.2)]]], ["z_err", ["float", [rng.uniform(0.001, 0.05)]]]);
        feats.push(["image_raw", ["bytes", [imageBytes]]]);
        await push(frameRecord(encodeExample(feats)));
      }
    });
    paths.push(path);
  }
  return paths;
}
