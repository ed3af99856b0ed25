// The SNID index rows of a task, collected in its worker as the batches are written: kept apart
// from the index file's writer and readers (snid-index.ts), so that a worker loads neither the
// Parquet writer nor hyparquet.
import type { RecordBatch } from "apache-arrow";
import { ArrowsmithError } from "../errors.js";

/** The index rows of one output file, in its row order (row i of the output is element i). */
export interface IndexPart {
  /** The input file, as the manifest names it. */
  source: string;
  /** The output file's name in the folder. */
  output: string;
  n: number;
  ids: BigInt64Array;
  labels: Int32Array;
  z: Float32Array;
  zValid: Uint8Array;
  zErr: Float32Array;
  zErrValid: Uint8Array;
  /** Record index in the input, and byte offset of the record's length field (in the decompressed stream). */
  records: Float64Array;
  offsets: Float64Array;
}

export const INDEX_COLUMNS = ["id", "label", "z", "z_err", "source", "record", "offset", "output", "row"] as const;

export function emptyPart(source: string, output: string, capacity: number): IndexPart {
  return {
    source, output, n: 0, ids: new BigInt64Array(capacity), labels: new Int32Array(capacity), z: new Float32Array(capacity),
    zValid: new Uint8Array(capacity), zErr: new Float32Array(capacity), zErrValid: new Uint8Array(capacity),
    records: new Float64Array(capacity), offsets: new Float64Array(capacity),
  };
}

/** A part with room for `capacity` rows, keeping the rows it has. */
function grown(p: IndexPart, capacity: number): IndexPart {
  const q = emptyPart(p.source, p.output, capacity);
  q.n = p.n;
  q.ids.set(p.ids.subarray(0, p.n));
  q.labels.set(p.labels.subarray(0, p.n));
  q.z.set(p.z.subarray(0, p.n));
  q.zValid.set(p.zValid.subarray(0, p.n));
  q.zErr.set(p.zErr.subarray(0, p.n));
  q.zErrValid.set(p.zErrValid.subarray(0, p.n));
  q.records.set(p.records.subarray(0, p.n));
  q.offsets.set(p.offsets.subarray(0, p.n));
  return q;
}

/** The part trimmed to its rows (what crosses the thread boundary). */
function trimmed(p: IndexPart): IndexPart {
  return p.n === p.ids.length ? p : grown(p, p.n);
}

/** Builds an IndexPart row by row (growing by doubling). */
export class IndexBuilder {
  private part: IndexPart;
  constructor(source: string, output: string) {
    this.part = emptyPart(source, output, 1024);
  }

  get rows(): number {
    return this.part.n;
  }

  /** Room for one more row; returns its position. */
  next(): number {
    if (this.part.n === this.part.ids.length) this.part = grown(this.part, this.part.n * 2);
    return this.part.n++;
  }

  get current(): IndexPart {
    return this.part;
  }

  finish(): IndexPart {
    return trimmed(this.part);
  }
}

function validAt(bitmap: Uint8Array | null | undefined, nulls: number, offset: number, i: number): number {
  if (!bitmap || !bitmap.length || nulls === 0) return 1;
  const j = offset + i;
  return (bitmap[j >> 3] >> (j & 7)) & 1;
}

/**
 * The index tap of a SCONE task: `offset` is told each record the batcher took (in order), and
 * `batch` each record batch it emits; the rows of both come in the same order.
 */
export class IndexTap {
  private readonly b: IndexBuilder;
  private offsets = new Float64Array(1024);
  private pending = 0;
  private done = 0;

  constructor(source: string, output: string) {
    this.b = new IndexBuilder(source, output);
  }

  /** The record at this byte offset is going into the batch. */
  readonly offset = (o: number): void => {
    if (this.pending === this.offsets.length) {
      const next = new Float64Array(this.offsets.length * 2);
      next.set(this.offsets);
      this.offsets = next;
    }
    this.offsets[this.pending++] = o;
  };

  /** The record told last was refused: it is in no batch. */
  drop(): void {
    this.pending--;
  }

  /** A batch of SCONE rows (columns id, label, z, z_err, record), in the order of the offsets told. */
  batch(rb: RecordBatch): void {
    const col = (name: string) => rb.getChild(name)!.data[0];
    const id = col("id"), label = col("label"), z = col("z"), zErr = col("z_err"), record = col("record");
    const ids = id.values as BigInt64Array, labels = label.values as Int32Array;
    const zs = z.values as Float32Array, zErrs = zErr.values as Float32Array, records = record.values as BigInt64Array;
    for (let i = 0; i < rb.numRows; i++) {
      const r = this.b.next();
      const p = this.b.current;
      p.ids[r] = ids[id.offset + i];
      p.labels[r] = labels[label.offset + i];
      p.zValid[r] = validAt(z.nullBitmap, z.nullCount, z.offset, i);
      p.z[r] = zs[z.offset + i];
      p.zErrValid[r] = validAt(zErr.nullBitmap, zErr.nullCount, zErr.offset, i);
      p.zErr[r] = zErrs[zErr.offset + i];
      p.records[r] = Number(records[record.offset + i]);
      p.offsets[r] = this.offsets[this.done + i];
    }
    this.done += rb.numRows;
  }

  finish(): IndexPart {
    if (this.done !== this.pending) {
      throw new ArrowsmithError("internal", `the index saw ${this.pending} records taken but ${this.done} rows written`, { file: this.b.current.source });
    }
    return this.b.finish();
  }
}

