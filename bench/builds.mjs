#!/usr/bin/env node
// Two builds of arrowsmith on the same inputs, one thread, alternated run by run: is single-thread
// throughput unchanged across a refactor? Each side converts a 1,000-event and a 15,000-event SCONE
// shard and a 30,000-cluster NPZ batch (written once by the new build's `generate`) to Arrow; per
// run it records the process's CPU seconds (user + sys of all its threads, from /usr/bin/time, less
// disturbed by other load than wall time) and the conversion's own wall seconds (`--json`). The
// difference between the two SCONE sizes separates the per-run fixed cost from the per-event cost.
//
//   git worktree add /tmp/before <commit> && (cd /tmp/before && ln -s "$PWD/node_modules" . && npm run build)
//   node bench/builds.mjs --old /tmp/before/dist/src/cli.js [--new dist/src/cli.js] [--runs 5] [--dir /dev/shm/x]
//
// New-side options (e.g. --no-metrics --no-report, to compare the same work with a build that
// lacked the 40 columns and the report) go after `--new-args`, comma-separated.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i < 0 ? d : argv[i + 1]; };
const OLD = opt("--old");
const NEW = resolve(opt("--new", new URL("../dist/src/cli.js", import.meta.url).pathname));
if (!OLD) throw new Error("usage: node bench/builds.mjs --old <other build's dist/src/cli.js> [--new <cli.js>] [--runs N] [--new-args a,b]");
const runs = Number(opt("--runs", "5"));
const newArgs = (opt("--new-args", "--no-metrics,--no-report")).split(",").filter(Boolean);
const dir = opt("--dir") ?? mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "arrowsmith-builds-"));

const gen = (kind, events, sub) => {
  const out = join(dir, sub);
  if (!existsSync(out)) execFileSync(process.execPath, [NEW, "generate", kind, "-o", out, "--files", "1", "--events", String(events)], { stdio: "ignore" });
  return join(out, readdirSync(out)[0]);
};
const small = gen("scone", 1000, "scone-1k"), large = gen("scone", 15000, "scone-15k"), npz = gen("clusters", 30000, "clusters-30k");
const V = [
  ["scone 1,000 events", OLD, small, []], ["scone 1,000 events", NEW, small, newArgs],
  ["scone 15,000 events", OLD, large, []], ["scone 15,000 events", NEW, large, newArgs],
  ["npz 30,000 clusters", OLD, npz, []], ["npz 30,000 clusters", NEW, npz, newArgs.filter((a) => a !== "--no-metrics")],
];
const R = V.map(() => ({ cpu: [], wall: [] }));
for (let r = 0; r < runs; r++) {
  for (const i of (r % 2 ? [...V.keys()].reverse() : [...V.keys()])) {
    const [, cli, input, args] = V[i];
    const out = join(dir, "out");
    rmSync(out, { recursive: true, force: true });
    const p = spawnSync("/usr/bin/time", ["-f", "TIME %U %S", process.execPath, cli, "convert", input, "-o", out, "--threads", "1", "--json", "--quiet", ...args], { encoding: "utf8" });
    if (p.status !== 0) throw new Error(`${cli}: ${p.stderr}`);
    const [u, s] = p.stderr.trim().split("\n").pop().split(" ").slice(1).map(Number);
    R[i].cpu.push(u + s);
    R[i].wall.push(JSON.parse(p.stdout).seconds);
    rmSync(out, { recursive: true, force: true });
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const rng = (a) => `${Math.min(...a).toFixed(2)}-${Math.max(...a).toFixed(2)}`;
console.log(`${runs} runs each, alternated, --threads 1; old ${OLD}; new ${NEW} ${newArgs.join(" ")}; inputs in ${dir}`);
for (const [i, [name, cli, input]] of V.entries()) {
  const mib = statSync(input).size / 1048576;
  console.log(`${name.padEnd(20)} ${cli === OLD ? "old" : "new"}  CPU ${med(R[i].cpu).toFixed(2)} s [${rng(R[i].cpu)}]  convert wall ${med(R[i].wall).toFixed(2)} s [${rng(R[i].wall)}]  ${(mib / med(R[i].wall)).toFixed(0)} MiB/s`);
}
for (const side of [0, 1]) {
  const per = (med(R[2 + side].cpu) - med(R[side].cpu)) / 14000 * 1e6;
  console.log(`${side ? "new" : "old"}: CPU per SCONE event ${per.toFixed(0)} us (15,000 - 1,000 events); fixed CPU per run ~${(med(R[side].cpu) - per * 1000 / 1e6).toFixed(2)} s`);
}
if (!opt("--dir")) rmSync(dir, { recursive: true, force: true });
