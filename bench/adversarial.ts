// Peak memory and time of the commands on TFRecord inputs built to cost memory: one 1 GiB record in
// a 1 MB gzip file, one record with 100,000 int64 features (and 10k/20k/40k to see the growth), and
// a 2^63 length. Each command runs as its own process under /usr/bin/time (peak RSS = its %M).
//   npm run build && node dist/bench/adversarial.js [--runs N]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bigGzipRecord, features, frame, header } from "./adversarial-inputs.js";

const at = process.argv.indexOf("--runs");
const runs = at > 0 ? Number(process.argv[at + 1]) : 1;
const CLI = new URL("../src/cli.js", import.meta.url).pathname;

function measure(label: string, args: string[]): void {
  const rss: number[] = [];
  const secs: number[] = [];
  const cpu: number[] = [];
  let last = "";
  let code = 0;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync("/usr/bin/time", ["-f", "%M %e %U %S", process.execPath, CLI, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
    const [kb, s] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    rss.push(kb * 1024);
    secs.push(s);
    code = r.status ?? -1;
    last = r.stderr.split("\n").find((l) => l.startsWith("arrowsmith:")) ?? "";
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  console.log(`${label.padEnd(44)} peak RSS ${(med(rss) / 2 ** 20).toFixed(0).padStart(5)} MiB (max ${(Math.max(...rss) / 2 ** 20).toFixed(0)})  ${med(secs).toFixed(2)} s (cpu ${med(cpu).toFixed(2)} s)  exit ${code}  ${last.slice(0, 110)}`);
}

const dir = mkdtempSync(join(tmpdir(), "arrowsmith-adversarial-"));
try {
  const big = join(dir, "big1g.tfrecord.gz");
  await bigGzipRecord(big);
  const huge = join(dir, "len2p63.tfrecord");
  writeFileSync(huge, Buffer.concat([header(1n << 63n), Buffer.alloc(64)]));
  const feats = [10_000, 20_000, 40_000, 100_000].map((n) => {
    const p = join(dir, `feat${n}.tfrecord`);
    writeFileSync(p, frame(features(n)));
    return [n, p] as const;
  });
  console.log(`${runs} run(s) each, median shown; node ${process.version}`);
  for (const cmd of ["convert", "verify", "inspect", "stats"]) {
    const out = cmd === "convert" ? ["-o", join(dir, `out-${cmd}`), "--on-error", "skip", "--quiet"] : [];
    measure(`${cmd} 1 GiB record in 1 MB gzip`, [cmd, big, ...out]);
  }
  measure("convert 2^63 length", ["convert", huge, "-o", join(dir, "out-huge"), "--quiet"]);
  for (const [n, p] of feats) measure(`convert one record, ${n} int64 features`, ["convert", p, "-o", join(dir, `out-f${n}`), "--quiet"]);
  measure("verify one record, 100000 int64 features", ["verify", feats[3][1]]);
  measure("inspect one record, 100000 int64 features", ["inspect", feats[3][1]]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
