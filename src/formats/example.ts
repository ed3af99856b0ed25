// tf.train.Example, decoded straight from the wire without a schema compiler:
//   Example  { Features features = 1; }
//   Features { map<string, Feature> feature = 1; }      (map entry: key = 1, value = 2)
//   Feature  { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
//   *List    { repeated T value = 1; }                   (float and int64 packed or not)
// Map entries come in any order and may repeat (last wins); unknown fields are skipped; a length or
// varint that runs past its enclosing message is corruption. Positions are into one byte window,
// so the image bytes of a record are never copied by the decoder.
import { ArrowsmithError } from "../errors.js";

export type FeatureKind = "bytes" | "float" | "int64" | "none";

/** Where one feature's list sits in the window: `start..end` is the content of the *List message. */
export interface FeatureRef {
  kind: FeatureKind;
  start: number;
  end: number;
  /** More (start, end) pairs when the same list field appears again in one Feature (protobuf merges them). */
  more?: number[];
}

/** Thrown by the decoders; the caller adds the file, record and file offset. */
export class WireError extends ArrowsmithError {
  constructor(detail: string, readonly position: number) {
    super("protobuf", detail);
  }
}

// varint state: value split in two 32-bit halves, so int64s keep all 64 bits without BigInt
let vlo = 0;
let vhi = 0;

/** Reads a varint at `p` (before `end`) into vlo/vhi and returns the position after it. */
function varint(b: Uint8Array, p: number, end: number): number {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  let byte = 0;
  // first 4 bytes: 28 bits of lo
  for (; shift < 28; shift += 7) {
    if (p >= end) throw new WireError("varint runs past the end of its message", p);
    byte = b[p++];
    lo |= (byte & 0x7f) << shift;
    if (byte < 0x80) { vlo = lo >>> 0; vhi = 0; return p; }
  }
  // fifth byte: 4 bits to lo, 3 bits to hi
  if (p >= end) throw new WireError("varint runs past the end of its message", p);
  byte = b[p++];
  lo |= (byte & 0x0f) << 28;
  hi = (byte & 0x7f) >> 4;
  if (byte < 0x80) { vlo = lo >>> 0; vhi = hi >>> 0; return p; }
  for (shift = 3; shift < 32; shift += 7) {
    if (p >= end) throw new WireError("varint runs past the end of its message", p);
    byte = b[p++];
    hi |= (byte & 0x7f) << shift;
    if (byte < 0x80) { vlo = lo >>> 0; vhi = hi >>> 0; return p; }
  }
  throw new WireError("varint longer than 10 bytes", p);
}

/** A length-delimited field's length, checked against the message end. Returns the content start. */
function lengthDelimited(b: Uint8Array, p: number, end: number): number {
  p = varint(b, p, end);
  if (vhi !== 0 || vlo > end - p) throw new WireError(`field length ${vhi ? "≥ 2^32" : vlo} runs past the end of its message (${end - p} bytes left)`, p);
  return p;
}

function skipField(b: Uint8Array, p: number, end: number, wire: number): number {
  switch (wire) {
    case 0: return varint(b, p, end);
    case 1: if (end - p < 8) throw new WireError("fixed64 field runs past the end of its message", p); return p + 8;
    case 2: { const s = lengthDelimited(b, p, end); return s + vlo; }
    case 5: if (end - p < 4) throw new WireError("fixed32 field runs past the end of its message", p); return p + 4;
    default: throw new WireError(`unsupported wire type ${wire}`, p);
  }
}

const KIND_BY_FIELD: FeatureKind[] = ["none", "bytes", "float", "int64"];

/**
 * Visits each feature of the Example at window[start, end): `visit(keyStart, keyEnd, ref)` once per
 * map entry, in wire order (a repeated key is visited again; the last visit wins).
 */
export function scanExample(b: Uint8Array, start: number, end: number,
                            visit: (keyStart: number, keyEnd: number, ref: FeatureRef) => void): void {
  let p = start;
  for (let fs = nextField1(b, p, end); fs >= 0; fs = nextField1(b, p, end)) {
    p = fieldEnd; // read before the nested scan moves it
    scanFeatures(b, fs, p, visit);
  }
}

// end of the field found by nextField1
let fieldEnd = 0;

/**
 * The content start of the next length-delimited field number 1 in [p, end), skipping other
 * fields, with its end in `fieldEnd`; -1 when there is none. Both Example.features and
 * Features.feature (the map entries) are such fields.
 */
function nextField1(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    p = varint(b, p, end);
    const tag = vlo;
    if (vhi !== 0 || tag >>> 3 !== 1 || (tag & 7) !== 2) { p = skipField(b, p, end, tag & 7); continue; }
    const s = lengthDelimited(b, p, end);
    fieldEnd = s + vlo;
    return s;
  }
  return -1;
}

function scanFeatures(b: Uint8Array, start: number, end: number,
                      visit: (keyStart: number, keyEnd: number, ref: FeatureRef) => void): void {
  let p = start;
  for (let es = nextField1(b, p, end); es >= 0; es = nextField1(b, p, end)) {
    const ee = fieldEnd;
    // map entry: key = 1 (string), value = 2 (Feature); either may be missing (defaults: "", empty)
    let ks = es, ke = es;
    const ref: FeatureRef = { kind: "none", start: ee, end: ee };
    let q = es;
    while (q < ee) {
      q = varint(b, q, ee);
      const t = vlo;
      const field = t >>> 3, wire = t & 7;
      if (vhi === 0 && field === 1 && wire === 2) {
        ks = lengthDelimited(b, q, ee); ke = ks + vlo; q = ke;
      } else if (vhi === 0 && field === 2 && wire === 2) {
        const fs = lengthDelimited(b, q, ee);
        const fe = fs + vlo;
        scanFeature(b, fs, fe, ref);
        q = fe;
      } else {
        q = skipField(b, q, ee, wire);
      }
    }
    visit(ks, ke, ref);
    p = ee;
  }
}

/** Feature: the oneof's last set member wins (protobuf semantics). */
function scanFeature(b: Uint8Array, start: number, end: number, ref: FeatureRef): void {
  let p = start;
  while (p < end) {
    p = varint(b, p, end);
    const t = vlo;
    const field = t >>> 3, wire = t & 7;
    if (vhi === 0 && field >= 1 && field <= 3 && wire === 2) {
      const ls = lengthDelimited(b, p, end);
      const le = ls + vlo;
      const kind = KIND_BY_FIELD[field];
      // the same list field twice in one Feature merges (its repeated values concatenate); a
      // different member of the oneof replaces it
      if (ref.kind === kind) (ref.more ??= []).push(ls, le);
      else { ref.kind = kind; ref.start = ls; ref.end = le; ref.more = undefined; }
      p = le;
    } else {
      p = skipField(b, p, end, wire);
    }
  }
}

/** Calls `fn(start, end)` for each span of the list's content. */
function spans(ref: FeatureRef, fn: (s: number, e: number) => number): number {
  let n = fn(ref.start, ref.end);
  const more = ref.more;
  if (more) for (let i = 0; i < more.length; i += 2) n += fn(more[i], more[i + 1]);
  return n;
}

/** The feature key as a string (keys are short; ASCII fast path). */
export function keyString(b: Uint8Array, s: number, e: number): string {
  let out = "";
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c >= 0x80) return utf8.decode(b.subarray(s, e));
    out += String.fromCharCode(c);
  }
  return out;
}

const utf8 = new TextDecoder("utf-8");

/** Visits the int64 values of an Int64List (packed or not) as (lo, hi) 32-bit halves. */
export function forEachInt64(b: Uint8Array, ref: FeatureRef, fn: (lo: number, hi: number) => void): number {
  return spans(ref, (p, end) => {
    let n = 0;
    while (p < end) {
      p = varint(b, p, end);
      const t = vlo;
      if (vhi === 0 && t === 0x0a) {            // field 1, packed
        const s = lengthDelimited(b, p, end);
        const e = s + vlo;
        let q = s;
        while (q < e) { q = varint(b, q, e); fn(vlo, vhi); n++; }
        p = e;
      } else if (vhi === 0 && t === 0x08) {     // field 1, one unpacked value
        p = varint(b, p, end);
        fn(vlo, vhi); n++;
      } else {
        p = skipField(b, p, end, t & 7);
      }
    }
    return n;
  });
}

const f32scratch = new Float32Array(1);
const u32scratch = new Uint32Array(f32scratch.buffer);

function f32At(b: Uint8Array, p: number): number {
  u32scratch[0] = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
  return f32scratch[0];
}

/** Visits the float32 values of a FloatList (packed or not). */
export function forEachFloat(b: Uint8Array, ref: FeatureRef, fn: (v: number) => void): number {
  return spans(ref, (p, end) => {
    let n = 0;
    while (p < end) {
      p = varint(b, p, end);
      const t = vlo;
      if (vhi === 0 && t === 0x0a) {            // packed
        const s = lengthDelimited(b, p, end);
        const e = s + vlo;
        if ((e - s) % 4 !== 0) throw new WireError(`packed float list of ${e - s} bytes is not a multiple of 4`, s);
        for (let q = s; q < e; q += 4) { fn(f32At(b, q)); n++; }
        p = e;
      } else if (vhi === 0 && t === 0x0d) {     // unpacked fixed32
        if (end - p < 4) throw new WireError("float value runs past the end of its list", p);
        fn(f32At(b, p)); n++;
        p += 4;
      } else {
        p = skipField(b, p, end, t & 7);
      }
    }
    return n;
  });
}

/** Visits the byte strings of a BytesList as (start, end) positions in the window. */
export function forEachBytes(b: Uint8Array, ref: FeatureRef, fn: (s: number, e: number) => void): number {
  return spans(ref, (p, end) => {
    let n = 0;
    while (p < end) {
      p = varint(b, p, end);
      const t = vlo;
      if (vhi === 0 && t === 0x0a) {
        const s = lengthDelimited(b, p, end);
        fn(s, s + vlo); n++;
        p = s + vlo;
      } else {
        p = skipField(b, p, end, t & 7);
      }
    }
    return n;
  });
}

/** int64 from 32-bit halves, as a BigInt (two's complement). */
export function int64(lo: number, hi: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

/** A fully decoded feature, for the generic kind and `inspect`. */
export type FeatureValue =
  | { kind: "bytes"; values: Uint8Array[] }
  | { kind: "float"; values: Float32Array }
  | { kind: "int64"; values: BigInt64Array }
  | { kind: "none" };

/** Decodes every feature of one Example (copies values out of the window). */
export function decodeExample(b: Uint8Array, start: number, end: number): Map<string, FeatureValue> {
  const out = new Map<string, FeatureValue>();
  scanExample(b, start, end, (ks, ke, ref) => {
    const key = keyString(b, ks, ke);
    out.set(key, decodeFeature(b, ref));
  });
  return out;
}

export function decodeFeature(b: Uint8Array, ref: FeatureRef): FeatureValue {
  switch (ref.kind) {
    case "bytes": {
      const values: Uint8Array[] = [];
      forEachBytes(b, ref, (s, e) => values.push(b.slice(s, e)));
      return { kind: "bytes", values };
    }
    case "float": {
      const tmp: number[] = [];
      forEachFloat(b, ref, (v) => tmp.push(v));
      return { kind: "float", values: Float32Array.from(tmp) };
    }
    case "int64": {
      const tmp: bigint[] = [];
      forEachInt64(b, ref, (lo, hi) => tmp.push(int64(lo, hi)));
      return { kind: "int64", values: BigInt64Array.from(tmp) };
    }
    default:
      return { kind: "none" };
  }
}
