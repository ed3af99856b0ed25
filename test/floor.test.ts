// The benchmarks' I/O floor: it reads every input byte and writes the given output sizes, each as
// a file committed like ours (temporary name, fsync, rename), and leaves nothing behind.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeFloor, measureFloor, outputSizes } from "../src/io/floor.js";

const dir = mkdtempSync(join(tmpdir(), "arrowsmith-floor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("I/O floor", () => {
  it("reads the inputs whole and writes files of the output sizes, then removes them", () => {
    const a = join(dir, "a.bin"), b = join(dir, "b.bin");
    writeFileSync(a, new Uint8Array(3 << 20).fill(1));
    writeFileSync(b, new Uint8Array(12345));
    const out = join(dir, "floor");
    const f = measureFloor({ inputs: [a, b], outputs: [0, 7, (1 << 20) + 1], dir: out });
    expect(f.inputBytes).toBe((3 << 20) + 12345);
    expect(f.outputBytes).toBe((1 << 20) + 8);
    expect(f.files).toBe(3);
    expect(f.seconds).toBeCloseTo(f.readSeconds + f.writeSeconds, 9);
    expect(existsSync(out)).toBe(false);
    expect(describeFloor(2 * f.seconds, f)).toMatch(/^2\.00× the floor \(read [\d.]+ s \+ write [\d.]+ s: 3 MB in, 1 MB in 3 files out, fsync each\)$/);
  });

  it("outputSizes lists every file under a folder, subfolders included, in path order", () => {
    const o = join(dir, "run");
    mkdirSync(join(o, "figs"), { recursive: true });
    writeFileSync(join(o, "b.arrow"), new Uint8Array(20));
    writeFileSync(join(o, "a.json"), "{}");
    writeFileSync(join(o, "figs", "x.png"), new Uint8Array(5));
    expect(outputSizes(o)).toEqual([2, 20, 5]);
    expect(readdirSync(o)).toHaveLength(3);
  });
});
