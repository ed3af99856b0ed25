// Output files gather small writes into one buffer: the file must still be every chunk in order,
// `bytes` the offset of the next one at every step (Parquet records its page offsets from it), and
// a chunk's buffer reusable as soon as write() returns.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AtomicFile } from "../src/sinks/atomic.ts";
import { tmp } from "./helpers.ts";

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("AtomicFile", () => {
  it("small and large chunks in order, offsets exact, buffers reusable at once", () => {
    const p = join(dir, "out.bin");
    const f = new AtomicFile(p);
    const parts: Buffer[] = [];
    let total = 0;
    const reused = new Uint8Array(300);
    let seed = 1;
    for (const n of [5, 300, 70_000, 0, 64 << 10, (64 << 10) - 1, 1, 200_000, 300, 300]) {
      const chunk = n === 300 ? reused : new Uint8Array(n);
      for (let i = 0; i < n; i++) chunk[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      expect(f.bytes).toBe(total);
      f.write(chunk);
      parts.push(Buffer.from(chunk));
      total += n;
      chunk.fill(0); // the caller reuses its buffer
    }
    expect(existsSync(p)).toBe(false);
    f.commit();
    const got = readFileSync(p);
    expect(got.length).toBe(total);
    expect(Buffer.compare(got, Buffer.concat(parts))).toBe(0);
    expect(readdirSync(dir)).toEqual(["out.bin"]);
  });

  it("abort leaves nothing, gathered bytes included", () => {
    const p = join(dir, "gone.bin");
    const f = new AtomicFile(p);
    f.write(new Uint8Array(10));
    f.abort();
    expect(existsSync(p)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes("gone"))).toEqual([]);
  });
});
