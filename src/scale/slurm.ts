// Job scripts for a Slurm job array: N tasks each run `convert --shard auto` on their slice of the
// plan, then one job that depends on the whole array (afterok) runs `merge`. Paths are absolute so
// the scripts run from any folder on any node that sees the same filesystem.
export interface SlurmOptions {
  /** Absolute paths of the inputs, as given to convert. */
  inputs: string[];
  /** Absolute output folder. */
  output: string;
  /** Number of array tasks. */
  array: number;
  cpusPerTask: number;
  mem?: string;
  time?: string;
  partition?: string;
  account?: string;
  /** The convert options other than inputs, -o, --shard and --threads, as command-line words. */
  convertArgs: string[];
  /** How to run arrowsmith: e.g. [process.execPath, "/abs/dist/src/cli.js"]. */
  command: string[];
  /** Folder of the scripts and their logs. */
  scriptDir: string;
}

/** Single-quotes a word for bash. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function header(o: SlurmOptions, name: string, extra: string[]): string[] {
  return [
    "#!/bin/bash",
    `#SBATCH --job-name=${name}`,
    ...extra,
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.account ? [`#SBATCH --account=${o.account}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
  ];
}

/** The array job: shard $SLURM_ARRAY_TASK_ID of N converts its slice with all its CPUs. */
export function convertScript(o: SlurmOptions): string {
  const cmd = [...o.command, "convert", ...o.inputs, "-o", o.output, ...o.convertArgs, "--shard", "auto"].map(shq).join(" ");
  return [
    ...header(o, "arrowsmith-convert", [
      `#SBATCH --array=0-${o.array - 1}`,
      `#SBATCH --cpus-per-task=${o.cpusPerTask}`,
      ...(o.mem ? [`#SBATCH --mem=${o.mem}`] : []),
      `#SBATCH --output=${o.scriptDir}/convert-%A_%a.log`,
    ]),
    "# One shard of the plan per array task; the shards write into one folder, each under its own lock.",
    "set -u",
    "# shard = the array index itself, also when only some indices are resubmitted (sbatch --array=3,7)",
    `export ARROWSMITH_SHARDS=${o.array}`,
    "# no progress line (not a terminal); the summary of this shard goes to its log",
    `${cmd} --threads "\${SLURM_CPUS_PER_TASK:-1}"`,
    "rc=$?",
    "# 3 = finished with skipped records (listed in _errors.jsonl): the shard is complete, merge reports them",
    'if [ "$rc" -eq 3 ]; then exit 0; fi',
    'exit "$rc"',
    "",
  ].join("\n");
}

/** The merge job, submitted with --dependency=afterok:<array job id>. */
export function mergeScript(o: SlurmOptions): string {
  return [
    ...header(o, "arrowsmith-merge", ["#SBATCH --cpus-per-task=1", `#SBATCH --output=${o.scriptDir}/merge-%j.log`]),
    "set -u",
    `exec ${[...o.command, "merge", o.output].map(shq).join(" ")}`,
    "",
  ].join("\n");
}

/** Submits both: the array, then merge after it. Prints both job ids. */
export function submitScript(o: SlurmOptions): string {
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    `array=$(sbatch --parsable ${shq(o.scriptDir + "/convert.sbatch")})`,
    "array=${array%%;*}",
    `merge=$(sbatch --parsable --dependency=afterok:$array ${shq(o.scriptDir + "/merge.sbatch")})`,
    'echo "array job $array, merge job ${merge%%;*}"',
    "",
  ].join("\n");
}
