// Faults outside the input: a worker that dies, a full disk, an output that would overwrite an input.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, skipBecause, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
const isRoot = process.getuid?.() === 0;

describe("faults", () => {
  it("a worker that dies is reported with its task, and the run ends cleanly", () => {
    const out = tmp();
    const r = run(["convert", join(FIXTURES, "scone"), "-o", out, "--threads", "2"], { ARROWSMITH_TEST_KILL_WORKER: "heatmaps_0001" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/worker converting \S*heatmaps_0001\.tfrecord died/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(readdirSync(out).filter((n) => n.includes(".tmp-"))).toEqual([]);
    expect(existsSync(join(out, "_manifest.json"))).toBe(false);
  });

  it("a full disk gives a clear error and leaves no temporary file (tmpfs of 1 MiB; needs root)", (ctx) => {
    // a skip says why in the test output rather than vanishing from it
    if (!isRoot) skipBecause(ctx, "mounting the 1 MiB tmpfs needs root");
    const dir = tmp();
    mkdirSync(join(dir, "small"));
    const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", join(dir, "small")], { encoding: "utf8" });
    if (mount.status !== 0) skipBecause(ctx, `mount -t tmpfs failed (${(mount.stderr || mount.error?.message || "").trim()})`);
    try {
      const out = join(dir, "small", "out");
      const r = run(["convert", join(FIXTURES, "scone"), "-o", out, "--threads", "1", "--precision", "f64"]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("no space left on device");
      expect(r.stderr).toContain("the disk is full");
      expect(readdirSync(out).filter((n) => n.includes(".tmp-"))).toEqual([]);
    } finally {
      execFileSync("umount", [join(dir, "small")]);
    }
  });

  it("an output never overwrites an input", () => {
    const dir = tmp();
    // a file named like an output, given as an input in the output folder
    copyFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord"), join(dir, "x.arrow.tfrecord"));
    const r = run(["convert", join(dir, "x.arrow.tfrecord"), "-o", dir]);
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, "x.arrow.tfrecord"))).toBe(true);
  });
});
