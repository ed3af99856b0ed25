// Faults outside the input: a worker that dies, a full disk, an output that would overwrite an input.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, skipBecause, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
const isRoot = process.getuid?.() === 0;
const digest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

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

  it("an output never overwrites an input: output folder = input folder, with an .arrow input", () => {
    const dir = tmp();
    copyFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord"), join(dir, "x.tfrecord"));
    // a TFRecord given by name whose name is what x.tfrecord's output would be; skip mode, so that
    // nothing about the input's contents stops the run before the outputs are written
    copyFileSync(join(FIXTURES, "scone/heatmaps_0000.tfrecord"), join(dir, "x.arrow"));
    const before = digest(join(dir, "x.arrow"));
    const r = run(["convert", join(dir, "x.tfrecord"), join(dir, "x.arrow"), "-o", dir, "--on-error", "skip"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`output x.arrow of ${join(dir, "x.tfrecord")} would replace the input ${join(dir, "x.arrow")}`);
    expect(digest(join(dir, "x.arrow"))).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(["x.arrow", "x.tfrecord"]);
  });
});
