// The SNID index: `_index.parquet` (read here by DuckDB) holds one row per SCONE event of the
// folder, equal row for row to the outputs (id, label, z, z_err, record) and to the fixture
// generator's byte offsets, whatever the run: 2 threads with a split shard, --resume after a
// complete run, after a killed one and without the earlier index, and a job array's shards joined
// by merge. `find` answers from the index and, without it, by reading the inputs; `index` writes
// scone_tools' own CSV, which Python's csv + gzip read as the tool's would.
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { fixed6 } from "../src/commands/index.ts";
import { useDuckDB } from "./duckdb.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const CLI = new URL("../dist/src/cli.js", import.meta.url).pathname;
const PY = "/usr/bin/python3";

function cli(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: o.cwd, env: { ...process.env, ...o.env } });
}

function ok(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = cli(args, o);
  expect(r.status, `${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r;
}

/** The SCONE fixtures (heatmaps_0000 is cut into parts at 200 KB) and a cluster batch (no SNIDs: not indexed). */
function inputsFolder(): string {
  const dir = tmp("arrowsmith-index-in-");
  cpSync(join(FIXTURES, "scone"), dir, { recursive: true, filter: (s) => !s.endsWith(".json") });
  copyFileSync(join(FIXTURES, "clusters/dataset/clusters_planeU_batch0000.npz"), join(dir, "clusters_planeU_batch0000.npz"));
  return dir;
}
const SPLIT = ["--task-bytes", "200000", "--no-report", "--quiet"];

interface Row { id: string; label: number; z: number | null; z_err: number | null; source: string; record: number; offset: number; output: string; row: number }

const query = useDuckDB();
/** The index as DuckDB reads it, in file order. */
async function indexRows(dir: string, name = "_index.parquet"): Promise<Row[]> {
  return (await query(`select * from read_parquet('${join(dir, name)}')`)).map((x) => ({
    id: String(x.id), label: Number(x.label), z: x.z === null ? null : Number(x.z), z_err: x.z_err === null ? null : Number(x.z_err),
    source: String(x.source), record: Number(x.record), offset: Number(x.offset), output: String(x.output), row: Number(x.row),
  }));
}

/** Byte offset of each record, as the fixture generator (Python: protobuf + crc32c) wrote them. */
const OFFSETS = (() => {
  const exp = JSON.parse(readFileSync(join(FIXTURES, "scone/expected.json"), "utf8")) as { files: { file: string; events: { record: number; offset: number; id: number }[] }[] };
  return new Map(exp.files.map((f) => [f.file, f.events]));
})();

/** What the index must hold: every row of every SCONE output the manifest lists, in its order. */
function expectedRows(dir: string): Row[] {
  const m = JSON.parse(readFileSync(join(dir, "_manifest.json"), "utf8")) as { inputs: { input: string; kind: string; outputs: { file: string }[] }[] };
  const rows: Row[] = [];
  for (const e of m.inputs.filter((x) => x.kind === "scone")) {
    const events = OFFSETS.get(e.input.split("/").pop()!)!;
    for (const o of e.outputs) {
      const t = readArrow(join(dir, o.file));
      const col = (n: string) => t.getChild(n)!.toArray() as ArrayLike<unknown>;
      const [id, label, z, zErr, record] = ["id", "label", "z", "z_err", "record"].map(col);
      const zv = t.getChild("z")!, ze = t.getChild("z_err")!;
      for (let i = 0; i < t.numRows; i++) {
        const rec = Number(record[i]);
        expect(String(events[rec].id), `${o.file} row ${i}`).toBe(String(id[i]));
        rows.push({
          id: String(id[i]), label: Number(label[i]), z: zv.isValid(i) ? Number(z[i]) : null, z_err: ze.isValid(i) ? Number(zErr[i]) : null,
          source: e.input, record: rec, offset: events[rec].offset, output: o.file, row: i,
        });
      }
    }
  }
  return rows;
}

async function expectIndexMatchesOutputs(dir: string): Promise<Row[]> {
  const rows = await indexRows(dir);
  const want = expectedRows(dir);
  expect(want.length).toBe(18); // every SCONE event of the fixtures
  expect(rows).toEqual(want);
  return rows;
}

describe("the SNID index of a conversion", () => {
  const input = inputsFolder();
  let plain: string;
  let plainRows: Row[];

  it("2 threads and a split shard: _index.parquet equals the outputs row for row, offsets as the generator wrote them", async () => {
    plain = join(tmp("arrowsmith-index-"), "out");
    ok(["convert", input, "-o", plain, "--threads", "2", ...SPLIT]);
    expect(readdirSync(plain)).toContain("heatmaps_0000-part0001.arrow");
    plainRows = await expectIndexMatchesOutputs(plain);
    // the parts: rows restart at 0 in each, records go on
    const part1 = plainRows.filter((r) => r.output === "heatmaps_0000-part0001.arrow");
    expect(part1[0].row).toBe(0);
    expect(part1[0].record).toBeGreaterThan(0);
  });

  it("--resume: outputs kept from a complete run, from a killed run, and without the earlier index are all indexed", async () => {
    const out = join(tmp("arrowsmith-index-"), "out");
    const f = (n: string) => join(input, n);
    // a complete run of two inputs, then --resume with all: their rows come from the earlier index
    ok(["convert", f("heatmaps_0000.tfrecord"), f("heatmaps_0001.tfrecord"), "-o", out, ...SPLIT]);
    ok(["convert", input, "-o", out, "--resume", ...SPLIT]);
    expect(await indexRows(out)).toEqual(plainRows);
    // without the index, a --resume that converts nothing reads the kept inputs again
    rmSync(join(out, "_index.parquet"));
    const r = ok(["convert", input, "-o", out, "--resume", ...SPLIT]);
    expect(r.stderr).not.toMatch(/leaves out/);
    expect(await indexRows(out)).toEqual(plainRows);

    // a run whose worker dies on one input (no index, no manifest: only the journal), then --resume
    const killed = join(tmp("arrowsmith-index-"), "out");
    const k = cli(["convert", input, "-o", killed, "--threads", "2", ...SPLIT], { env: { ARROWSMITH_TEST_KILL_WORKER: "legacy_0000" } });
    expect(k.status).not.toBe(0);
    expect(existsSync(join(killed, "_index.parquet"))).toBe(false);
    // the inputs finished before the kill are journaled, kept by --resume and read again for the index
    expect(readFileSync(join(killed, ".arrowsmith-journal.jsonl"), "utf8")).toMatch(/heatmaps_0000/);
    // without --quiet, which hides the summary that says so
    const resumed = ok(["convert", input, "-o", killed, "--resume", "--threads", "2", ...SPLIT.filter((a) => a !== "--quiet")]);
    expect(resumed.stdout + resumed.stderr).toMatch(/already converted, left alone/);
    expect(await indexRows(killed)).toEqual(plainRows);
    await expectIndexMatchesOutputs(killed);
  });

  it("shards of a job array write their own index; merge joins them into the one a plain run writes", async () => {
    const out = join(tmp("arrowsmith-index-"), "out");
    for (const i of [2, 0, 1]) ok(["convert", input, "-o", out, "--shard", `${i}/3`, ...SPLIT]);
    const shardIndexes = readdirSync(out).filter((n) => /^_index\.shard-\d-of-3\.parquet$/.test(n));
    expect(shardIndexes.length).toBeGreaterThan(1);
    expect(existsSync(join(out, "_index.parquet"))).toBe(false);
    // before the merge, find already answers from the shards' indexes
    const before = JSON.parse(ok(["find", out, "--id", plainRows[7].id, "--json"]).stdout);
    expect(before.from).toBe("index");
    expect(before.found[0].output).toBe(plainRows[7].output);
    ok(["merge", out]);
    expect(await indexRows(out)).toEqual(plainRows);
    await expectIndexMatchesOutputs(out);
  });

  it("find: from the index across the shards of a folder, then by reading the inputs once the index is gone; exit 1 names the SNIDs not found", () => {
    const out = join(tmp("arrowsmith-index-"), "out");
    cpSync(plain, out, { recursive: true });
    // one event of each input file, a part of the split one included
    const pick = [...new Map(plainRows.map((r) => [r.output, r])).values()];
    expect(pick.length).toBeGreaterThanOrEqual(6);
    const ids = pick.map((r) => r.id).join(",");
    const fromIndex = JSON.parse(ok(["find", out, "--id", ids, "--json"]).stdout);
    expect(fromIndex.from).toBe("index");
    expect(fromIndex.missing).toEqual([]);
    const want = pick.map((r) => ({ id: r.id, output: r.output, row: r.row, source: r.source, record: r.record, offset: r.offset, label: r.label }));
    const strip = (f: Record<string, unknown>) => ({ id: f.id, output: f.output, row: f.row, source: f.source, record: f.record, offset: f.offset, label: f.label });
    expect(fromIndex.found.map(strip)).toEqual(want);
    for (const [i, f] of fromIndex.found.entries()) expect(f.z).toBe(pick[i].z);

    rmSync(join(out, "_index.parquet"));
    const scanned = JSON.parse(ok(["find", out, "--id", ids, "--json"]).stdout);
    expect(scanned.from).toBe("scan");
    expect(scanned.found.map(strip)).toEqual(want);
    // the input folder itself (no manifest): where in the inputs, no output known
    const inputs = JSON.parse(ok(["find", input, "--id", pick[1].id, "--json"]).stdout);
    expect(inputs.found.map(strip)).toEqual([{ ...want[1], output: null, row: null }]);

    // missing SNIDs: exit 1, named on stderr; the ones found are still printed
    for (const dir of [plain, out]) {
      const r = cli(["find", dir, "--id", `${pick[0].id},424242,7`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/not found: SNID 424242, 7/);
      expect(r.stdout).toContain(pick[0].output);
    }
    // usage errors: exit 2
    expect(cli(["find", plain]).status).toBe(2);
    expect(cli(["find", plain, "--id", "12x"]).status).toBe(2);
  });

  it("a file named _index.parquet that arrowsmith did not write is refused, not replaced", () => {
    const out = join(tmp("arrowsmith-index-"), "out");
    ok(["convert", join(input, "legacy_0000.tfrecord"), "-o", out, ...SPLIT]);
    writeFileSync(join(out, "_index.parquet"), "mine");
    const r = cli(["convert", join(input, "heatmaps_0001.tfrecord"), "-o", out, ...SPLIT]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/_index\.parquet.*not an index written by arrowsmith/);
    expect(readFileSync(join(out, "_index.parquet"), "utf8")).toBe("mine");
  });
});

describe("arrowsmith index: scone_tools' snid_index.csv.gz", () => {
  const files = ["scone/heatmaps_0000.tfrecord", "scone/heatmaps_0001.tfrecord", "scone/heatmaps_0002.tfrecord.gz", "scone/heatmaps_0003.tfrecord.zz", "scone/legacy_0000.tfrecord"];

  it("Python's csv + gzip read it as the tool reads its own, and it equals what the tool would write (protobuf-parsed)", () => {
    const out = join(tmp("arrowsmith-snid-"), "snid_index.csv.gz");
    ok(["index", ...files, "-o", out, "--quiet"], { cwd: FIXTURES });
    const read = spawnSync(PY, ["-c", `
import csv, gzip, json, sys
with gzip.open(sys.argv[1], 'rt', newline='') as f:
    text = f.read()
with gzip.open(sys.argv[1], 'rt', newline='') as f:
    rows = list(csv.DictReader(f))
print(json.dumps({"text": text, "snids": [int(r['snid']) for r in rows], "files": [r['tfrecord_file'] for r in rows]}))
`, out], { encoding: "utf8" });
    expect(read.status, read.stderr).toBe(0);
    const got = JSON.parse(read.stdout);
    const want = spawnSync(PY, [join(FIXTURES, "snid_index_expected.py"), ...files], { encoding: "utf8", cwd: FIXTURES });
    expect(want.status, want.stderr).toBe(0);
    expect(got.text).toBe(want.stdout);
    expect(got.snids.length).toBe(18);
    expect(new Set(got.files)).toEqual(new Set(files));
  });

  it("--no-verify (the image bytes of uncompressed files not read) writes the same index", () => {
    const dir = tmp("arrowsmith-snid-");
    ok(["index", ...files, "-o", join(dir, "a.csv.gz"), "--quiet"], { cwd: FIXTURES });
    ok(["index", ...files, "-o", join(dir, "b.csv.gz"), "--quiet", "--no-verify"], { cwd: FIXTURES });
    const text = (f: string) => gunzipSync(readFileSync(join(dir, f))).toString("utf8");
    expect(text("a.csv.gz").split("\r\n").length).toBe(20);
    expect(text("b.csv.gz")).toBe(text("a.csv.gz"));
  });

  it("replaces an index it wrote, refuses any other file (exit 2) unless --overwrite, and refuses NPZ inputs", () => {
    const dir = tmp("arrowsmith-snid-");
    const out = join(dir, "snid_index.csv.gz");
    ok(["index", join(FIXTURES, "scone/heatmaps_0001.tfrecord"), "-o", out, "--quiet"]);
    ok(["index", join(FIXTURES, "scone/heatmaps_0001.tfrecord"), "-o", out, "--quiet"]);
    const foreign = join(dir, "other.csv.gz");
    writeFileSync(foreign, "not ours");
    const r = cli(["index", join(FIXTURES, "scone/heatmaps_0001.tfrecord"), "-o", foreign]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not an index written by arrowsmith/);
    expect(readFileSync(foreign, "utf8")).toBe("not ours");
    ok(["index", join(FIXTURES, "scone/heatmaps_0001.tfrecord"), "-o", foreign, "--overwrite", "--quiet"]);
    expect(readFileSync(foreign).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(cli(["index", join(FIXTURES, "clusters/dataset/clusters_planeU_batch0000.npz"), "-o", join(dir, "x.csv.gz")]).status).toBe(2);
  });

  it("z as Python's %.6f of the float32 value: ties to even, -0, tiny negatives, large values, NaN and infinities", () => {
    const f32 = [0.0078125, 0.5078125, 1.5 / 1e6, 2.5e-6, -2.5e-6, 1e-7, -1e-9, -0, 0, 3.0e10, 1.7e38, 0.1109241172671318, NaN, Infinity, -Infinity, 2 ** -149]
      .map((x) => Math.fround(x));
    const py = spawnSync(PY, ["-c", "import json,sys\nprint(json.dumps([f'{v:.6f}' for v in json.loads(sys.argv[1], parse_constant=float)]))",
      JSON.stringify(f32.map((x) => (Object.is(x, -0) ? "NEGZERO" : Number.isFinite(x) ? x : String(x)))).replace(/"(NaN|Infinity|-Infinity)"/g, "$1").replace(/"NEGZERO"/g, "-0.0")], { encoding: "utf8" });
    expect(py.status, py.stderr).toBe(0);
    expect(f32.map(fixed6)).toEqual(JSON.parse(py.stdout));
  });
});
