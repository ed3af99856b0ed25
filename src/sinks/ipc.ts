// Arrow IPC file (.arrow) and stream (.arrows) output. The writer's byte sink is replaced by one
// that writes each chunk synchronously to the output file, so a batch's buffers (views of wasm
// memory for images) are on disk when write() returns and nothing accumulates in memory.
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

  constructor(path: string, schema: Schema, stream: boolean) {
    this.file = new AtomicFile(path);
    this.writer = stream ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
    this.writer.reset(new FileByteSink(this.file) as never, schema);
  }

  write(batch: RecordBatch): void {
    this.writer.write(batch);
    this.rows += batch.numRows;
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
