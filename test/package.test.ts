// The published package: `npm pack` ships only what runs (no benchmarks, no debug wasm, no source
// maps without their sources), with a LICENSE and no install-time scripts; installed from the
// tarball into an empty folder, `npx arrowsmith` converts a file there and the library imports.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** A user's TypeScript: the library's calls and types as the README shows them. */
const CONSUMER = `import { ArrowsmithError, convert, type ConvertSummary, readRecordBatches, type ReadOptions, SCONE_DEFAULTS } from "arrowsmith";
import type { RecordBatch } from "apache-arrow";

const s: ConvertSummary = await convert(["in.tfrecord"], { output: "out" });
const events: number = s.events;
await convert("in.npz", { output: "out", format: "parquet", sink: { tensorType: "plain" }, scone: { timeRange: [-30, 150] } });
const opts: ReadOptions = { kind: "scone", tensorType: "plain", scone: { precision: "f64" }, onProblem: (p) => console.log(p.code) };
for await (const b of readRecordBatches("in.tfrecord", opts)) {
  const r: RecordBatch = b;
  console.log(r.numRows, events, SCONE_DEFAULTS.bins[0]);
}
try {
  // @ts-expect-error output is required
  await convert("x", {});
} catch (e) {
  if (e instanceof ArrowsmithError) console.log(e.code, e.file);
}
`;

describe("npm pack", () => {
  // dist/ and build/ are fresh (npm test builds first), so pack without running prepack again
  const dest = tmp("arrowsmith-pack-");
  const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dest], { cwd: ROOT, encoding: "utf8" }))[0];
  const files: string[] = packed.files.map((f: { path: string }) => f.path);

  it("ships the CLI, the library with its types, the release wasm, the fonts, README and LICENSE, nothing else", () => {
    for (const f of ["dist/src/cli.js", "dist/src/index.js", "dist/src/index.d.ts", "build/arrowsmith.wasm", "LICENSE", "README.md", "package.json"]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith("dist/bench/") || f.startsWith("bench/"))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(files.filter((f) => /debug|\.wat$/.test(f))).toEqual([]);
    expect(files.filter((f) => /^(src|test|assembly|scripts)\//.test(f))).toEqual([]);
    expect(files.filter((f) => !/^(dist\/src\/.*\.(js|d\.ts)|build\/arrowsmith\.wasm|assets\/fonts\/.*|LICENSE|README\.md|package\.json)$/.test(f))).toEqual([]);
  });

  it("has an MIT LICENSE matching package.json and no install-time scripts (npm 11 warns about those)", () => {
    expect(pkg.license).toBe("MIT");
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License\n/);
    for (const s of ["preinstall", "install", "postinstall", "prepare"]) expect(pkg.scripts, s).not.toHaveProperty(s);
  });

  it("installs into an empty folder, where npx arrowsmith converts a file and the library imports", () => {
    const app = join(tmp("arrowsmith-app-"), "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
    // from the local npm cache where it has the packages (`npm ci` filled it), else the registry
    const inst = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dest, packed.filename)], { cwd: app, encoding: "utf8" });
    expect(inst.status, inst.stderr).toBe(0);
    expect(inst.stderr).not.toMatch(/install-scripts|prepare/);
    const out = join(app, "out");
    const r = spawnSync("npx", ["--no", "arrowsmith", "convert", join(FIXTURES, "scone/heatmaps_0000.tfrecord"), "-o", out, "--json"], { cwd: app, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).events).toBe(6);
    expect(readArrow(join(out, "heatmaps_0000.arrow")).numRows).toBe(6);
    writeFileSync(join(app, "lib.mjs"), 'import { convert, VERSION } from "arrowsmith"; console.log(typeof convert, VERSION);');
    const lib = spawnSync(process.execPath, ["lib.mjs"], { cwd: app, encoding: "utf8" });
    expect(lib.stdout.trim(), lib.stderr).toBe(`function ${pkg.version}`);

    // the published declarations, from a consumer under tsc --strict (no skipLibCheck: our .d.ts
    // files are checked too); @types/node is the consumer's own, here ours
    writeFileSync(join(app, "consumer.ts"), CONSUMER);
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--strict", "--noEmit", "--module", "nodenext",
      "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node", "--typeRoots", join(ROOT, "node_modules/@types"), "consumer.ts"],
    { cwd: app, encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 400_000);
});
