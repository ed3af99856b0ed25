// `merge`: joins the shard manifests of a job array into the files one run would have written
// (_manifest.json, _errors.jsonl), after checking that every shard of the run finished, with the
// same options and inputs. Missing or failed shards are listed with the command that reruns them.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { FolderLock } from "../io/folder-lock.js";
import type { TaskResult } from "../pipeline/convert-file.js";
import { manifestEntry, type Manifest, writeManifest } from "../pipeline/manifest.js";
import type { Problem } from "../pipeline/policy.js";
import { checkIndexFile, collectIndex, INDEX_FILE, indexedTasks, SHARD_INDEX, writeFolderIndex } from "../pipeline/index-build.js";
import { EXTENSIONS, type OutputFormat } from "../sinks/sink.js";
import { shq } from "./slurm.js";
import { type Shard, shardTag } from "./shards.js";

/** What one shard of a run writes when it ends, complete or failed. */
export interface ShardManifest {
  tool: "arrowsmith";
  version: string;
  created: string;
  shard: Shard;
  status: "complete" | "failed";
  error?: { code: string; message: string; file?: string };
  /** The same for every shard of one run: options, inputs and the whole plan's task names. */
  run: { key: string; options: Record<string, unknown>; inputs: string[]; tasks: string[] };
  /** This shard's finished tasks. */
  tasks: TaskRecord[];
  problems: Problem[];
  /** The command line that ran this shard (for the rerun hint outside Slurm). */
  argv: string[];
  wall_seconds: number;
}

/** A finished task as the manifest needs it. */
export type TaskRecord = Pick<TaskResult, "input" | "part" | "kind" | "compression" | "inputBytes" | "mtimeMs" | "records" | "rows" | "skipped" | "nonfiniteEvents" | "stats"> & {
  /** For an input refused as a whole (--on-error skip): the planned name, with no file written. */
  output: { path: string; rows: number; bytes: number };
  refused?: true;
};

export const shardManifestName = (s: Shard) => `_manifest.${shardTag(s)}.json`;
const SHARD_RE = /^_manifest\.shard-(\d+)-of-(\d+)\.json$/;

export function readShardManifests(dir: string): ShardManifest[] {
  const out: ShardManifest[] = [];
  for (const name of readdirSync(dir)) {
    if (!SHARD_RE.test(name)) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, name), "utf8")) as ShardManifest);
    } catch (e) {
      throw new ArrowsmithError("usage", `${name} is not a readable shard manifest: ${(e as Error).message}`, { file: join(dir, name), hint: "rerun that shard" });
    }
  }
  return out;
}

export interface MergeResult {
  ok: boolean;
  shards: number;
  /** Indices of shards with no manifest, and of those that failed (with their error). */
  missing: number[];
  failed: { index: number; message: string }[];
  /** Commands that rerun only the missing and failed shards. */
  rerun: string[];
  manifest?: Manifest;
  /** The report files, when the shards accumulated statistics (not with --no-report). */
  report?: { json: string; html: string };
  /** The SNID index joined from the shards' indexes (none without SCONE events). */
  index?: { file: string; rows: number };
}

/**
 * Merges the newest complete run in `dir`. Shards of an older run with another key (other
 * options or inputs) are an error: the folder holds two datasets.
 */
export async function mergeShards(dir: string, o: { onWarning?: (m: string) => void } = {}): Promise<MergeResult> {
  // the whole folder's lock: no shard may still be writing (a live shard's lock refuses it), and
  // no conversion may start while the merged files are written
  const lock = FolderLock.acquire(dir, { run: "merge" });
  try {
    return await mergeLocked(dir, o);
  } finally {
    lock.release();
  }
}

async function mergeLocked(dir: string, o: { onWarning?: (m: string) => void }): Promise<MergeResult> {
  const all = readShardManifests(dir);
  if (!all.length) {
    throw new ArrowsmithError("usage", `no shard manifests (_manifest.shard-I-of-N.json) in ${dir}`, {
      hint: "run the job array first (convert --shard I/N, or the script written by arrowsmith slurm)",
    });
  }
  const counts = new Set(all.map((m) => m.shard.count));
  const keys = new Set(all.map((m) => runKey(m)));
  if (counts.size > 1 || keys.size > 1) {
    throw new ArrowsmithError("usage", `the shard manifests in ${dir} come from different runs (${[...counts].join(", ")} shards; ${keys.size} sets of options and inputs)`, {
      hint: "remove the shard manifests of the run you don't want, or convert into separate folders",
    });
  }
  const count = all[0].shard.count;
  const byIndex = new Map(all.map((m) => [m.shard.index, m]));
  const missing: number[] = [];
  const failed: { index: number; message: string }[] = [];
  for (let i = 0; i < count; i++) {
    const m = byIndex.get(i);
    if (!m) missing.push(i);
    else if (m.status !== "complete") failed.push({ index: i, message: m.error?.message ?? "failed" });
  }
  if (missing.length || failed.length) {
    return { ok: false, shards: count, missing, failed, rerun: rerunCommands(dir, [...missing, ...failed.map((f) => f.index)].sort((a, b) => a - b), all[0]) };
  }
  // every planned task must have been done by exactly one shard
  const run = all[0].run;
  const done = new Map<string, TaskRecord>();
  for (const m of all) for (const t of m.tasks) done.set(t.output.path.split("/").pop()!, t);
  const absent = run.tasks.filter((t) => !done.has(t));
  if (absent.length) {
    throw new ArrowsmithError("usage", `the shards finished but ${absent.length} planned output(s) are not in their manifests (first: ${absent[0]})`, {
      hint: "rerun the array with --resume",
    });
  }
  const byInput = new Map<string, TaskRecord[]>();
  for (const name of run.tasks) {
    const t = done.get(name)!;
    const list = byInput.get(t.input) ?? [];
    list.push(t);
    byInput.set(t.input, list);
  }
  const entries = run.inputs.filter((i) => byInput.has(i)).map((i) => {
    const list = byInput.get(i)!.sort((a, b) => (a.part ?? 0) - (b.part ?? 0));
    return manifestEntry(list as unknown as TaskResult[], run.key);
  });
  // problems in the order one run lists them: by input, then by place in the file
  const order = new Map(run.inputs.map((i, n) => [i, n]));
  const problems = all.flatMap((m) => m.problems)
    .sort((a, b) => (order.get(a.file ?? "") ?? 0) - (order.get(b.file ?? "") ?? 0) || (a.offset ?? 0) - (b.offset ?? 0));
  const wall = Math.max(...all.map((m) => m.wall_seconds));
  // the shards' indexes joined in plan order (an output none of them holds is read from its input)
  await checkIndexFile(dir, INDEX_FILE, false);
  const ro = run.options as { verify?: boolean; max_record_bytes?: number; bins?: [number, number]; task_bytes?: number; format?: OutputFormat };
  const shardIndexes = readdirSync(dir).filter((n) => SHARD_INDEX.test(n)).sort().map((n) => join(dir, n));
  const parts = await collectIndex(dir, indexedTasks(run.tasks.map((t) => done.get(t)!)), new Map(), {
    verify: ro.verify ?? true, maxRecordBytes: ro.max_record_bytes, bins: ro.bins ?? [32, 180], taskBytes: ro.task_bytes ?? 512 << 20, ext: EXTENSIONS[ro.format ?? "arrow"],
  }, o.onWarning ?? (() => {}), shardIndexes);
  const index = await writeFolderIndex(dir, INDEX_FILE, parts);
  const manifest = writeManifest(dir, { options: { ...run.options, shards: count }, entries, problems, resumed: 0, wallSeconds: wall });
  // the report from the tasks' statistics, merged in plan order as one run merges them
  const stats = run.tasks.map((t) => done.get(t)!.stats);
  let report: MergeResult["report"];
  if (stats.some((x) => x)) {
    const [{ writeReport }, { mergeStats }] = await Promise.all([import("../report/report.js"), import("../report/stats.js")]);
    report = await writeReport(dir, mergeStats(stats), { manifest, problems, complete: true });
  }
  return { ok: true, shards: count, missing, failed, rerun: [], manifest, report, ...(index ? { index } : {}) };
}

function runKey(m: ShardManifest): string {
  return JSON.stringify([m.run.key, m.run.inputs, m.run.tasks]);
}

/** `sbatch --array=3,7 <script>` when the folder has our job script; otherwise the convert commands. */
function rerunCommands(dir: string, shards: number[], m: ShardManifest): string[] {
  const script = join(dir, "_slurm", "convert.sbatch");
  if (existsSync(script)) return [`sbatch --array=${shards.join(",")} ${shq(script)}`, `arrowsmith merge ${shq(dir)}`];
  const argv = m.argv.filter((_, i, a) => a[i] !== "--shard" && a[i - 1] !== "--shard");
  return [...shards.map((i) => [...argv, "--shard", `${i}/${m.shard.count}`, "--resume"].map(shq).join(" ")), `arrowsmith merge ${shq(dir)}`];
}
