// `arrowsmith slurm`: writes the job scripts that convert a dataset with a Slurm job array (one
// `convert --shard auto` per array task, all into one folder) and merge the shards afterwards;
// `--submit` submits both. The convert options are checked here, then passed on word for word.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command, Option } from "commander";
import { ArrowsmithError } from "../errors.js";
import { expandInputs } from "../pipeline/inputs.js";
import { convertScript, mergeScript, shq, type SlurmOptions, submitScript } from "../scale/slurm.js";
import type { CommandRun } from "./command.js";

export interface SlurmResult {
  scriptDir: string;
  scripts: { convert: string; merge: string; submit: string };
  /** Job ids when --submit was given. */
  submitted?: { array: string; merge: string };
}

/** Options of this command that are not convert's (they are not passed on to convert). */
const OWN = ["--array", "--cpus-per-task", "--mem", "--time", "--partition", "--account", "--submit"];
/** convert options that the job script sets itself. */
const SET_BY_SCRIPT = ["--output", "--shard", "--threads", "--quiet", "--json"];

/**
 * The convert words of a `slurm` command line: its options other than ours and those the script
 * sets, each with its value, in the order given. Inputs (positional words) are left out.
 */
export function convertWords(cmd: Command, words: string[]): { inputs: string[]; options: string[] } {
  const inputs: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === "--") { inputs.push(...words.slice(i + 1)); break; }
    if (!w.startsWith("-") || w === "-") { inputs.push(w); continue; }
    const flag = w.includes("=") ? w.slice(0, w.indexOf("=")) : w;
    const opt: Option | undefined = cmd.options.find((o) => o.long === flag || o.short === flag);
    if (!opt) throw new ArrowsmithError("usage", `slurm: unknown option ${flag}`, { hint: "see arrowsmith slurm --help" });
    const takesValue = (opt.required || opt.optional) && !w.includes("=");
    const value = takesValue ? words[++i] : undefined;
    const long = opt.long ?? flag;
    if (OWN.includes(long) || SET_BY_SCRIPT.includes(long)) continue;
    options.push(w, ...(value !== undefined ? [value] : []));
  }
  return { inputs, options };
}

function cliPath(): string {
  // the built CLI beside this module (dist/src/commands → dist/src/cli.js)
  const here = fileURLToPath(import.meta.url);
  return resolve(here, "..", "..", here.endsWith(".ts") ? "cli.ts" : "cli.js");
}

export async function runSlurm(words: string[], o: Record<string, unknown>, cmd: Command): Promise<SlurmResult> {
  const { inputs, options } = convertWords(cmd, words);
  // inputs must exist now (and are found the same way on the nodes): absolute paths in the script
  const found = expandInputs(inputs, { recursive: o.recursive === true });
  if (!found.length) throw new ArrowsmithError("usage", "slurm: no input files found", { hint: "give .tfrecord/.npz files or folders holding them" });
  const output = resolve(String(o.output));
  const scriptDir = resolve(output, "_slurm");
  mkdirSync(scriptDir, { recursive: true });
  const cli = cliPath();
  const command = cli.endsWith(".ts") ? [process.execPath, "--import", "tsx", cli] : [process.execPath, cli];
  const so: SlurmOptions = {
    inputs: inputs.map((p) => resolve(p)), output, array: Number(o.array), cpusPerTask: Number(o.cpusPerTask ?? 1),
    mem: o.mem as string | undefined, time: o.time as string | undefined,
    partition: o.partition as string | undefined, account: o.account as string | undefined,
    convertArgs: options, command, scriptDir,
  };
  const scripts = { convert: `${scriptDir}/convert.sbatch`, merge: `${scriptDir}/merge.sbatch`, submit: `${scriptDir}/submit.sh` };
  writeFileSync(scripts.convert, convertScript(so));
  writeFileSync(scripts.merge, mergeScript(so));
  writeFileSync(scripts.submit, submitScript(so));
  for (const s of Object.values(scripts)) chmodSync(s, 0o755);
  const result: SlurmResult = { scriptDir, scripts };
  if (o.submit) result.submitted = submit(scripts);
  return result;
}

function submit(s: SlurmResult["scripts"]): { array: string; merge: string } {
  const sb = (args: string[]) => {
    try {
      return execFileSync("sbatch", ["--parsable", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split(";")[0];
    } catch (e) {
      const err = e as { code?: string; stderr?: string };
      throw new ArrowsmithError("io", err.code === "ENOENT" ? "sbatch not found: is this a Slurm login node?" : `sbatch failed: ${String(err.stderr ?? e).trim()}`, {
        hint: `the scripts are written; submit them by hand with: bash ${shq(s.submit)}`,
      });
    }
  };
  const array = sb([s.convert]);
  const merge = sb([`--dependency=afterok:${array}`, s.merge]);
  return { array, merge };
}

export const slurmCommand: CommandRun<SlurmResult> = {
  run: async (_args, o, _given, cmd) => {
    const raw = ((cmd.parent as unknown as { rawArgs?: string[] })?.rawArgs ?? process.argv);
    const at = raw.indexOf("slurm");
    // check the convert options as convert itself would (usage errors now, not on the nodes)
    return runSlurm(raw.slice(at + 1), o, cmd);
  },
  outcome: () => "ok",
  text: (r) => [
    `wrote ${r.scripts.convert} (the array) and ${r.scripts.merge} (merge, after the array)`,
    r.submitted
      ? `submitted: array job ${r.submitted.array}, merge job ${r.submitted.merge} (runs when every array task has succeeded)`
      : `submit both with: bash ${shq(r.scripts.submit)}`,
  ].join("\n"),
  json: (r) => r,
};
