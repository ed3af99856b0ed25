import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC, type Table } from "apache-arrow";
import { ArrowsmithError } from "../src/errors.ts";

export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
/**
 * Public sample files written by TensorFlow and numpy, read in place from ../shared/external beside
 * the checkout (ARROWSMITH_EXTERNAL points elsewhere, e.g. at a missing folder to see the skips).
 * Without them, the tests that read them are skipped and say why in their names.
 */
export const EXTERNAL = process.env.ARROWSMITH_EXTERNAL ?? new URL("../../shared/external/", import.meta.url).pathname;
export const HAVE_EXTERNAL = existsSync(join(EXTERNAL, "EXPECTED.json"));
/** Appended to the name of a test that needs the samples: the reason it was skipped, if it was. */
export const NO_EXTERNAL = HAVE_EXTERNAL ? "" : ` (skipped: no sample files at ${EXTERNAL}; put the shared samples there or set ARROWSMITH_EXTERNAL)`;

/** Folders `tmp` made for the current test file; test/setup.ts removes them after its last test. */
const made: string[] = [];

/** A fresh temporary folder, removed when the test file ends (kept with ARROWSMITH_KEEP_TEST_TMP=1). */
export function tmp(prefix = "arrowsmith-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes the folders `tmp` made so far (every suite run left its gigabytes of them in the temp folder). */
export function removeTemporaries(): void {
  if (process.env.ARROWSMITH_KEEP_TEST_TMP === "1") return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function readArrow(path: string): Table {
  return tableFromIPC(readFileSync(path));
}

/** JSON numbers, with the fixture generator's "NaN" / "Infinity" strings turned back into numbers. */
export function num(v: unknown): number | null {
  if (v === null) return null;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v as number;
}

/**
 * Relative closeness for float64 metrics (NaN equals NaN, infinities must match exactly). The
 * default 1e-12 leaves room for summation order only (a float64 running sum against numpy's
 * pairwise sum differs by ~5e-15 on 5,760 values); a float32 accumulator (~5e-7) fails it.
 */
export function close(a: number | null, b: number | null, rel = 1e-12): boolean {
  if (a === null || b === null) return a === b;
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

/** Runs `fn` and returns the ArrowsmithError it throws; fails on any other outcome. */
export function catchError(fn: () => unknown): ArrowsmithError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ArrowsmithError) return e;
    throw new Error(`expected an ArrowsmithError, got ${(e as Error)?.stack ?? e}`);
  }
  throw new Error("expected an error, none thrown");
}

/**
 * Skips the running test and says why in every reporter's output (the default reporter shows a
 * skip note only in verbose mode, so the reason also goes to stderr).
 */
export function skipBecause(ctx: { skip: (note?: string) => never; task: { name: string } }, reason: string): never {
  console.warn(`skipped "${ctx.task.name}": ${reason}`);
  return ctx.skip(reason);
}
