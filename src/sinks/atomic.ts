// Files appear only when complete: each output is written under a temporary name in the same
// folder, fsynced, then renamed over its final name. The temporary name carries the writer's pid and
// host (io/folder-lock.ts); an interrupted run leaves only such files, removed by the run that
// takes over its lock.
//
// Write-behind (`behind()`): chunks are queued and written by libuv's thread pool, one `write` at
// a time at its own offset, while the caller computes the next batch. The caller then keeps the
// buffers of the chunks it wrote unchanged until `settled()` says so (a converter double-buffers
// its windows), and the commit still comes only after every byte is written and fsynced.
import { close, closeSync, fsyncSync, openSync, renameSync, rmSync, write, writeSync } from "node:fs";
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
  // write-behind: chunks not yet handed to the pool, the bytes of the file written so far, the
  // first error, and the callers waiting for an offset to be written
  private behindOn = false;
  private queue: { buf: Uint8Array; at: number }[] = [];
  private writing = false;
  private written = 0;
  private issued = 0;
  private failed: ArrowsmithError | undefined;
  private waiters: { until: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private closeWhenIdle = false;

  constructor(readonly finalPath: string) {
    this.tmpPath = join(dirname(finalPath), temporaryName(basename(finalPath)));
    try {
      this.fd = openSync(this.tmpPath, "w");
    } catch (e) {
      throw ioError(e, finalPath, "cannot create output");
    }
  }

  /**
   * Writes (or gathers a copy of) `chunk`: the caller may reuse its buffer as soon as this returns,
   * except in write-behind, where a chunk of 64 KiB or more is written from the caller's buffer
   * later (see `settled`).
   */
  write(chunk: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw new ArrowsmithError("internal", "write after close", { file: this.finalPath });
    if (this.failed) throw this.failed;
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
    const chunk = this.gather!.subarray(0, n);
    // a queued gather buffer belongs to the queue: the next small chunks go to a fresh one
    if (this.behindOn) this.gather = undefined;
    this.writeOut(chunk);
  }

  /** Starts write-behind: from now on chunks are written on libuv's thread pool (see the top). */
  behind(): void {
    this.behindOn = true;
  }

  /**
   * Undefined when every byte handed over up to `offset` (default: all of them) is written;
   * otherwise a promise of that, rejected with the first write error (the file named). Gathered
   * bytes are queued first. Ends write-behind when waiting for everything (`offset` omitted), so
   * that what follows (a footer, the commit) is written in the calling thread again.
   */
  settled(offset?: number): Promise<void> | undefined {
    if (offset === undefined) {
      this.flush();
      this.behindOn = false;
    }
    if (this.failed) return Promise.reject(this.failed);
    const until = offset ?? this.bytes;
    if (this.written >= until) return undefined;
    return new Promise((resolve, reject) => this.waiters.push({ until, resolve, reject }));
  }

  /** Queues gathered bytes (write-behind): the end of a batch is then on its way. */
  push(): void {
    this.flush();
  }

  private pump(): void {
    if (this.writing || this.failed || this.fd === undefined) return;
    const next = this.queue.shift();
    if (!next) return;
    this.writing = true;
    const fd = this.fd;
    write(fd, next.buf, 0, next.buf.byteLength, next.at, (err, n) => {
      this.writing = false;
      if (this.closeWhenIdle) {
        // aborted while this write was on the pool: the file is already removed
        this.closeWhenIdle = false;
        close(fd, () => {});
        return;
      }
      if (err) {
        this.failed = ioError(err, this.finalPath, "cannot write output");
        for (const w of this.waiters.splice(0)) w.reject(this.failed);
        return;
      }
      if (n < next.buf.byteLength) this.queue.unshift({ buf: next.buf.subarray(n), at: next.at + n });
      this.written += n;
      this.waiters = this.waiters.filter((w) => (this.written >= w.until ? (w.resolve(), false) : true));
      this.pump();
    });
  }

  private writeOut(chunk: Uint8Array): void {
    if (this.behindOn || this.writing || this.queue.length) {
      if (!this.behindOn) throw new ArrowsmithError("internal", "a synchronous write while writes are queued", { file: this.finalPath });
      this.queue.push({ buf: chunk, at: this.issued });
      this.issued += chunk.byteLength;
      this.pump();
      return;
    }
    let off = 0;
    try {
      // at its offset: writes on the pool (write-behind) leave the descriptor's position where it was
      while (off < chunk.byteLength) off += writeSync(this.fd!, chunk, off, chunk.byteLength - off, this.issued + off);
    } catch (e) {
      this.abort();
      throw ioError(e, this.finalPath, "cannot write output");
    }
    this.written += chunk.byteLength;
    this.issued += chunk.byteLength;
  }

  /** fsync, close and rename to the final name. */
  commit(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    if (this.failed) throw this.failed;
    this.flush();
    if (this.writing || this.queue.length) throw new ArrowsmithError("internal", "commit while writes are queued (settled() first)", { file: this.finalPath });
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
    this.queue.length = 0;
    if (this.fd !== undefined) {
      // a write on the pool still uses the descriptor: it is closed when that write returns
      // (closing it now could let a file opened meanwhile receive the bytes)
      if (this.writing) this.closeWhenIdle = true;
      else try { closeSync(this.fd); } catch { /* already closed */ }
      this.fd = undefined;
    }
    const aborted = this.failed ?? new ArrowsmithError("io", "output aborted", { file: this.finalPath });
    for (const w of this.waiters.splice(0)) w.reject(aborted);
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
