// Inputs: files, folders (--recursive), globs; anything that is not a regular file refused by name
// before an open that could block; odd folder entries skipped with a warning naming them.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expandInputs } from "../src/pipeline/inputs.ts";
import { FIXTURES, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
// a deadline: a FIFO that blocks an open would otherwise hang the test run
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
};
const H1 = join(FIXTURES, "scone/heatmaps_0001.tfrecord");
const noTrace = /internal error|\n\s+at /;

function folderWithOddEntries(): string {
  const dir = tmp();
  copyFileSync(H1, join(dir, "good.tfrecord"));
  execFileSync("mkfifo", [join(dir, "pipe.tfrecord")]);
  symlinkSync(join(dir, "nowhere.tfrecord"), join(dir, "dangling.tfrecord"));
  symlinkSync(join(dir, "loop.tfrecord"), join(dir, "loop.tfrecord"));
  mkdirSync(join(dir, "folder.tfrecord"));
  return dir;
}

describe("inputs that are not regular files", () => {
  it("a FIFO is refused by name by convert, verify, inspect and stats, without blocking", () => {
    const dir = tmp();
    const fifo = join(dir, "x.tfrecord");
    execFileSync("mkfifo", [fifo]);
    for (const args of [["convert", fifo, "-o", join(dir, "out")], ["verify", fifo], ["inspect", fifo], ["stats", fifo]]) {
      const r = run(...args);
      expect(r.signal, args[0]).toBeNull();
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr, args[0]).toContain(`${fifo} is a FIFO (named pipe), not a regular file`);
      expect(r.stderr).not.toMatch(noTrace);
    }
  });

  it("a device, a socket and a folder are refused by name", async () => {
    const dir = tmp();
    const sock = join(dir, "s.tfrecord");
    const server = createServer().listen(sock);
    await new Promise((r) => server.once("listening", r));
    try {
      const cases: [string[], string][] = [
        [["convert", "/dev/zero", "-o", join(dir, "o1")], "/dev/zero is a device, not a regular file"],
        [["verify", sock], `${sock} is a socket, not a regular file`],
        [["inspect", dir], `${dir} is a folder, not a regular file`],
        [["inspect", "/dev/null"], "/dev/null is a device"],
      ];
      for (const [args, message] of cases) {
        const r = await new Promise<ReturnType<typeof run>>((res) => setImmediate(() => res(run(...args))));
        expect(r.code, args.join(" ")).toBe(2);
        expect(r.stderr, args.join(" ")).toContain(message);
        expect(r.stderr).not.toMatch(noTrace);
      }
    } finally {
      server.close();
    }
  });

  it("a folder scan skips FIFOs, dangling links, link loops and folders, naming each", () => {
    const dir = folderWithOddEntries();
    const r = run("convert", dir, "-o", join(dir, "out"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`skipped ${join(dir, "pipe.tfrecord")}: a FIFO (named pipe), not a regular file`);
    expect(r.stderr).toContain(`skipped ${join(dir, "dangling.tfrecord")}: a symbolic link to nothing (dangling)`);
    expect(r.stderr).toContain(`skipped ${join(dir, "loop.tfrecord")}: a symbolic link loop`);
    expect(r.stderr).not.toMatch(noTrace);
    expect(readdirSync(join(dir, "out")).filter((n) => !n.startsWith("_report.")).sort()).toEqual(["_index.parquet", "_manifest.json", "good.arrow"]);
    for (const cmd of ["verify", "stats"]) {
      const v = run(cmd, dir);
      expect(v.code, cmd + v.stderr).toBe(0);
      expect(v.stderr).toContain("a symbolic link loop");
    }
  });

  it("a dangling link or a loop given by name is a usage error naming it", () => {
    const dir = folderWithOddEntries();
    for (const [name, what] of [["dangling.tfrecord", "a symbolic link to nothing"], ["loop.tfrecord", "a symbolic link loop"]]) {
      const r = run("convert", join(dir, name), "-o", join(dir, "out"));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`input ${join(dir, name)} is ${what}`);
    }
  });
});

describe("globs and --recursive", () => {
  function tree(): string {
    const dir = tmp();
    for (const [sub, name] of [["a", "x0.tfrecord"], ["a", "y0.tfrecord"], ["b", "x1.tfrecord.gz"], ["c", "x2.tfrecord"], ["b/deep", "x3.tfrecord"]]) {
      mkdirSync(join(dir, sub), { recursive: true });
      writeFileSync(join(dir, sub, name), "");
    }
    mkdirSync(join(dir, "a", "x9.tfrecord")); // a folder that a glob matches by name
    return dir;
  }
  const rel = (dir: string, files: string[]) => files.map((f) => f.slice(dir.length + 1));

  it.each([
    ["*/x*.tfrecord*", ["a/x0.tfrecord", "b/x1.tfrecord.gz", "c/x2.tfrecord"]],
    ["**/x*.tfrecord", ["a/x0.tfrecord", "b/deep/x3.tfrecord", "c/x2.tfrecord"]],
    ["*/x[01].tfrecord*", ["a/x0.tfrecord", "b/x1.tfrecord.gz"]],
    ["{a,c}/*.tfrecord", ["a/x0.tfrecord", "a/y0.tfrecord", "c/x2.tfrecord"]],
  ])("%s", (pattern, want) => {
    const dir = tree();
    expect(rel(dir, expandInputs([join(dir, pattern)]))).toEqual(want);
  });

  it("a glob that matches a folder does not take it for a file", () => {
    const dir = tree();
    expect(rel(dir, expandInputs([join(dir, "a/x*.tfrecord")]))).toEqual(["a/x0.tfrecord"]);
  });

  it("folders are searched recursively only with --recursive", () => {
    const dir = tree();
    expect(expandInputs([dir])).toEqual([]);
    expect(rel(dir, expandInputs([dir], { recursive: true }))).toEqual(["a/x0.tfrecord", "a/y0.tfrecord", "b/deep/x3.tfrecord", "b/x1.tfrecord.gz", "c/x2.tfrecord"]);
    const r = run("convert", join(dir, "a"), "--recursive", "-o", join(dir, "out"), "--on-error", "skip", "--json");
    expect(JSON.parse(r.stdout).files).toBe(2);
  });

  it("a link back to a folder above does not loop", () => {
    const dir = tree();
    symlinkSync(dir, join(dir, "b", "up"));
    const warnings: string[] = [];
    expect(expandInputs([dir], { recursive: true, onWarning: (w) => warnings.push(w) })).toHaveLength(5);
    expect(warnings.join("\n")).toContain("a folder already searched");
  });
});

describe("generate", () => {
  it("does not replace existing files unless --overwrite", () => {
    const dir = tmp();
    expect(run("generate", "scone", "-o", dir, "--files", "1", "--events", "3").code).toBe(0);
    const first = readFileSync(join(dir, "heatmaps_0000.tfrecord"));
    const again = run("generate", "scone", "-o", dir, "--files", "2", "--events", "5", "--seed", "9");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("1 of the files to generate exist already");
    expect(readdirSync(dir)).toEqual(["heatmaps_0000.tfrecord"]);
    expect(readFileSync(join(dir, "heatmaps_0000.tfrecord"))).toEqual(first);
    expect(run("generate", "scone", "-o", dir, "--files", "2", "--events", "5", "--seed", "9", "--overwrite").code).toBe(0);
    expect(readFileSync(join(dir, "heatmaps_0000.tfrecord"))).not.toEqual(first);
    const c = run("generate", "clusters", "-o", dir, "--files", "1", "--events", "3");
    expect(c.code).toBe(0);
    expect(run("generate", "clusters", "-o", dir, "--files", "1", "--events", "3").code).toBe(2);
  });
});
