// `arrowsmith merge <folder>`: joins a job array's shard manifests into the files one run writes.
import { type MergeResult, mergeShards } from "../scale/merge.js";
import { type CommandRun, warn } from "./command.js";

export const mergeCommand: CommandRun<MergeResult> = {
  run: ([dir]) => mergeShards(String(dir), { onWarning: warn }),
  outcome: (r) => (r.ok ? "ok" : "failure"),
  text: (r) => r.ok
    ? `merged ${r.shards} shard(s): ${r.manifest!.totals.inputs} input(s), ${r.manifest!.totals.rows} rows, ${r.manifest!.totals.outputs} output file(s)` +
      (r.manifest!.problems ? `; ${r.manifest!.problems} problem(s) skipped: see _errors.jsonl` : "")
    : [
      `not merged: ${r.missing.length} shard(s) missing${r.missing.length ? ` (${r.missing.join(", ")})` : ""}, ${r.failed.length} failed${r.failed.length ? ":" : ""}`,
      ...r.failed.map((f) => `  shard ${f.index}: ${f.message}`),
      "rerun only those with:",
      ...r.rerun.map((c) => `  ${c}`),
    ].join("\n"),
  json: (r) => r,
};
