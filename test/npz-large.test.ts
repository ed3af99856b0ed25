// NPZ members far larger than what is read whole (a 4 GB images member, four 1 GiB generic arrays,
// a few MB on disk each): read in windows of rows with bounded memory, the peak RSS of the real
// binary measured by /usr/bin/time; and what truly cannot be done (one image over the window limit,
// a 315 MB Fortran-order member) is one clean error for that input, after which --on-error skip goes
// on with the next input.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FIXTURES, tmp } from "./helpers.ts";
import { npyHeader, writeLargeNpz } from "./npz-writer.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const TIME = "/usr/bin/time";
const GB = 1 << 30;

/** Runs the CLI under /usr/bin/time; returns the exit code, output and peak RSS in bytes. */
function measured(...args: string[]) {
  const r = spawnSync(TIME, ["-f", "maxrss_kb=%M", process.execPath, CLI, ...args], { encoding: "utf8" });
  const kb = Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1]);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, rss: kb * 1024 };
}

/** A cluster batch of `chunks` × 128 clusters of 128 × 16 float32 (one pixel (3, 5) = 7 each), deflated. */
function clusterBatch(path: string, chunks: number, o: { fortran?: boolean } = {}): number {
  const per = 128, h = 128, w = 16;
  const images = new Float32Array(per * h * w);
  for (let i = 0; i < per; i++) images[i * h * w + 3 * w + 5] = 7;
  const meta = new Float32Array(per * 12);
  // layout 12: pos_x 5, nu_E unknown, plane U (0), ES (col 11): 12alt would read col 2 (5) as a flag, so only 12 fits
  for (let i = 0; i < per; i++) { meta[i * 12 + 2] = 5; meta[i * 12 + 8] = -1; meta[i * 12 + 11] = 1; }
  const n = per * chunks;
  writeLargeNpz(path, [
    { name: "images.npy", header: npyHeader("<f4", [n, h, w], o.fortran), chunk: new Uint8Array(images.buffer), repeat: chunks, method: "deflate" },
    { name: "metadata.npy", header: npyHeader("<f4", [n, 12]), chunk: new Uint8Array(meta.buffer), repeat: chunks, method: "stored" },
  ]);
  return n;
}

const hasTime = existsSync(TIME);

describe.runIf(hasTime)("NPZ members larger than memory", () => {
  let dir: string;
  beforeAll(() => { dir = tmp(); });

  it("a 4 GB images member (5 MB on disk) verifies with a peak RSS under 1 GB", () => {
    const file = join(dir, "clusters_planeU_batch0000.npz");
    const n = clusterBatch(file, 3906);
    expect(n * 128 * 16 * 4).toBeGreaterThan(4e9);
    const r = measured("verify", file, "--json");
    expect(r.stderr).not.toMatch(/internal error|RangeError/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ ok: true, records: n });
    expect(r.rss).toBeLessThan(GB);
  }, 300_000);

  it("a 1.2 GB images member converts in windows, every row right, with a peak RSS under 1 GB", () => {
    const file = join(dir, "clusters_planeU_batch0001.npz");
    const n = clusterBatch(file, 1200);
    const out = join(dir, "o1");
    const r = measured("convert", file, "-o", out, "--format", "csv", "--threads", "1", "--quiet");
    expect(r.stderr).not.toMatch(/internal error|RangeError/);
    expect(r.code).toBe(0);
    const lines = readFileSync(join(out, "clusters_planeU_batch0001.csv"), "utf8").trimEnd().split("\n");
    expect(lines.length).toBe(n + 1);
    const header = lines[0].split(",");
    const at = (name: string) => header.indexOf(name);
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].split(",");
      // the metrics of each window's images, and the metadata of the same row
      if (c[at("pixel_sum")] !== "7" || c[at("nonzero_pixels")] !== "1" || c[at("time_first")] !== "3" || c[at("channel_last")] !== "5"
          || c[at("true_pos_x")] !== "5" || c[at("interaction")] !== "ES" || c[at("row")] !== String(i - 1)) {
        throw new Error(`row ${i - 1}: ${lines[i]}`);
      }
    }
    expect(r.rss).toBeLessThan(GB);
  }, 300_000);

  it("four 1 GiB generic arrays (17 MB on disk) verify with a peak RSS under 1 GB", () => {
    const file = join(dir, "wide.npz");
    const row = new Float32Array(65536);
    row[1] = 1.5;
    writeLargeNpz(file, ["a", "b", "c", "d"].map((name) => ({
      name: `${name}.npy`, header: npyHeader("<f4", [4096, 65536]), chunk: new Uint8Array(row.buffer), repeat: 4096, method: "deflate" as const,
    })));
    const r = measured("verify", file, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ ok: true, records: 4096 });
    expect(r.rss).toBeLessThan(GB);
  }, 300_000);

  it("what cannot be read in windows is one clean error for that input; --on-error skip goes on with the next", () => {
    const huge = join(dir, "clusters_planeU_batch0100.npz");
    // two images of 8200 × 8192 float32: one image (256.25 MiB) is over the window limit
    const meta = Float32Array.of(0, 0, 5, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 5, 0, 0, 0, 0, 0, -1, 0, 0, 1);
    writeLargeNpz(huge, [
      { name: "images.npy", header: npyHeader("<f4", [2, 8200, 8192]), chunk: new Uint8Array(65536), repeat: 8200, method: "deflate" },
      { name: "metadata.npy", header: npyHeader("<f4", [2, 12]), chunk: new Uint8Array(meta.buffer), repeat: 1, method: "stored" },
    ]);
    const fortran = join(dir, "clusters_planeU_batch0101.npz");
    clusterBatch(fortran, 300, { fortran: true }); // 315 MB with no contiguous rows: over what is read whole
    const good = join(FIXTURES, "clusters/dataset/clusters_planeU_batch0001.npz");
    for (const file of [huge, fortran]) {
      const r = measured("convert", file, "-o", join(dir, "fail"), "--threads", "1");
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(file);
      expect(r.stderr).not.toMatch(/internal error|RangeError|\n\s+at /);
      expect(r.rss).toBeLessThan(GB);
    }
    const out = join(dir, "skip");
    const r = measured("convert", huge, fortran, good, "-o", out, "--on-error", "skip", "--threads", "1", "--json");
    expect(r.code).toBe(3);
    expect(r.rss).toBeLessThan(GB);
    expect(readdirSync(out).filter((f) => !f.startsWith("_"))).toEqual(["clusters_planeU_batch0001.arrow"]);
    const errors = readFileSync(join(out, "_errors.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(errors.map((e) => [e.file, e.code, e.skipped])).toEqual([[huge, "too_large", "file"], [fortran, "too_large", "file"]]);
    expect(errors[0].message).toMatch(/one cluster image of 8200 × 8192/);
    expect(errors[1].message).toMatch(/Fortran order/);
  }, 300_000);
});
