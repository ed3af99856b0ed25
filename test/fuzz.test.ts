// Property tests: random damage to valid TFRecord files (plain, GZIP, ZLIB) and NPZ cluster batches,
// each case converted through the library and checked by verify, some through the whole convert()
// and the CLI, all judged against the undamaged source (scripts/fuzz-lib.ts says what is checked).
// This runs the scripted runner (scripts/fuzz.ts, built to dist/scripts/fuzz.js) with a small fixed
// budget; `npm run fuzz` runs it with as many cases as asked (FUZZ_RUNS per kind, FUZZ_SEED).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const RUNS = 60;
const SEED = 20261121;

describe("random damage to TFRecord and NPZ files", () => {
  it(`the source's rows or a clean ArrowsmithError, verify agreeing (5 kinds x ${RUNS} cases, seed ${SEED})`, () => {
    const r = spawnSync(process.execPath, ["--expose-gc", new URL("../dist/scripts/fuzz.js", import.meta.url).pathname], {
      encoding: "utf8",
      env: { ...process.env, FUZZ_RUNS: String(RUNS), FUZZ_SEED: String(SEED), FUZZ_CLI_EVERY: String(RUNS), FUZZ_FULL_EVERY: "5", FUZZ_JSON: "1" },
      maxBuffer: 1 << 26,
    });
    expect(r.stderr).not.toMatch(/Error|at .*\.js:\d+/);
    const s = JSON.parse(r.stdout);
    expect(s.failures, JSON.stringify(s.failures, null, 1)).toEqual([]);
    expect(r.status).toBe(0);
    expect(s.cases).toBe(5 * RUNS);
    expect(s.cli_cases).toBe(5);
    expect(s.full_convert_cases).toBe(5 * (RUNS / 5));
    // the outcomes cover success, skipped records and several error codes, and damage after records that had to be kept
    expect(Object.keys(s.outcomes).filter((k) => k.endsWith("ok")).length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(s.outcomes).filter((k) => k.includes("skipped")).length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(s.outcomes).length).toBeGreaterThanOrEqual(12);
    expect(s.damage_after_intact_records).toBeGreaterThan(RUNS);
    process.stderr.write(`fuzz: ${s.cases} cases in ${s.seconds} s, outcomes ${JSON.stringify(s.outcomes)}, largest peak RSS of a case ${s.max_case_peak_mib} MiB\n`);
  }, 900_000);
});
