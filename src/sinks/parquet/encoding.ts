// Byte buffers and the RLE / bit-packing hybrid that Parquet uses for repetition and definition
// levels and for dictionary indices. Levels arrive as runs (a tensor row is one 0 then
// size-1 ones), so they are kept as (value, count) pairs and encoded when a page closes: long
// runs become RLE runs, short ones are gathered into bit-packed groups of 8.

/** A growable byte buffer; `buf` may be replaced when it grows. */
export class ByteBuf {
  buf: Uint8Array;
  len = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes and returns the offset where they go. */
  reserve(n: number): number {
    const at = this.len;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
    }
    this.len = at + n;
    return at;
  }

  push(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }

  u8(v: number): void {
    const at = this.reserve(1);
    this.buf[at] = v;
  }

  u32(v: number): void {
    const at = this.reserve(4);
    const b = this.buf;
    b[at] = v; b[at + 1] = v >>> 8; b[at + 2] = v >>> 16; b[at + 3] = v >>> 24;
  }

  varint(v: number): void {
    while (v >= 0x80) {
      this.u8((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.u8(v);
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** (value, count) runs of small unsigned integers (levels, dictionary indices). */
export class Runs {
  values = new Uint32Array(64);
  counts = new Float64Array(64);
  n = 0;
  /** Number of values in all runs. */
  total = 0;

  push(value: number, count: number): void {
    if (count <= 0) return;
    this.total += count;
    const n = this.n;
    if (n > 0 && this.values[n - 1] === value) { this.counts[n - 1] += count; return; }
    if (n === this.values.length) {
      const v = new Uint32Array(n * 2); v.set(this.values); this.values = v;
      const c = new Float64Array(n * 2); c.set(this.counts); this.counts = c;
    }
    this.values[n] = value;
    this.counts[n] = count;
    this.n = n + 1;
  }

  reset(): void {
    this.n = 0;
    this.total = 0;
  }
}

/** Number of bits needed for values up to `max`. */
export function bitWidth(max: number): number {
  return max <= 0 ? 0 : 32 - Math.clz32(max);
}

// a run at least this long is written as an RLE run; shorter ones are bit-packed
const MIN_RLE = 16;

/** Appends the RLE/bit-packed hybrid encoding of `runs` at `width` bits to `out` (no length prefix). */
export function encodeHybrid(runs: Runs, width: number, out: ByteBuf): void {
  const lit = new Literals(width, out);
  const vbytes = (width + 7) >> 3;
  for (let i = 0; i < runs.n; i++) {
    const v = runs.values[i];
    let c = runs.counts[i];
    if (c >= MIN_RLE) {
      // top the pending literals up to a whole group of 8 from this run, then one RLE run
      const fill = (8 - (lit.count & 7)) & 7;
      if (lit.count > 0) {
        for (let k = 0; k < fill; k++) lit.add(v);
        c -= fill;
        lit.flush();
      }
      out.varint(c * 2);
      for (let k = 0; k < vbytes; k++) out.u8((v >>> (8 * k)) & 0xff);
    } else {
      for (let k = 0; k < c; k++) lit.add(v);
    }
  }
  lit.flush();
}

/** Pending literals, written as one bit-packed run (padded with zeros at the very end only). */
class Literals {
  private vals = new Uint32Array(64);
  count = 0;
  constructor(private readonly width: number, private readonly out: ByteBuf) {}

  add(v: number): void {
    if (this.count === this.vals.length) {
      const next = new Uint32Array(this.count * 2);
      next.set(this.vals);
      this.vals = next;
    }
    this.vals[this.count++] = v;
  }

  flush(): void {
    const n = this.count;
    if (n === 0) return;
    const groups = Math.ceil(n / 8);
    const out = this.out;
    out.varint(groups * 2 + 1);
    const w = this.width;
    const at = out.reserve(groups * w);
    const b = out.buf;
    b.fill(0, at, at + groups * w);
    // LSB-first packing: value i occupies bits [i*w, (i+1)*w)
    let bit = 0;
    for (let i = 0; i < n; i++) {
      let v = this.vals[i];
      let left = w;
      while (left > 0) {
        const byte = at + (bit >> 3);
        const shift = bit & 7;
        const take = Math.min(left, 8 - shift);
        b[byte] |= (v & ((1 << take) - 1)) << shift;
        v >>>= take;
        bit += take;
        left -= take;
      }
    }
    this.count = 0;
  }
}
