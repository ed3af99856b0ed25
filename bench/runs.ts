// Repeated, alternated runs and their summary, shared by the benchmarks: every contender runs the
// same number of times, in turn (A B C A B C …, so drift on a shared machine hits all alike), and
// each figure is printed as the median with its spread (min and max of the runs).

export interface Summary {
  runs: number;
  median: number;
  min: number;
  max: number;
  /** (max - min) / median */
  spread: number;
}

export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new Error("no runs to summarize");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { runs: s.length, median, min: s[0], max: s[s.length - 1], spread: median > 0 ? (s[s.length - 1] - s[0]) / median : 0 };
}

/** "1.234 s (1.200-1.300, ±4%, 3 runs)" */
export function describeSeconds(s: Summary): string {
  return `${s.median.toFixed(3)} s (${s.min.toFixed(3)}-${s.max.toFixed(3)}, spread ${(100 * s.spread).toFixed(0)}%, ${s.runs} runs)`;
}

/**
 * Runs each contender `runs` times, alternating between them (after `warmup` untimed rounds), and
 * returns every result by name.
 * A contender that throws stops the benchmark: a figure from fewer runs would not compare.
 */
export async function alternate<T>(
  contenders: [string, () => Promise<T> | T][], runs: number, onRun?: (name: string, run: number, r: T) => void, warmup = 0,
): Promise<Map<string, T[]>> {
  if (!(runs >= 1)) throw new Error(`--runs must be at least 1, not ${runs}`);
  // untimed rounds first (JIT, wasm compilation, page cache), the same for every contender
  for (let w = 0; w < warmup; w++) for (const [, fn] of contenders) await fn();
  const all = new Map<string, T[]>(contenders.map(([name]) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const [name, fn] of contenders) {
      let r: T;
      try {
        r = await fn();
      } catch (e) {
        throw new Error(`${name} failed in run ${run + 1}: ${(e as Error).message}`);
      }
      all.get(name)!.push(r);
      onRun?.(name, run, r);
    }
  }
  return all;
}

/** Every contender must have handled the same number of events, in every run. */
export function checkEvents(counts: Map<string, number[]>, expected: number): void {
  for (const [name, list] of counts) {
    const wrong = list.filter((n) => n !== expected);
    if (wrong.length) throw new Error(`${name} handled ${wrong.join(", ")} events, not the ${expected} of the input: its figure would not compare`);
  }
}
