// --on-error fail|skip: fail throws the first problem; skip records it (one JSON line each in
// _errors.jsonl) and the run goes on, so nothing is dropped without being counted.
import { ArrowsmithError } from "../errors.js";

export type OnError = "fail" | "skip";

export interface Problem {
  file?: string;
  offset?: number;
  record?: number;
  code: string;
  message: string;
  /** What was dropped: one record, or the rest of the file after the framing was lost. */
  skipped: "record" | "rest_of_file" | "file";
}

export class ErrorPolicy {
  readonly problems: Problem[] = [];
  constructor(readonly mode: OnError) {}

  /** Handles a problem with one record: throws in fail mode, records it in skip mode. */
  record(e: ArrowsmithError): void {
    this.note(e, "record");
  }

  /** Handles a problem after which the rest of the file can't be read. */
  restOfFile(e: ArrowsmithError): void {
    this.note(e, "rest_of_file");
  }

  file(e: ArrowsmithError): void {
    this.note(e, "file");
  }

  private note(e: ArrowsmithError, skipped: Problem["skipped"]): void {
    if (this.mode === "fail") throw e;
    this.problems.push({ file: e.file, offset: e.offset, record: e.record, code: e.code, message: e.detail, skipped });
  }
}
