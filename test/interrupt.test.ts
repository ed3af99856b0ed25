// Interruptions: a run killed mid-way (SIGKILL) or stopped with Ctrl-C (SIGINT) leaves no file
// under a final name that is not complete, and `--resume` then produces the same dataset as an
// uninterrupted run.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { JOURNAL } from "../src/pipeline/manifest.ts";
import { readArrow, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const digest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const finals = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith(".") && n.endsWith(".arrow")).sort() : []);

let input: string;
let ref: string;

beforeAll(() => {
  const dir = tmp();
  input = join(dir, "in");
  ref = join(dir, "ref");
  expect(spawnSync(process.execPath, [CLI, "generate", "scone", "-o", input, "--files", "6", "--events", "400", "--seed", "5"]).status).toBe(0);
  expect(spawnSync(process.execPath, [CLI, "convert", input, "-o", ref, "--threads", "1", "--quiet"]).status).toBe(0);
});

/**
 * Starts a 2-thread conversion and sends `signal` the moment its first input is journaled (file
 * events on the output folder, not a poll), while the other inputs are being written.
 */
async function interrupted(signal: NodeJS.Signals, at: "entry" | "first line" = "entry"): Promise<{ out: string; code: number | null; stderr: string; running: boolean }> {
  const out = join(tmp(), "out");
  mkdirSync(out);
  const watcher = watch(out);
  const child = spawn(process.execPath, [CLI, "convert", input, "-o", out, "--threads", "2"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const closed = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  // the file appears (one event) before its first line is in it (another)
  const journaled = new Promise<void>((resolve) => watcher.on("change", (_e, name) => {
    try {
      const text = readFileSync(join(out, JOURNAL), "utf8");
      if (name === JOURNAL && (at === "entry" ? /"entry":/.test(text) : text.endsWith("\n"))) resolve();
    } catch { /* removed at the end of a run that finished first: `closed` says so */ }
  }));
  // whichever comes first: the journal, or the end of a run that never wrote one
  await Promise.race([journaled, closed]);
  watcher.close();
  const running = child.exitCode === null && child.signalCode === null;
  child.kill(signal);
  return { out, code: await closed, stderr, running };
}

function checkComplete(out: string): void {
  for (const n of finals(out)) expect(readArrow(join(out, n)).numRows, n).toBe(readArrow(join(ref, n)).numRows);
}

function resumeAndCompare(out: string, someKept = true): void {
  const r = spawnSync(process.execPath, [CLI, "convert", input, "-o", out, "--resume", "--json"], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout);
  if (someKept) expect(j.resumed).toBeGreaterThanOrEqual(1);
  expect(j.resumed + j.tasks).toBe(6);
  expect(finals(out)).toEqual(finals(ref));
  for (const n of finals(ref)) expect(digest(join(out, n)), n).toBe(digest(join(ref, n)));
  expect(readdirSync(out).filter((n) => n.includes(".tmp-"))).toEqual([]);
  const m = JSON.parse(readFileSync(join(out, "_manifest.json"), "utf8"));
  expect(m.totals.rows).toBe(6 * 400);
}

describe("interruptions", () => {
  it("SIGKILL mid-run: only complete files under final names; --resume finishes the same dataset", async () => {
    const { out, running } = await interrupted("SIGKILL");
    expect(running, "the run was still going when it was killed").toBe(true);
    expect(existsSync(join(out, "_manifest.json"))).toBe(false);
    expect(finals(out).length).toBeLessThan(6);
    checkComplete(out);
    resumeAndCompare(out);
  });

  // the journal's first lines say which input each output belongs to, before any task starts: a
  // kill after a worker has renamed an output but before this thread journaled its input left a
  // complete file nothing listed, and --resume refused it ("exists and no manifest here lists it")
  it("SIGKILL as the run starts: --resume finishes, replacing outputs no entry lists yet", async () => {
    const { out } = await interrupted("SIGKILL", "first line");
    expect(existsSync(join(out, "_manifest.json"))).toBe(false);
    checkComplete(out);
    resumeAndCompare(out, false);
  });

  // the state such a kill leaves, made on purpose: every output renamed to its final name, the
  // journal holding the run's first lines only (which input each output belongs to), no entry
  it("killed after the outputs were renamed and before their inputs were journaled: --resume finishes", () => {
    const out = join(tmp(), "out");
    mkdirSync(out);
    const m = JSON.parse(readFileSync(join(ref, "_manifest.json"), "utf8")) as { inputs: { input: string; outputs: { file: string }[] }[] };
    const lines = m.inputs.flatMap((e) => e.outputs.map((o) => JSON.stringify({ intent: { input: e.input, file: o.file } }) + "\n"));
    writeFileSync(join(out, JOURNAL), lines.join(""));
    for (const n of finals(ref)) copyFileSync(join(ref, n), join(out, n));
    resumeAndCompare(out, false);
  });

  it("Ctrl-C: exit 130, temporary files removed, a message about --resume", async () => {
    const { out, code, stderr, running } = await interrupted("SIGINT");
    expect(running, "the run was still going when it was interrupted").toBe(true);
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\).*--resume/);
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
    expect(readdirSync(out).filter((n) => n.includes(".tmp-"))).toEqual([]);
    checkComplete(out);
    resumeAndCompare(out);
  });
});
