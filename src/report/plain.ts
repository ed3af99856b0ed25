// A task's statistics as it returns them carry their per-pixel sums (SCONE flux maps by class,
// cluster images by plane) as float64 arrays, moved from the worker rather than serialized value by
// value. Where statistics are written as JSON (shard manifests, journals) or handed to a caller,
// the sums become plain arrays (non-finite values as null, as everywhere in the report's JSON).
import { jnums } from "./accumulators.js";
import type { ClusterStatsJson } from "./cluster-stats.js";
import type { SconeStatsJson } from "./scone-stats.js";

type Sums = { n: number; sum: ArrayLike<number | null>; sum_sq?: ArrayLike<number | null> };

function plainSums<T extends Sums>(m: Record<string, T>): Record<string, { n: number; sum: (number | null)[]; sum_sq?: (number | null)[] }> {
  const out: Record<string, { n: number; sum: (number | null)[]; sum_sq?: (number | null)[] }> = {};
  for (const [k, f] of Object.entries(m)) out[k] = { n: f.n, sum: jnums(f.sum), ...(f.sum_sq ? { sum_sq: jnums(f.sum_sq) } : {}) };
  return out;
}

/** Statistics of any kind with their sums as JSON arrays. */
export function plainStats<S extends SconeStatsJson | ClusterStatsJson>(s: S): S {
  return s.kind === "scone" ? { ...s, flux: plainSums((s as SconeStatsJson).flux) } : { ...s, images: plainSums((s as ClusterStatsJson).images) };
}
