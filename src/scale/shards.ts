// A job array's slice of the work. Every shard plans the whole run (the same inputs, options and
// record-boundary cuts give the same task list on every node), then keeps the tasks of its own
// slice. The slices depend only on the plan, never on the node or the thread count, so N shards
// together write exactly the files that one run would.
import { ArrowsmithError } from "../errors.js";

export interface Shard {
  /** 0-based index of this shard. */
  index: number;
  /** Number of shards in the run. */
  count: number;
}

/** The file-name suffix of a shard's own files: `shard-3-of-8`. */
export function shardTag(s: Shard): string {
  return `shard-${s.index}-of-${s.count}`;
}

/**
 * `--shard I/N` (0 ≤ I < N), or `auto`: I and N from Slurm's job-array environment
 * (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT). Our job script also sets
 * ARROWSMITH_SHARDS=N: then I is SLURM_ARRAY_TASK_ID itself, so that resubmitting only some
 * indices (`sbatch --array=3,7`, whose MIN and COUNT are 3 and 2) still runs shards 3 and 7 of N.
 */
export function parseShard(spec: string, env: NodeJS.ProcessEnv = process.env): Shard {
  if (spec === "auto") {
    const fixed = env.ARROWSMITH_SHARDS;
    const id = env.SLURM_ARRAY_TASK_ID;
    const min = fixed !== undefined ? "0" : env.SLURM_ARRAY_TASK_MIN;
    const count = fixed ?? env.SLURM_ARRAY_TASK_COUNT;
    if (id === undefined || count === undefined) {
      throw new ArrowsmithError("usage", "--shard auto: not inside a Slurm job array (SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not set)", {
        hint: "submit the script written by `arrowsmith slurm`, or give the shard as --shard I/N",
      });
    }
    const index = Number(id) - Number(min ?? 0);
    const n = Number(count);
    if (!Number.isInteger(index) || !Number.isInteger(n) || n < 1 || index < 0 || index >= n) {
      throw new ArrowsmithError("usage", `--shard auto: SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_COUNT=${count} do not make a shard`, {
        hint: "submit the array as --array=0-(N-1) (the script written by `arrowsmith slurm` does)",
      });
    }
    return { index, count: n };
  }
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!m) throw new ArrowsmithError("usage", `--shard must be I/N (e.g. 0/4) or auto, not "${spec}"`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index >= count) throw new ArrowsmithError("usage", `--shard ${spec}: I must be between 0 and N-1 and N at least 1`);
  return { index, count };
}

/**
 * Which shard each task belongs to, balanced by bytes: tasks taken largest first (plan order
 * breaks ties) each go to the shard with the fewest bytes so far (lowest index breaks ties).
 * Deterministic in the sizes alone.
 */
export function assignShards(bytes: readonly number[], count: number): number[] {
  const order = bytes.map((b, i) => i).sort((a, b) => bytes[b] - bytes[a] || a - b);
  const load = new Array<number>(count).fill(0);
  const out = new Array<number>(bytes.length).fill(0);
  for (const i of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    out[i] = best;
    load[best] += bytes[i];
  }
  return out;
}

/** The tasks of shard `s`, in plan order. */
export function sliceTasks<T>(tasks: readonly T[], bytes: readonly number[], s: Shard): T[] {
  const owner = assignShards(bytes, s.count);
  return tasks.filter((_, i) => owner[i] === s.index);
}
