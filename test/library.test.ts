// The library from a user's side: convert() with only `output` from plain JavaScript, and
// readRecordBatches(): the batches convert writes, with the files' schema, without files.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RecordBatch, Table, tableToIPC } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { convert, readRecordBatches } from "../src/index.ts";
import type { Problem } from "../src/pipeline/policy.ts";
import { generateScone } from "../src/generate.ts";
import { FIXTURES, readArrow, tmp } from "./helpers.ts";

const INDEX = new URL("../dist/src/index.js", import.meta.url).href;
const SCONE = join(FIXTURES, "scone/heatmaps_0000.tfrecord");

async function collect(path: string | string[], options = {}): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of readRecordBatches(path, options)) out.push(b);
  return out;
}

/** Schema (fields, types, field and schema metadata) and every value, as IPC stream bytes. */
const ipc = (batches: RecordBatch[]) => Buffer.from(tableToIPC(new Table(batches), "stream"));

describe("convert from plain JavaScript", () => {
  it("needs only `output`: every other option has the CLI's default", () => {
    const out = tmp();
    const js = `import { convert } from ${JSON.stringify(INDEX)};
      const s = await convert([${JSON.stringify(SCONE)}], { output: ${JSON.stringify(out)} });
      console.log(JSON.stringify({ events: s.events, format: s.manifest.options.format }));`;
    const script = join(tmp(), "convert.mjs");
    writeFileSync(script, js);
    const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ events: 6, format: "arrow" });
    expect(readArrow(join(out, "heatmaps_0000.arrow")).numRows).toBe(6);
  });

  it("says which option is missing", async () => {
    await expect(convert([SCONE], {} as never)).rejects.toMatchObject({ code: "usage", message: expect.stringContaining("options.output") });
  });
});

describe("readRecordBatches", () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ["SCONE shards, plain and compressed", join(FIXTURES, "scone"), {}],
    ["SCONE, f64 tensors, plain tensor type", join(FIXTURES, "scone/heatmaps_0001.tfrecord"), { scone: { precision: "f64" }, tensorType: "plain" }],
    ["cluster batches", join(FIXTURES, "clusters/dataset"), {}],
    ["a generic NPZ", join(FIXTURES, "clusters/generic/table.npz"), {}],
    ["a generic TFRecord", join(FIXTURES, "tfrecord/wire.tfrecord"), { kind: "generic" }],
  ];
  for (const [what, input, options] of cases) {
    it(`${what}: the same schema and values as the files convert writes`, async () => {
      const out = tmp();
      const { scone, tensorType, ...rest } = options as { scone?: object; tensorType?: string };
      const s = await convert([input], { output: out, threads: 1, scone, sink: { tensorType: tensorType as never }, ...rest });
      const files = s.results.map((r) => r.output!.path).filter(Boolean);
      expect(files.length).toBeGreaterThan(0);
      const batches = await collect(input, options);
      expect(batches.length).toBeGreaterThan(0);
      // input order: the files' batches one after another
      const fromFiles = files.flatMap((f) => readArrow(f).batches);
      expect(batches.reduce((a, b) => a + b.numRows, 0)).toBe(s.events);
      expect(ipc(batches).equals(ipc(fromFiles)), what).toBe(true);
    });
  }

  it("stops early without reading on, and can read again", async () => {
    const dir = tmp();
    await generateScone(dir, { files: 1, events: 40, seed: 3 });
    const path = join(dir, readdirSync(dir)[0]);
    const fds = () => readdirSync("/proc/self/fd").length;
    const before = fds();
    let seen = 0;
    for await (const b of readRecordBatches(path, { scone: { batchRows: 4 } })) {
      seen += b.numRows;
      break;
    }
    expect(seen).toBe(4);
    expect(fds()).toBe(before);
    expect((await collect(path, { scone: { batchRows: 4 } })).length).toBe(10);
  });

  it("fail mode throws the damage after the good batches; skip mode reports it and goes on", async () => {
    const exp = JSON.parse(readFileSync(join(FIXTURES, "scone/expected.json"), "utf8")).files[0].events;
    const bytes = readFileSync(SCONE);
    bytes[exp[4].offset + 12 + 777] ^= 0x10;
    const p = join(tmp(), "heatmaps_9999.tfrecord");
    writeFileSync(p, bytes);
    await expect(collect(p)).rejects.toMatchObject({ code: "data_crc", file: p, record: 4 });
    const problems: Problem[] = [];
    const got = await collect(p, { onError: "skip", onProblem: (x: Problem) => problems.push(x) });
    expect(got.reduce((a, b) => a + b.numRows, 0)).toBe(exp.length - 1);
    expect(problems).toEqual([expect.objectContaining({ code: "data_crc", record: 4 })]);
  });

  it("refuses an unknown option by name", async () => {
    await expect(collect(SCONE, { treads: 2 })).rejects.toMatchObject({ code: "usage", message: expect.stringContaining("options.treads") });
  });
});

// A JavaScript caller reads or converts several inputs at once (Promise.all) in one thread. Each
// reader and each planning pass has a wasm instance of its own: with one shared instance, one
// reader's allocations released another's ("wasm release mark … outside"), and memory grown by
// one detached the view a gzip reader was about to fill ("detached ArrayBuffer").
describe("several at once in one thread", () => {
  const inputs = ["heatmaps_0002.tfrecord.gz", "heatmaps_0003.tfrecord.zz", "heatmaps_0000.tfrecord"].map((n) => join(FIXTURES, "scone", n));

  it("readRecordBatches: the same batches as one after another", async () => {
    const alone: Buffer[] = [];
    for (const f of inputs) alone.push(ipc(await collect(f)));
    const together = await Promise.all([...inputs, ...inputs, ...inputs].map(async (f) => ipc(await collect(f))));
    together.forEach((b, i) => expect(b.equals(alone[i % inputs.length]), inputs[i % inputs.length]).toBe(true));
  });

  it("convert: the same files as one after another, in this thread and in workers", async () => {
    const names = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".arrow")).sort();
    const ref = tmp();
    await convert(inputs, { output: ref, inThread: true });
    for (const inThread of [true, false]) {
      const outs = [tmp(), tmp(), tmp()];
      await Promise.all(outs.map((output) => convert(inputs, { output, inThread, threads: 1 })));
      for (const out of outs) {
        expect(names(out)).toEqual(names(ref));
        for (const n of names(ref)) expect(readFileSync(join(out, n)).equals(readFileSync(join(ref, n))), n).toBe(true);
      }
    }
  });
});
