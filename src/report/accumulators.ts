// Mergeable accumulators: built per task in the workers, sent back with the task's result as JSON,
// merged exactly (counts add, sums add, extremes keep the k best of both) on the main thread and
// across shards. Each has `add`, `merge`, `toJSON` and a static `fromJSON`. NaN and infinities
// become null in JSON (JSON has no such numbers) and NaN again when read back.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A number for JSON: non-finite values become null. */
export function jnum(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/**
 * `Array.from(a, jnum)` as one plain loop: Array.from with a map function goes value by value
 * through an iterator, ~8 times slower on the 5,760-value sums a SCONE task returns per class.
 */
export function jnums(a: ArrayLike<number | null>): (number | null)[] {
  const out: (number | null)[] = new Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    out[i] = x !== null && x - x === 0 ? x : null;
  }
  return out;
}

export function unjnum(x: number | null | undefined): number {
  return x === null || x === undefined ? NaN : x;
}

/** Occurrences per key (classes, planes, flags). */
export class Counts {
  readonly counts = new Map<string, number>();
  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  merge(o: Counts): void {
    for (const [k, n] of o.counts) this.add(k, n);
  }
  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }
  /** Keys sorted numerically where they are numbers, else as text. */
  toJSON(): Record<string, number> {
    const keys = [...this.counts.keys()].sort((a, b) => (isFinite(+a) && isFinite(+b) ? +a - +b : a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(keys.map((k) => [k, this.counts.get(k)!]));
  }
  static fromJSON(j: Record<string, number>): Counts {
    const c = new Counts();
    for (const [k, n] of Object.entries(j)) c.add(k, n);
    return c;
  }
}

/** Count, sum, sum of squares, minimum and maximum of the finite values; missing (null, NaN, ±inf) counted apart. */
export class Moments {
  n = 0;
  sum = 0;
  sumSq = 0;
  min = Infinity;
  max = -Infinity;
  missing = 0;
  add(v: number | null): void {
    if (v === null || v - v !== 0) { this.missing++; return; }
    this.n++;
    this.sum += v;
    this.sumSq += v * v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
  /**
   * Adds values[0..n) in order, as `add` would one by one (a value whose validity bit is clear is
   * missing): one loop over a column's buffer instead of a call per value.
   */
  addColumn(values: ArrayLike<number>, n: number, bits: Uint8Array | null = null, offset = 0): void {
    let count = this.n, sum = this.sum, sumSq = this.sumSq, min = this.min, max = this.max, missing = this.missing;
    for (let r = 0; r < n; r++) {
      const v = values[r];
      if (v - v !== 0 || (bits !== null && ((bits[(offset + r) >> 3] >> ((offset + r) & 7)) & 1) === 0)) { missing++; continue; }
      count++;
      sum += v;
      sumSq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.n = count; this.sum = sum; this.sumSq = sumSq; this.min = min; this.max = max; this.missing = missing;
  }
  merge(o: Moments): void {
    this.n += o.n; this.sum += o.sum; this.sumSq += o.sumSq; this.missing += o.missing;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
  }
  get mean(): number {
    return this.n ? this.sum / this.n : NaN;
  }
  toJSON() {
    return { n: this.n, sum: this.sum, sum_sq: this.sumSq, min: jnum(this.min), max: jnum(this.max), missing: this.missing, mean: jnum(this.mean) };
  }
  static fromJSON(j: ReturnType<Moments["toJSON"]>): Moments {
    const m = new Moments();
    m.n = j.n; m.sum = j.sum; m.sumSq = j.sum_sq; m.missing = j.missing;
    m.min = j.min ?? Infinity; m.max = j.max ?? -Infinity;
    return m;
  }
}

/** Scratch for a value's bits (`edgeInfo`'s key). */
const bitsF64 = new Float64Array(1);
const bitsHi = new Uint32Array(bitsF64.buffer, 4, 1);

/**
 * The bin of `v`, for e[0] <= v <= e[last] (e[last] itself falls in the last bin). Uniform edges:
 * an estimate from `scale` (bins per unit), which can be one off at an edge, settled against the
 * edges themselves; other edges: the bin of the value's binade (`starts`, see edgeInfo), then a
 * step past the edges inside it. Either way the bin is the one the edges say.
 */
function binOf(e: Float64Array, v: number, uniform: boolean, scale: number, starts: Int32Array | null): number {
  const last = e.length - 1;
  if (v === e[last]) return last - 1;
  if (uniform) {
    let i = Math.floor((v - e[0]) * scale);
    if (i > last - 1) i = last - 1;
    while (i > 0 && v < e[i]) i--;
    while (i < last - 1 && v >= e[i + 1]) i++;
    return i;
  }
  bitsF64[0] = v;
  let i = starts![bitsHi[0] >>> 20];
  while (i < last - 1 && v >= e[i + 1]) i++;
  return i;
}

/** The bin i with e[i] <= v < e[i + 1] by binary search (e[0] <= v < e[last]). */
function searchBin(e: ArrayLike<number>, v: number): number {
  let lo = 0, hi = e.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (v >= e[mid]) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/**
 * What the counting loops use of an edges array, made once per array (the edges are shared,
 * frozen, by every histogram of a run): the edges as float64 (a frozen array holds its numbers
 * boxed), whether they are uniform, and for edges that are not (decades, mostly) per binade of
 * float64 (the sign and exponent, a value's top 12 bits) the bin of its least value. A value's bin
 * is then found from its top bits and a forward step past the edges inside its binade (none or
 * one for decade edges) instead of a binary search, whose unpredictable branches made it ~30 ns a
 * value.
 */
function edgeInfo(edges: readonly number[]): EdgeInfo {
  let info = edgeCache.get(edges);
  if (info) return info;
  const e = Float64Array.from(edges), last = e.length - 1;
  const w = (e[last] - e[0]) / last;
  const uniform = e.every((x, i) => Math.abs(x - (e[0] + i * w)) <= 1e-12 * Math.max(1, Math.abs(x)));
  let starts: Int32Array | null = null;
  if (!uniform) {
    starts = new Int32Array(4096);
    for (let key = 0; key < 4096; key++) {
      const exp = key & 0x7ff, neg = key >= 0x800;
      // the least value of the binade, or for a negative one a value just below all of it
      const least = neg ? (exp === 0x7ff ? -Infinity : -(2 ** (Math.max(exp, 1) - 1022))) : exp === 0 ? 0 : exp === 0x7ff ? Infinity : 2 ** (exp - 1023);
      starts[key] = !(least > e[0]) ? 0 : least >= e[last] ? last - 1 : searchBin(e, least);
    }
  }
  edgeCache.set(edges, (info = { e, uniform, starts }));
  return info;
}

interface EdgeInfo { e: Float64Array; uniform: boolean; starts: Int32Array | null }

const edgeCache = new WeakMap<readonly number[], EdgeInfo>();

/**
 * Counts over fixed bin edges, as numpy.histogram counts them: bin i holds edges[i] <= v <
 * edges[i+1], the last bin also v == its upper edge. Values below the first edge are `underflow`,
 * above the last `overflow`, and null/NaN `missing`, so nothing is dropped silently and the tails
 * can be shown.
 *
 * With `extremes`, each bin (and the underflow and overflow) also keeps the smallest and largest
 * value it received, and `quantile` answers from them: the value of a given rank is exact when it is
 * the first or last of its bin, or when the bin's values are all equal (one bin per value a metric
 * can take makes every quantile exact); otherwise it is placed linearly between the bin's extremes,
 * so it is off by less than the bin's width.
 */
export class Histogram {
  readonly counts: number[];
  underflow = 0;
  overflow = 0;
  missing = 0;
  /** Per slot (0: underflow, 1..bins: the bins, bins + 1: overflow) the extremes seen; absent unless asked. */
  readonly lo?: Float64Array;
  readonly hi?: Float64Array;
  /** Equal-width edges allow a direct bin index. */
  private readonly uniform: boolean;
  /** The edges as float64, and for edges that are not uniform the bin of each binade (`edgeInfo`). */
  private readonly e: Float64Array;
  private readonly starts: Int32Array | null;
  constructor(readonly edges: readonly number[], opts: { extremes?: boolean } = {}) {
    if (edges.length < 2 || edges.some((e, i) => i > 0 && !(e > edges[i - 1]))) throw new RangeError("histogram edges must be at least two increasing numbers");
    this.counts = new Array(edges.length - 1).fill(0);
    ({ e: this.e, uniform: this.uniform, starts: this.starts } = edgeInfo(edges));
    if (opts.extremes) {
      this.lo = new Float64Array(edges.length + 1).fill(Infinity);
      this.hi = new Float64Array(edges.length + 1).fill(-Infinity);
    }
  }
  add(v: number | null): void {
    if (v === null || v !== v) { this.missing++; return; }
    const e = this.e, last = e.length - 1;
    let i: number;
    if (v < e[0]) { this.underflow++; i = -1; }
    else if (v > e[last]) { this.overflow++; i = last; }
    else i = binOf(e, v, this.uniform, last / (e[last] - e[0]), this.starts);
    if (i >= 0 && i < last) this.counts[i]++;
    if (this.lo) {
      if (v < this.lo[i + 1]) this.lo[i + 1] = v;
      if (v > this.hi![i + 1]) this.hi![i + 1] = v;
    }
  }
  /**
   * Adds values[0..n), the same counts as `add` on each (a value whose validity bit is clear is
   * missing): one loop over a column's buffer, the edges' bounds and scale hoisted out of it.
   */
  addColumn(values: ArrayLike<number>, n: number, bits: Uint8Array | null = null, offset = 0): void {
    if (this.lo) {
      for (let r = 0; r < n; r++) this.add(bits !== null && ((bits[(offset + r) >> 3] >> ((offset + r) & 7)) & 1) === 0 ? null : values[r]);
      return;
    }
    const e = this.e, first = e[0], top = e[e.length - 1], counts = this.counts, uniform = this.uniform, starts = this.starts;
    const scale = (e.length - 1) / (top - first);
    let underflow = 0, overflow = 0, missing = 0;
    for (let r = 0; r < n; r++) {
      const v = values[r];
      if (v !== v || (bits !== null && ((bits[(offset + r) >> 3] >> ((offset + r) & 7)) & 1) === 0)) { missing++; continue; }
      if (v < first) { underflow++; continue; }
      if (v > top) { overflow++; continue; }
      counts[binOf(e, v, uniform, scale, starts)]++;
    }
    this.underflow += underflow; this.overflow += overflow; this.missing += missing;
  }
  merge(o: Histogram): void {
    if (o.edges.length !== this.edges.length || o.edges.some((e, i) => e !== this.edges[i])) throw new RangeError("cannot merge histograms with different edges");
    if (!this.lo !== !o.lo) throw new RangeError("cannot merge a histogram that keeps extremes with one that does not");
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += o.counts[i];
    this.underflow += o.underflow; this.overflow += o.overflow; this.missing += o.missing;
    if (this.lo && o.lo) {
      for (let i = 0; i < this.lo.length; i++) {
        if (o.lo[i] < this.lo[i]) this.lo[i] = o.lo[i];
        if (o.hi![i] > this.hi![i]) this.hi![i] = o.hi![i];
      }
    }
  }
  /** Values counted in the bins, underflow and overflow (not the missing ones). */
  get total(): number {
    let t = this.underflow + this.overflow;
    for (const c of this.counts) t += c;
    return t;
  }
  /**
   * The value of rank `r` (0-based, ascending) among the counted values (needs `extremes`). See the
   * class comment for when it is exact.
   */
  valueAt(r: number): number {
    if (!this.lo) throw new RangeError("valueAt needs a histogram that keeps extremes");
    let before = 0;
    for (let s = 0; s < this.lo.length; s++) {
      const c = s === 0 ? this.underflow : s === this.lo.length - 1 ? this.overflow : this.counts[s - 1];
      if (r < before + c) {
        const j = r - before, lo = this.lo[s], hi = this.hi![s];
        if (j === 0 || lo === hi) return lo;
        if (j === c - 1) return hi;
        return lo + (hi - lo) * (j / (c - 1));
      }
      before += c;
    }
    return NaN;
  }
  /**
   * numpy.quantile's default (linear interpolation between the values of ranks floor(h) and
   * floor(h) + 1, h = (n - 1) q), from the bins' extremes; NaN when nothing was counted.
   */
  quantile(q: number): number {
    if (!this.lo) throw new RangeError("quantile needs a histogram that keeps extremes");
    const n = this.total;
    if (!n) return NaN;
    const h = (n - 1) * q;
    const lo = Math.floor(h);
    const a = this.valueAt(lo);
    return a + (h - lo) * (this.valueAt(Math.min(lo + 1, n - 1)) - a);
  }
  toJSON() {
    return {
      edges: [...this.edges], counts: [...this.counts], underflow: this.underflow, overflow: this.overflow, missing: this.missing,
      // per slot: underflow, each bin, overflow (null where the slot is empty)
      ...(this.lo ? { min: Array.from(this.lo, jnum), max: Array.from(this.hi!, jnum) } : {}),
    };
  }
  static fromJSON(j: ReturnType<Histogram["toJSON"]>): Histogram {
    const h = new Histogram(j.edges, { extremes: !!j.min });
    j.counts.forEach((c, i) => { h.counts[i] = c; });
    h.underflow = j.underflow; h.overflow = j.overflow; h.missing = j.missing;
    j.min?.forEach((v, i) => { h.lo![i] = v ?? Infinity; });
    j.max?.forEach((v, i) => { h.hi![i] = v ?? -Infinity; });
    return h;
  }
}

/** Element-wise sums (and optionally sums of squares) of equal-length arrays, with how many were added. */
export class SumArray {
  n = 0;
  readonly sum: Float64Array;
  readonly sumSq?: Float64Array;
  constructor(readonly length: number, squares: boolean) {
    this.sum = new Float64Array(length);
    if (squares) this.sumSq = new Float64Array(length);
  }
  merge(o: SumArray): void {
    if (o.length !== this.length) throw new RangeError(`cannot merge sums of ${o.length} and ${this.length} values`);
    this.n += o.n;
    for (let i = 0; i < this.length; i++) this.sum[i] += o.sum[i];
    if (this.sumSq && o.sumSq) for (let i = 0; i < this.length; i++) this.sumSq[i] += o.sumSq[i];
  }
  mean(): Float64Array {
    return this.sum.map((s) => (this.n ? s / this.n : NaN));
  }
  toJSON() {
    return { n: this.n, sum: jnums(this.sum), ...(this.sumSq ? { sum_sq: jnums(this.sumSq) } : {}) };
  }
  /** From `toJSON`'s form, or the same with float64 arrays (a task's, before they are written as JSON). */
  static fromJSON(j: { n: number; sum: ArrayLike<number | null>; sum_sq?: ArrayLike<number | null> }): SumArray {
    const s = new SumArray(j.sum.length, !!j.sum_sq);
    s.n = j.n;
    for (let i = 0; i < j.sum.length; i++) s.sum[i] = unjnum(j.sum[i]);
    if (j.sum_sq) for (let i = 0; i < j.sum_sq.length; i++) s.sumSq![i] = unjnum(j.sum_sq[i]);
    return s;
  }
}

/** An event as the report names it. */
export interface EventKey {
  id: string;
  source: string;
  record: number;
}

/** The k events with the smallest values (ties: by source, then record), for "the worst events". */
export class Lowest {
  items: { value: number; key: EventKey }[] = [];
  constructor(readonly k: number) {}
  /** Whether `v` would enter now (checked before a key is made, so most events cost one compare). */
  wants(v: number | null): boolean {
    return v !== null && v === v && (this.items.length < this.k || v < this.items[this.items.length - 1].value);
  }
  add(v: number | null, key: EventKey): void {
    if (v === null || v !== v) return;
    this.items.push({ value: v, key });
    this.items.sort(order);
    if (this.items.length > this.k) this.items.length = this.k;
  }
  merge(o: Lowest): void {
    this.items = [...this.items, ...o.items].sort(order).slice(0, this.k);
  }
  toJSON() {
    // an infinite value (an event whose S/N is infinite) is kept as a string: as null it would
    // come back as 0 and sort first after a round trip through a shard manifest or _report.json
    return this.items.map((x) => ({ value: Number.isFinite(x.value) ? x.value : String(x.value), ...x.key }));
  }
  static fromJSON(k: number, j: ReturnType<Lowest["toJSON"]>): Lowest {
    const l = new Lowest(k);
    l.items = j.map(({ value, ...key }) => ({ value: Number(value), key }));
    return l;
  }
}

function order(a: { value: number; key: EventKey }, b: { value: number; key: EventKey }): number {
  return a.value - b.value || (a.key.source < b.key.source ? -1 : a.key.source > b.key.source ? 1 : 0) || a.key.record - b.key.record;
}

/** `n + 1` edges from `a` to `b`, equal widths, bit for bit numpy.linspace(a, b, n + 1). */
export function linearEdges(a: number, b: number, n: number): number[] {
  const step = (b - a) / n;
  return Array.from({ length: n + 1 }, (_, i) => (i === n ? b : a + i * step));
}
