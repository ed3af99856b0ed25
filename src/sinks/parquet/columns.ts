// Arrow columns → Parquet column chunks. One ColumnWriter per leaf column turns rows of Arrow Data
// into v1 data pages (RLE levels, PLAIN values or RLE_DICTIONARY indices) and keeps the encoded
// pages of the current row group until the sink writes them out.
//
// The layouts this covers are the ones arrowsmith produces: Int8..Int64 / Uint8..Uint32, Float32,
// Float64, Bool, Utf8, Binary and Dictionary<Int, Utf8> columns (nullable or not), and
// FixedSizeList / List of those primitives (the tensor columns: 3-level LIST, whose repetition
// levels per row are one 0 and size-1 ones: two runs). Primitive Arrow buffers are in Parquet's
// PLAIN layout already (little-endian), so values are copied straight from them.
import { type Data, DataType, type Field, Precision, type Vector } from "apache-arrow";
import { ArrowsmithError } from "../../errors.js";
import type { PageCodec } from "./codecs.js";
import { bitWidth, ByteBuf, encodeHybrid, Runs } from "./encoding.js";
import {
  ConvertedType, Encoding, LogicalType, PhysicalType, Repetition, type SchemaElement, type Statistics,
  writeDataPageHeader, writeDictionaryPageHeader,
} from "./metadata.js";
import { ThriftWriter } from "./thrift.js";

type ValueKind = "fixed" | "bool" | "bytes" | "dict";

interface Leaf {
  physical: number;
  kind: ValueKind;
  /** Bytes per value for `fixed`. */
  width: number;
  /** Signedness matters for the statistics of integers narrower than the physical type. */
  signed: boolean;
  float: boolean;
  /** INT32 values widened from 8/16-bit or unsigned Arrow integers. */
  widen?: "i8" | "u8" | "i16" | "u16";
  utf8: boolean;
}

/**
 * A data page handed to the codec's thread-pool compression: its header (which holds the
 * compressed size) is written once the compressed bytes are back. `input` (levels and values) is
 * the writer's scratch buffer, left untouched until the codec is done with it.
 */
interface PendingPage {
  input: Uint8Array;
  size: number;
  numValues: number;
  encoding: number;
  out?: Uint8Array;
  error?: unknown;
  done: Promise<void>;
  /** Still waiting in the budget's queue (not yet handed to the pool). */
  queued?: boolean;
  /** Compressed by `sealChunk` in the writing thread before the pool got to it. */
  taken?: boolean;
}

/**
 * Pages of a sink's columns on the thread pool: at most `limit` compressing at once, up to
 * `queueLimit` more waiting for a slot (each holds a copy of its page). A page starts when one
 * comes back, so a writer that fills many pages in one synchronous stretch (a 16 MiB batch is
 * ~250 pages of 64 KiB) still has them compressed on the pool instead of in its own thread; only
 * past both limits is a page compressed in the calling thread.
 */
export class PageBudget {
  inFlight = 0;
  /** Set by `clear()`: queued pages are dropped instead of compressed. */
  cancelled = false;
  private readonly queue: (() => void)[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly limit: number, readonly queueLimit = 4 * limit) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Whether a page may go to the pool (now or once a slot frees). */
  hasRoom(): boolean {
    return this.inFlight < this.limit || this.queue.length < this.queueLimit;
  }

  /** Runs `start` now if a slot is free, else when one frees; it must end with `returned()`. */
  run(start: () => void): void {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      start();
    } else {
      this.queue.push(start);
    }
  }

  /** Resolves when a page comes back from the pool (the event loop must turn for that). */
  room(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  returned(): void {
    this.inFlight--;
    const next = this.queue.shift();
    if (next) {
      this.inFlight++;
      next();
    }
    this.waiters.shift()?.();
  }

  /** Runs every queued start at once (the sink is aborted: each finds its page taken). */
  clear(): void {
    this.cancelled = true;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      this.inFlight++;
      next();
    }
  }
}

/** A row group's column chunk taken from its writer; some of its pages may still be compressing. */
export interface OpenChunk {
  parts: (Uint8Array | PendingPage)[];
  pending: PendingPage[];
  dictionaryBytes: number;
  numValues: number;
  uncompressed: number;
  compressed: number;
  encodings: number[];
  statistics?: Statistics;
  /** Uncompressed page buffers in `parts` (codec none), back to the pool once written. */
  lent: Uint8Array[];
}

/** Whether every page of the chunk is back from the codec. */
export function chunkSettled(c: OpenChunk): boolean {
  return c.pending.every((p) => p.out !== undefined || p.error !== undefined);
}

/** Resolves when every page of the chunk is back from the codec. */
export function chunkDone(c: OpenChunk): Promise<unknown> {
  return Promise.all(c.pending.map((p) => p.done));
}

/** What a column chunk hands to the sink at the end of a row group. */
export interface ChunkOut {
  parts: Uint8Array[];
  /** Bytes of the dictionary page (header included), 0 when there is none. */
  dictionaryBytes: number;
  numValues: number;
  uncompressedSize: number;
  compressedSize: number;
  encodings: number[];
  statistics?: Statistics;
}

function leafOf(type: DataType, name: string): Leaf {
  const base = { signed: true, float: false, utf8: false, width: 0 };
  if (DataType.isInt(type)) {
    const { bitWidth: bits, isSigned } = type;
    if (bits === 64) {
      if (!isSigned) throw unsupported(name, "Uint64");
      return { ...base, physical: PhysicalType.INT64, kind: "fixed", width: 8 };
    }
    if (bits === 32 && isSigned) return { ...base, physical: PhysicalType.INT32, kind: "fixed", width: 4 };
    if (bits === 32) throw unsupported(name, "Uint32");
    return { ...base, physical: PhysicalType.INT32, kind: "fixed", width: 4, signed: isSigned, widen: `${isSigned ? "i" : "u"}${bits}` as Leaf["widen"] };
  }
  if (DataType.isFloat(type)) {
    if (type.precision === Precision.SINGLE) return { ...base, physical: PhysicalType.FLOAT, kind: "fixed", width: 4, float: true };
    if (type.precision === Precision.DOUBLE) return { ...base, physical: PhysicalType.DOUBLE, kind: "fixed", width: 8, float: true };
    throw unsupported(name, "Float16");
  }
  if (DataType.isBool(type)) return { ...base, physical: PhysicalType.BOOLEAN, kind: "bool" };
  if (DataType.isUtf8(type)) return { ...base, physical: PhysicalType.BYTE_ARRAY, kind: "bytes", utf8: true };
  if (DataType.isBinary(type)) return { ...base, physical: PhysicalType.BYTE_ARRAY, kind: "bytes" };
  if (DataType.isDictionary(type) && DataType.isUtf8(type.dictionary) && DataType.isInt(type.indices)) {
    return { ...base, physical: PhysicalType.BYTE_ARRAY, kind: "dict", utf8: true };
  }
  throw unsupported(name, String(type));
}

function unsupported(name: string, type: string): ArrowsmithError {
  return new ArrowsmithError("usage", `parquet output cannot write column ${name} of type ${type}`, { hint: "use --format arrow for this data" });
}

function primitiveElement(name: string, leaf: Leaf, nullable: boolean): SchemaElement {
  const e: SchemaElement = { name, type: leaf.physical, repetition: nullable ? Repetition.OPTIONAL : Repetition.REQUIRED };
  if (leaf.utf8) { e.convertedType = ConvertedType.UTF8; e.logicalType = LogicalType.STRING; }
  if (leaf.widen) {
    const bits = leaf.widen.endsWith("8") ? 8 : 16;
    e.convertedType = leaf.signed ? (bits === 8 ? ConvertedType.INT_8 : ConvertedType.INT_16) : (bits === 8 ? ConvertedType.UINT_8 : ConvertedType.UINT_16);
    e.logicalType = LogicalType.INTEGER;
    e.int = { bits, signed: leaf.signed };
  }
  return e;
}

/** The Parquet schema elements (depth-first) of one Arrow field, and its leaf writer. */
export function columnFor(field: Field, codec: PageCodec, pageBytes: number, budget?: PageBudget): { elements: SchemaElement[]; writer: ColumnWriter } {
  const t = field.type;
  if (DataType.isFixedSizeList(t) || DataType.isList(t)) {
    const child = t.children[0];
    const leaf = leafOf(child.type, `${field.name}.${child.name}`);
    if (leaf.kind === "dict") throw unsupported(field.name, String(t));
    const elements: SchemaElement[] = [
      { name: field.name, repetition: field.nullable ? Repetition.OPTIONAL : Repetition.REQUIRED, numChildren: 1, convertedType: ConvertedType.LIST, logicalType: LogicalType.LIST },
      { name: "list", repetition: Repetition.REPEATED, numChildren: 1 },
      // the element keeps the Arrow child's name ("item"), so that readers restoring the stored
      // Arrow schema (pyarrow, arrow-rs) find the very type they wrote, extension included
      primitiveElement(child.name, leaf, child.nullable),
    ];
    const listSize = DataType.isFixedSizeList(t) ? t.listSize : -1;
    return { elements, writer: new ColumnWriter([field.name, "list", child.name], leaf, field.nullable, { size: listSize, childNullable: child.nullable }, codec, pageBytes, budget) };
  }
  const leaf = leafOf(t, field.name);
  return { elements: [primitiveElement(field.name, leaf, field.nullable)], writer: new ColumnWriter([field.name], leaf, field.nullable, undefined, codec, pageBytes, budget) };
}

// Page buffers outlive a sink: a worker converting file after file writes every row group into
// memory it already touched. Fresh buffers cost a zero-fill and page faults on first write, which
// measured as much as the copy itself. The pool keeps at most about one default row group.
const POOL_LIMIT = 24 << 20;
const pool = new Map<number, Uint8Array[]>();
let pooled = 0;

function takePage(size: number): Uint8Array {
  const b = pool.get(size)?.pop();
  if (!b) return new Uint8Array(size);
  pooled -= size;
  return b;
}

function givePage(b: Uint8Array): void {
  if (b.length === 0 || pooled + b.length > POOL_LIMIT) return;
  let list = pool.get(b.length);
  if (!list) pool.set(b.length, (list = []));
  list.push(b);
  pooled += b.length;
}

const isValid = (d: Data, i: number): boolean => {
  const bm = d.nullBitmap;
  if (!bm || d.nullCount === 0) return true;
  const j = d.offset + i;
  return ((bm[j >> 3] >> (j & 7)) & 1) === 1;
};

export class ColumnWriter {
  readonly maxDef: number;
  readonly maxRep: number;
  private readonly outerDef: number;
  private readonly listDef: number;

  // the page being filled
  private values: ByteBuf;
  private bitCount = 0;
  private readonly rep = new Runs();
  private readonly def = new Runs();
  private readonly indices = new Runs();
  private pageLevels = 0;

  // the column chunk of the current row group
  private parts: (Uint8Array | PendingPage)[] = [];
  private pending: PendingPage[] = [];
  // scratch buffers of pages back from the thread pool, for the next ones
  private spare: Uint8Array[] = [];
  private numValues = 0;
  private uncompressed = 0;
  private compressed = 0;
  private nulls = 0;
  private min: number | bigint | undefined;
  private max: number | bigint | undefined;
  private readonly stats: boolean;

  // dictionary of the current chunk, and the map from the last batch dictionary to it
  private dictIndex = new Map<string, number>();
  private dictEntries: Uint8Array[] = [];
  private lastDict: Vector | undefined;
  private lastMap: Int32Array | undefined;

  // uncompressed pages handed to `parts` as they are (codec none), back to the pool after the row group
  private lent: Uint8Array[] = [];
  private readonly scratch = new ByteBuf(1024);
  private readonly levels = new ByteBuf(1024);
  private readonly header = new ThriftWriter(64);

  constructor(readonly path: string[], private readonly leaf: Leaf, nullable: boolean,
              private readonly list: { size: number; childNullable: boolean } | undefined,
              private readonly codec: PageCodec, private readonly pageBytes: number,
              private readonly budget?: PageBudget) {
    this.outerDef = nullable ? 1 : 0;
    this.listDef = this.outerDef + (list ? 1 : 0);
    this.maxDef = this.listDef + (list?.childNullable ? 1 : 0);
    this.maxRep = list ? 1 : 0;
    this.values = new ByteBuf(0);
    this.values.buf = takePage(this.pageCapacity());
    this.stats = !list && leaf.kind === "fixed";
  }

  get physical(): number { return this.leaf.physical; }

  /**
   * The buffer a page starts in: a full page for tensor columns, whose pages fill; 64 KiB for the
   * others (it grows), whose row-group chunk is often a few KB: a megabyte for each of 40 metric
   * columns, and as much again for each of their pages out on the thread pool, made a worker hold
   * ~80 MB more than its row group.
   */
  private pageCapacity(): number {
    if (this.list && this.list.size > 0) return this.pageBytes + this.list.size * Math.max(1, this.leaf.width);
    return Math.min(this.pageBytes + 1024, 64 << 10);
  }

  /** Bytes buffered for the current row group (pages written so far plus the open page). */
  get bufferedBytes(): number {
    return this.uncompressed + this.pageFill;
  }

  /** Bytes in the open page (dictionary indices counted as 4 bytes, as in the Arrow data). */
  private get pageFill(): number {
    return this.values.len + 4 * this.indices.total;
  }

  /** Appends rows [start, end) of `d` (the Data of this column in a batch). */
  append(d: Data, start: number, end: number): void {
    if (!this.list) this.appendFlat(d, start, end);
    else if (this.list.size >= 0 && !this.hasNulls(d) && !this.hasNulls(d.children[0])) this.appendTensorRows(d, start, end);
    else this.appendListRows(d, start, end);
  }

  private hasNulls(d: Data): boolean {
    return !!d.nullBitmap && d.nullCount > 0;
  }

  private appendFlat(d: Data, start: number, end: number): void {
    const per = this.leaf.kind === "fixed" ? this.leaf.width : this.leaf.kind === "bool" ? 0.125 : this.leaf.kind === "dict" ? 4 : 16;
    while (start < end) {
      const room = Math.max(1, Math.ceil((this.pageBytes - this.pageFill) / per));
      const stop = Math.min(end, start + room);
      if (this.maxDef > 0) {
        if (!this.hasNulls(d)) this.def.push(1, stop - start);
        else for (let i = start; i < stop; i++) this.def.push(isValid(d, i) ? 1 : 0, 1);
      }
      this.copyValues(d, start, stop);
      this.pageLevels += stop - start;
      start = stop;
      if (this.pageFill >= this.pageBytes) this.flushPage();
    }
  }

  /** Fixed-size lists with no nulls anywhere: levels are two runs a row, values one copy. */
  private appendTensorRows(d: Data, start: number, end: number): void {
    const size = this.list!.size;
    const child = d.children[0];
    const rowBytes = Math.max(1, size * this.leaf.width);
    while (start < end) {
      const room = Math.max(1, Math.ceil((this.pageBytes - this.pageFill) / rowBytes));
      const stop = Math.min(end, start + room);
      if (size === 0) {
        this.rep.push(0, stop - start);
        this.def.push(this.outerDef, stop - start);
        this.pageLevels += stop - start;
      } else {
        for (let r = start; r < stop; r++) {
          this.rep.push(0, 1);
          this.rep.push(1, size - 1);
        }
        this.def.push(this.maxDef, (stop - start) * size);
        this.pageLevels += (stop - start) * size;
        this.copyValues(child, start * size, stop * size);
      }
      start = stop;
      if (this.pageFill >= this.pageBytes) this.flushPage();
    }
  }

  /** Lists with nulls or variable lengths, one row at a time. */
  private appendListRows(d: Data, start: number, end: number): void {
    const size = this.list!.size;
    const offsets = d.valueOffsets as Int32Array | undefined;
    const child = d.children[0];
    const childNulls = this.hasNulls(child);
    for (let r = start; r < end; r++) {
      this.rep.push(0, 1);
      if (!isValid(d, r)) {
        this.def.push(this.outerDef - 1, 1);
        this.pageLevels++;
        continue;
      }
      const lo = size >= 0 ? r * size : offsets![r];
      const hi = size >= 0 ? lo + size : offsets![r + 1];
      if (hi === lo) {
        this.def.push(this.outerDef, 1);
        this.pageLevels++;
        continue;
      }
      this.rep.push(1, hi - lo - 1);
      if (!childNulls) this.def.push(this.maxDef, hi - lo);
      else for (let j = lo; j < hi; j++) this.def.push(isValid(child, j) ? this.maxDef : this.listDef, 1);
      this.pageLevels += hi - lo;
      this.copyValues(child, lo, hi);
      if (this.pageFill >= this.pageBytes) this.flushPage();
    }
  }

  /** Appends the non-null values [from, to) of `d` in the page's value encoding. */
  private copyValues(d: Data, from: number, to: number): void {
    const leaf = this.leaf;
    const nulls = this.hasNulls(d);
    if (nulls) for (let i = from; i < to; i++) if (!isValid(d, i)) this.nulls++;
    switch (leaf.kind) {
      case "fixed": {
        const v = d.values as ArrayLike<number | bigint> & ArrayBufferView;
        if (this.stats) this.updateMinMax(d, v, from, to, nulls);
        if (leaf.widen) {
          const at = this.values.reserve(4 * (to - from));
          const out = new DataView(this.values.buf.buffer, this.values.buf.byteOffset + at);
          let k = 0;
          for (let i = from; i < to; i++) if (!nulls || isValid(d, i)) out.setInt32(4 * k++, v[i] as number, true);
          this.values.len = at + 4 * k;
          return;
        }
        const w = leaf.width;
        const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        if (!nulls) {
          this.values.push(bytes.subarray(from * w, to * w));
          return;
        }
        for (let i = from; i < to; i++) if (isValid(d, i)) this.values.push(bytes.subarray(i * w, i * w + w));
        return;
      }
      case "bool": {
        const bits = d.values as Uint8Array;
        for (let i = from; i < to; i++) {
          if (nulls && !isValid(d, i)) continue;
          const j = d.offset + i;
          this.pushBit((bits[j >> 3] >> (j & 7)) & 1);
        }
        return;
      }
      case "bytes": {
        const offs = d.valueOffsets as Int32Array;
        const data = d.values as Uint8Array;
        for (let i = from; i < to; i++) {
          if (nulls && !isValid(d, i)) continue;
          const s = offs[i], e = offs[i + 1];
          this.values.u32(e - s);
          this.values.push(data.subarray(s, e));
        }
        return;
      }
      case "dict": {
        const idx = d.values as Int32Array;
        const map = this.mapFor(d.dictionary as Vector);
        for (let i = from; i < to; i++) {
          if (nulls && !isValid(d, i)) continue;
          const k = idx[i];
          let m = map[k];
          if (m < 0) m = map[k] = this.dictAdd(d.dictionary as Vector, k);
          this.indices.push(m, 1);
        }
        return;
      }
    }
  }

  private pushBit(b: number): void {
    const byte = this.bitCount >> 3;
    if (byte >= this.values.len) this.values.u8(0);
    if (b) this.values.buf[byte] |= 1 << (this.bitCount & 7);
    this.bitCount++;
  }

  private mapFor(dict: Vector): Int32Array {
    if (dict !== this.lastDict || !this.lastMap) {
      this.lastDict = dict;
      this.lastMap = new Int32Array(dict.length).fill(-1);
    }
    return this.lastMap;
  }

  private dictAdd(dict: Vector, k: number): number {
    const s = dict.get(k) as string | null;
    if (s === null) throw new ArrowsmithError("usage", `parquet output cannot write a null dictionary entry in column ${this.path[0]}`);
    let m = this.dictIndex.get(s);
    if (m === undefined) {
      m = this.dictEntries.length;
      this.dictIndex.set(s, m);
      this.dictEntries.push(new TextEncoder().encode(s));
    }
    return m;
  }

  private updateMinMax(d: Data, v: ArrayLike<number | bigint>, from: number, to: number, nulls: boolean): void {
    let min = this.min, max = this.max;
    for (let i = from; i < to; i++) {
      if (nulls && !isValid(d, i)) continue;
      const x = v[i];
      if (typeof x === "number" && x !== x) continue; // NaN has no place in min/max
      if (min === undefined || x < min) min = x;
      if (max === undefined || x > max) max = x;
    }
    this.min = min;
    this.max = max;
  }

  /** Closes the open page: levels and values, compressed, behind a PageHeader. */
  private flushPage(): void {
    if (this.pageLevels === 0) return;
    const lv = this.levels;
    lv.len = 0;
    if (this.maxRep > 0) this.levelBlock(this.rep, this.maxRep);
    if (this.maxDef > 0) this.levelBlock(this.def, this.maxDef);
    const dict = this.leaf.kind === "dict";
    if (dict) {
      const w = Math.max(1, bitWidth(this.dictEntries.length - 1));
      this.values.u8(w);
      encodeHybrid(this.indices, w, this.values);
    }
    const body = this.values.bytes();
    const size = lv.len + body.length;
    const encoding = dict ? Encoding.RLE_DICTIONARY : Encoding.PLAIN;
    const budget = this.budget;
    const compressAsync = this.codec.compressAsync;
    if (compressAsync && budget && budget.hasRoom()) {
      // compressed on the thread pool (now, or when a slot frees); the header follows when the
      // size is known (sealChunk)
      let input = this.spare.pop();
      if (!input || input.length < size) input = new Uint8Array(Math.max(size + 4096, this.pageCapacity() + 4096));
      input.set(lv.bytes());
      input.set(body, lv.len);
      let settle!: () => void;
      const page: PendingPage = { input, size, numValues: this.pageLevels, encoding, done: new Promise<void>((r) => { settle = r; }), queued: true };
      // the page's buffer back to the writer, its slot back to the budget
      const finished = () => {
        this.spare.push(input);
        settle();
        budget.returned();
      };
      budget.run(() => {
        page.queued = false;
        // sealChunk compressed it in the writing thread while it waited, or the sink was aborted
        if (page.taken || budget.cancelled) return finished();
        compressAsync(input.subarray(0, size)).then((out) => { page.out = out; }, (e: unknown) => { page.error = e ?? new Error("compression failed"); })
          .finally(finished);
      });
      this.parts.push(page);
      this.pending.push(page);
      this.uncompressed += size;
      this.numValues += this.pageLevels;
      this.values.len = 0;
      this.pageLevels = 0;
      this.bitCount = 0;
      this.rep.reset();
      this.def.reset();
      this.indices.reset();
      return;
    }
    let payload: Uint8Array;
    let lentPage: Uint8Array | undefined;
    if (this.codec.id === 0) {
      payload = body;
      lentPage = this.values.buf;
    } else {
      const s = this.scratch;
      s.len = 0;
      s.push(lv.bytes());
      s.push(body);
      payload = this.codec.compress(s.bytes());
    }
    const h = this.header;
    h.reset();
    writeDataPageHeader(h, { uncompressedSize: size, compressedSize: lentPage ? size : payload.length, numValues: this.pageLevels, encoding });
    const head = new Uint8Array(h.len + (lentPage ? lv.len : 0));
    head.set(h.bytes());
    if (lentPage) {
      head.set(lv.bytes(), h.len);
      this.lent.push(lentPage);
      this.values = new ByteBuf(0);
      this.values.buf = takePage(this.pageCapacity());
    } else {
      this.values.len = 0;
    }
    this.parts.push(head, payload);
    this.uncompressed += h.len + size;
    this.compressed += head.length + (lentPage ? body.length : payload.length);
    this.numValues += this.pageLevels;
    this.pageLevels = 0;
    this.bitCount = 0;
    this.rep.reset();
    this.def.reset();
    this.indices.reset();
  }

  private levelBlock(runs: Runs, max: number): void {
    const lv = this.levels;
    const at = lv.reserve(4);
    encodeHybrid(runs, bitWidth(max), lv);
    const n = lv.len - at - 4;
    lv.buf[at] = n; lv.buf[at + 1] = n >>> 8; lv.buf[at + 2] = n >>> 16; lv.buf[at + 3] = n >>> 24;
  }

  /** Returns the open page's buffer and the scratch buffers to the pool (the sink is done). */
  release(): void {
    givePage(this.values.buf);
    this.values = new ByteBuf(0);
    for (const b of this.lent) givePage(b);
    this.lent = [];
    this.spare = [];
  }

  /**
   * Ends the column chunk of this row group and takes it out of the writer, which starts the
   * next one; pages may still be compressing (`chunkSettled`, `chunkDone`, then `sealChunk`).
   */
  takeChunk(): OpenChunk {
    this.flushPage();
    let parts = this.parts;
    let dictionaryBytes = 0;
    const encodings: number[] = [Encoding.PLAIN];
    if (this.maxDef > 0 || this.maxRep > 0) encodings.push(Encoding.RLE);
    if (this.leaf.kind === "dict") {
      encodings.push(Encoding.RLE_DICTIONARY);
      const page = new ByteBuf(1024);
      for (const e of this.dictEntries) { page.u32(e.length); page.push(e); }
      const body = page.bytes();
      const payload = this.codec.id === 0 ? body : this.codec.compress(body);
      const h = new ThriftWriter(64);
      writeDictionaryPageHeader(h, body.length, payload.length, this.dictEntries.length);
      const head = h.bytes().slice();
      parts = [head, payload, ...parts];
      dictionaryBytes = head.length + payload.length;
      this.uncompressed += head.length + body.length;
      this.compressed += dictionaryBytes;
    }
    let statistics: Statistics | undefined;
    if (!this.list) {
      statistics = { nullCount: this.nulls };
      if (this.stats && this.min !== undefined && this.max !== undefined) {
        statistics.min = this.statBytes(this.min, true);
        statistics.max = this.statBytes(this.max, false);
      }
    }
    const out: OpenChunk = {
      parts, pending: this.pending, dictionaryBytes, numValues: this.numValues, uncompressed: this.uncompressed, compressed: this.compressed,
      encodings, statistics, lent: this.lent,
    };
    this.parts = [];
    this.pending = [];
    this.lent = [];
    this.numValues = this.uncompressed = this.compressed = this.nulls = 0;
    this.min = this.max = undefined;
    this.dictIndex = new Map();
    this.dictEntries = [];
    this.lastDict = this.lastMap = undefined;
    return out;
  }

  /**
   * The chunk's bytes, every page behind its header. A page still on the thread pool is compressed
   * here instead (the same codec and level give the same bytes); its late result is dropped.
   */
  sealChunk(c: OpenChunk): ChunkOut {
    const parts: Uint8Array[] = [];
    let uncompressed = c.uncompressed, compressed = c.compressed;
    const h = this.header;
    for (const p of c.parts) {
      if (p instanceof Uint8Array) { parts.push(p); continue; }
      if (p.error !== undefined) throw new ArrowsmithError("internal", `page compression failed: ${(p.error as Error).message ?? String(p.error)}`, { cause: p.error });
      // a page still waiting for the pool is taken here (the pool then skips it)
      if (p.queued) p.taken = true;
      const out = p.out ?? this.codec.compress(p.input.subarray(0, p.size));
      h.reset();
      writeDataPageHeader(h, { uncompressedSize: p.size, compressedSize: out.length, numValues: p.numValues, encoding: p.encoding });
      const head = h.bytes().slice();
      parts.push(head, out);
      uncompressed += head.length;
      compressed += head.length + out.length;
    }
    return { parts, dictionaryBytes: c.dictionaryBytes, numValues: c.numValues, uncompressedSize: uncompressed, compressedSize: compressed, encodings: c.encodings, statistics: c.statistics };
  }

  /** After the sink wrote the chunk: take back its page buffers. */
  recycle(c: OpenChunk): void {
    for (const b of c.lent) givePage(b);
    c.lent = [];
  }

  private statBytes(v: number | bigint, isMin: boolean): Uint8Array {
    const leaf = this.leaf;
    const b = new Uint8Array(leaf.widen ? 4 : leaf.width);
    const dv = new DataView(b.buffer);
    if (typeof v === "bigint") dv.setBigInt64(0, v, true);
    else if (leaf.physical === PhysicalType.FLOAT) dv.setFloat32(0, v === 0 ? (isMin ? -0 : 0) : v, true);
    else if (leaf.physical === PhysicalType.DOUBLE) dv.setFloat64(0, v === 0 ? (isMin ? -0 : 0) : v, true);
    else dv.setInt32(0, v, true);
    return b;
  }
}
