// The scalar features of a SCONE record (id, label, z, z_err) read straight from the wire; the
// image is never decoded, only its presence and byte length checked where asked. This is what the
// SNID index (`find`, `index`, and the index of kept outputs on --resume) needs, at reading speed.
import { ArrowsmithError } from "../errors.js";
import { type FeatureRef, forEachBytes, forEachFloat, forEachInt64, keyString, scanExample } from "../formats/example.js";
import type { Frame } from "../formats/tfrecord.js";

/** Codes of the five SCONE feature names (0: another name). */
export const KEY_ID = 1, KEY_LABEL = 2, KEY_Z = 3, KEY_ZERR = 4, KEY_IMAGE = 5;
/** The code of the feature name at b[s, e) (see KEY_*), without making a string. */
export function keyCode(b: Uint8Array, s: number, e: number): number {
  // the five names differ in length or first letter: no string is made per record
  const n = e - s;
  const c = b[s];
  if (n === 2 && c === 0x69 && b[s + 1] === 0x64) return KEY_ID;                         // id
  if (n === 5 && c === 0x6c && keyString(b, s, e) === "label") return KEY_LABEL;
  if (n === 1 && c === 0x7a) return KEY_Z;                                               // z
  if (n === 5 && c === 0x7a && keyString(b, s, e) === "z_err") return KEY_ZERR;
  if (n === 9 && c === 0x69 && keyString(b, s, e) === "image_raw") return KEY_IMAGE;
  return 0;
}

/** An int64 from its two 32-bit halves, as a number when exact (no BigInt per event), else a bigint. */
export function int64Value(lo: number, hi: number): number | bigint {
  if (hi === 0 && lo >= 0) return lo;
  if (hi === -1 && lo < 0) return lo;
  if (hi >= 0 && hi < 0x200000) return hi * 2 ** 32 + (lo >>> 0);
  return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
}

export interface ScalarOptions {
  /**
   * Check the record as `convert` does before it decodes the image: id and label one int64 each
   * (label within int32), z and z_err at most one float, image_raw one bytes value of exactly this
   * many bytes. Then a record is refused here exactly when the conversion refuses it. Without it,
   * missing or odd features are only reported as absent (`hasId`, `hasLabel`).
   */
  imageBytes?: number;
}

/** Reads one record's scalars into its fields (reused: no allocation per record). */
export class SconeScalars {
  idLo = 0;
  idHi = 0;
  hasId = false;
  labelLo = 0;
  labelHi = 0;
  hasLabel = false;
  z = 0;
  hasZ = false;
  zErr = 0;
  hasZErr = false;
  private readonly refs: (FeatureRef | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined];
  private window!: Uint8Array;
  private readonly visit: (ks: number, ke: number, ref: FeatureRef) => void;

  constructor(private readonly o: ScalarOptions = {}) {
    this.visit = (ks, ke, ref) => {
      const code = keyCode(this.window, ks, ke);
      if (code) this.refs[code] = ref;
    };
  }

  /** The id (valid when `hasId`). */
  get id(): number | bigint {
    return int64Value(this.idLo, this.idHi);
  }

  get label(): number | bigint {
    return int64Value(this.labelLo, this.labelHi);
  }

  /** Reads the record of `frame` in `window`; throws an ArrowsmithError where convert would. */
  read(window: Uint8Array, frame: Frame, file: string): void {
    const refs = this.refs;
    refs[1] = refs[2] = refs[3] = refs[4] = refs[5] = undefined;
    this.window = window;
    scanExample(window, frame.start, frame.start + frame.length, this.visit);
    const strict = this.o.imageBytes !== undefined;
    const where = { file, offset: frame.offset, record: frame.index };
    this.hasId = this.int64(refs[KEY_ID], "id", strict, where);
    this.idLo = this.lo;
    this.idHi = this.hi;
    this.hasLabel = this.int64(refs[KEY_LABEL], "label", strict, where);
    this.labelLo = this.lo;
    this.labelHi = this.hi;
    if (strict && !((this.hi === 0 && this.lo >= 0) || (this.hi === -1 && this.lo < 0))) {
      throw new ArrowsmithError("feature", "feature label does not fit in int32", where);
    }
    this.hasZ = this.float(refs[KEY_Z], "z", strict, where);
    this.z = this.f;
    this.hasZErr = this.float(refs[KEY_ZERR], "z_err", strict, where);
    this.zErr = this.f;
    if (!strict) return;
    const img = refs[KEY_IMAGE] as FeatureRef | undefined;
    if (!img) throw new ArrowsmithError("feature", "feature image_raw is missing", { ...where, hint: "not a SCONE heatmap record; try --kind generic" });
    if (img.kind !== "bytes") throw new ArrowsmithError("feature", `feature image_raw is a ${img.kind} list, expected bytes`, where);
    let len = 0;
    const n = forEachBytes(window, img, (s, e) => { len = e - s; });
    if (n !== 1) throw new ArrowsmithError("feature", `feature image_raw has ${n} values, expected 1`, where);
    if (len !== this.o.imageBytes) throw new ArrowsmithError("image_size", `image_raw has ${len} bytes, expected ${this.o.imageBytes}`, where);
  }

  private lo = 0;
  private hi = 0;
  private f = 0;

  private int64(ref: FeatureRef | undefined, name: string, strict: boolean, where: { file: string; offset: number; record: number }): boolean {
    this.lo = this.hi = 0;
    if (!ref || ref.kind !== "int64") {
      if (!strict) return false;
      if (!ref) throw new ArrowsmithError("feature", `feature ${name} is missing`, { ...where, hint: "not a SCONE heatmap record; try --kind generic" });
      throw new ArrowsmithError("feature", `feature ${name} is a ${ref.kind} list, expected int64`, where);
    }
    let lo = 0, hi = 0;
    const n = forEachInt64(this.window, ref, (a, b) => { lo = a; hi = b; });
    if (n !== 1) {
      if (!strict) return false;
      throw new ArrowsmithError("feature", `feature ${name} has ${n} values, expected 1`, where);
    }
    this.lo = lo | 0;
    this.hi = hi | 0;
    return true;
  }

  private float(ref: FeatureRef | undefined, name: string, strict: boolean, where: { file: string; offset: number; record: number }): boolean {
    this.f = 0;
    if (!ref) return false;
    if (ref.kind !== "float") {
      if (strict) throw new ArrowsmithError("feature", `feature ${name} is a ${ref.kind} list, expected float`, where);
      return false;
    }
    let v = 0;
    const n = forEachFloat(this.window, ref, (x) => { v = x; });
    if (n === 0) return false;
    if (n !== 1) {
      if (strict) throw new ArrowsmithError("feature", `feature ${name} has ${n} values, expected 1`, where);
      return false;
    }
    this.f = v;
    return true;
  }
}
