// `arrowsmith index <inputs...> -o snid_index.csv.gz`: scone_tools' own SNID index file, as its
// index_tfrecords.py writes it (Python's csv.writer: `snid,label,z,z_err,tfrecord_file`, CRLF
// line ends, z and z_err as "%.6f", the file path as the inputs were named; gzip), so its
// visualize_tfrecords.py finds events with it. Only the scalar features are parsed; the image
// bytes are framed and checked (CRCs, as TensorFlow's reader does) but never decoded. With
// --no-verify there is no checksum to compute, and on uncompressed files the image bytes are not
// even read: each record's header and scalar features are read with positioned reads.
//
// The gzip header carries a comment naming arrowsmith: that is how a later run knows the file is
// one of ours and may be replaced; any other existing file is refused unless --overwrite.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { constants as zlibConstants, crc32, deflateRawSync } from "node:zlib";
import { KEY_IMAGE, keyCode, SconeScalars } from "../datasets/scone-scalars.js";
import { detectContainer, noInputsError } from "../datasets/container.js";
import { ArrowsmithError } from "../errors.js";
import { readRecords } from "../io/records.js";
import { expandInputs } from "../pipeline/inputs.js";
import { ErrorPolicy } from "../pipeline/policy.js";
import { AtomicFile } from "../sinks/atomic.js";
import { formatBytes } from "../units.js";
import { kernels } from "../wasm.js";
import { type CommandRun, fmtRate, warn } from "./command.js";

const GZIP_COMMENT = "arrowsmith snid index";

/**
 * Windows of 1 MiB rather than the converter's 16: each one's CRC is computed while the bytes just
 * read are still in the CPU's cache, and a short-lived process does not first fault in 32 MiB of
 * fresh wasm memory (measured with a 185 MB shard: the first read of a fresh process took several
 * times longer with 16 MiB windows).
 */
const WINDOW_BYTES = 1 << 20;

/** With --no-verify: only the id, label, z and z_err features are read, the image bytes are skipped unread. */
const SCALARS_ONLY = {
  over: 256,
  keep: (b: Uint8Array, s: number, e: number) => { const c = keyCode(b, s, e); return c !== 0 && c !== KEY_IMAGE; },
};
const HEADER = "snid,label,z,z_err,tfrecord_file\r\n";

export interface IndexCommandOptions {
  output?: string;
  overwrite?: boolean;
  verify?: boolean;
  maxRecordBytes?: number;
  /** Called after each input with its record count. */
  onFile?: (file: string, records: number, n: number, of: number) => void;
}

export interface IndexCommandResult {
  output: string;
  files: { file: string; records: number }[];
  records: number;
  inputBytes: number;
  outputBytes: number;
  seconds: number;
}

/** Python's "%.6f" of a float32 value (exact: x·10⁶ is exact in float64 for any float32 x; ties go to even). */
export function fixed6(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  const neg = x < 0 || Object.is(x, -0);
  const y = Math.abs(x) * 1e6;
  let digits: string;
  if (y < 2 ** 53) {
    const f = Math.floor(y);
    const d = y - f;
    const r = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
    digits = String(r); // an integer below 2^53: its exact decimal digits, without a BigInt per value
  } else {
    digits = BigInt(y).toString(); // an integer already
  }
  const s = digits.padStart(7, "0");
  return `${neg ? "-" : ""}${s.slice(0, -6)}.${s.slice(-6)}`;
}

/** A field as Python's csv.writer (QUOTE_MINIMAL) writes it. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A gzip member written as it goes: header with our comment, raw deflate, CRC-32 and size. Each
 * chunk of text is deflated on its own and ended with a sync flush (a run of complete non-final
 * blocks); an empty final block ends the stream. node:zlib does the work (in C, synchronously).
 */
class GzipWriter {
  private crc = 0;
  private size = 0;
  constructor(private readonly file: AtomicFile) {
    const comment = new TextEncoder().encode(GZIP_COMMENT);
    // ID1 ID2 CM=deflate FLG=FCOMMENT MTIME=0 XFL=0 OS=3 (Unix), then the comment, zero-ended
    file.write(new Uint8Array([0x1f, 0x8b, 8, 0x10, 0, 0, 0, 0, 0, 3, ...comment, 0]));
  }

  write(text: string): void {
    if (!text) return;
    const b = Buffer.from(text, "utf8");
    this.crc = crc32(b, this.crc);
    this.size = (this.size + b.length) >>> 0;
    this.file.write(deflateRawSync(b, { level: 6, finishFlush: zlibConstants.Z_SYNC_FLUSH }));
  }

  end(): void {
    this.file.write(deflateRawSync(Buffer.alloc(0)));
    const t = new Uint8Array(8);
    const v = new DataView(t.buffer);
    v.setUint32(0, this.crc, true);
    v.setUint32(4, this.size, true);
    this.file.write(t);
  }
}

/** True when `path` is a gzip file whose header carries our comment. */
export function isOurIndexCsv(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    const head = new Uint8Array(10 + GZIP_COMMENT.length + 1);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n < head.length || head[0] !== 0x1f || head[1] !== 0x8b || head[3] !== 0x10) return false;
    return new TextDecoder().decode(head.subarray(10, 10 + GZIP_COMMENT.length)) === GZIP_COMMENT && head[head.length - 1] === 0;
  } finally {
    closeSync(fd);
  }
}

/** Writes scone_tools' SNID index of the SCONE TFRecords in `inputs`. */
export async function writeSnidIndexCsv(inputs: string[], o: IndexCommandOptions = {}): Promise<IndexCommandResult> {
  const t0 = performance.now();
  const output = o.output ?? "snid_index.csv.gz";
  const files = expandInputs(inputs, { onWarning: warn });
  if (!files.length) throw noInputsError(inputs, "index") ?? new ArrowsmithError("usage", `index: no .tfrecord input in ${inputs.join(" ")}`, { hint: "give SCONE .tfrecord files or folders holding them" });
  const k = kernels();
  for (const f of files) {
    if (detectContainer(f, k) === "npz") {
      throw new ArrowsmithError("usage", `${f} is an NPZ batch: the SNID index is made of SCONE TFRecords`, { file: f, hint: "give only .tfrecord files (a glob such as 'dir/*.tfrecord')" });
    }
  }
  const st = statSync(output, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new ArrowsmithError("usage", `output ${output} is a folder`, { hint: "give a file name, e.g. -o snid_index.csv.gz" });
  if (st && files.some((f) => { const s = statSync(f); return s.ino === st.ino && s.dev === st.dev; })) {
    throw new ArrowsmithError("usage", `output ${output} is one of the inputs`, { file: output });
  }
  if (st && !o.overwrite && !isOurIndexCsv(output)) {
    throw new ArrowsmithError("usage", "the file exists and is not an index written by arrowsmith", {
      file: output, hint: "move it away, choose another name, or use --overwrite to replace it",
    });
  }
  // the path as the tool writes it: as named (relative to here when the inputs were given relative)
  const relativeNames = inputs.every((a) => !isAbsolute(a));
  const named = (f: string) => (relativeNames ? relative(resolve("."), f) || f : f);
  const out = new AtomicFile(resolve(output));
  const gz = new GzipWriter(out);
  const result: IndexCommandResult = { output, files: [], records: 0, inputBytes: 0, outputBytes: 0, seconds: 0 };
  try {
    gz.write(HEADER);
    const scalars = new SconeScalars();
    let n = 0;
    for (const f of files) {
      const name = csvField(named(f));
      let rows = "";
      let records = 0;
      const mark = k.mark();
      try {
        const read = await readRecords(k, f, { verify: o.verify ?? true, maxRecordBytes: o.maxRecordBytes, policy: new ErrorPolicy("fail"), windowBytes: WINDOW_BYTES, sparse: SCALARS_ONLY }, (w, _p, fr) => {
          scalars.read(w, fr, f);
          if (!scalars.hasId || !scalars.hasLabel) {
            throw new ArrowsmithError("feature", `feature ${scalars.hasId ? "label" : "id"} is missing or not one int64`, { file: f, offset: fr.offset, record: fr.index, hint: "not a SCONE heatmap record" });
          }
          // a file without z/z_err (SCONE before mid-2021) gets empty fields; the tool itself stops there
          rows += `${scalars.id},${scalars.label},${scalars.hasZ ? fixed6(scalars.z) : ""},${scalars.hasZErr ? fixed6(scalars.zErr) : ""},${name}\r\n`;
          records++;
          if (rows.length > 1 << 20) { gz.write(rows); rows = ""; }
        });
        gz.write(rows);
        result.inputBytes += read.fileSize;
      } finally {
        k.release(mark);
      }
      result.files.push({ file: f, records });
      result.records += records;
      o.onFile?.(f, records, ++n, files.length);
    }
    gz.end();
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  result.outputBytes = out.bytes;
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

export const indexCommand: CommandRun<IndexCommandResult> = {
  run: ([inputs], o) => writeSnidIndexCsv(inputs as string[], {
    output: o.output as string, overwrite: o.overwrite as boolean, verify: o.verify as boolean, maxRecordBytes: o.maxRecordBytes as number,
    onFile: o.quiet || o.json ? undefined : (f, r, n, of) => process.stderr.write(`  [${n}/${of}] ${f}: ${r} records\n`),
  }),
  outcome: () => "ok",
  text: (r) => `indexed ${r.records} records from ${r.files.length} file(s) -> ${r.output} (${formatBytes(r.outputBytes)}; ${fmtRate(r.inputBytes, r.records, r.seconds)})`,
  json: (r) => r,
};
