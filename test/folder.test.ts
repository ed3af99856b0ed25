// The output folder: its lock, temporaries only ever removed by their owner's lock, output names
// checked for the whole plan before anything is written, outputs of earlier runs never replaced
// unasked, and manifests that name files outside the folder not trusted.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ArrowsmithError } from "../src/errors.ts";
import { FolderLock, HOST, LOCK, processStartMs, temporaryName, temporaryOwner } from "../src/io/folder-lock.ts";
import { mergeShards } from "../src/scale/merge.ts";
import { dropIntents, JOURNAL } from "../src/pipeline/manifest.ts";
import { convert } from "../src/pipeline/convert.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const SCONE = join(FIXTURES, "scone");
const H0 = join(SCONE, "heatmaps_0000.tfrecord");
const H1 = join(SCONE, "heatmaps_0001.tfrecord");
const digest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const quiet = { threads: 1 };
// the folder's files, less the dataset report (_report.json, _report.html) that every run writes
const listing = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith("_report.")).sort();

async function rejects(p: Promise<unknown>): Promise<ArrowsmithError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ArrowsmithError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

/** The pid of a process that has exited (not alive any more on this host). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

function lockFile(dir: string, info: Record<string, unknown>, name = LOCK): void {
  writeFileSync(join(dir, name), JSON.stringify({ tool: "arrowsmith", run: "r", token: "t0", started: "2026-01-02T03:04:05.000Z", ...info }));
}

describe("temporary files", () => {
  it("are named with pid and host, and only that exact pattern counts as ours", () => {
    const name = temporaryName("x.arrow");
    expect(temporaryOwner(name)).toEqual({ pid: process.pid, host: HOST });
    for (const other of [".thesis.tex.tmp-1", ".backup.tmp-notes", ".x.arrow.tmp-12-abcdef", `.x.tmp-${process.pid}@${HOST}.zz`, `x.tmp-1@h.0123abcd`]) {
      expect(temporaryOwner(other), other).toBeUndefined();
    }
  });

  it("convert leaves the user's hidden files and other hosts' temporaries alone", async () => {
    const out = tmp();
    const mine = [".thesis.tex.tmp-1", ".backup.tmp-notes", `.heatmaps_0001.arrow.tmp-${deadPid()}-ab12cd`, `.heatmaps_0001.arrow.tmp-${deadPid()}@other-node.0123abcd`];
    for (const n of mine) writeFileSync(join(out, n), "keep me");
    await convert([H1], { output: out, ...quiet });
    for (const n of mine) expect(readFileSync(join(out, n), "utf8"), n).toBe("keep me");
    expect(existsSync(join(out, LOCK))).toBe(false);
  });

  it("a stale lock of a dead process on this host is taken over, with its temporaries (and only those)", async () => {
    const out = tmp();
    const dead = deadPid();
    lockFile(out, { pid: dead, host: HOST });
    const theirs = `.heatmaps_0001.arrow.tmp-${dead}@${HOST}.0123abcd`;
    const foreign = `.heatmaps_0001.arrow.tmp-${dead}@not-${HOST}.0123abcd`;
    writeFileSync(join(out, theirs), "half");
    writeFileSync(join(out, foreign), "elsewhere");
    writeFileSync(join(out, ".notes.tmp-1"), "user");
    const s = await convert([H1], { output: out, ...quiet });
    expect(s.manifest.totals.rows).toBe(4);
    expect(listing(out)).toEqual([".notes.tmp-1", foreign, "_index.parquet", "_manifest.json", "heatmaps_0001.arrow"].sort());
  });
});

/** Runs `fn` with the pid of a live process of this host (started before `fn` runs), then ends it and waits until it is gone. */
async function withLiveProcess(fn: (pid: number) => unknown): Promise<void> {
  const p = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
  try {
    await new Promise((r) => p.once("spawn", r));
    await fn(p.pid!);
  } finally {
    const gone = p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once("exit", r));
    p.kill();
    await gone;
  }
}

describe("the folder lock", () => {
  it("a second run fails at once, naming the holder's pid, host and start time", async () => {
    const out = tmp();
    // a live process of this host holds the lock
    await withLiveProcess((pid) => {
      // taken after its process started, as every real lock is
      const started = new Date(Date.now() + 1000).toISOString();
      lockFile(out, { pid, host: HOST, started });
      const r = run("convert", H1, "-o", out);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`another conversion is writing into this folder: a run (pid ${pid} on ${HOST}, started ${started})`);
      expect(readdirSync(out)).toEqual([LOCK]);
    });
  });

  it("a lock whose pid now belongs to a process started after it (the pid was reused) is stale and taken over", async () => {
    const out = tmp();
    await withLiveProcess(async (pid) => {
      expect(processStartMs(pid)).toBeGreaterThan(Date.now() - 60_000);
      // a lock taken an hour ago by a process that has died since; its pid is now this live one's
      lockFile(out, { pid, host: HOST, started: new Date(Date.now() - 3_600_000).toISOString() });
      const s = await convert([H1], { output: out, ...quiet });
      expect(s.manifest.totals.rows).toBe(4);
      expect(existsSync(join(out, LOCK))).toBe(false);
    });
  });

  it("merge takes the folder's lock: refused while a shard is writing, and leaves no lock behind", async () => {
    const out = tmp();
    await withLiveProcess(async (pid) => {
      lockFile(out, { pid, host: HOST, started: new Date(Date.now() + 1000).toISOString(), shard: { index: 1, count: 2 } }, `${LOCK}.shard-1-of-2`);
      const e = await rejects(mergeShards(out));
      expect(e.message).toContain(`another conversion is writing into this folder: shard 2/2 (pid ${pid} on ${HOST}`);
      expect(readdirSync(out)).toEqual([`${LOCK}.shard-1-of-2`]);
      const r = run("merge", out);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("another conversion is writing into this folder: shard 2/2");
    });
    // the shard's process is gone: its lock is stale, merge goes on (to what it finds: no manifests)
    const e = await rejects(mergeShards(out));
    expect(e.message).toContain("no shard manifests");
    expect(readdirSync(out)).toEqual([]);
  });

  it("a lock of another host is never taken over (its pid may be alive there)", async () => {
    const out = tmp();
    lockFile(out, { pid: deadPid(), host: `not-${hostname()}` });
    const e = await rejects(convert([H1], { output: out, ...quiet }));
    expect(e.message).toContain(`on not-${hostname()}`);
    expect(e.message).toContain(`remove ${join(out, LOCK)}`);
  });

  it("two runs at once into one folder: exactly one writes", async () => {
    const out = tmp();
    const [a, b] = await Promise.allSettled([convert([SCONE], { output: out, ...quiet }), convert([SCONE], { output: out, ...quiet })]);
    expect([a.status, b.status].sort()).toEqual(["fulfilled", "rejected"]);
    const err = (a.status === "rejected" ? a.reason : (b as PromiseRejectedResult).reason) as Error;
    expect(err.message).toContain(`pid ${process.pid} on ${HOST}`);
  });

  it("shards of one run share the folder; a shard of another run, or a whole-folder run, is refused", () => {
    const out = tmp();
    const s0 = FolderLock.acquire(out, { run: "A", shard: { index: 0, count: 2 } });
    const s1 = FolderLock.acquire(out, { run: "A", shard: { index: 1, count: 2 } });
    expect(readdirSync(out).sort()).toEqual([`${LOCK}.shard-0-of-2`, `${LOCK}.shard-1-of-2`]);
    s1.release();
    expect(() => FolderLock.acquire(out, { run: "B", shard: { index: 1, count: 2 } })).toThrow(/a shard of a different run/);
    expect(() => FolderLock.acquire(out, { run: "A", shard: { index: 0, count: 2 } })).toThrow(/another conversion is writing into this folder: shard 1\/2/);
    expect(() => FolderLock.acquire(out, { run: "A" })).toThrow(/shard 1\/2 \(pid/);
    s0.release();
    expect(readdirSync(out)).toEqual([]);
  });

  it("a shard writes only its own files, and holds only its own lock while it runs", async () => {
    const out = tmp();
    writeFileSync(join(out, "_errors.jsonl"), '{"other":"writer"}\n');
    let during: string[] = [];
    await convert([H0, H1], { output: out, shard: { index: 1, count: 2 }, onPlan: () => { during = readdirSync(out); }, ...quiet });
    expect(during).toContain(`${LOCK}.shard-1-of-2`);
    expect(during).not.toContain(LOCK);
    expect(readFileSync(join(out, "_errors.jsonl"), "utf8")).toBe('{"other":"writer"}\n');
    expect(readdirSync(out).filter((n) => n.startsWith("_") || n.startsWith(".")).sort()).toEqual(["_errors.jsonl", "_index.shard-1-of-2.parquet", "_manifest.shard-1-of-2.json"]);
  });
});

describe("the journal", () => {
  // intents are recognised by parsing each line, not by how the line starts: one written with other
  // spacing or another key first was kept before, and --resume then kept treating its file as owned
  it("after an error, its intent lines go whatever their spelling; entry lines stay as written", () => {
    const dir = tmp();
    const entry = JSON.stringify({ entry: { input: "/d/a.tfrecord", outputs: [{ file: "a.arrow", rows: 1, bytes: 9 }] }, problems: [{ message: '{"intent": quoted' }] });
    const intents = [
      JSON.stringify({ intent: { input: "/d/a.tfrecord", file: "a.arrow" } }),
      '{ "intent": { "input": "/d/b.tfrecord", "file": "b.arrow" } }',
      JSON.stringify({ note: 1, intent: { input: "/d/c.tfrecord", file: "c.arrow" } }),
    ];
    writeFileSync(join(dir, JOURNAL), [intents[0], entry, intents[1], "", intents[2], '{"entry":{"inp'].join("\n") + "\n");
    dropIntents(dir);
    expect(readFileSync(join(dir, JOURNAL), "utf8")).toBe(entry + "\n");
    writeFileSync(join(dir, JOURNAL), intents.join("\n") + "\n");
    dropIntents(dir);
    expect(existsSync(join(dir, JOURNAL))).toBe(false);
  });
});

describe("output names", () => {
  it("are checked for the whole plan, parts included, before anything is written", async () => {
    const dir = tmp();
    const out = join(dir, "out");
    copyFileSync(H0, join(dir, "X.tfrecord"));
    copyFileSync(join(SCONE, "legacy_0000.tfrecord"), join(dir, "X-part0001.tfrecord"));
    // 200 KB tasks cut X.tfrecord (553 KB) into X-part0000 and X-part0001; the other (184 KB) stays whole
    const e = await rejects(convert([dir], { output: out, taskBytes: 200_000, ...quiet }));
    expect(e.code).toBe("usage");
    expect(e.message).toMatch(/inputs \S+X-part0001\.tfrecord and \S+X\.tfrecord would both write X-part0001\.arrow|inputs \S+X\.tfrecord and \S+X-part0001\.tfrecord would both write X-part0001\.arrow/);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("earlier runs' outputs", () => {
  it("are not replaced without --resume or --overwrite; a file arrowsmith did not write neither", async () => {
    const out = tmp();
    await convert([H1], { output: out, ...quiet });
    const first = digest(join(out, "heatmaps_0001.arrow"));
    const again = run("convert", H1, "-o", out);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("heatmaps_0001.arrow was written by an earlier run");
    expect(again.stderr).toContain("--overwrite");
    expect(digest(join(out, "heatmaps_0001.arrow"))).toBe(first);

    const over = run("convert", H1, "-o", out, "--overwrite", "--precision", "f64");
    expect(over.code).toBe(0);
    expect(digest(join(out, "heatmaps_0001.arrow"))).not.toBe(first);

    const other = tmp();
    writeFileSync(join(other, "heatmaps_0001.arrow"), "my own notes");
    const r = run("convert", H1, "-o", other);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("heatmaps_0001.arrow exists and no manifest here lists it");
    expect(readFileSync(join(other, "heatmaps_0001.arrow"), "utf8")).toBe("my own notes");
  });

  it("a later run with other inputs keeps the earlier inputs in the manifest", async () => {
    const out = tmp();
    await convert([H0], { output: out, ...quiet });
    const s = await convert([H1], { output: out, ...quiet });
    expect(s.earlier).toEqual([H0]);
    const m = JSON.parse(readFileSync(join(out, "_manifest.json"), "utf8"));
    expect(m.inputs.map((e: { input: string }) => e.input).sort()).toEqual([H0, H1]);
    expect(m.totals.rows).toBe(10);
  });

  it("--resume does not trust output names outside the folder", async () => {
    const out = tmp();
    await convert([H1], { output: out, ...quiet });
    const mp = join(out, "_manifest.json");
    const m = JSON.parse(readFileSync(mp, "utf8"));
    const outside = join(out, "..", `${out.split("/").pop()}-outside`);
    writeFileSync(outside, readFileSync(join(out, "heatmaps_0001.arrow")));
    m.inputs[0].outputs[0].file = `../${outside.split("/").pop()}`;
    writeFileSync(mp, JSON.stringify(m));
    const warnings: string[] = [];
    const s = await convert([H1], { output: out, resume: true, overwrite: true, onWarning: (w) => warnings.push(w), ...quiet });
    expect(s.resumed).toEqual([]);
    expect(s.results).toHaveLength(1);
    expect(warnings.join("\n")).toContain("is not a plain file name inside the folder");
    expect(existsSync(outside)).toBe(true);
    rmSync(outside); // the test's own file, beside its temporary folder
  });

  it("--resume with another --format removes the old format's outputs (ours) and lists the new", async () => {
    const out = tmp();
    await convert([H0, H1], { output: out, ...quiet });
    const warnings: string[] = [];
    const s = await convert([H0, H1], { output: out, resume: true, format: "parquet", onWarning: (w) => warnings.push(w), ...quiet });
    expect(s.results).toHaveLength(2);
    expect(listing(out)).toEqual(["_index.parquet", "_manifest.json", "heatmaps_0000.parquet", "heatmaps_0001.parquet"]);
    expect(warnings.filter((w) => w.startsWith("removed heatmaps_000"))).toHaveLength(2);
  });

  it("another format without --resume or --overwrite is refused (the earlier outputs would be listed nowhere)", async () => {
    const out = tmp();
    await convert([H1], { output: out, ...quiet });
    const e = await rejects(convert([H1], { output: out, format: "csv", ...quiet }));
    expect(e.message).toContain("was converted into this folder by an earlier run (heatmaps_0001.arrow)");
    expect(listing(out)).toEqual(["_index.parquet", "_manifest.json", "heatmaps_0001.arrow"]);
  });
});

describe("outputs and links", () => {
  it("an output name that is a symbolic or hard link to an input is refused; the input is unchanged", async () => {
    for (const link of ["symbolic", "hard"] as const) {
      const dir = tmp();
      const input = join(dir, "in", "heatmaps_0001.tfrecord");
      mkdirSync(join(dir, "in"));
      mkdirSync(join(dir, "out"));
      copyFileSync(H1, input);
      const before = digest(input);
      if (link === "symbolic") symlinkSync(input, join(dir, "out", "heatmaps_0001.arrow"));
      else linkSync(input, join(dir, "out", "heatmaps_0001.arrow"));
      const r = run("convert", input, "-o", join(dir, "out"), "--overwrite");
      expect(r.code, link).toBe(2);
      expect(r.stderr, link).toContain(`would replace the input ${input} (a ${link} link to it)`);
      expect(digest(input)).toBe(before);
    }
  });

  it("an output folder that is a link to the input folder is seen through", async () => {
    const dir = tmp();
    mkdirSync(join(dir, "in"));
    copyFileSync(H1, join(dir, "in", "x.tfrecord"));
    copyFileSync(H0, join(dir, "in", "x.arrow"));
    symlinkSync(join(dir, "in"), join(dir, "out"));
    const before = digest(join(dir, "in", "x.arrow"));
    const e = await rejects(convert([join(dir, "in", "x.tfrecord"), join(dir, "in", "x.arrow")], { output: join(dir, "out"), onError: "skip", ...quiet }));
    expect(e.message).toContain("would replace the input");
    expect(digest(join(dir, "in", "x.arrow"))).toBe(before);
  });

  it("a link to an input in the same folder is converted once", async () => {
    const dir = tmp();
    copyFileSync(H1, join(dir, "a.tfrecord"));
    symlinkSync(join(dir, "a.tfrecord"), join(dir, "b.tfrecord"));
    linkSync(join(dir, "a.tfrecord"), join(dir, "c.tfrecord"));
    const warnings: string[] = [];
    const s = await convert([dir], { output: join(dir, "out"), onWarning: (w) => warnings.push(w), ...quiet });
    expect(s.manifest.totals.rows).toBe(4);
    expect(s.results.map((r) => r.input)).toEqual([join(dir, "a.tfrecord")]);
    expect(warnings.filter((w) => w.includes("the same file as"))).toHaveLength(2);
    expect(readArrow(join(dir, "out", "a.arrow")).numRows).toBe(4);
  });
});

describe("-o", () => {
  it("empty is a usage error, not the current folder", async () => {
    const r = run("convert", H1, "-o", "");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("options.output must be a folder name");
  });

  it("at a file, under a file, or where writing is not permitted: said plainly", () => {
    const dir = tmp();
    writeFileSync(join(dir, "f"), "x");
    const a = run("convert", H1, "-o", join(dir, "f"));
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("exists and is not a folder");
    const b = run("convert", H1, "-o", join(dir, "f", "sub"));
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`${join(dir, "f")} is a file, not a folder`);
    for (const r of [a, b]) expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("in a read-only folder: permission denied (as an unprivileged user)", () => {
    const dir = tmp();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "ro"), { mode: 0o555 });
    // root may write anywhere: run the CLI as nobody when the tests run as root
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    for (const target of [join(dir, "ro", "out"), join(dir, "ro", "a", "b")]) {
      const r = spawnSync(process.execPath, [CLI, "convert", H1, "-o", target], { encoding: "utf8", ...asNobody });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain("cannot create the output folder: permission denied");
      expect(r.stderr).not.toMatch(/internal error|ENOENT/);
    }
  });
});
