// Reading only the small features of each record (readRecords' `sparse`, what `index --no-verify`
// uses): on records written by Google protobuf (the SCONE fixtures, the wire-format fixture, the
// public samples), and on those records with their map entries reordered, the records handed out
// decode to the same features as the whole records, at the same frame offsets and indexes; a
// skipped feature's bytes are not read; damage (a cut file, an oversized record, an Example that
// does not parse) is reported exactly as the full reader reports it.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KEY_IMAGE, keyCode, SconeScalars } from "../src/datasets/scone-scalars.ts";
import { isArrowsmithError } from "../src/errors.ts";
import { keyString, scanExample } from "../src/formats/example.ts";
import { frameHeader } from "../src/formats/tfrecord.ts";
import { readRecords, type RecordLoopOptions } from "../src/io/records.ts";
import { type SparseFeatures, sparseWindows } from "../src/io/sparse-records.ts";
import { ErrorPolicy } from "../src/pipeline/policy.ts";
import { maskedCrcOf, openStream } from "../src/sources.ts";
import { kernels } from "../src/wasm.ts";
import { EXTERNAL, FIXTURES, tmp } from "./helpers.ts";

const k = kernels();
const ALL: SparseFeatures = { over: 0, keep: () => true };
const SCALARS: SparseFeatures = { over: 256, keep: (b, s, e) => { const c = keyCode(b, s, e); return c !== 0 && c !== KEY_IMAGE; } };
const hex = (b: Uint8Array, s: number, e: number) => Buffer.from(b.subarray(s, e)).toString("hex");

/** Each record as read: its frame, and its features (name → kind and list bytes) or the error decoding it. */
async function readAll(path: string, o: Partial<RecordLoopOptions> = {}) {
  const policy = new ErrorPolicy(o.policy?.mode ?? "skip");
  const recs: unknown[] = [];
  let ended: string | undefined;
  try {
    await readRecords(k, path, { verify: false, ...o, policy }, (w, _p, f) => {
      const feats: string[] = [];
      try {
        scanExample(w, f.start, f.start + f.length, (s, e, r) => {
          const parts = [r.start, r.end, ...(r.more ?? [])];
          const lists: string[] = [];
          for (let i = 0; i < parts.length; i += 2) lists.push(hex(w, parts[i], parts[i + 1]));
          feats.push(`${keyString(w, s, e)}=${r.kind}:${lists.join("+")}`);
        });
        recs.push({ index: f.index, offset: f.offset, feats });
      } catch (e) {
        recs.push({ index: f.index, offset: f.offset, error: (e as Error).message });
      }
    });
  } catch (e) {
    if (!isArrowsmithError(e)) throw e;
    ended = `${e.code} ${e.message} @${e.offset}/${e.record}`;
  }
  return { recs, ended, problems: policy.problems.map((p) => `${p.code} ${p.message} @${p.offset}/${p.record}`) };
}

/** The data of each record of an uncompressed TFRecord file (read here without our reader). */
function recordsOf(path: string): Uint8Array[] {
  const b = new Uint8Array(readFileSync(path));
  const dv = new DataView(b.buffer, b.byteOffset);
  const out: Uint8Array[] = [];
  for (let p = 0; p < b.length;) {
    const n = dv.getUint32(p, true);
    out.push(b.subarray(p + 12, p + 12 + n));
    p += 16 + n;
  }
  return out;
}

/** A TFRecord file of these records, framed with real CRCs. */
function tfrecord(records: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const r of records) {
    parts.push(frameHeader(r.length, (h) => maskedCrcOf(k, h)), r);
    const c = new Uint8Array(4);
    new DataView(c.buffer).setUint32(0, maskedCrcOf(k, r), true);
    parts.push(c);
  }
  return new Uint8Array(Buffer.concat(parts));
}

function varint(x: number): number[] {
  const out: number[] = [];
  while (x >= 0x80) { out.push((x & 0x7f) | 0x80); x = Math.floor(x / 0x80); }
  out.push(x);
  return out;
}

/** The Example's map entries (raw bytes, tag and length included), from each of its Features fields. */
function entries(rec: Uint8Array): Uint8Array[] {
  let p = 0;
  const read = () => { let v = 0, m = 1, x; do { x = rec[p++]; v += (x & 0x7f) * m; m *= 128; } while (x & 0x80); return v; };
  const out: Uint8Array[] = [];
  while (p < rec.length) {
    expect(rec[p++]).toBe(0x0a);
    const end = read() + p;
    while (p < end) {
      const s = p;
      expect(rec[p++]).toBe(0x0a);
      const n = read();
      p += n;
      out.push(rec.subarray(s, p));
    }
  }
  return out;
}

function example(es: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(es);
  return new Uint8Array(Buffer.concat([Buffer.from([0x0a, ...varint(body.length)]), body]));
}

const SCONE = ["scone/heatmaps_0000.tfrecord", "scone/heatmaps_0001.tfrecord", "scone/legacy_0000.tfrecord", "tfrecord/wire.tfrecord"].map((f) => join(FIXTURES, f));
const PUBLIC = ["nking_movies.tfrecord", "pwnall_data.tfrecord", "pwnall_singles.tfrecords", "tfrecord_lite_images.tfrecord", "tfrecord_lite_test.tfrecord"]
  .map((f) => join(EXTERNAL, f)).filter((f) => existsSync(f));

describe("reading only the small features of each record", () => {
  it("hands out records that decode as the whole ones (every feature kept), on Google protobuf's records and the public samples", async () => {
    for (const f of [...SCONE, ...PUBLIC]) {
      const full = await readAll(f);
      expect(full.recs.length, f).toBeGreaterThan(0);
      expect(await readAll(f, { sparse: ALL }), f).toEqual(full);
    }
  });

  it("with the image first, in the middle or last, and a feature repeated: the scalars as from the whole records, the image left out", async () => {
    const recs = recordsOf(join(FIXTURES, "scone/heatmaps_0000.tfrecord"));
    const built: Uint8Array[] = [];
    recs.forEach((r, i) => {
      const es = entries(r);
      expect(es.length).toBe(5); // id, label, z, z_err, image_raw (as protobuf wrote them)
      const [id, label, z, zErr, image] = es;
      const orders = [[image, id, label, z, zErr], [id, label, image, z, zErr], [id, label, z, zErr, image], [label, id, image, zErr, z, id]];
      built.push(example(orders[i % orders.length]));
    });
    const path = join(tmp("arrowsmith-sparse-"), "reordered.tfrecord");
    writeFileSync(path, tfrecord(built));
    const scalars = async (sparse?: SparseFeatures) => {
      const out: unknown[] = [];
      const s = new SconeScalars();
      await readRecords(k, path, { verify: false, policy: new ErrorPolicy("fail"), sparse }, (w, _p, f) => {
        s.read(w, f, path);
        const keys: string[] = [];
        scanExample(w, f.start, f.start + f.length, (a, b) => keys.push(keyString(w, a, b)));
        out.push({ index: f.index, offset: f.offset, id: s.hasId ? String(s.id) : null, label: s.hasLabel ? String(s.label) : null, z: s.hasZ ? s.z : null, zErr: s.hasZErr ? s.zErr : null, image: keys.includes("image_raw") });
      });
      return out;
    };
    const full = await scalars();
    expect(full.every((r) => (r as { image: boolean }).image)).toBe(true);
    const sparse = await scalars(SCALARS);
    expect(sparse).toEqual(full.map((r) => ({ ...(r as object), image: false })));
    expect(await readAll(path, { sparse: ALL })).toEqual(await readAll(path));
  });

  it("does not read the bytes of the features it skips", async () => {
    const path = join(FIXTURES, "scone/heatmaps_0000.tfrecord");
    const size = readFileSync(path).length;
    const input = openStream(path, "none");
    let read = 0;
    const stream = { ...input.stream, read: (into: Uint8Array, at: number, max: number) => { const n = input.stream.read(into, at, max) as number; read += n; return n; } };
    let records = 0;
    for await (const w of sparseWindows(stream, { file: path, maxRecord: 1 << 26, sparse: SCALARS })) records += w.frames.length;
    expect(records).toBe(6);
    // a 4 KiB read per record at most, of 92 KB records
    expect(read).toBeLessThanOrEqual(records * 4096);
    expect(read).toBeLessThan(size / 10);
  });

  it("reports damage as the whole-record reader does: a cut file, an oversized record, an Example that does not parse", async () => {
    const dir = tmp("arrowsmith-sparse-");
    const whole = readFileSync(join(FIXTURES, "scone/heatmaps_0001.tfrecord"));
    const cut = join(dir, "cut.tfrecord");
    writeFileSync(cut, whole.subarray(0, whole.length - 5000));
    const recs = recordsOf(join(FIXTURES, "scone/heatmaps_0001.tfrecord"));
    const header = join(dir, "header.tfrecord");
    writeFileSync(header, whole.subarray(0, 16 + recs[0].length + 7)); // cut in the second record's header
    const bad = join(dir, "bad.tfrecord");
    const garbage = [
      new Uint8Array([0x0a, 0x7f, 0x0a, 0x02]), // features longer than the record
      new Uint8Array([0x0e, 0x01]), // wire type 6
      new Uint8Array([0x0a, 0x04, 0x0a, 0x09, 0x0a, 0x01]), // an entry longer than its Features
      new Uint8Array([0x0a, 0x0b, 0x0a, 0x09, 0x0a, 0x02, 0x69, 0x64, 0x12, 0x03, 0x1a, 0x01, 0xff]), // id's varint cut short
      new Uint8Array([0x08, 0x96, 0x01, 0x25, 1, 2, 3, 4]), // unknown fields only: no feature at all
    ];
    writeFileSync(bad, tfrecord([recs[0], ...garbage, recs[1]]));
    for (const f of [cut, header, bad]) {
      for (const mode of ["skip", "fail"] as const) {
        for (const maxRecordBytes of [undefined, 50_000]) {
          const o = { policy: new ErrorPolicy(mode), maxRecordBytes };
          const full = await readAll(f, o);
          expect(await readAll(f, { ...o, sparse: ALL }), `${f} ${mode} ${maxRecordBytes}`).toEqual(full);
          expect(await readAll(f, { ...o, sparse: { over: 0 } }), `${f} ${mode} ${maxRecordBytes}`).toEqual({
            ...full, recs: full.recs.map((r) => ("feats" in (r as object) ? { ...(r as object), feats: [] } : r)),
          });
        }
      }
    }
    expect((await readAll(cut)).problems[0]).toMatch(/^truncated /);
    expect((await readAll(bad)).recs.filter((r) => "error" in (r as object)).length).toBe(3);
    expect((await readAll(header)).problems[0]).toMatch(/^truncated record header needs 12 bytes/);
    expect((await readAll(bad, { maxRecordBytes: 50_000 })).problems.filter((p) => p.startsWith("record_size")).length).toBe(2);
  });
});
