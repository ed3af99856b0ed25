// .npy arrays (numpy's format, NEP 1): magic `\x93NUMPY`, version byte pair, a little-endian
// header length (u16 in 1.0, u32 in 2.0/3.0), then a Python dict literal such as
// `{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 128, 16), }` padded with spaces and a
// newline, then the raw array data.
//
// The header is read by a small literal parser (strings, ints, booleans, None, tuples, lists,
// dicts) and nothing else: nothing from a file is ever evaluated. Object arrays (`|O`) store
// pickles, and unpickling runs code chosen by the file's author, so they are refused, as is a
// pickle where an array should be.
import { ArrowsmithError } from "../errors.js";
import type { MemberStream, ZipArchive, ZipEntry } from "./zip.js";

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59);
/** numpy caps headers at 10,000 bytes when reading; ours only need to be sane. */
const MAX_HEADER = 1 << 20;
const MAX_DEPTH = 32;
const MAX_DIMS = 64;

/** Kernel dtype codes of assembly/npy.ts (keep in step with its table). */
export const NPY_CODES: Readonly<Record<string, number>> = {
  "<f4": 0, ">f4": 1, "<f8": 2, ">f8": 3, "|i1": 4, "|u1": 5, "|b1": 6,
  "<i2": 7, ">i2": 8, "<u2": 9, ">u2": 10, "<i4": 11, ">i4": 12, "<u4": 13, ">u4": 14,
  "<i8": 15, ">i8": 16, "<u8": 17, ">u8": 18,
};

export type NpyKind = "f" | "i" | "u" | "b" | "U" | "S";

export interface NpyDtype {
  /** Canonical descr: `<f4`, `>i8`, `|u1`, `|b1`, `<U3`, `|S5` ('=' and missing byte orders read as '<'). */
  readonly descr: string;
  /** The descr exactly as the file wrote it. */
  readonly raw: string;
  readonly kind: NpyKind;
  /** numpy's name: float32, int64, bool, str96 (U), bytes40 (S)... */
  readonly name: string;
  readonly itemSize: number;
  readonly bigEndian: boolean;
  /** For U and S: characters per item. */
  readonly chars?: number;
  /** The kernels' source code for numeric dtypes (NPY_CODES), undefined for strings. */
  readonly code?: number;
}

export interface NpyHeader {
  /** Format version, "1.0", "2.0" or "3.0". */
  readonly version: string;
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly fortranOrder: boolean;
  /** Number of elements (product of shape; 1 for a scalar). */
  readonly count: number;
  /** Where the array data starts, from the start of the .npy bytes. */
  readonly dataOffset: number;
  /** count * itemSize. */
  readonly byteLength: number;
}

/** Where an .npy sits, for errors: the file label, the NPZ member, the file offset of its first byte. */
export interface NpyContext {
  file?: string;
  member?: string;
  /** File offset of the .npy's first byte (for stored data); with `deflated`, the member's data offset. */
  offset?: number;
  /** The .npy bytes were inflated, so positions inside it are not file offsets. */
  deflated?: boolean;
}

function npyError(code: "npy" | "refused" | "truncated", detail: string, ctx: NpyContext, at = 0, hint?: string): ArrowsmithError {
  const who = ctx.member ? `npy member "${ctx.member}"` : "npy";
  const where = ctx.deflated && at ? ` (byte ${at} of the inflated member)` : "";
  const offset = ctx.offset === undefined ? (ctx.deflated ? undefined : at) : ctx.offset + (ctx.deflated ? 0 : at);
  return new ArrowsmithError(code, `${who}: ${detail}${where}`, { file: ctx.file, offset, hint });
}

const PICKLE_HINT = "arrowsmith never unpickles (it would run code from the file); re-save the data as plain numeric arrays";

/**
 * The total header length (magic, version, length field and dict) from the first bytes of an .npy
 * (at least 12 are needed for versions 2.0/3.0, 10 for 1.0).
 */
export function npyHeaderLength(head: Uint8Array, ctx: NpyContext = {}): number {
  checkMagic(head, ctx);
  const major = head[6];
  const lenBytes = major === 1 ? 2 : 4;
  if (head.length < 8 + lenBytes) throw npyError("truncated", `${head.length} bytes are too few for a version ${major}.x header`, ctx, 0);
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const n = major === 1 ? v.getUint16(8, true) : v.getUint32(8, true);
  if (n > MAX_HEADER) throw npyError("npy", `header declares ${n} bytes, over the ${MAX_HEADER} this reader accepts`, ctx, 8);
  return 8 + lenBytes + n;
}

function checkMagic(head: Uint8Array, ctx: NpyContext): void {
  if (head.length > 0 && head[0] === 0x80 && (head.length < 2 || head[1] <= 5)) {
    throw npyError("refused", "this is a Python pickle, not an .npy array: reading it needs pickle", ctx, 0, PICKLE_HINT);
  }
  if (head.length < 8) throw npyError("truncated", `${head.length} bytes are too few for an .npy header`, ctx, 0);
  for (let i = 0; i < 6; i++) {
    if (head[i] !== NPY_MAGIC[i]) {
      const seen = Array.from(head.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(" ");
      throw npyError("npy", `bad magic (${seen}), expected 93 4e 55 4d 50 59 ("\\x93NUMPY")`, ctx, i);
    }
  }
  const major = head[6], minor = head[7];
  if (major < 1 || major > 3 || minor !== 0) throw npyError("npy", `unsupported format version ${major}.${minor} (1.0, 2.0 and 3.0 are known)`, ctx, 6);
}

/**
 * Parses the header of an .npy whose bytes start at `bytes[0]`. `totalLength` is the length of the
 * whole .npy (default `bytes.length`); the data must fill it exactly.
 */
export function parseNpyHeader(bytes: Uint8Array, ctx: NpyContext = {}, totalLength = bytes.length): NpyHeader {
  const headerEnd = npyHeaderLength(bytes, ctx);
  const major = bytes[6];
  const start = major === 1 ? 10 : 12;
  if (headerEnd > bytes.length) {
    throw npyError("truncated", `header needs ${headerEnd} bytes, only ${bytes.length} present`, ctx, start);
  }
  const raw = bytes.subarray(start, headerEnd);
  // 1.0 and 2.0 headers are latin1; 3.0 allows utf8 (for structured field names).
  const text = major === 3 ? new TextDecoder("utf-8").decode(raw) : latin1(raw);
  let dict: PyValue;
  try {
    dict = new LiteralParser(text).parseAll();
  } catch (e) {
    if (e instanceof ParseError) throw npyError("npy", `header is not a Python dict literal: ${e.message}`, ctx, start + e.pos);
    throw e;
  }
  if (!(dict instanceof Map)) throw npyError("npy", "header is not a dict", ctx, start);
  const keys = [...dict.keys()].sort().join(",");
  if (keys !== "descr,fortran_order,shape") {
    throw npyError("npy", `header keys are {${[...dict.keys()].join(", ")}}; expected descr, fortran_order and shape`, ctx, start);
  }
  const descr = dict.get("descr");
  const fortran = dict.get("fortran_order");
  const shapeV = dict.get("shape");
  if (typeof fortran !== "boolean") throw npyError("npy", `fortran_order is ${show(fortran)}, not True or False`, ctx, start);
  if (!(shapeV instanceof PyTuple)) throw npyError("npy", `shape is ${show(shapeV)}, not a tuple`, ctx, start);
  const shape: number[] = [];
  for (const d of shapeV.items) {
    if (typeof d !== "bigint" || d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw npyError("npy", `shape ${show(shapeV)} has ${show(d)}, not a non-negative integer`, ctx, start);
    }
    shape.push(Number(d));
  }
  if (shape.length > MAX_DIMS) throw npyError("npy", `shape has ${shape.length} dimensions, more than numpy's ${MAX_DIMS}`, ctx, start);
  const dtype = parseDescr(descr, ctx, start);
  let count = 1;
  for (const d of shape) count *= d;
  const byteLength = count * dtype.itemSize;
  if (!Number.isSafeInteger(byteLength)) throw npyError("npy", `shape ${show(shapeV)} of ${dtype.descr} is too large`, ctx, start);
  const present = totalLength - headerEnd;
  if (present < byteLength) {
    throw npyError("truncated", `shape ${show(shapeV)} of ${dtype.descr} needs ${byteLength} data bytes, only ${present} present`, ctx, headerEnd);
  }
  if (present > byteLength) {
    throw npyError("npy", `shape ${show(shapeV)} of ${dtype.descr} needs ${byteLength} data bytes, but ${present} follow the header`, ctx, headerEnd);
  }
  return { version: `${major}.0`, dtype, shape, fortranOrder: fortran, count, dataOffset: headerEnd, byteLength };
}

function parseDescr(descr: PyValue | undefined, ctx: NpyContext, at: number): NpyDtype {
  if (Array.isArray(descr)) {
    if (mentionsObject(descr)) {
      throw npyError("refused", `structured dtype ${show(descr)} holds Python objects: reading it needs pickle`, ctx, at, PICKLE_HINT);
    }
    throw npyError("npy", `structured dtype ${show(descr)} is not supported (plain numeric arrays only)`, ctx, at);
  }
  if (typeof descr !== "string") throw npyError("npy", `descr is ${show(descr)}, not a string`, ctx, at);
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)(\[.*\])?$/.exec(descr);
  if (!m) throw npyError("npy", `descr '${descr}' is not a dtype this reader knows`, ctx, at);
  const [, order, ch, digits, unit] = m;
  if (ch === "O") {
    throw npyError("refused", `object array (dtype '${descr}'): reading it needs pickle`, ctx, at, PICKLE_HINT);
  }
  const n = digits === "" ? undefined : Number(digits);
  const big = order === ">";
  const unsupported = (what: string): never => {
    throw npyError("npy", `dtype '${descr}' (${what}) is not supported; arrowsmith reads floats (f4, f8), integers (i1..i8, u1..u8), bools and U/S strings`, ctx, at);
  };
  if (unit !== undefined) unsupported("a datetime or timedelta");
  let kind: NpyKind;
  let itemSize: number;
  let chars: number | undefined;
  switch (ch) {
    case "f":
      if (n !== 4 && n !== 8) unsupported(n === 2 ? "float16" : n === 16 ? "long double" : "a float of odd size");
      kind = "f"; itemSize = n!;
      break;
    case "i": case "u":
      if (n !== 1 && n !== 2 && n !== 4 && n !== 8) unsupported("an integer of odd size");
      kind = ch; itemSize = n!;
      break;
    case "b": case "?":
      if (ch === "b" && n !== 1) unsupported("a bool of odd size");
      kind = "b"; itemSize = 1;
      break;
    case "U":
      kind = "U"; chars = n ?? 0; itemSize = chars * 4;
      break;
    case "S": case "a":
      kind = "S"; chars = n ?? 0; itemSize = chars;
      break;
    case "c": return unsupported("complex");
    case "V": return unsupported("raw void records");
    case "M": case "m": return unsupported("a datetime or timedelta");
    default: return unsupported("unknown kind");
  }
  const single = kind === "b" || kind === "S" || itemSize === 1;
  const canon = kind === "b" ? "|b1" : kind === "S" ? `|S${chars}` : kind === "U" ? `${big ? ">" : "<"}U${chars}`
    : single ? `|${kind}1` : `${big ? ">" : "<"}${kind}${itemSize}`;
  const name = kind === "f" ? `float${itemSize * 8}` : kind === "i" ? `int${itemSize * 8}` : kind === "u" ? `uint${itemSize * 8}`
    : kind === "b" ? "bool" : kind === "U" ? `str${itemSize * 8}` : `bytes${itemSize * 8}`;
  return { descr: canon, raw: descr, kind, name, itemSize, bigEndian: big && !single, chars, code: NPY_CODES[canon] };
}

function mentionsObject(v: PyValue): boolean {
  if (typeof v === "string") return /^[<>|=]?O\d*$/.test(v);
  if (Array.isArray(v)) return v.some(mentionsObject);
  if (v instanceof PyTuple) return v.items.some(mentionsObject);
  return false;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

// ---------------------------------------------------------------------------------------------
// A Python literal parser for what numpy's header writer emits: repr() of a dict of str keys to
// str, bool, int tuples, and (for structured dtypes, which are then refused) lists of tuples.

class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
type PyValue = string | bigint | boolean | null | PyTuple | PyValue[] | Map<string, PyValue>;

class ParseError extends Error {
  constructor(message: string, readonly pos: number) {
    super(message);
  }
}

class LiteralParser {
  private pos = 0;
  constructor(private readonly s: string) {}

  parseAll(): PyValue {
    const v = this.value(0);
    this.ws();
    if (this.pos !== this.s.length) throw new ParseError(`unexpected ${JSON.stringify(this.s.slice(this.pos, this.pos + 10))} after the value`, this.pos);
    return v;
  }

  private ws(): void {
    while (this.pos < this.s.length && " \t\n\r\f\v".includes(this.s[this.pos])) this.pos++;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_DEPTH) throw new ParseError("nesting too deep", this.pos);
    this.ws();
    const c = this.s[this.pos];
    if (c === undefined) throw new ParseError("unexpected end", this.pos);
    if (c === "{") return this.dict(depth);
    if (c === "(") {
      const { items, trailingComma } = this.seq(")", depth);
      // `(x)` is just x in Python; `(x,)` is a tuple.
      return items.length === 1 && !trailingComma ? items[0] : new PyTuple(items);
    }
    if (c === "[") return this.seq("]", depth).items;
    if (c === "'" || c === '"') return this.str();
    if ((c === "u" || c === "b" || c === "U" || c === "B") && (this.s[this.pos + 1] === "'" || this.s[this.pos + 1] === '"')) {
      this.pos++;
      return this.str();
    }
    if (c === "-" || c === "+" || (c >= "0" && c <= "9")) return this.int();
    for (const [word, v] of [["True", true], ["False", false], ["None", null]] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    throw new ParseError(`unexpected ${JSON.stringify(c)}`, this.pos);
  }

  private dict(depth: number): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.pos++;
    for (;;) {
      this.ws();
      if (this.s[this.pos] === "}") { this.pos++; return out; }
      const keyAt = this.pos;
      const k = this.value(depth + 1);
      if (typeof k !== "string") throw new ParseError("dict key is not a string", keyAt);
      if (out.has(k)) throw new ParseError(`key '${k}' appears twice`, keyAt);
      this.ws();
      if (this.s[this.pos] !== ":") throw new ParseError("expected ':'", this.pos);
      this.pos++;
      out.set(k, this.value(depth + 1));
      this.ws();
      if (this.s[this.pos] === ",") this.pos++;
      else if (this.s[this.pos] !== "}") throw new ParseError("expected ',' or '}'", this.pos);
    }
  }

  private seq(close: string, depth: number): { items: PyValue[]; trailingComma: boolean } {
    const items: PyValue[] = [];
    let trailingComma = false;
    this.pos++;
    for (;;) {
      this.ws();
      if (this.s[this.pos] === close) { this.pos++; return { items, trailingComma }; }
      items.push(this.value(depth + 1));
      this.ws();
      trailingComma = false;
      if (this.s[this.pos] === ",") { this.pos++; trailingComma = true; }
      else if (this.s[this.pos] !== close) throw new ParseError(`expected ',' or '${close}'`, this.pos);
    }
  }

  private str(): string {
    const q = this.s[this.pos++];
    let out = "";
    for (;;) {
      const c = this.s[this.pos++];
      if (c === undefined || c === "\n") throw new ParseError("unterminated string", this.pos - 1);
      if (c === q) return out;
      if (c === "\\") {
        const e = this.s[this.pos++];
        const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r", "0": "\0" };
        if (e in simple) out += simple[e];
        else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(this.s.slice(this.pos, this.pos + 2))) {
          out += String.fromCharCode(parseInt(this.s.slice(this.pos, this.pos + 2), 16));
          this.pos += 2;
        } else throw new ParseError(`unsupported escape \\${e}`, this.pos - 2);
      } else out += c;
    }
  }

  private int(): bigint {
    const m = /^[-+]?\d+/.exec(this.s.slice(this.pos, this.pos + 40));
    if (!m) throw new ParseError("bad number", this.pos);
    this.pos += m[0].length;
    // Python 2 numpy wrote shapes like (3L, 4L).
    if (this.s[this.pos] === "L" || this.s[this.pos] === "l") this.pos++;
    if (this.s[this.pos] === "." || this.s[this.pos] === "e" || this.s[this.pos] === "E") throw new ParseError("floats are not expected in a header", this.pos);
    return BigInt(m[0]);
  }
}

function show(v: PyValue | undefined): string {
  if (v === undefined) return "missing";
  if (v === null) return "None";
  if (typeof v === "string") return `'${v}'`;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof PyTuple) return `(${v.items.map(show).join(", ")}${v.items.length === 1 ? "," : ""})`;
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  return `{${[...v].map(([k, x]) => `'${k}': ${show(x)}`).join(", ")}}`;
}

// ---------------------------------------------------------------------------------------------
// Values as native JS arrays, in C order. The data of an NPZ member sits at any alignment, so
// every helper copies into a fresh (aligned) buffer; big-endian data is swapped in the copy.

export type NpyTypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/**
 * The array's values in C order: a typed array of its own type (bool as 0/1 Uint8Array), strings
 * for U, byte strings for S. With `inPlace` (C order only, `npy` aligned to the item size) the
 * values are swapped and normalised where they lie and the typed array is a view of `npy`.
 */
export function npyValues(h: NpyHeader, npy: Uint8Array, inPlace = false): NpyTypedArray | string[] | Uint8Array[] {
  const { dtype } = h;
  const data = npy.subarray(h.dataOffset, h.dataOffset + h.byteLength);
  if (data.length !== h.byteLength) throw new RangeError(`npy data: ${data.length} bytes, header says ${h.byteLength}`);
  if (dtype.kind === "U" || dtype.kind === "S") {
    const items: (string | Uint8Array)[] = [];
    for (let i = 0; i < h.count; i++) items.push(stringItem(dtype, data, i * dtype.itemSize));
    return (h.fortranOrder ? transposeList(items, h.shape) : items) as string[] | Uint8Array[];
  }
  const transpose = h.fortranOrder && h.shape.length > 1;
  if (inPlace && (transpose || (npy.byteOffset + h.dataOffset) % dtype.itemSize)) throw new RangeError("npy values in place: Fortran order or unaligned data");
  const copy = inPlace ? data : data.slice();
  if (dtype.bigEndian) swapBytes(copy, dtype.itemSize);
  if (dtype.kind === "b") for (let i = 0; i < copy.length; i++) copy[i] = copy[i] !== 0 ? 1 : 0;
  let bytes = copy;
  if (transpose) {
    bytes = new Uint8Array(copy.length);
    transposeBytes(copy, bytes, h.shape, dtype.itemSize);
  }
  return typed(dtype, bytes.buffer, bytes.byteOffset, h.count);
}

/** Any numeric array as float32, C order; one rounding to nearest even per value, as numpy's astype(np.float32). */
export function npyFloat32(h: NpyHeader, npy: Uint8Array): Float32Array {
  const v = numeric(h, npy);
  if (v instanceof Float32Array) return v;
  const out = new Float32Array(v.length);
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    for (let i = 0; i < v.length; i++) out[i] = bigToF32(v[i]);
  } else {
    for (let i = 0; i < v.length; i++) out[i] = v[i];
  }
  return out;
}

/** Any numeric array as float64, C order (exact but for 64-bit integers beyond 2^53, which round to nearest even). */
export function npyFloat64(h: NpyHeader, npy: Uint8Array): Float64Array {
  const v = numeric(h, npy);
  if (v instanceof Float64Array) return v;
  const out = new Float64Array(v.length);
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
  } else {
    for (let i = 0; i < v.length; i++) out[i] = v[i];
  }
  return out;
}

function numeric(h: NpyHeader, npy: Uint8Array): NpyTypedArray {
  const v = npyValues(h, npy);
  if (Array.isArray(v)) throw new ArrowsmithError("npy", `npy: dtype '${h.dtype.descr}' is a string type, not numeric`);
  return v;
}

/** Number(b) would round to f64 first and then fround again; round once from the integer. */
function bigToF32(b: bigint): number {
  const neg = b < 0n;
  let a = neg ? -b : b;
  if (a < 2n ** 53n) return Math.fround(Number(b));
  const shift = a.toString(2).length - 53;
  const sticky = (a & ((1n << BigInt(shift)) - 1n)) !== 0n ? 1n : 0n;
  a = (a >> BigInt(shift)) | sticky;
  const r = Math.fround(Number(a) * 2 ** shift);
  return neg ? -r : r;
}

function typed(d: NpyDtype, buf: ArrayBufferLike, at: number, n: number): NpyTypedArray {
  switch (d.kind + d.itemSize) {
    case "f4": return new Float32Array(buf, at, n);
    case "f8": return new Float64Array(buf, at, n);
    case "i1": return new Int8Array(buf, at, n);
    case "u1": case "b1": return new Uint8Array(buf, at, n);
    case "i2": return new Int16Array(buf, at, n);
    case "u2": return new Uint16Array(buf, at, n);
    case "i4": return new Int32Array(buf, at, n);
    case "u4": return new Uint32Array(buf, at, n);
    case "i8": return new BigInt64Array(buf, at, n);
    case "u8": return new BigUint64Array(buf, at, n);
  }
  throw new ArrowsmithError("internal", `npy: no typed array for ${d.descr}`);
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i + size <= b.length; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const t = b[lo];
      b[lo] = b[hi];
      b[hi] = t;
    }
  }
}

function stringItem(d: NpyDtype, data: Uint8Array, at: number): string | Uint8Array {
  if (d.kind === "S") {
    let end = at + d.itemSize;
    while (end > at && data[end - 1] === 0) end--;
    return data.slice(at, end);
  }
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let n = d.chars!;
  // numpy drops trailing NULs of U items.
  while (n > 0 && v.getUint32(at + (n - 1) * 4, !d.bigEndian) === 0) n--;
  let s = "";
  for (let k = 0; k < n; k++) {
    const cp = v.getUint32(at + k * 4, !d.bigEndian);
    if (cp > 0x10ffff) throw new ArrowsmithError("npy", `npy: '${d.descr}' item holds code point ${cp}, beyond Unicode`);
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** Fortran order (first axis fastest) to C order (last axis fastest), items of `size` bytes. */
function transposeBytes(src: Uint8Array, dst: Uint8Array, shape: readonly number[], size: number): void {
  const nd = shape.length;
  const fstride: number[] = [];
  let s = size;
  for (let j = 0; j < nd; j++) { fstride.push(s); s *= shape[j]; }
  const idx = new Array<number>(nd).fill(0);
  const total = src.length / size;
  let base = 0;
  for (let o = 0; o < total; o++) {
    dst.set(src.subarray(base, base + size), o * size);
    for (let j = nd - 1; j >= 0; j--) {
      base += fstride[j];
      if (++idx[j] < shape[j]) break;
      base -= fstride[j] * shape[j];
      idx[j] = 0;
    }
  }
}

function transposeList<T>(items: T[], shape: readonly number[]): T[] {
  const nd = shape.length;
  if (nd < 2) return items;
  const fstride: number[] = [];
  let s = 1;
  for (let j = 0; j < nd; j++) { fstride.push(s); s *= shape[j]; }
  const idx = new Array<number>(nd).fill(0);
  const out: T[] = [];
  let base = 0;
  for (let o = 0; o < items.length; o++) {
    out.push(items[base]);
    for (let j = nd - 1; j >= 0; j--) {
      base += fstride[j];
      if (++idx[j] < shape[j]) break;
      base -= fstride[j] * shape[j];
      idx[j] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conversion inside wasm memory (the pipeline's path for large arrays).

/** The part of src/wasm.ts's Kernels these helpers use (passed in: this file loads no wasm). */
export interface NpyKernels {
  npyToF32(src: number, n: number, code: number, dst: number): number;
  npyToF64(src: number, n: number, code: number, dst: number): number;
  fortranToC(src: number, dst: number, shape: number, ndim: number, itemSize: number): number;
  alloc(size: number): number;
  mark(): number;
  release(mark: number): void;
  bytes(): Uint8Array;
}

/**
 * Converts the array data at `src` (wasm memory, any alignment; `h.byteLength` bytes) to native
 * float32 (`to = "f32"`) or float64 in C order at `dst` (`h.count` values). `dst` must not overlap
 * `src` for Fortran-order arrays (a scratch region is borrowed for the transpose).
 */
export function npyConvertInWasm(k: NpyKernels, h: NpyHeader, src: number, dst: number, to: "f32" | "f64" = "f32"): void {
  const code = h.dtype.code;
  if (code === undefined) throw new ArrowsmithError("npy", `npy: dtype '${h.dtype.descr}' cannot be converted to ${to === "f32" ? "float32" : "float64"}`);
  if (h.count > 0x7fffffff) throw new ArrowsmithError("npy", `npy: ${h.count} elements are more than one kernel call takes`);
  const width = to === "f32" ? 4 : 8;
  const convert = (from: number, into: number) => (to === "f32" ? k.npyToF32(from, h.count, code, into) : k.npyToF64(from, h.count, code, into));
  if (!h.fortranOrder || h.shape.length < 2 || h.count === 0) {
    if (convert(src, dst) !== 0) throw new ArrowsmithError("internal", `npy kernel refused dtype code ${code}`);
    return;
  }
  const mark = k.mark();
  try {
    const tmp = k.alloc(h.count * width);
    const shapeAt = k.alloc(h.shape.length * 4);
    const mem = k.bytes();
    const sv = new DataView(mem.buffer, shapeAt, h.shape.length * 4);
    h.shape.forEach((d, j) => sv.setInt32(j * 4, d, true));
    if (convert(src, tmp) !== 0) throw new ArrowsmithError("internal", `npy kernel refused dtype code ${code}`);
    if (k.fortranToC(tmp, dst, shapeAt, h.shape.length, width) !== 0) {
      throw new ArrowsmithError("internal", `fortranToC refused a ${h.shape.length}-d array`);
    }
  } finally {
    k.release(mark);
  }
}

// ---------------------------------------------------------------------------------------------
// NPZ: a ZIP of .npy members, as np.savez / np.savez_compressed write it.

export interface NpzArray {
  /** The array's name (the member name without ".npy", as np.load shows it). */
  readonly name: string;
  readonly entry: ZipEntry;
  readonly header: NpyHeader;
}

/**
 * The .npy members of an archive with their headers, read from the first bytes of each member only
 * (object arrays are refused before their data is inflated). Members not ending in ".npy" are skipped.
 */
export function npzArrays(zip: ZipArchive): NpzArray[] {
  const out: NpzArray[] = [];
  for (const entry of zip.entries) {
    if (!entry.name.endsWith(".npy")) continue;
    out.push({ name: entry.name.slice(0, -4), entry, header: npzHeader(zip, entry) });
  }
  return out;
}

/** The header of one .npy member, from its first bytes. */
export function npzHeader(zip: ZipArchive, entry: ZipEntry): NpyHeader {
  const ctx = npzContext(zip, entry);
  let head = zip.readPrefix(entry, 1024);
  const need = npyHeaderLength(head, ctx);
  if (need > head.length) head = zip.readPrefix(entry, need);
  return parseNpyHeader(head, ctx, entry.size);
}

/** Reads one member whole and returns its header and values (for small arrays; the pipeline reads into wasm). */
export function readNpzArray(zip: ZipArchive, name: string): { header: NpyHeader; values: ReturnType<typeof npyValues> } {
  const entry = zip.entry(name.endsWith(".npy") ? name : `${name}.npy`) ?? zip.entry(name);
  if (!entry) throw new ArrowsmithError("npy", `npz has no array "${name}" (members: ${zip.entries.map((e) => e.name).join(", ")})`, { file: zip.file });
  const header = npzHeader(zip, entry);
  const bytes = zip.read(entry);
  return { header: parseNpyHeader(bytes, npzContext(zip, entry)), values: npyValues(header, bytes) };
}

/** Error context for a member: stored data has real file offsets, inflated data only its member's. */
export function npzContext(zip: ZipArchive, entry: ZipEntry): NpyContext {
  return { file: zip.file, member: entry.name, offset: zip.dataOffset(entry), deflated: entry.method !== 0 };
}

/**
 * Members that must be read whole (a Fortran-order array, `metadata`, a 0-d value) may hold at most
 * this many bytes; C-order arrays of any size are read in windows of rows instead (NpzRowReader).
 */
export const NPZ_WHOLE_LIMIT = 256 << 20;

/** True when the array's rows (indices of its first axis) lie one after another in the member. */
export function rowContiguous(h: NpyHeader): boolean {
  return !h.fortranOrder || h.shape.length < 2 || h.count === 0;
}

/** Bytes of one row (one index of the first axis) of an array with at least one dimension. */
export function npyRowBytes(h: NpyHeader): number {
  return h.shape.slice(1).reduce((a, d) => a * d, 1) * h.dtype.itemSize;
}

/**
 * Reads an array's rows front to back from its NPZ member, a window at a time, so memory follows
 * the window and not the array; the member's CRC-32 is checked by `finish()` after the last row.
 */
export class NpzRowReader {
  readonly rows: number;
  readonly rowBytes: number;
  private readonly stream: MemberStream;

  constructor(zip: ZipArchive, a: NpzArray) {
    const h = a.header;
    if (!rowContiguous(h) || h.shape.length === 0) throw new ArrowsmithError("internal", `npy member "${a.entry.name}": rows are not contiguous`);
    this.rows = h.shape[0];
    this.rowBytes = npyRowBytes(h);
    this.stream = zip.stream(a.entry);
    try {
      this.stream.read(h.dataOffset, new Uint8Array(h.dataOffset), 0);
    } catch (e) {
      this.stream.close();
      throw e;
    }
  }

  /** Writes the next `rows` rows to `into[at ..]`. */
  read(rows: number, into: Uint8Array, at: number): void {
    this.stream.read(rows * this.rowBytes, into, at);
  }

  /** Checks the rest of the member (its end and CRC-32) and closes it. */
  finish(): void {
    this.stream.finish();
  }

  close(): void {
    this.stream.close();
  }
}
