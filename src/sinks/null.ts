// A sink that keeps nothing: `stats` runs the conversion's tasks for their accumulators only.
import type { RecordBatch } from "apache-arrow";
import type { Sink, SinkResult } from "./sink.js";

export class NullSink implements Sink {
  private rows = 0;
  write(batch: RecordBatch): void {
    this.rows += batch.numRows;
  }
  finish(): SinkResult {
    return { path: "", rows: this.rows, bytes: 0 };
  }
  abort(): void {}
}
