// Arrow IPC file (.arrow) and stream (.arrows) output. The writer's byte sink is replaced by one
// that writes each chunk synchronously to the output file, so a batch's buffers (views of wasm
// memory for images) are on disk when write() returns and nothing accumulates in memory. With
// write-behind (`writeBehind()`), a batch is written on libuv's thread pool while the caller builds
// the next one, at most two batches in flight: `ready()` holds the caller until the older is out.
import { AsyncByteQueue, type RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, type Schema } from "apache-arrow";
import { AtomicFile } from "./atomic.js";
import type { Sink, SinkResult } from "./sink.js";

class FileByteSink extends AsyncByteQueue {
  constructor(private readonly file: AtomicFile) {
    super();
  }
  override write(chunk: Uint8Array): void {
    this.file.write(chunk);
  }
  override close(): void { /* the AtomicFile is committed by the sink */ }
}

export class IpcSink implements Sink {
  private readonly file: AtomicFile;
  private readonly writer: RecordBatchFileWriter | RecordBatchStreamWriter;
  private rows = 0;
  /** Write-behind: the file offset at which each batch still being written ends. */
  private ends: number[] | undefined;

  constructor(path: string, schema: Schema, stream: boolean) {
    this.file = new AtomicFile(path);
    this.writer = stream ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
    this.writer.reset(new FileByteSink(this.file) as never, schema);
  }

  write(batch: RecordBatch): void {
    this.writer.write(batch);
    this.rows += batch.numRows;
    if (this.ends) {
      this.file.push();
      this.ends.push(this.file.bytes);
    }
  }

  writeBehind(): boolean {
    this.ends ??= [];
    this.file.behind();
    return true;
  }

  /** Write-behind: a promise while more than the last batch written is still being written. */
  ready(): Promise<void> | undefined {
    const ends = this.ends;
    if (!ends || ends.length < 2) return undefined;
    const wait = this.file.settled(ends[ends.length - 2]);
    if (!wait) ends.splice(0, ends.length - 1);
    return wait;
  }

  async drain(): Promise<void> {
    if (!this.ends) return;
    this.ends = undefined;
    await this.file.settled();
  }

  finish(): SinkResult {
    this.writer.finish();
    this.file.commit();
    return { path: this.file.finalPath, rows: this.rows, bytes: this.file.bytes };
  }

  abort(): void {
    this.file.abort();
  }
}
