// Parquet output (.parquet), written by our own encoder: Arrow's little-endian buffers are
// Parquet's PLAIN layout, so a tensor page is its levels (two RLE runs a row) and one copy of the
// values; parquet-wasm measured 20-90 MB/s on the same batches, this path runs at the speed of
// the compressor (or of the disk with --compression none).
//
// Streaming with bounded memory: each column chunk's pages are kept until the row group reaches
// `rowGroupBytes` of Arrow data, then written to the temporary file and dropped, so memory is
// one row group. The footer carries the Arrow schema (`ARROW:schema`, the IPC schema message in
// base64, as pyarrow and arrow-rs write it), which is how readers get back the tensor columns'
// FixedSizeList type, their `arrow.fixed_shape_tensor` metadata and the dictionary column; the
// schema's own metadata (`arrowsmith:*`) is copied to the footer's key-value metadata as well.
//
// Pages compress on libuv's thread pool as they fill (up to `pagesInFlight` at once, four times as
// many waiting for a slot; past that a page is compressed in the calling thread), so one file is
// not bound to one core's codec speed.
// A row group is written when all its pages are back: `ready()` makes the reading wait for that,
// so memory stays about one row group, and `drain()` before `finish()` waits for the last one
// (without it, `finish()` compresses what is still out in this thread: the same bytes).
import { type Data, type RecordBatch, type Schema, Table, tableToIPC } from "apache-arrow";
import { withoutExtensions } from "../arrow.js";
import { ArrowsmithError } from "../errors.js";
import { VERSION } from "../version.js";
import { AtomicFile } from "./atomic.js";
import { chunkDone, chunkSettled, columnFor, type ColumnWriter, type OpenChunk, PageBudget } from "./parquet/columns.js";
import { COMPRESSIONS, type Compression, pageCodec, ZSTD_DEFAULT_LEVEL } from "./parquet/codecs.js";
import { type ColumnMeta, encodeFileMeta, type RowGroupMeta, type SchemaElement } from "./parquet/metadata.js";
import type { Sink, SinkResult } from "./sink.js";

export type { Compression } from "./parquet/codecs.js";

export interface ParquetOptions {
  compression: Compression;
  /**
   * A row group is closed when it holds this many bytes of Arrow data (default 16 MiB: a thread
   * holds a row group's compressed pages; two threads converting a 2 GB SCONE shard peaked at
   * ~620 MB of RSS with 128 MiB, ~390 MB with 32 MiB, ~350 MB with 16 MiB, which is still ~350
   * SCONE events or ~2,000 DUNE clusters a row group).
   */
  rowGroupBytes?: number;
  /**
   * Target uncompressed size of a data page (default 64 KiB). With 1 MiB pages each zstd call
   * allocated ~1 MiB of output and working memory above glibc's mmap threshold, which the kernel
   * mapped and zeroed afresh every page: converting a 2 GB SCONE shard to zstd Parquet with 2
   * threads took 14.0-16.7 s of CPU (4.2 s system, ~200,000 page faults) against 12.5-13.6 s
   * (2.5 s system, ~140,000) with 64 KiB pages, and the file came out 0.6% smaller.
   */
  pageBytes?: number;
  /** zstd level (default 1: the fastest level that still compresses like level 3 on heatmaps). */
  zstdLevel?: number;
  /** Pages compressing on the thread pool at once (default 8: twice libuv's default 4 threads; 0: all in this thread). */
  pagesInFlight?: number;
  /**
   * Keep `ARROW:extension:*` field metadata in the stored Arrow schema (default true: pyarrow then
   * reads tensor columns as FixedShapeTensor). Polars' Rust reader (as in nodejs-polars 0.26)
   * refuses a file whose stored schema has an extension type it does not know; without the keys
   * it reads the tensors as Array(f32, 5760).
   */
  extensionMetadata?: boolean;
}

export const PARQUET_DEFAULTS = { rowGroupBytes: 16 << 20, pageBytes: 1 << 16, zstdLevel: ZSTD_DEFAULT_LEVEL, extensionMetadata: true, pagesInFlight: 8 };

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // PAR1

function checkOptions(o: ParquetOptions): Required<ParquetOptions> {
  if (!COMPRESSIONS.includes(o.compression)) {
    throw new ArrowsmithError("usage", `options.compression must be one of ${COMPRESSIONS.join(", ")}, not ${String(o.compression)}`);
  }
  const int = (name: keyof ParquetOptions, v: number | undefined, dflt: number, min: number, max: number) => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < min || v > max) throw new ArrowsmithError("usage", `options.${name} must be an integer from ${min} to ${max}, not ${v}`);
    return v;
  };
  return {
    compression: o.compression,
    rowGroupBytes: int("rowGroupBytes", o.rowGroupBytes, PARQUET_DEFAULTS.rowGroupBytes, 1, 2 ** 40),
    // a page's size goes into a 32-bit header field
    pageBytes: int("pageBytes", o.pageBytes, PARQUET_DEFAULTS.pageBytes, 1, 1 << 30),
    zstdLevel: int("zstdLevel", o.zstdLevel, PARQUET_DEFAULTS.zstdLevel, -7, 22),
    pagesInFlight: int("pagesInFlight", o.pagesInFlight, PARQUET_DEFAULTS.pagesInFlight, 0, 1024),
    extensionMetadata: o.extensionMetadata ?? PARQUET_DEFAULTS.extensionMetadata,
  };
}

/** The Arrow IPC schema message (continuation, length, flatbuffer), base64: `ARROW:schema`. */
export function arrowSchemaBase64(schema: Schema, extensionMetadata = true): string {
  if (!extensionMetadata) schema = withoutExtensions(schema);
  const ipc = tableToIPC(new Table(schema), "stream");
  const dv = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  const len = dv.getUint32(0, true) === 0xffffffff ? 8 + dv.getInt32(4, true) : 4 + dv.getInt32(0, true);
  return Buffer.from(ipc.buffer, ipc.byteOffset, len).toString("base64");
}

export class ParquetSink implements Sink {
  private readonly file: AtomicFile;
  private readonly opts: Required<ParquetOptions>;
  private readonly elements: SchemaElement[];
  private readonly columns: ColumnWriter[];
  private readonly codecId: number;
  private readonly rowGroups: RowGroupMeta[] = [];
  private rows = 0;
  private groupRows = 0;
  private groupBytes = 0;
  private done = false;
  /** Closed row groups whose pages are still compressing, in file order. */
  private readonly queued: { chunks: OpenChunk[]; rows: number }[] = [];
  private readonly budget: PageBudget | undefined;

  constructor(path: string, private readonly schema: Schema, opts: ParquetOptions) {
    this.opts = checkOptions(opts);
    const codec = pageCodec(this.opts.compression, this.opts.zstdLevel);
    this.elements = [{ name: "schema", numChildren: schema.fields.length }];
    this.columns = [];
    const budget = this.budget = codec.compressAsync && this.opts.pagesInFlight > 0 ? new PageBudget(this.opts.pagesInFlight) : undefined;
    for (const f of schema.fields) {
      const c = columnFor(f, codec, this.opts.pageBytes, budget);
      this.elements.push(...c.elements);
      this.columns.push(c.writer);
    }
    this.codecId = codec.id;
    this.file = new AtomicFile(path);
    this.file.write(MAGIC);
  }

  write(batch: RecordBatch): void {
    if (this.done) throw new ArrowsmithError("internal", "parquet sink written after finish", { file: this.file.finalPath });
    const n = batch.numRows;
    if (n === 0) return;
    const children = batch.data.children;
    if (children.length !== this.columns.length) {
      throw new ArrowsmithError("internal", `batch has ${children.length} columns, the parquet schema ${this.columns.length}`, { file: this.file.finalPath });
    }
    let bytes = 0;
    for (const d of children) bytes += dataBytes(d);
    const perRow = Math.max(1, bytes / n);
    try {
      this.writeSettled();
      let start = 0;
      while (start < n) {
        const room = Math.max(1, Math.ceil((this.opts.rowGroupBytes - this.groupBytes) / perRow));
        const stop = Math.min(n, start + room);
        for (let i = 0; i < children.length; i++) this.columns[i].append(children[i], start, stop);
        this.groupRows += stop - start;
        this.groupBytes += (stop - start) * perRow;
        this.rows += stop - start;
        start = stop;
        if (this.groupBytes >= this.opts.rowGroupBytes) this.flushRowGroup();
      }
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Closes the buffered column chunks as one row group: written now when its pages are all back, else queued. */
  private flushRowGroup(): void {
    if (this.groupRows === 0) return;
    this.queued.push({ chunks: this.columns.map((c) => c.takeChunk()), rows: this.groupRows });
    this.groupRows = 0;
    this.groupBytes = 0;
    // a caller that never lets the event loop turn (a synchronous NPZ read) gets no page back:
    // memory stays two row groups, the older one's missing pages compressed here
    while (this.queued.length > 1) this.writeGroup(this.queued.shift()!);
    this.writeSettled();
  }

  /** Writes the queued row groups whose pages are all back, in order; with `all`, every one. */
  private writeSettled(all = false): void {
    while (this.queued.length && (all || this.queued[0].chunks.every(chunkSettled))) this.writeGroup(this.queued.shift()!);
  }

  private writeGroup(g: { chunks: OpenChunk[]; rows: number }): void {
    const fileOffset = this.file.bytes;
    const metas: ColumnMeta[] = [];
    let total = 0, compressed = 0;
    this.columns.forEach((c, i) => {
      const chunk = c.sealChunk(g.chunks[i]);
      const start = this.file.bytes;
      for (const p of chunk.parts) this.file.write(p);
      metas.push({
        type: c.physical, encodings: chunk.encodings, path: c.path, codec: this.codecId,
        numValues: chunk.numValues, uncompressedSize: chunk.uncompressedSize, compressedSize: chunk.compressedSize,
        dataPageOffset: start + chunk.dictionaryBytes, dictionaryPageOffset: chunk.dictionaryBytes ? start : undefined,
        statistics: chunk.statistics,
      });
      total += chunk.uncompressedSize;
      compressed += chunk.compressedSize;
      c.recycle(g.chunks[i]);
    });
    this.rowGroups.push({ columns: metas, totalByteSize: total, numRows: g.rows, fileOffset, totalCompressedSize: compressed, ordinal: this.rowGroups.length });
  }

  /**
   * A promise while a closed row group's pages are still compressing (the reading waits, so memory
   * stays one row group), or while the pool holds as many pages as it may (the reading waits for
   * one to come back: a reading loop that never lets the event loop turn would never see them).
   */
  ready(): Promise<void> | undefined {
    if (this.done) return undefined;
    this.writeSettled();
    if (this.queued.length) return this.settle(false);
    // pages waiting for the pool: the reading waits for one to come back, so the queue stays short
    if (this.budget && this.budget.queued >= this.budget.limit) return this.budget.room();
    return undefined;
  }

  /** Closes the last row group and writes it once its pages are back; call once, before `finish()`. */
  drain(): Promise<void> {
    if (this.done) return Promise.resolve();
    try {
      this.flushRowGroup();
    } catch (e) {
      this.abort();
      return Promise.reject(e);
    }
    return this.settle(true);
  }

  private async settle(all: boolean): Promise<void> {
    try {
      while (this.queued.length && !this.done) {
        await Promise.all(this.queued[0].chunks.map(chunkDone));
        this.writeSettled();
        if (!all) return;
      }
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  finish(): SinkResult {
    try {
      this.flushRowGroup();
      this.writeSettled(true);
      this.done = true;
      const keyValue: [string, string][] = [["ARROW:schema", arrowSchemaBase64(this.schema, this.opts.extensionMetadata)], ...this.schema.metadata.entries()];
      const footer = encodeFileMeta({
        schema: this.elements, numRows: this.rows, rowGroups: this.rowGroups, keyValue,
        createdBy: `arrowsmith version ${VERSION}`, leaves: this.columns.length,
      });
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, footer.length, true);
      this.file.write(footer);
      this.file.write(len);
      this.file.write(MAGIC);
      this.file.commit();
      for (const c of this.columns) c.release();
    } catch (e) {
      this.abort();
      throw e;
    }
    return { path: this.file.finalPath, rows: this.rows, bytes: this.file.bytes };
  }

  abort(): void {
    this.done = true;
    this.budget?.clear();
    this.file.abort();
    for (const c of this.columns) c.release();
  }
}

/** Bytes of Arrow values in a column of a batch, for row-group sizing (validity bitmaps aside). */
function dataBytes(d: Data): number {
  let bytes = 0;
  if (d.valueOffsets && d.values) {
    const o = d.valueOffsets as Int32Array;
    bytes += o[d.length] - o[0] + 4 * d.length;
  } else if (d.values) {
    bytes += (d.values as ArrayBufferView).byteLength;
  }
  for (const c of d.children) bytes += dataBytes(c);
  return bytes;
}
