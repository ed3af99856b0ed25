// The CLI in a real terminal, as a person uses it: `convert` runs in a tmux pane (a pty), the test
// reads the screen, presses Ctrl-C (or sends SIGTERM), then resumes. The progress line must redraw
// with events/s, MiB/s, percent and time left; the interruption must end the run before its work is
// done, with exit 128 + signal, no temporary file, and a message about --resume; and --resume must
// finish with outputs byte-identical to an uninterrupted run.
//
// Each input window is slowed down in the workers (ARROWSMITH_TEST_WINDOW_MS, which blocks the
// worker as real work does), so that a job of a few hundred MB lasts several seconds on any machine.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const TMUX = spawnSync("tmux", ["-V"]).status === 0;
const FILES = 4;
const SLOW_MS = 300;
const socket = `arrowsmith-test-${process.pid}`;
const digest = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const outputs = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".arrow")).sort();

let dir: string;
let input: string;
let ref: string;
let conf: string;

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", socket, "-f", conf, ...args], { encoding: "utf8" });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pane's text, scrollback included; the pane stays after its process ends (remain-on-exit). */
const screen = (name: string) => tmux("capture-pane", "-p", "-S", "-", "-t", name);
const dead = (name: string) => tmux("display-message", "-p", "-t", name, "#{pane_dead} #{pane_dead_status} #{pane_dead_signal}").trim().split(" ");

async function waitFor<T>(what: string, f: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

beforeAll(() => {
  if (!TMUX) return;
  dir = tmp();
  input = join(dir, "in");
  ref = join(dir, "ref");
  conf = join(dir, "tmux.conf");
  writeFileSync(conf, "set -g remain-on-exit on\n");
  // one generated shard (1000 events, 92 MB), copied under FILES names
  expect(spawnSync(process.execPath, [CLI, "generate", "scone", "-o", join(dir, "gen"), "--files", "1", "--events", "1000", "--seed", "3"]).status).toBe(0);
  execFileSync("mkdir", [input]);
  for (let i = 0; i < FILES; i++) copyFileSync(join(dir, "gen", "heatmaps_0000.tfrecord"), join(input, `heatmaps_${String(i).padStart(4, "0")}.tfrecord`));
  expect(spawnSync(process.execPath, [CLI, "convert", input, "-o", ref, "--quiet"]).status).toBe(0);
});

afterAll(() => {
  if (!TMUX) return;
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  rmSync(dir, { recursive: true, force: true });
});

async function interrupt(threads: number, how: "C-c" | "SIGTERM"): Promise<void> {
  const name = `t${threads}${how === "C-c" ? "int" : "term"}`;
  const out = join(dir, `out-${name}`);
  tmux("new-session", "-d", "-s", name, "-x", "150", "-y", "12", "-e", `ARROWSMITH_TEST_WINDOW_MS=${SLOW_MS}`,
    `exec ${process.execPath} ${CLI} convert ${input} -o ${out} --threads ${threads}`);
  // the progress line, redrawn with new figures while the job runs (the first draws may come
  // before a worker has read anything: "0 events/s", no time left yet)
  const full = /^tasks \d+\/\d+ {2}\d+(\.\d+k)? events\/s {2}[\d.]+ MiB\/s {2}\d+% {2}\d+[hms]\S* left$/;
  const lines = new Set<string>();
  await waitFor("two different progress lines with every figure", () => {
    const line = screen(name).split("\n").findLast((l) => l.startsWith("tasks "))?.trim();
    if (line && full.test(line)) lines.add(line);
    if (dead(name)[0] === "1") throw new Error(`the run ended before it was interrupted:\n${screen(name)}`);
    return lines.size >= 2 ? true : undefined;
  });
  const pid = Number(tmux("display-message", "-p", "-t", name, "#{pane_pid}").trim());
  const t0 = Date.now();
  if (how === "C-c") tmux("send-keys", "-t", name, "C-c");
  else process.kill(pid, "SIGTERM");
  const status = await waitFor("the run to end", () => {
    const [d, st, sig] = dead(name);
    if (d !== "1") return undefined;
    if (st || sig) return st || `signal ${sig}`;
    // tmux has seen the pane close but not reaped the process yet (seen under load): the exit
    // status of the zombie is in /proc/PID/stat (field 52, as waitpid reports it)
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") return String((Number(fields[49]) >> 8) & 0xff);
    } catch { /* reaped meanwhile: tmux has the status at the next look */ }
    return undefined;
  });
  const ms = Date.now() - t0;
  process.stderr.write(`${threads} thread(s), ${how}: ended ${ms} ms after the signal (${lines.size} progress lines seen)\n`);
  const text = screen(name);
  expect(status, text).toBe(how === "C-c" ? "130" : "143");
  expect(text).toContain(`interrupted (${how === "C-c" ? "SIGINT" : "SIGTERM"})`);
  expect(text).toContain("--resume");
  expect(text).not.toMatch(/internal error|\n\s+at /);
  // stopped before the job was done, and nothing half-written left
  expect(outputs(out).length).toBeLessThan(FILES);
  expect(readdirSync(out).filter((n) => n.includes(".tmp-"))).toEqual([]);
  tmux("kill-session", "-t", name);

  const r = spawnSync(process.execPath, [CLI, "convert", input, "-o", out, "--resume", "--quiet"], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  expect(outputs(out)).toEqual(outputs(ref));
  for (const n of outputs(ref)) expect(digest(join(out, n)), n).toBe(digest(join(ref, n)));
}

describe(TMUX ? "in a terminal (tmux)" : "in a terminal (skipped: tmux is not installed; apt-get install tmux)", () => {
  it.runIf(TMUX)("1 thread: progress redraws, Ctrl-C stops the run, --resume finishes it byte for byte", () => interrupt(1, "C-c"), 180_000);
  it.runIf(TMUX)("2 threads: the same", () => interrupt(2, "C-c"), 180_000);
  it.runIf(TMUX)("2 threads, SIGTERM: exit 143, the same otherwise", () => interrupt(2, "SIGTERM"), 180_000);
});
