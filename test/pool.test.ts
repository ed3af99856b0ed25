// The worker pool: no more workers than tasks and cores, and stopping workers that are still
// loading their modules is safe (terminating one mid-load used to abort V8: exit 134 in about half
// the runs of `--threads 32` on two inputs, with ~0.3 GB of memory per 10 workers started).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const POOL = new URL("../dist/src/pipeline/pool.js", import.meta.url).href;

let input: string;

beforeAll(() => {
  input = join(tmp(), "in");
  expect(spawnSync(process.execPath, [CLI, "generate", "scone", "-o", input, "--files", "2", "--events", "50"]).status).toBe(0);
});

describe("worker pool", () => {
  it("--threads far above the tasks: two workers for two inputs, every time", () => {
    for (let run = 0; run < 3; run++) {
      const r = spawnSync(process.execPath, [CLI, "convert", input, "-o", join(tmp(), "out"), "--threads", "64", "--json"], { encoding: "utf8" });
      expect(r.stderr).not.toMatch(/IsGraphAsync|internal error/);
      expect(r.status, `run ${run + 1}`).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.threads).toBe(2);
      expect(j.events).toBe(100);
      // 64 workers hold well over a gigabyte; two (and the main thread) a fraction of that
      expect(j.peak_rss_bytes).toBeLessThan(400e6);
    }
  }, 120_000);

  it("workers stopped while still loading their modules end cleanly", () => {
    // a fresh process each round, so that every worker is caught mid-load
    const script = `import { WorkerPool } from ${JSON.stringify(POOL)};
      const p = new WorkerPool(); p.ensure(4); await p.stop();
      if (p.size !== 0) throw new Error("workers left: " + p.size);
      console.log("stopped");`;
    for (let round = 0; round < 3; round++) {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status, `round ${round + 1}`).toBe(0);
      expect(r.stdout).toBe("stopped\n");
    }
  }, 120_000);

  it("a process whose workers are still loading when its work is done exits cleanly", () => {
    const script = `import { WorkerPool } from ${JSON.stringify(POOL)};
      new WorkerPool().ensure(4); console.log("done");`;
    for (let round = 0; round < 3; round++) {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status, `round ${round + 1}`).toBe(0);
    }
  }, 120_000);
});
