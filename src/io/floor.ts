// The I/O floor of a conversion, for the benchmarks: the time to read the job's inputs to nowhere
// (what `cat inputs > /dev/null` does) plus the time to write as many bytes as its outputs, file
// by file, with the same durability policy as ours (a temporary name in the output folder, fsync,
// rename, as every output and report file is written). No converter can be faster than copying its bytes, so a benchmark prints its time as a
// multiple of this one, measured in the same run (the machine and the page cache change from one
// minute to the next).
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Read and write chunk: as large as a read window would be costs nothing more in page-cache copies. */
const CHUNK = 1 << 20;

export interface FloorJob {
  /** Input files, read whole, in order. */
  inputs: string[];
  /** Sizes of the output files, written in order (from `outputSizes` of a real run's folder). */
  outputs: number[];
  /** Folder to write into (made, then removed); put it where the real outputs go. */
  dir: string;
}

export interface FloorResult {
  readSeconds: number;
  writeSeconds: number;
  /** read + write: the time of copying the job's bytes in one thread. */
  seconds: number;
  inputBytes: number;
  outputBytes: number;
  files: number;
}

let chunk: Buffer | undefined;

/** Sizes of every regular file under `dir` (the outputs and report files of a run), sorted by path. */
export function outputSizes(dir: string): number[] {
  const sizes: [string, number][] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) sizes.push([p, statSync(p).size]);
    }
  };
  walk(dir);
  return sizes.sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, n]) => n);
}

/** Reads the inputs and writes the outputs' bytes as described on `FloorJob`; the folder is removed after. */
export function measureFloor(job: FloorJob): FloorResult {
  const buf = (chunk ??= Buffer.alloc(CHUNK, 0x5a));
  let inputBytes = 0, outputBytes = 0;
  const t0 = performance.now();
  for (const f of job.inputs) {
    const fd = openSync(f, "r");
    try {
      for (let n; (n = readSync(fd, buf, 0, CHUNK, null)) > 0;) inputBytes += n;
    } finally {
      closeSync(fd);
    }
  }
  const t1 = performance.now();
  mkdirSync(job.dir, { recursive: true });
  try {
    job.outputs.forEach((size, i) => {
      const tmp = join(job.dir, `.floor-${i}.tmp`);
      const fd = openSync(tmp, "w");
      try {
        for (let left = size; left > 0;) left -= writeSync(fd, buf, 0, Math.min(left, CHUNK));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(job.dir, `floor-${i}`));
      outputBytes += size;
    });
    const t2 = performance.now();
    return { readSeconds: (t1 - t0) / 1000, writeSeconds: (t2 - t1) / 1000, seconds: (t2 - t0) / 1000, inputBytes, outputBytes, files: job.outputs.length };
  } finally {
    rmSync(job.dir, { recursive: true, force: true });
  }
}

/** "2.31× the floor (read 0.041 s + write 0.052 s of 197 MB in, 201 MB in 25 files out)" */
export function describeFloor(ourSeconds: number, f: Pick<FloorResult, "readSeconds" | "writeSeconds" | "seconds" | "inputBytes" | "outputBytes" | "files">): string {
  return `${(ourSeconds / f.seconds).toFixed(2)}× the floor (read ${f.readSeconds.toFixed(3)} s + write ${f.writeSeconds.toFixed(3)} s: ` +
    `${(f.inputBytes / 1e6).toFixed(0)} MB in, ${(f.outputBytes / 1e6).toFixed(0)} MB in ${f.files} file${f.files === 1 ? "" : "s"} out, fsync each)`;
}
