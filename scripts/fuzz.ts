// The scripted random-damage run (`npm run fuzz`): FUZZ_RUNS cases per kind of input (plain, GZIP
// and ZLIB TFRecord, deflate and stored NPZ; see scripts/fuzz-lib.ts for what is checked), each
// converted in-process through the library and checked by verify; every FUZZ_CLI_EVERY-th case
// also runs through the CLI (`arrowsmith convert` and `verify` as child processes), whose exit code
// and row count must agree with the in-process result.
//
//   npm run build && FUZZ_SEED=1 FUZZ_RUNS=20000 nice -n 10 node --expose-gc dist/scripts/fuzz.js
//
// Every FUZZ_FULL_EVERY-th case (default 25) runs through the whole convert() (plan, folder lock,
// manifest), the others as the CLI's worker runs a task (runTask), which is several times cheaper.
//
// Environment: FUZZ_SEED (default 20261121; kind i uses seed + i, so a run is reproducible from it),
// FUZZ_RUNS (cases per kind, default 1000), FUZZ_PROCS (case processes, default 1), FUZZ_CLI_EVERY
// (default 1000; 0 = none; the CLI runs with --no-report), FUZZ_CASE_MS (deadline of one case, default 20000: a case past it is a
// hang, its process is killed and the run goes on after it; FUZZ_CLI_MS, default 60000, more for
// each CLI process), FUZZ_JSON=1 (print the summary as one
// JSON object on stdout). Files are written only in a temporary folder (under /dev/shm where it
// exists), removed at the end. Exit 1 when any case failed.
import { type ChildProcess, fork, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { verifyNpz, verifyTFRecord } from "../src/inspect.js";
import { apply, type CaseInput, caseInput, CaseFailure, fileKinds, intactBefore, judge, runCase } from "./fuzz-lib.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURES = join(ROOT, "test/fixtures");
const CLI = join(ROOT, "dist/src/cli.js");
const env = (name: string, def: number) => (process.env[name] === undefined || process.env[name] === "" ? def : Number(process.env[name]));
const SEED = env("FUZZ_SEED", 20261121);
const RUNS = env("FUZZ_RUNS", 1000);
const PROCS = Math.max(1, env("FUZZ_PROCS", 1));
const CLI_EVERY = env("FUZZ_CLI_EVERY", 1000);
const FULL_EVERY = env("FUZZ_FULL_EVERY", 25);
const CASE_MS = env("FUZZ_CASE_MS", 20_000);
/** Deadline of one CLI process (a Node start, a worker thread, under load). */
const CLI_MS = env("FUZZ_CLI_MS", 60_000);

interface Failure { kind: string; index: number; input?: CaseInput; message: string }
/** What a case process reports. */
type Message =
  | { start: [number, number]; cli: boolean }
  | { done: [number, number]; outcome?: string; failure?: string; peak: number; intact: boolean; cli?: boolean; full?: boolean };

// ---------------------------------------------------------------- a case process
async function child(dir: string, slot: number, from: [number, number]): Promise<void> {
  const kinds = fileKinds(FIXTURES);
  const send = (m: Message) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  const prepared = [];
  for (const [ki, c] of kinds.entries()) {
    const work = join(dir, `p${slot}`, String(ki));
    mkdirSync(work, { recursive: true });
    const p = join(work, c.file);
    const out = join(work, "out");
    writeFileSync(p, c.base);
    const base = await runCase(p, out, c.key, { ...c.opts, verify: true, onError: "fail" }, false);
    if (!base.ok || !base.keys!.length) throw new Error(`${c.name}: the undamaged file does not convert: ${JSON.stringify(base)}`);
    prepared.push({ c, work, p, out, source: new Map(base.keys!), inputs: fc.sample(caseInput, { seed: SEED + ki, numRuns: RUNS }) });
  }
  // case i of every kind, then case i + PROCS: a run stopped early has covered the kinds alike
  for (let i = slot; i < RUNS; i += PROCS) {
    for (const [ki, { c, work, p, out, source, inputs }] of prepared.entries()) {
      if (i < from[1] || (i === from[1] && ki < from[0])) continue;
      const withCli = CLI_EVERY > 0 && i % CLI_EVERY === 0;
      await send({ start: [ki, i], cli: withCli });
      const x = inputs[i];
      const { bytes, first } = apply(c.base, x.muts);
      writeFileSync(p, bytes);
      const intact = intactBefore(c, first, source.size);
      const full = FULL_EVERY > 0 && i % FULL_EVERY === 0;
      const r = await runCase(p, out, c.key, { ...c.opts, verify: x.verify, onError: x.onError, windowBytes: x.windowBytes }, true, full);
      let outcome: string | undefined;
      let failure: string | undefined;
      try {
        outcome = judge(c, r, p, source, x, intact);
        if (withCli) await cli(c.opts, p, join(work, "cli"), x, r);
      } catch (e) {
        if (!(e instanceof CaseFailure)) throw e;
        failure = e.message;
      }
      await send({ done: [ki, i], outcome, failure, peak: r.peak, intact: intact > 0 && first < c.base.length, cli: withCli, full });
    }
  }
}

/** The same case through the CLI: `convert` and `verify` exit codes and counts agree with the library's. */
async function cli(opts: Record<string, unknown>, p: string, out: string, x: CaseInput, r: Awaited<ReturnType<typeof runCase>>): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  const scone = opts.kind === "scone" ? ["--kind", "scone", "--bins", "4,6"] : [];
  const args = [CLI, "convert", p, "-o", out, "--on-error", x.onError, "--threads", "1", "--json", "--no-report", ...scone, ...(x.verify ? [] : ["--no-verify"])];
  const run = (a: string[]) => spawnSync(process.execPath, a, { encoding: "utf8", timeout: CLI_MS, maxBuffer: 1 << 26 });
  const c = run(args);
  if (c.error || c.signal) throw new CaseFailure(`CLI convert did not finish: ${c.error?.message ?? c.signal}`);
  const want = !r.ok ? 1 : r.problems!.length ? 3 : 0;
  if (c.status !== want) throw new CaseFailure(`CLI convert exited ${c.status}, the library's outcome says ${want}: ${c.stderr.slice(0, 400)}`);
  if (r.ok) {
    const rows = (JSON.parse(c.stdout) as { outputs: { rows: number }[] }).outputs[0].rows;
    if (rows !== r.rows) throw new CaseFailure(`CLI convert wrote ${rows} rows, the library ${r.rows}`);
  } else if (!c.stderr.includes(r.error!.message.split("\n")[0].slice(0, 60))) {
    throw new CaseFailure(`CLI convert's message differs from the library's: ${c.stderr.slice(0, 400)} / ${r.error!.message}`);
  }
  const v = run([CLI, "verify", p, "--json"]);
  if (v.error || v.signal) throw new CaseFailure(`CLI verify did not finish: ${v.error?.message ?? v.signal}`);
  // the library's verify with the CLI's defaults (kind detected, default bins)
  const lib = p.endsWith(".npz") ? verifyNpz(p) : await verifyTFRecord(p);
  {
    if (v.status !== (lib.ok ? 0 : 1)) throw new CaseFailure(`CLI verify exited ${v.status}, the library's verify says ok=${lib.ok}`);
    const records = (JSON.parse(v.stdout) as { files: { records: number }[] }).files[0].records;
    if (records !== lib.records) throw new CaseFailure(`CLI verify counts ${records}, the library ${lib.records}`);
  }
}

// ---------------------------------------------------------------- the run
interface Summary {
  seed: number; runs_per_kind: number; procs: number; cases: number; seconds: number;
  /** Set when SIGINT/SIGTERM ended the run before all its cases: the counts are of the cases done. */
  stopped_early?: true;
  outcomes: Record<string, number>; by_kind: Record<string, Record<string, number>>;
  damage_after_intact_records: number; full_convert_cases: number; cli_cases: number; hangs: number; max_case_peak_mib: number;
  failures: Failure[];
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "arrowsmith-fuzz-"));
  const kinds = fileKinds(FIXTURES);
  const inputsOf = new Map<number, CaseInput[]>();
  const inputs = (k: number) => inputsOf.get(k) ?? inputsOf.set(k, fc.sample(caseInput, { seed: SEED + k, numRuns: RUNS })).get(k)!;
  const s: Summary = {
    seed: SEED, runs_per_kind: RUNS, procs: PROCS, cases: 0, seconds: 0, outcomes: {}, by_kind: {},
    damage_after_intact_records: 0, full_convert_cases: 0, cli_cases: 0, hangs: 0, max_case_peak_mib: 0, failures: [],
  };
  const add = (kind: string, outcome: string) => {
    s.outcomes[outcome] = (s.outcomes[outcome] ?? 0) + 1;
    const k = (s.by_kind[kind] ??= {});
    k[outcome] = (k[outcome] ?? 0) + 1;
  };
  let lastLog = Date.now();
  const procs = new Set<ChildProcess>();
  const timers = new Set<NodeJS.Timeout>();
  // Ctrl-C or SIGTERM: stop the case processes and print the counts of the cases done
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  const onSignal = () => {
    s.stopped_early = true;
    for (const t of timers) clearTimeout(t);
    for (const p of procs) { p.removeAllListeners("exit"); p.removeAllListeners("message"); p.kill("SIGKILL"); }
    stop();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await Promise.race([stopped, Promise.all(Array.from({ length: PROCS }, (_, slot) => new Promise<void>((resolve, reject) => {
      let current: [number, number] | undefined;
      let timer: NodeJS.Timeout | undefined;
      const start = (from: [number, number]) => {
        if (s.stopped_early) return;
        const p: ChildProcess = fork(new URL(import.meta.url).pathname, ["--child", dir, String(slot), String(from[0]), String(from[1])],
          { execArgv: ["--expose-gc"], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
        procs.add(p);
        p.on("exit", () => procs.delete(p));
        p.on("message", (m: Message) => {
          if ("start" in m) {
            current = m.start;
            // a case that also runs through the CLI waits for two more processes
            const deadline = m.cli ? CASE_MS + 2 * CLI_MS : CASE_MS;
            timer = setTimeout(() => {
              timers.delete(timer!);
              const [k, i] = m.start;
              s.hangs++;
              s.cases++;
              add(kinds[k].name, "HANG");
              s.failures.push({ kind: kinds[k].name, index: i, input: inputs(k)[i], message: `no result within ${deadline} ms: a hang` });
              p.removeAllListeners("exit");
              p.kill("SIGKILL");
              // go on after the case that hung
              start(k + 1 < kinds.length ? [k + 1, i] : [0, i + PROCS]);
            }, deadline);
            timers.add(timer);
            return;
          }
          clearTimeout(timer);
          timers.delete(timer!);
          const [k, i] = m.done;
          s.cases++;
          if (m.intact) s.damage_after_intact_records++;
          if (m.cli) s.cli_cases++;
          if (m.full) s.full_convert_cases++;
          if (Number.isFinite(m.peak)) s.max_case_peak_mib = Math.max(s.max_case_peak_mib, m.peak / 2 ** 20);
          if (m.failure !== undefined) {
            add(kinds[k].name, "FAILED");
            if (s.failures.length < 50) s.failures.push({ kind: kinds[k].name, index: i, input: inputs(k)[i], message: m.failure });
          } else {
            add(kinds[k].name, m.outcome!);
          }
          if (Date.now() - lastLog > 60_000) {
            lastLog = Date.now();
            process.stderr.write(`fuzz: ${s.cases} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${s.failures.length} failed; ${JSON.stringify(s.outcomes)}\n`);
          }
        });
        p.on("exit", (code, signal) => {
          clearTimeout(timer);
          if (code === 0) return resolve();
          if (current && s.failures.length < 50) {
            const [k, i] = current;
            s.cases++;
            add(kinds[k].name, "CRASH");
            s.failures.push({ kind: kinds[k].name, index: i, input: inputs(k)[i], message: `the case process died (${code ?? signal})` });
            return start(k + 1 < kinds.length ? [k + 1, i] : [0, i + PROCS]);
          }
          reject(new Error(`case process exited (${code ?? signal})`));
        });
      };
      start([0, slot]);
    }))).then(() => undefined)]);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    rmSync(dir, { recursive: true, force: true });
  }
  s.seconds = (Date.now() - t0) / 1000;
  s.max_case_peak_mib = Math.round(s.max_case_peak_mib * 10) / 10;
  if (process.env.FUZZ_JSON === "1") {
    process.stdout.write(`${JSON.stringify(s)}\n`);
  } else {
    const lines = [
      `fuzz: seed ${SEED}, ${RUNS} cases per kind, ${PROCS} process(es): ${s.cases} cases in ${s.seconds.toFixed(0)} s${s.stopped_early ? " (stopped early by a signal)" : ""}`,
      `  ${s.damage_after_intact_records} cases damaged after records that had to be kept; ${s.full_convert_cases} through convert() (the others as a worker's task), ${s.cli_cases} also through the CLI; largest peak RSS of a case ${s.max_case_peak_mib} MiB`,
      `  outcomes: ${Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`,
      ...Object.entries(s.by_kind).map(([k, o]) => `  ${k}: ${Object.entries(o).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", ")}`),
      s.failures.length ? `FAILED: ${s.failures.length} case(s)` : "no failures",
      ...s.failures.map((f) => `  ${f.kind} #${f.index} ${JSON.stringify(f.input)}: ${f.message}`),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  process.exitCode = s.failures.length ? 1 : s.stopped_early ? 130 : 0;
}

if (process.argv[2] === "--child") {
  const [dir, slot, k, i] = process.argv.slice(3);
  child(dir, Number(slot), [Number(k), Number(i)]).then(() => process.exit(0), (e) => {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exit(2);
  });
} else {
  main().catch((e) => {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
