// Arrow outputs of NPZ batches are written behind: each window's batch goes to libuv's thread pool
// while the next is read and computed (two windows' buffers alternate). The file must be the bytes
// that writing in the calling thread gives, for one window or many, float32 or float64, stored or
// deflate; a write that fails while in flight must surface as an io error naming the output; and an
// output aborted with writes in flight must leave neither its final name nor its temporary file.
// A worker starts its next batch while the previous one drains (two tasks, two wasm instances in
// one thread): the outputs must still be those of converting in the calling thread.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ArrowsmithError } from "../src/errors.ts";
import { generateClusters } from "../src/generate-clusters.ts";
import { FILE_DEFAULTS } from "../src/pipeline/convert-file.ts";
import { convert } from "../src/pipeline/convert.ts";
import { work } from "../src/pipeline/worker.ts";
import { readNpzFile, readNpzFileBehind, type NpzReadOptions } from "../src/pipeline/npz-task.ts";
import { AtomicFile } from "../src/sinks/atomic.ts";
import { IpcSink } from "../src/sinks/ipc.ts";
import { kernels } from "../src/wasm.ts";
import { tmp } from "./helpers.ts";

// node:fs as it is, except that `write` (the pool's write, used only by write-behind) can be made
// to fail from its n-th call on
const faults = vi.hoisted(() => ({ failFrom: Infinity, calls: 0, delayMs: 0 }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const write = (...a: unknown[]) => {
    if (++faults.calls >= faults.failFrom) {
      const cb = a[a.length - 1] as (e: Error | null, n: number) => void;
      const e = Object.assign(new Error("EIO: i/o error, write"), { code: "EIO", errno: -5 });
      setImmediate(() => cb(e, 0));
      return;
    }
    if (faults.delayMs) return void setTimeout(() => (fs.write as (...x: unknown[]) => void)(...a), faults.delayMs);
    return (fs.write as (...x: unknown[]) => void)(...a);
  };
  return { ...fs, default: { ...fs, write }, write };
});

const dir = tmp();
const stored = join(dir, "stored"), deflate = join(dir, "deflate");
let batches: string[] = [];
beforeAll(() => {
  batches = generateClusters(stored, { files: 3, events: 700, seed: 5 });
  generateClusters(deflate, { files: 1, events: 300, seed: 6, compressed: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// onDraining: as in a worker (write-behind is for tasks whose worker may start the next meanwhile)
const OPTS: NpzReadOptions = { kind: "auto", metadataLayout: "auto", precision: "f32", verify: true, report: true, onDraining: () => {} };

async function both(input: string, o: Partial<NpzReadOptions>, name: string) {
  const k = kernels();
  const out = join(dir, "out");
  rmSync(out, { recursive: true, force: true });
  const fs = await import("node:fs");
  fs.mkdirSync(out, { recursive: true });
  const one = readNpzFile(k, input, { ...OPTS, ...o }, (s) => new IpcSink(join(out, `${name}-sync.arrow`), s, false));
  one.sink.finish();
  const two = await readNpzFileBehind(k, input, { ...OPTS, ...o }, (s) => new IpcSink(join(out, `${name}-behind.arrow`), s, false));
  await two.sink.drain?.();
  two.sink.finish();
  expect(two.rows).toBe(one.rows);
  expect(two.stats).toEqual(one.stats);
  return [readFileSync(join(out, `${name}-sync.arrow`)), readFileSync(join(out, `${name}-behind.arrow`))];
}

describe("write-behind of Arrow outputs", () => {
  for (const windowBytes of [undefined, 1 << 20, 100_003, 8192]) {
    it(`window ${windowBytes ?? "default"}: the bytes of writing in the calling thread`, async () => {
      const [a, b] = await both(batches[0], { windowBytes }, "w");
      expect(a.length).toBeGreaterThan(700 * 128 * 16 * 4);
      expect(Buffer.compare(a, b)).toBe(0);
    });
  }

  it("float64 images, and a deflate batch: the same bytes", async () => {
    const [a, b] = await both(batches[1], { precision: "f64", windowBytes: 1 << 20 }, "f64");
    expect(Buffer.compare(a, b)).toBe(0);
    const input = join(deflate, readdirSync(deflate)[0]);
    const [c, d] = await both(input, { windowBytes: 300_000 }, "deflate");
    expect(Buffer.compare(c, d)).toBe(0);
  });

  it("a worker overlapping a batch with the previous one's writes: the bytes of one batch at a time", async () => {
    const many = join(dir, "many");
    const files = generateClusters(many, { files: 4, events: 300, seed: 8 });
    const outs = [join(dir, "overlapped"), join(dir, "inthread")];
    await convert([many], { ...FILE_DEFAULTS, output: outs[1], inThread: true });
    // what a worker does: the next task starts when the previous one says it drains; its writes
    // are held on the pool long enough for the next task to read, check and compute meanwhile
    const fs = await import("node:fs");
    fs.mkdirSync(outs[0], { recursive: true });
    faults.delayMs = 30;
    try {
      const replies: Promise<unknown>[] = [];
      const start = (i: number) => {
        const task = { input: files[i], outName: basename(files[i]).replace(".npz", ".arrow"), kind: "clusters" as const, container: "npz" as const };
        replies.push(work({ task, outDir: outs[0], opts: FILE_DEFAULTS }, () => { if (i + 1 < files.length) start(i + 1); }));
      };
      start(0);
      for (let i = 0; i < replies.length; i++) expect(await replies[i]).toMatchObject({ ok: true });
      expect(replies.length).toBe(files.length);
    } finally {
      faults.delayMs = 0;
    }
    const names = readdirSync(outs[1]).filter((n) => n.endsWith(".arrow")).sort();
    expect(names.length).toBe(4);
    for (const n of names) expect(Buffer.compare(readFileSync(join(outs[0], n)), readFileSync(join(outs[1], n))), n).toBe(0);
  });

  it("a write failing while in flight: an io error naming the output, no file left", async () => {
    const k = kernels();
    const out = tmp();
    try {
      faults.calls = 0;
      faults.failFrom = 3;
      const final = join(out, "clusters.arrow");
      const err = await readNpzFileBehind(k, batches[2], { ...OPTS, windowBytes: 1 << 20 }, (s) => new IpcSink(final, s, false))
        .then(() => undefined, (e) => e);
      expect(faults.calls).toBeGreaterThanOrEqual(3);
      expect(err).toBeInstanceOf(ArrowsmithError);
      expect((err as ArrowsmithError).code).toBe("io");
      expect((err as ArrowsmithError).file).toBe(final);
      expect((err as ArrowsmithError).message).toContain("EIO");
      expect(readdirSync(out)).toEqual([]);
    } finally {
      faults.failFrom = Infinity;
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("aborted with writes in flight: neither the final name nor the temporary file stays", async () => {
    const out = tmp();
    try {
      const final = join(out, "big.bin");
      const f = new AtomicFile(final);
      f.behind();
      const big = new Uint8Array(32 << 20).fill(7);
      for (let i = 0; i < 4; i++) f.write(big);
      const pending = f.settled(); // all of it: still on the pool
      expect(pending).toBeInstanceOf(Promise);
      f.abort();
      await expect(pending).rejects.toThrow(/aborted/);
      expect(existsSync(final)).toBe(false);
      expect(readdirSync(out)).toEqual([]);
      // the descriptor is closed once the write on the pool returns; nothing reappears after
      await new Promise((r) => setTimeout(r, 200));
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("AtomicFile: chunks on the pool then in the calling thread land at their offsets", async () => {
    const out = tmp();
    try {
      const p = join(out, "mixed.bin");
      const f = new AtomicFile(p);
      const parts: Buffer[] = [];
      let seed = 3;
      const chunk = (n: number) => {
        const c = new Uint8Array(n);
        for (let i = 0; i < n; i++) c[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
        parts.push(Buffer.from(c));
        return c;
      };
      f.write(chunk(10)); // gathered before write-behind starts
      f.behind();
      for (const n of [70_000, 5, 300, 200_000, 1, 65_536]) f.write(chunk(n));
      expect(f.bytes).toBe(parts.reduce((a, b) => a + b.length, 0));
      await f.settled();
      for (const n of [7, 100_000, 3]) f.write(chunk(n)); // a footer, written in this thread
      f.commit();
      expect(Buffer.compare(readFileSync(p), Buffer.concat(parts))).toBe(0);
      expect(readdirSync(out)).toEqual(["mixed.bin"]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
