// Files appear only when complete: each output is written under a temporary name in the same
// folder, fsynced, then renamed over its final name. The temporary name carries the writer's pid and
// host (io/folder-lock.ts); an interrupted run leaves only such files, removed by the run that
// takes over its lock.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { temporaryName } from "../io/folder-lock.js";

/**
 * Chunks smaller than this are gathered into one buffer and written together: an Arrow batch is
 * a message header and a few buffers per column (40 metric columns: ~100 writes of a few hundred
 * bytes per batch), one syscall each otherwise. Larger chunks (images) are written as they are.
 */
const GATHER = 64 << 10;

export class AtomicFile {
  readonly tmpPath: string;
  private fd: number | undefined;
  /** Bytes written so far (gathered ones included): the offset of the next byte in the file. */
  bytes = 0;
  private gather: Buffer | undefined;
  private gathered = 0;

  constructor(readonly finalPath: string) {
    this.tmpPath = join(dirname(finalPath), temporaryName(basename(finalPath)));
    try {
      this.fd = openSync(this.tmpPath, "w");
    } catch (e) {
      throw ioError(e, finalPath, "cannot create output");
    }
  }

  /** Writes (or gathers a copy of) `chunk`: the caller may reuse its buffer as soon as this returns. */
  write(chunk: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw new ArrowsmithError("internal", "write after close", { file: this.finalPath });
    const n = chunk.byteLength;
    if (n < GATHER) {
      if (this.gathered + n > GATHER) this.flush();
      this.gather ??= Buffer.allocUnsafe(GATHER);
      this.gather.set(chunk, this.gathered);
      this.gathered += n;
    } else {
      this.flush();
      this.writeOut(chunk);
    }
    this.bytes += n;
  }

  private flush(): void {
    if (!this.gathered) return;
    const n = this.gathered;
    this.gathered = 0;
    this.writeOut(this.gather!.subarray(0, n));
  }

  private writeOut(chunk: Uint8Array): void {
    let off = 0;
    try {
      while (off < chunk.byteLength) off += writeSync(this.fd!, chunk, off, chunk.byteLength - off);
    } catch (e) {
      this.abort();
      throw ioError(e, this.finalPath, "cannot write output");
    }
  }

  /** fsync, close and rename to the final name. */
  commit(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.flush();
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
    this.gathered = 0;
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
