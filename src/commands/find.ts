// `arrowsmith find <folder|files...> --id 1009,1521 [--json]`: where each SNID is. A converted
// folder answers from its SNID index (`_index.parquet`, or its shards' before `merge`) without
// reading any input. Otherwise the input TFRecords are read (those a folder's manifest lists, or
// the files given), only the `id` feature of each record decoded, until every SNID is found.
// Exit 1 names the SNIDs not found.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { KEY_ID, keyCode, SconeScalars } from "../datasets/scone-scalars.js";
import { detectContainer, noInputsError } from "../datasets/container.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import { type FeatureRef, forEachInt64, scanExample } from "../formats/example.js";
import { readRecords, STOP } from "../io/records.js";
import { expandInputs } from "../pipeline/inputs.js";
import { type Manifest, MANIFEST } from "../pipeline/manifest.js";
import { ErrorPolicy } from "../pipeline/policy.js";
import { indexFilesIn, lookupIndex } from "../sinks/snid-index.js";
import { kernels } from "../wasm.js";
import { type CommandRun, toJson, warn } from "./command.js";
import { int64Value } from "../datasets/scone-scalars.js";

export interface FoundEvent {
  /** The SNID, in decimal. */
  id: string;
  /** Output file (name in the folder) and row there, where known. */
  output: string | null;
  row: number | null;
  /** Input file, record index in it, byte offset of the record (in the decompressed stream). */
  source: string;
  record: number;
  offset: number;
  label: number | string | null;
  z: number | null;
  z_err: number | null;
}

export interface FindResult {
  /** Where the answers came from: the index files read, or the inputs scanned. */
  from: "index" | "scan";
  read: string[];
  found: FoundEvent[];
  /** The SNIDs asked for and not found, in decimal. */
  missing: string[];
}

const num = (v: number | bigint) => (typeof v === "bigint" ? v.toString() : v);

/** Looks the SNIDs up in the folders' indexes, or else scans the inputs. */
export async function findIds(args: string[], ids: bigint[], o: { onWarning?: (m: string) => void } = {}): Promise<FindResult> {
  const want = new Set(ids);
  if (!args.length) throw new ArrowsmithError("usage", "find: give a converted folder or input files");
  // every argument a folder with an index: the index answers
  const indexes = args.map((a) => (statSync(a, { throwIfNoEntry: false })?.isDirectory() ? indexFilesIn(a, readdirSync(a)) : []));
  if (indexes.every((l) => l.length)) return fromIndex(indexes.flat(), ids, want);
  return scan(args, ids, want, o.onWarning ?? (() => {}));
}

async function fromIndex(files: string[], ids: bigint[], want: Set<bigint>): Promise<FindResult> {
  const found: FoundEvent[] = [];
  for (const file of files) {
    for (const r of await lookupIndex(file, want)) {
      found.push({ id: r.id.toString(), output: r.output, row: r.row, source: r.source, record: r.record, offset: r.offset, label: r.label, z: r.z, z_err: r.z_err });
    }
  }
  return finish("index", files, ids, found);
}

function finish(from: FindResult["from"], read: string[], ids: bigint[], found: FoundEvent[]): FindResult {
  const order = new Map(ids.map((id, i) => [id.toString(), i]));
  found.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  const got = new Set(found.map((f) => f.id));
  return { from, read, found, missing: [...new Set(ids.map(String))].filter((id) => !got.has(id)) };
}

/** An input to scan, with its outputs (file and rows, in part order) when a manifest says them and no record was skipped. */
interface ScanInput {
  input: string;
  outputs?: { file: string; rows: number }[];
}

/** The inputs to scan: those a converted folder's manifest lists, or the TFRecords of the arguments. */
function scanInputs(args: string[], onWarning: (m: string) => void): ScanInput[] {
  const out: ScanInput[] = [];
  const plain: string[] = [];
  for (const a of args) {
    const m = statSync(a, { throwIfNoEntry: false })?.isDirectory() ? readManifest(join(a, MANIFEST)) : undefined;
    if (m) {
      for (const e of m.inputs) {
        if (e.kind !== "scone" && e.kind !== "generic") continue;
        if (!existsSync(e.input)) { onWarning(`not searched: ${e.input} (listed in ${join(a, MANIFEST)}) is gone`); continue; }
        out.push({ input: e.input, outputs: e.skipped === 0 ? e.outputs : undefined });
      }
    } else {
      plain.push(a);
    }
  }
  if (plain.length) {
    const files = expandInputs(plain, { onWarning });
    if (!files.length && !out.length) throw noInputsError(plain, "find") ?? new ArrowsmithError("usage", `find: no .tfrecord input in ${plain.join(" ")}`, { hint: "give a converted folder, or SCONE .tfrecord files or folders holding them" });
    const k = kernels();
    for (const f of files) {
      if (detectContainer(f, k) === "npz") { onWarning(`not searched: ${f} is an NPZ batch (cluster batches have no SNIDs)`); continue; }
      out.push({ input: f });
    }
  }
  return out;
}

function readManifest(p: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(p, "utf8")) as Manifest;
    return Array.isArray(m?.inputs) ? m : undefined;
  } catch {
    return undefined;
  }
}

async function scan(args: string[], ids: bigint[], want: Set<bigint>, onWarning: (m: string) => void): Promise<FindResult> {
  const inputs = scanInputs(args, onWarning);
  const k = kernels();
  const found: FoundEvent[] = [];
  const left = new Set(want);
  const read: string[] = [];
  const full = new SconeScalars();
  // only the id is decoded per record: its map entry is found by name, the rest skipped by length
  let window!: Uint8Array;
  let idRef: FeatureRef | undefined;
  const visit = (ks: number, ke: number, ref: FeatureRef) => { if (keyCode(window, ks, ke) === KEY_ID) idRef = ref; };
  for (const s of inputs) {
    if (!left.size) break;
    read.push(s.input);
    const policy = new ErrorPolicy("skip");
    const mark = k.mark();
    try {
      await readRecords(k, s.input, { verify: true, policy }, (w, _p, f) => {
        window = w;
        idRef = undefined;
        scanExample(w, f.start, f.start + f.length, visit);
        const ref = idRef as FeatureRef | undefined;
        if (!ref || ref.kind !== "int64") return;
        let lo = 0, hi = 0;
        if (forEachInt64(w, ref, (a, b) => { lo = a; hi = b; }) !== 1) return;
        const v = int64Value(lo | 0, hi | 0);
        const id = typeof v === "bigint" ? v : BigInt(v);
        if (!left.has(id)) return;
        left.delete(id);
        full.read(w, f, s.input);
        const place = outputOf(s, f.index);
        found.push({
          id: id.toString(), output: place?.file ?? null, row: place?.row ?? null, source: s.input, record: f.index, offset: f.offset,
          label: full.hasLabel ? num(full.label) : null, z: full.hasZ ? full.z : null, z_err: full.hasZErr ? full.zErr : null,
        });
        return left.size ? undefined : STOP;
      });
    } catch (e) {
      if (!isArrowsmithError(e)) throw e;
      onWarning(`${s.input}: ${e.message}; the rest of it was not searched`);
    } finally {
      k.release(mark);
    }
    if (policy.problems.length) onWarning(`${s.input}: ${policy.problems.length} damaged record(s) were not searched (see arrowsmith verify)`);
  }
  return finish("scan", read, ids, found);
}

/** The output file and row of record `index` of an input whose outputs hold every record in order. */
function outputOf(s: ScanInput, index: number): { file: string; row: number } | undefined {
  if (!s.outputs) return undefined;
  let first = 0;
  for (const o of s.outputs) {
    if (index < first + o.rows) return { file: o.file, row: index - first };
    first += o.rows;
  }
  return undefined;
}

export function renderFind(r: FindResult): string {
  const lines = r.found.map((f) => {
    const where = f.output !== null ? `${f.output} row ${f.row}` : "(no output known)";
    // z is a float32: 7 significant digits say it
    return `${f.id}\t${where}\t${f.source} record ${f.record} at byte ${f.offset}\tlabel ${f.label ?? "-"}\tz ${f.z === null ? "-" : Number(f.z.toPrecision(7))}`;
  });
  return lines.join("\n");
}

export const findCommand: CommandRun<FindResult> = {
  run: async ([inputs], o) => {
    const r = await findIds(inputs as string[], o.id as bigint[], { onWarning: warn });
    if (r.missing.length) process.stderr.write(`arrowsmith: not found: SNID ${r.missing.join(", ")}\n`);
    return r;
  },
  outcome: (r) => (r.missing.length ? "failure" : "ok"),
  text: (r) => (r.found.length ? renderFind(r) : null),
  json: (r) => JSON.parse(toJson(r)),
};
