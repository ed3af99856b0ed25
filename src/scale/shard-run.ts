// A shard's own files in the shared output folder: `_manifest.shard-I-of-N.json`, written when the
// shard ends (complete or failed), and a journal of the tasks it finished so far
// (`.arrowsmith-journal.shard-I-of-N.jsonl`), so that `--resume` after a kill redoes only the rest.
// No two shards write the same file.
import { appendFileSync, existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../sinks/atomic.js";
import type { Task, TaskResult } from "../pipeline/convert-file.js";
import { VERSION } from "../version.js";
import { type ShardManifest, shardManifestName, type TaskRecord } from "./merge.js";
import { type Shard, shardTag } from "./shards.js";

const journalName = (s: Shard) => `.arrowsmith-journal.${shardTag(s)}.jsonl`;

/** Input bytes a task covers: its range, or the whole file. */
export function taskBytesOf(t: Task): number {
  return t.range ? t.range.end - t.range.start : statSync(t.input).size;
}

/** The part of a result that the manifest keeps. */
export function taskRecord(r: TaskResult | TaskRecord): TaskRecord {
  const refused = !r.output || ("refused" in r && r.refused === true);
  return {
    input: r.input, part: r.part, kind: r.kind, compression: r.compression, inputBytes: r.inputBytes, mtimeMs: r.mtimeMs,
    records: r.records, rows: r.rows, skipped: r.skipped, nonfiniteEvents: r.nonfiniteEvents,
    // the task's report accumulators, so that `merge` writes the report one run would (plain JSON:
    // convert makes a result's statistics so as it arrives)
    ...(r.stats ? { stats: r.stats } : {}),
    output: r.output ? { path: r.output.path.split("/").pop()!, rows: r.output.rows, bytes: r.output.bytes }
      : { path: (r as TaskResult).outName, rows: 0, bytes: 0 },
    ...(refused ? { refused: true as const } : {}),
  };
}

export function journalTask(dir: string, s: Shard, r: TaskResult): void {
  appendFileSync(join(dir, journalName(s)), JSON.stringify({ task: taskRecord(r), problems: r.problems }) + "\n");
}

/** What this shard finished before: its manifest, then its journal (a line cut by a crash is redone). */
export function readShardManifest(dir: string, s: Shard): ShardManifest | undefined {
  let m: ShardManifest | undefined;
  try {
    m = JSON.parse(readFileSync(join(dir, shardManifestName(s)), "utf8")) as ShardManifest;
  } catch { /* none, or unreadable: nothing to keep */ }
  const jp = join(dir, journalName(s));
  if (!existsSync(jp)) return m;
  const tasks = new Map((m?.tasks ?? []).map((t) => [t.output.path, t]));
  const problems = [...(m?.problems ?? [])];
  for (const line of readFileSync(jp, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const j = JSON.parse(line) as { task: TaskRecord; problems: ShardManifest["problems"] };
      tasks.set(j.task.output.path, j.task);
      problems.push(...j.problems);
    } catch { /* cut by a crash */ }
  }
  return { ...(m ?? ({} as ShardManifest)), run: m?.run ?? (undefined as never), tasks: [...tasks.values()], problems };
}

/** True when the task's input is as it was and its output is on disk with its bytes. */
export function upToDateTask(dir: string, t: TaskRecord): boolean {
  try {
    const st = statSync(t.input);
    if (st.size !== t.inputBytes || st.mtimeMs !== t.mtimeMs) return false;
    if (t.refused) return true; // refused as it is now: nothing to redo
    const name = t.output.path;
    if (name.includes("/") || name.startsWith(".")) return false;
    return statSync(join(dir, name)).size === t.output.bytes;
  } catch {
    return false;
  }
}

export function writeShardManifest(dir: string, s: Shard,
                                   m: Pick<ShardManifest, "status" | "error" | "run" | "problems" | "argv" | "wall_seconds"> & { tasks: (TaskResult | TaskRecord)[] }): ShardManifest {
  const full: ShardManifest = {
    tool: "arrowsmith", version: VERSION, created: new Date().toISOString(), shard: s,
    ...m, tasks: m.tasks.map(taskRecord),
  };
  writeFileAtomic(join(dir, shardManifestName(s)), JSON.stringify(full, null, 2) + "\n");
  rmSync(join(dir, journalName(s)), { force: true });
  return full;
}
