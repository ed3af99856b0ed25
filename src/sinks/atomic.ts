// Files appear only when complete: each output is written under a temporary name in the same
// folder, fsynced, then renamed over its final name. The temporary name carries the writer's pid and
// host (io/folder-lock.ts); an interrupted run leaves only such files, removed by the run that
// takes over its lock.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { temporaryName } from "../io/folder-lock.js";

export class AtomicFile {
  readonly tmpPath: string;
  private fd: number | undefined;
  bytes = 0;

  constructor(readonly finalPath: string) {
    this.tmpPath = join(dirname(finalPath), temporaryName(basename(finalPath)));
    try {
      this.fd = openSync(this.tmpPath, "w");
    } catch (e) {
      throw ioError(e, finalPath, "cannot create output");
    }
  }

  write(chunk: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw new ArrowsmithError("internal", "write after close", { file: this.finalPath });
    let off = 0;
    try {
      while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
    } catch (e) {
      this.abort();
      throw ioError(e, this.finalPath, "cannot write output");
    }
    this.bytes += chunk.byteLength;
  }

  /** fsync, close and rename to the final name. */
  commit(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    try {
      fsyncSync(fd);
      closeSync(fd);
      this.fd = undefined;
      renameSync(this.tmpPath, this.finalPath);
    } catch (e) {
      this.abort();
      throw ioError(e, this.finalPath, "cannot finish output");
    }
  }

  /** Closes and removes the temporary file (safe to call twice). */
  abort(): void {
    if (this.fd !== undefined) {
      try { closeSync(this.fd); } catch { /* already closed */ }
      this.fd = undefined;
    }
    rmSync(this.tmpPath, { force: true });
  }
}

function ioError(e: unknown, file: string, what: string): ArrowsmithError {
  const err = e as NodeJS.ErrnoException;
  const hint = err.code === "ENOSPC" ? "the disk is full: free space and re-run with --resume"
    : err.code === "EACCES" ? "check the output folder's permissions" : undefined;
  return new ArrowsmithError("io", `${what}: ${err.message}`, { file, hint, cause: e });
}

/** Writes a small file (manifest, errors) atomically in one go. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const f = new AtomicFile(path);
  f.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
  f.commit();
}
