// Reading only part of each record of an uncompressed TFRecord file: the frame headers and the
// small features of each tf.train.Example, never the bytes of a large feature the caller does not
// want (a SCONE record's 92 KB image beside its few bytes of id, label and redshift). Each record
// is read with positioned reads: its 12-byte header, then its Example field by field; a map entry
// longer than `over` bytes is passed by its length after a look at its key, so the reads touch a
// few KiB per record and the page cache or disk delivers only those.
//
// This is for reading without checksums (--no-verify) only: a CRC needs every byte. The framing is
// checked exactly as the full reader checks it without CRCs (the same frameRecords on each header),
// and an Example whose outer structure does not parse is read whole, so the decoder reports its
// damage as it would from the full reader. What is not read is not checked: damage inside a skipped
// feature goes unnoticed.
//
// The records handed out are rebuilt Examples holding the kept map entries byte for byte (one
// Features message per one of the original's), in a buffer of this module, not in wasm memory.
import { ArrowsmithError } from "../errors.js";
import { type Frame, type FrameContext, frameRecords, FOOTER_BYTES, HEADER_BYTES } from "../formats/tfrecord.js";
import type { ByteStream } from "../sources.js";

export interface SparseFeatures {
  /** Map entries (feature name and value) longer than this many bytes are not read... */
  over: number;
  /** ...unless this wants their name (the key bytes at b[s, e)). */
  keep?(b: Uint8Array, s: number, e: number): boolean;
}

export interface SparseReadOptions {
  file: string;
  maxRecord: number;
  sparse: SparseFeatures;
}

/** A batch of rebuilt records: `ptr` is -1 (the bytes are not in wasm memory). */
export interface SparseWindow {
  bytes: Uint8Array;
  ptr: number;
  frames: Frame[];
}

/** Positioned reads of the file into a small buffer that holds bytes [pos, pos + len). */
class Reader {
  buf = new Uint8Array(CHUNK);
  pos = 0;
  len = 0;
  constructor(private readonly stream: ByteStream, private readonly size: number, private readonly file: string) {}

  /** Index in `buf` of file byte `p`, with bytes [p, p + n) there (n within the file). */
  at(p: number, n: number): number {
    if (p >= this.pos && p + n <= this.pos + this.len) return p - this.pos;
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, 2 * this.buf.length));
    const want = Math.max(n, Math.min(this.buf.length, this.size - p));
    this.stream.seek!(p);
    let got = 0;
    while (got < want) {
      const r = this.stream.read(this.buf, got, want - got) as number;
      if (r === 0) break;
      got += r;
    }
    this.pos = p;
    this.len = got;
    if (got < n) {
      throw new ArrowsmithError("io", `the file ended at byte ${p + got} while reading it (it shrank?)`, { file: this.file, offset: p });
    }
    return 0;
  }
}

/** Bytes read per positioned read: a record's header and small features, usually all of them. */
const CHUNK = 4096;
/** A batch handed out at most this many bytes of rebuilt records. */
const BATCH_BYTES = 256 << 10;

/** The outer structure does not parse: the record is read whole instead. */
class Malformed extends Error {}

/** A growable byte buffer. */
class Bytes {
  b: Uint8Array;
  n = 0;
  constructor(size: number) { this.b = new Uint8Array(size); }
  room(k: number): void {
    if (this.n + k <= this.b.length) return;
    const next = new Uint8Array(Math.max(this.n + k, 2 * this.b.length));
    next.set(this.b.subarray(0, this.n));
    this.b = next;
  }
  byte(x: number): void { this.room(1); this.b[this.n++] = x; }
  varint(x: number): void {
    this.room(10);
    while (x >= 0x80) { this.b[this.n++] = (x % 0x80) | 0x80; x = Math.floor(x / 0x80); }
    this.b[this.n++] = x;
  }
  put(src: Uint8Array, s: number, e: number): void {
    this.room(e - s);
    if (e - s > 64) {
      this.b.set(src.subarray(s, e), this.n);
      this.n += e - s;
    } else {
      const b = this.b;
      let n = this.n;
      for (let i = s; i < e; i++) b[n++] = src[i];
      this.n = n;
    }
  }
}

/**
 * Yields batches of rebuilt records of an uncompressed TFRecord stream (whole file). Damage that
 * ends the reading is thrown after the batch holding every record before it has been yielded, as
 * the full reader does; an oversized record is set on its frame (and not read).
 */
export async function* sparseWindows(stream: ByteStream, o: SparseReadOptions): AsyncGenerator<SparseWindow> {
  const size = stream.size!;
  const rd = new Reader(stream, size, o.file);
  const out = new Bytes(BATCH_BYTES + CHUNK);
  const staging = new Bytes(CHUNK);
  const { over, keep } = o.sparse;
  const ctx: FrameContext = { file: o.file, base: 0, index: 0, verify: false, maskedCrc: () => 0, size, maxRecord: o.maxRecord };
  let frames: Frame[] = [];
  const got: Frame[] = [];
  let pos = 0;
  let p = 0; // parse position (file offset)

  // a varint at p (before end); its value must be a safe number
  const varint = (end: number): number => {
    const n = Math.min(10, end - p);
    const i = rd.at(p, n);
    const b = rd.buf;
    let v = 0, mul = 1;
    for (let k = 0; k < n; k++) {
      const x = b[i + k];
      v += (x & 0x7f) * mul;
      if (x < 0x80) { p += k + 1; if (v > Number.MAX_SAFE_INTEGER) throw new Malformed(); return v; }
      mul *= 0x80;
    }
    throw new Malformed();
  };
  // past a field of wire type `wire` at p; LEN fields leave their content start in `s`
  let s = 0;
  const skip = (wire: number, end: number): void => {
    switch (wire) {
      case 0: varint(end); return;
      case 1: p += 8; break;
      case 5: p += 4; break;
      case 2: { const len = varint(end); s = p; p += len; break; }
      default: throw new Malformed();
    }
    if (p > end) throw new Malformed();
  };
  // the kept entries of the Features message at [p, end), into staging
  const features = (end: number): void => {
    while (p < end) {
      const tag = varint(end);
      if (tag !== 0x0a) { skip(tag & 7, end); continue; } // not an entry: the decoder skips it too
      const len = varint(end);
      const es = p, ee = p + len;
      if (ee > end) throw new Malformed();
      if (len <= over || wanted(es, ee)) {
        const i = rd.at(es, len);
        staging.byte(0x0a);
        staging.varint(len);
        staging.put(rd.buf, i, i + len);
      }
      p = ee;
    }
  };
  // whether a large entry's name is one the caller wants (its fields walked by their lengths; the last key wins)
  const wanted = (es: number, ee: number): boolean => {
    if (!keep) return false;
    const save = p;
    p = es;
    let want = false;
    while (p < ee) {
      const tag = varint(ee);
      skip(tag & 7, ee);
      if (tag === 0x0a) {
        const kl = p - s;
        if (kl > 256) { want = false; continue; }
        const i = rd.at(s, kl);
        want = keep(rd.buf, i, i + kl);
      }
    }
    p = save;
    return want;
  };

  try {
    for (;;) {
      const left = size - pos;
      if (left <= 0) break;
      // the header, checked by the same framing as the full reader's (without CRCs)
      const h = Math.min(HEADER_BYTES, left);
      const hi = rd.at(pos, h);
      ctx.base = pos - hi;
      got.length = 0;
      const used = frameRecords(rd.buf, hi, hi + h, h < HEADER_BYTES, ctx, got, 1);
      if (got.length) { // an oversized record: not read
        frames.push(got[0]);
        pos += used - hi;
        continue;
      }
      // frameRecords checked it: below --max-record-bytes and within the file
      const b = rd.buf;
      const dataLength = (b[hi + 4] | (b[hi + 5] << 8) | (b[hi + 6] << 16) | (b[hi + 7] << 24)) * 0x1_0000_0000 +
        ((b[hi] | (b[hi + 1] << 8) | (b[hi + 2] << 16) | (b[hi + 3] << 24)) >>> 0);
      const ds = pos + HEADER_BYTES, de = ds + dataLength;
      const start = out.n;
      try {
        p = ds;
        while (p < de) {
          const tag = varint(de);
          if (tag !== 0x0a) { skip(tag & 7, de); continue; }
          const len = varint(de);
          const fe = p + len;
          if (fe > de) throw new Malformed();
          staging.n = 0;
          features(fe);
          out.byte(0x0a);
          out.varint(staging.n);
          out.put(staging.b, 0, staging.n);
          p = fe;
        }
      } catch (e) {
        if (!(e instanceof Malformed)) throw e;
        // read it whole: the decoder says what is wrong and where
        out.n = start;
        const i = rd.at(ds, dataLength);
        out.put(rd.buf, i, i + dataLength);
      }
      frames.push({ index: ctx.index++, offset: pos, start, length: out.n - start });
      pos = de + FOOTER_BYTES;
      if (out.n >= BATCH_BYTES) {
        yield { bytes: out.b.subarray(0, out.n), ptr: -1, frames };
        frames = [];
        out.n = 0;
      }
    }
  } catch (e) {
    if (frames.length) yield { bytes: out.b.subarray(0, out.n), ptr: -1, frames };
    throw e;
  } finally {
    stream.close();
  }
  if (frames.length) yield { bytes: out.b.subarray(0, out.n), ptr: -1, frames };
}
