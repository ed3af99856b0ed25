// The one WebAssembly boundary: the module is compiled once per process and instantiated once per
// thread; everything else asks this file for kernels and memory views.
//
// Memory layout: the kernels' static data (CRC tables) sits below __heap_base; above it this file
// hands out regions with a bump allocator. Growing memory detaches every JS view, so views are
// never cached outside: callers ask `bytes()` / `f64()` again after anything that may grow.
//
// Every kernel is called through a typed method of `Kernels` below (pointers are byte offsets into
// this instance's memory); the raw exports stay private to this file.
import { readFileSync } from "node:fs";

export interface KernelExports {
  memory: WebAssembly.Memory;
  crc32c(crc: number, ptr: number, len: number): number;
  crc32(crc: number, ptr: number, len: number): number;
  maskedCrc32c(ptr: number, len: number): number;
  sconeEvent(src: number, nw: number, nt: number, flux: number, err: number, f64out: number,
             metrics: number, scratch: number, params: number, lc: number, lcErr: number, spec: number, specErr: number,
             sum: number, sumSq: number, prev: number, keep: number): void;
  sconeAddKept(kept: number, n: number, sum: number, sumSq: number): void;
  sconeScratchBytes(nw: number, nt: number): number;
  sconeProbeRead(src: number, n: number, out: number): void;
  sconeProbeSplitSums(src: number, n: number, flux: number, err: number, out: number): void;
  sconeProbeMedian(p: number, n: number, a: number, b: number, sample: number): number;
  heapBase(): number;
  M_SLOTS: WebAssembly.Global;
  npyToF32(src: number, n: number, code: number, dst: number): number;
  npyToF64(src: number, n: number, code: number, dst: number): number;
  npyItemSize(code: number): number;
  byteSwap(src: number, n: number, itemSize: number, dst: number): number;
  fortranToC(src: number, dst: number, shape: number, ndim: number, itemSize: number): number;
  clusterImages(src: number, n: number, h: number, w: number, dst: number,
                sum: number, maxv: number, nonzero: number, extent: number, acc: number, planes: number, accRows: number): void;
  sumF32(src: number, n: number): number;
  addF32(src: number, n: number, sum: number): void;
}

const WASM_PAGE = 65536;
const ALIGN = 64;

let compiled: WebAssembly.Module | undefined;

function wasmPath(debug: boolean): URL {
  // dist/src/wasm.js and src/wasm.ts both sit two levels below the package root's build/.
  const here = new URL(".", import.meta.url);
  const up = here.pathname.includes("/dist/") ? "../../" : "../";
  return new URL(`${up}build/arrowsmith${debug ? ".debug" : ""}.wasm`, here);
}

/** The compiled module, shared by every instance in this process (set ARROWSMITH_WASM_DEBUG=1 for assertions). */
export function wasmModule(): WebAssembly.Module {
  if (!compiled) {
    const debug = process.env.ARROWSMITH_WASM_DEBUG === "1";
    compiled = new WebAssembly.Module(readFileSync(wasmPath(debug)));
  }
  return compiled;
}

/** One wasm instance with its own memory and a bump allocator over it. */
export class Kernels {
  private readonly exports: KernelExports;
  private readonly base: number;
  private top: number;
  private view8: Uint8Array;

  constructor() {
    const instance = new WebAssembly.Instance(wasmModule(), { env: { abort: wasmAbort } });
    this.exports = instance.exports as unknown as KernelExports;
    this.base = alignUp(this.exports.heapBase(), ALIGN);
    this.top = this.base;
    this.view8 = new Uint8Array(this.exports.memory.buffer);
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }

  /** Current byte view of the whole memory (re-made after a grow). */
  bytes(): Uint8Array {
    if (this.view8.buffer !== this.exports.memory.buffer) this.view8 = new Uint8Array(this.exports.memory.buffer);
    return this.view8;
  }

  /** Reserves `size` bytes (64-byte aligned) and returns the pointer; grows memory when needed. */
  alloc(size: number): number {
    const ptr = this.top;
    const end = alignUp(ptr + size, ALIGN);
    const have = this.exports.memory.buffer.byteLength;
    if (end > have) this.exports.memory.grow(Math.ceil((end - have) / WASM_PAGE));
    this.top = end;
    return ptr;
  }

  /** A mark to later `release` back to: regions allocated after it are freed together. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new RangeError(`wasm release mark ${mark} outside [${this.base}, ${this.top}]`);
    this.top = mark;
  }

  /** CRC32C of `len` bytes at `ptr` (continuing from `crc`). */
  crc32c(ptr: number, len: number, crc = 0): number {
    return this.exports.crc32c(crc, ptr, len) >>> 0;
  }

  /** CRC-32 (IEEE, zlib's crc32 and ZIP's) of `len` bytes at `ptr` (continuing from `crc`). */
  crc32(ptr: number, len: number, crc = 0): number {
    return this.exports.crc32(crc, ptr, len) >>> 0;
  }

  /** TFRecord's masked CRC32C of `len` bytes at `ptr`. */
  maskedCrc32c(ptr: number, len: number): number {
    return this.exports.maskedCrc32c(ptr, len) >>> 0;
  }

  // --- SCONE (assembly/scone.ts) ---

  /**
   * One SCONE event: splits the (nw, nt, 2) float64 image at `src` into flux and error tensors at
   * `flux`/`err` (float64 when `f64out`, else float32), writes the metric slots at `metrics` (0: none)
   * and, where their pointers are not 0, the light curves and peak spectra (float64). `scratch` holds
   * `sconeScratchBytes(nw, nt)` bytes; `params` the time/wavelength axis parameters.
   * The dataset report's per-class sums (nw × nt float64 at `sum`, squares at `sumSq`), in the same
   * pass: with `keep` not 0 the event's float64 flux map is left there (nw × nt float64) instead;
   * otherwise, with `sum` not 0, the map at `prev` (when not 0) and then this event's are added.
   */
  sconeEvent(src: number, nw: number, nt: number, flux: number, err: number, f64out: boolean | number,
             metrics: number, scratch: number, params: number, lc: number, lcErr: number, spec: number, specErr: number,
             sum = 0, sumSq = 0, prev = 0, keep = 0): void {
    this.exports.sconeEvent(src, nw, nt, flux, err, f64out ? 1 : 0, metrics, scratch, params, lc, lcErr, spec, specErr, sum, sumSq, prev, keep);
  }

  /** Adds a flux map that `sconeEvent` kept (n float64 at `kept`) to the sums at `sum` and its squares to those at `sumSq`. */
  sconeAddKept(kept: number, n: number, sum: number, sumSq: number): void {
    this.exports.sconeAddKept(kept, n, sum, sumSq);
  }

  /** Scratch bytes `sconeEvent` needs for an nw × nt image. */
  sconeScratchBytes(nw: number, nt: number): number {
    return this.exports.sconeScratchBytes(nw, nt);
  }

  /**
   * Floor probes for bench/kernels.ts (not used by the converter): one read pass over `n`
   * interleaved pixels summing both planes; the float32 split with those sums in the same pass;
   * the median selection alone on `n` f64 at `p` (buffers `a`, `b` of n f64, `sample` of 64).
   */
  sconeProbeRead(src: number, n: number, out: number): void {
    this.exports.sconeProbeRead(src, n, out);
  }

  sconeProbeSplitSums(src: number, n: number, flux: number, err: number, out: number): void {
    this.exports.sconeProbeSplitSums(src, n, flux, err, out);
  }

  sconeProbeMedian(p: number, n: number, a: number, b: number, sample: number): number {
    return this.exports.sconeProbeMedian(p, n, a, b, sample);
  }

  /** How many float64 metric slots `sconeEvent` writes per event (the kernel's M_SLOTS). */
  get metricSlots(): number {
    return this.exports.M_SLOTS.value as number;
  }

  /** The kernel's metric slot constants, `M_<NAME>` → slot (M_SLOTS left out), to check tables against. */
  metricSlotConstants(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, v] of Object.entries(this.exports)) {
      if (/^M_[A-Z_]+$/.test(name) && name !== "M_SLOTS") out[name] = (v as WebAssembly.Global).value as number;
    }
    return out;
  }

  // --- npy (assembly/npy.ts): dtype codes are formats/npy.ts's NPY_CODES ---

  /** Converts n values of dtype `code` at `src` to native float32 at `dst` (may be `src`); 0, or -1 for an unknown code. */
  npyToF32(src: number, n: number, code: number, dst: number): number {
    return this.exports.npyToF32(src, n, code, dst);
  }

  /** As `npyToF32`, to float64. */
  npyToF64(src: number, n: number, code: number, dst: number): number {
    return this.exports.npyToF64(src, n, code, dst);
  }

  /** Bytes per item of dtype `code` (0 for an unknown code). */
  npyItemSize(code: number): number {
    return this.exports.npyItemSize(code);
  }

  /** Reverses the bytes of each of n items of `itemSize` bytes; 0, or -1 for an unsupported size. */
  byteSwap(src: number, n: number, itemSize: number, dst: number): number {
    return this.exports.byteSwap(src, n, itemSize, dst);
  }

  /** Fortran-order array at `src` (int32 shape of `ndim` at `shape`) to C order at `dst` (no overlap); 0, or -1 when refused. */
  fortranToC(src: number, dst: number, shape: number, ndim: number, itemSize: number): number {
    return this.exports.fortranToC(src, dst, shape, ndim, itemSize);
  }

  // --- DUNE clusters (assembly/clusters.ts, assembly/report.ts) ---

  /**
   * Per-image statistics of n float32 h × w images at `src` into float64 `sum`, float32 `maxv`,
   * int32 `nonzero` and int32 × 4 `extent` (bounding box); `dst`, when not 0, receives a copy.
   * With `acc` not 0, the first `accRows` images are also added to the float64 sums of their
   * plane, h*w values at acc + planes[i]*h*w*8 (`planes`: int32 per image).
   */
  clusterImages(src: number, n: number, h: number, w: number, dst: number,
                sum: number, maxv: number, nonzero: number, extent: number, acc = 0, planes = 0, accRows = 0): void {
    this.exports.clusterImages(src, n, h, w, dst, sum, maxv, nonzero, extent, acc, planes, accRows);
  }

  /** numpy-order (pairwise) float64 sum of n float32 values at `src`. */
  sumF32(src: number, n: number): number {
    return this.exports.sumF32(src, n);
  }

  /** Adds the n float32 values at `src` to the float64 sums at `sum`. */
  addF32(src: number, n: number, sum: number): void {
    this.exports.addF32(src, n, sum);
  }

  /** Copies `data` into a fresh region and returns its pointer (for tests and small inputs). */
  put(data: Uint8Array): number {
    const ptr = this.alloc(data.byteLength);
    this.bytes().set(data, ptr);
    return ptr;
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function wasmAbort(_msg: number, _file: number, line: number, col: number): never {
  throw new Error(`wasm kernel assertion failed at ${line}:${col}`);
}

let threadKernels: Kernels | undefined;

/** This thread's kernels (one instance per thread, made on first use). */
export function kernels(): Kernels {
  return (threadKernels ??= new Kernels());
}

/**
 * Forgets this thread's instance, so its memory can be collected (wasm memory never shrinks); the
 * next `kernels()` makes a fresh one. For long-lived processes that measure memory per job.
 */
export function dropKernels(): void {
  threadKernels = undefined;
}
