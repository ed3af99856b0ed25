/**
 * Peers the single-thread benchmark runs beside our converter, in the same run, on the same file.
 *
 * Every peer returns `{ name, events, seconds, bytes }`; throughput is `events / seconds` and
 * `bytes / seconds`. Call `warm(file)` once first so every peer (ours included) starts with the
 * file in the page cache; the peers never warm by themselves, so the caller controls the order.
 *
 * - `runCat`: `cat file > /dev/null`, the I/O floor (includes ~1 ms of process start).
 * - `runPythonPeer`: bench/peer_scone.py (stream, both CRCs, Google protobuf, numpy decode, planar
 *   float32 copies, seed metrics, peak, non-finite count; with `out`, the results written to one
 *   .npz and fsynced); `seconds` is the script's own processing time, without the interpreter start
 *   and imports.
 * - `runRoboflowTfrecords`: the npm package `@roboflow/tfrecords` (framing, both CRCs,
 *   google-protobuf decode of every Example) plus reading id/label/z/z_err/image_raw of every
 *   record; no float decode, no metrics. Its reader only takes one Buffer holding the whole file
 *   and keeps every decoded message, so it cannot read a file larger than one Node Buffer
 *   (buffer.constants.MAX_LENGTH, 4 GiB on Node 20; a real ~4.3 GB SCONE shard does not fit), and it
 *   stops silently at a bad CRC (we turn its console message into an error here).
 *
 * Run directly: node --import tsx bench/peers.ts FILE [--peers cat,python,roboflow] [--runs 3] [--no-warm] [--json]
 * (each peer --runs times, alternated; prints the median and the spread of the runs)
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { constants as bufferConstants } from "node:buffer";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { alternate, checkEvents, describeSeconds, type Summary, summarize } from "./runs.js";

export interface PeerResult {
  name: string;
  events: number;
  seconds: number;
  bytes: number;
}

/** The peers' interpreter: Debian's (numpy, protobuf, crc32c), or $ARROWSMITH_BENCH_PYTHON. */
export const PYTHON = process.env.ARROWSMITH_BENCH_PYTHON || "/usr/bin/python3";

/** Reads the whole file once (1 MiB chunks, nothing kept) so later peers find it in the page cache. */
export async function warm(file: string): Promise<number> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return total;
      total += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], stdoutToNull: boolean): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", stdoutToNull ? "ignore" : "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function failed(what: string, r: Exit): Error {
  const why = r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
  return new Error(`${what} failed (${why})${r.stderr.trim() ? `: ${r.stderr.trim()}` : ""}`);
}

/** `cat file > /dev/null`: the floor. Timed from spawn to exit (stdout is /dev/null). */
export async function runCat(file: string): Promise<PeerResult> {
  const bytes = statSync(file).size;
  const t0 = process.hrtime.bigint();
  const r = await run("cat", [file], true);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.code !== 0) throw failed(`cat ${file}`, r);
  return { name: "cat > /dev/null", events: 0, seconds, bytes };
}

function pythonScript(): string {
  // bench/peers.ts under tsx, or dist/bench/peers.js after tsc (the .py is not copied to dist)
  const candidates = [new URL("./peer_scone.py", import.meta.url), new URL("../../bench/peer_scone.py", import.meta.url)];
  for (const u of candidates) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return p;
  }
  throw new Error(`bench/peer_scone.py not found next to ${fileURLToPath(import.meta.url)}`);
}

export interface PythonPeerOptions {
  /** stop after N events (--limit) */
  limit?: number;
  /** interpreter; default PYTHON (numpy, protobuf, crc32c) */
  python?: string;
  /** write the results to this .npz (fsynced), as the converter writes its output */
  out?: string;
}

/** bench/peer_scone.py on the file; `seconds` is the script's processing time (after imports). */
export async function runPythonPeer(file: string, opts: PythonPeerOptions = {}): Promise<PeerResult> {
  const args = [pythonScript(), file];
  if (opts.limit !== undefined) args.push("--limit", String(opts.limit));
  if (opts.out !== undefined) args.push("--out", opts.out);
  const r = await run(opts.python ?? PYTHON, args, false);
  if (r.code !== 0) throw failed("python peer", r);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let j: { peer?: unknown; events?: unknown; seconds?: unknown; bytes?: unknown; protobuf_backend?: unknown };
  try {
    j = JSON.parse(line) as typeof j;
  } catch {
    throw new Error(`python peer printed no JSON line: ${JSON.stringify(r.stdout.slice(-200))}`);
  }
  if (typeof j.events !== "number" || typeof j.seconds !== "number" || typeof j.bytes !== "number") {
    throw new Error(`python peer: unexpected JSON ${line}`);
  }
  const backend = typeof j.protobuf_backend === "string" ? ` (protobuf ${j.protobuf_backend})` : "";
  return { name: `${String(j.peer ?? "python")}${backend}`, events: j.events, seconds: j.seconds, bytes: j.bytes };
}

// --- @roboflow/tfrecords -------------------------------------------------------------------------
// 1.0.4 ships CommonJS without type declarations ("types" points at a missing file), and its main
// entry exports only the builder; the reader lives in src/tensorFlowReader.js.

/** FeatureType of @roboflow/tfrecords (a numeric enum). */
const enum RfType {
  String = 0,
  Binary = 1,
  Int64 = 2,
  Float = 3,
}

interface RfReader {
  readonly length: number;
  getFeature(record: number, key: string, type: RfType): number | string | Uint8Array | undefined;
  /** not declared public, but the only way around getFeature when it is broken (see below) */
  readonly imageMessages?: JspbExample[];
}
type RfReaderClass = new (tfrecords: Buffer) => RfReader;

/** The google-protobuf generated accessors of the reader's decoded messages. */
interface JspbList<T> {
  getValueList(): T[];
}
interface JspbFeature {
  getBytesList(): JspbList<Uint8Array | string> & { getValueList_asU8(): Uint8Array[] };
  getFloatList(): JspbList<number>;
  getInt64List(): JspbList<number>;
}
interface JspbExample {
  getContext(): { getFeatureMap(): { get(key: string): JspbFeature | undefined } };
}

const ROBOFLOW = "@roboflow/tfrecords";
const ROBOFLOW_VERSION = "1.0.4";

function loadRoboflow(): { Reader: RfReaderClass; protobufVersion: string } {
  const require = createRequire(import.meta.url);
  let mod: { TFRecordsReader?: RfReaderClass };
  let protobufVersion = "?";
  try {
    mod = require(`${ROBOFLOW}/src/tensorFlowReader.js`) as typeof mod;
    const from = createRequire(require.resolve(`${ROBOFLOW}/src/tensorFlowReader.js`));
    protobufVersion = (from("google-protobuf/package.json") as { version: string }).version;
  } catch (e) {
    throw new Error(`${ROBOFLOW} is not installed (npm i --no-save ${ROBOFLOW}@${ROBOFLOW_VERSION}): ${(e as Error).message}`);
  }
  if (typeof mod.TFRecordsReader !== "function") throw new Error(`${ROBOFLOW}: no TFRecordsReader export`);
  return { Reader: mod.TFRecordsReader, protobufVersion };
}

/** The whole file in one Buffer (the reader's only input). fs.readFile stops at 2 GiB, so read in chunks. */
function readWhole(file: string): Buffer {
  const size = statSync(file).size;
  if (size > bufferConstants.MAX_LENGTH) {
    throw new Error(
      `${ROBOFLOW} needs the whole file in one Buffer: ${file} has ${size} bytes, ` +
        `more than buffer.constants.MAX_LENGTH (${bufferConstants.MAX_LENGTH})`,
    );
  }
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(file, "r");
  try {
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, Math.min(size - at, 1 << 30), at);
      if (n === 0) throw new Error(`${file}: file shrank while reading (${at} of ${size} bytes)`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** id, label, z, z_err (when the file has them), image_raw of record i through the library's API. */
function viaGetFeature(r: RfReader, i: number, hasZ: boolean): number {
  const id = r.getFeature(i, "id", RfType.Int64) as number;
  const label = r.getFeature(i, "label", RfType.Int64) as number;
  const z = hasZ ? (r.getFeature(i, "z", RfType.Float) as number) : 0;
  const zErr = hasZ ? (r.getFeature(i, "z_err", RfType.Float) as number) : 0;
  const image = r.getFeature(i, "image_raw", RfType.Binary) as Uint8Array;
  return id + label + z + zErr + image.byteLength;
}

/** The same through google-protobuf's generated accessors (for google-protobuf 3.21.1 / 3.21.4). */
function viaAccessors(r: RfReader, i: number): number {
  const m = r.imageMessages?.[i];
  if (!m) throw new Error(`${ROBOFLOW}: reader has no imageMessages[${i}]`);
  const map = m.getContext().getFeatureMap();
  const id = map.get("id")?.getInt64List().getValueList()[0] ?? NaN;
  const label = map.get("label")?.getInt64List().getValueList()[0] ?? NaN;
  const z = map.get("z")?.getFloatList().getValueList()[0] ?? 0;
  const zErr = map.get("z_err")?.getFloatList().getValueList()[0] ?? 0;
  const image = map.get("image_raw")?.getBytesList().getValueList_asU8()[0];
  if (!image) throw new Error(`${ROBOFLOW}: record ${i} has no image_raw`);
  return id + label + z + zErr + image.byteLength;
}

/**
 * @roboflow/tfrecords 1.0.4: read the file into one Buffer, `new TFRecordsReader(buffer)` (frames
 * every record, checks both masked CRC32Cs in pure JS, decodes every Example with google-protobuf),
 * then `getFeature` id, label (Int64 → number), z, z_err (Float) and image_raw (Binary) of every
 * record. Timed from the read to the last feature. Uncompressed files only.
 *
 * `getFeature` reads google-protobuf's internal `.array`, which google-protobuf 3.21.1 and 3.21.4
 * (what the package's `^3.6.1` resolves to today) no longer have: it throws a TypeError. Then the
 * same fields are read through the generated accessors (`getValueList`), and the name says so.
 */
export async function runRoboflowTfrecords(file: string): Promise<PeerResult> {
  const { Reader, protobufVersion } = loadRoboflow();
  const t0 = process.hrtime.bigint();
  const data = readWhole(file);
  // The reader logs "Wrong Length CRC" / "Wrong Data CRC" with console.log and stops early; catch it.
  const logged: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void logged.push(args.map(String).join(" "));
  let reader: RfReader;
  try {
    reader = new Reader(data);
  } finally {
    console.log = log;
  }
  if (logged.length) throw new Error(`${ROBOFLOW} on ${file}: ${logged.join("; ")} after ${reader.length} records`);
  // getFeature throws a TypeError for an absent key (no "has" API): probe once whether it works at
  // all, and whether this file has z / z_err (SCONE's mid-2021 files have neither).
  let works = true;
  let hasZ = true;
  if (reader.length > 0) {
    try {
      reader.getFeature(0, "id", RfType.Int64);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      works = false;
    }
    if (works) {
      try {
        reader.getFeature(0, "z", RfType.Float);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
        hasZ = false;
      }
    }
  }
  let check = 0;
  if (works) for (let i = 0; i < reader.length; i++) check += viaGetFeature(reader, i, hasZ);
  else for (let i = 0; i < reader.length; i++) check += viaAccessors(reader, i);
  const how = works ? "getFeature" : "jspb accessors, getFeature broken";
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (Number.isNaN(check)) throw new Error(`${ROBOFLOW}: a record lacks id or label`);
  return {
    name: `${ROBOFLOW}@${ROBOFLOW_VERSION} + google-protobuf@${protobufVersion} (decode only, ${how})`,
    events: reader.length,
    seconds,
    bytes: data.length,
  };
}

// --- direct run ----------------------------------------------------------------------------------

const PEERS: Record<string, (file: string) => Promise<PeerResult>> = {
  cat: runCat,
  python: (f) => runPythonPeer(f),
  roboflow: runRoboflowTfrecords,
};

export function describe(r: PeerResult, t: Summary): string {
  const evs = r.events && t.median > 0 ? `${(r.events / t.median).toFixed(0)} events/s` : "-";
  const mbs = t.median > 0 ? `${(r.bytes / t.median / 1e6).toFixed(1)} MB/s` : "-";
  return `${r.name}: ${r.events} events, ${describeSeconds(t)}, ${evs}, ${mbs} (medians)`;
}

async function main(argv: string[]): Promise<void> {
  const usage = "usage: node --import tsx bench/peers.ts FILE [--peers cat,python,roboflow] [--runs 3] [--no-warm] [--json]";
  let file: string | undefined;
  let names = Object.keys(PEERS);
  let doWarm = true;
  let json = false;
  let runs = 3;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--peers") names = (argv[++i] ?? "").split(",");
    else if (a.startsWith("--peers=")) names = a.slice(8).split(",");
    else if (a === "--runs") runs = Number(argv[++i]);
    else if (a === "--no-warm") doWarm = false;
    else if (a === "--json") json = true;
    else if (!a.startsWith("--") && file === undefined) file = a;
    else throw new Error(usage);
  }
  if (!file) throw new Error(usage);
  for (const n of names) if (!PEERS[n]) throw new Error(`unknown peer ${n} (known: ${Object.keys(PEERS).join(", ")})`);
  if (doWarm) await warm(file);
  const all = await alternate(names.map((n) => [n, () => PEERS[n](file!)] as [string, () => Promise<PeerResult>]), runs);
  const counted = [...all].filter(([n]) => n !== "cat");
  if (counted.length) checkEvents(new Map(counted.map(([n, rs]) => [n, rs.map((r) => r.events)])), counted[0][1][0].events);
  for (const rs of all.values()) {
    const t = summarize(rs.map((r) => r.seconds));
    console.log(json ? JSON.stringify({ ...rs[0], seconds: t.median, runs: t.runs, min_seconds: t.min, max_seconds: t.max, spread: t.spread }) : describe(rs[0], t));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
