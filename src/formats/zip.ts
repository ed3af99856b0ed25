// ZIP archives as numpy writes them (NPZ): a pure reader over a random-access byte source, so the
// caller decides where member data lands (straight into wasm memory in the pipeline).
//
// Format facts this reader relies on (APPNOTE 6.3.10):
// - The end-of-central-directory record (EOCD, 22 bytes + a comment of up to 65,535 bytes) is the
//   entry point; a ZIP64 locator just before it points to the ZIP64 EOCD record whose 64-bit
//   fields replace the 0xFFFF / 0xFFFFFFFF placeholders.
// - The central directory is the truth for names, methods, sizes and CRCs. numpy opens every member
//   with `force_zip64=True`, so each *local* header carries 0xFFFFFFFF sizes and a ZIP64 extra
//   field that the central record lacks: local name/extra lengths differ from the central ones and
//   the local header must be re-read to find where the data starts.
// - Only stored (0) and deflate (8) are read. Every extent is checked against the file before
//   anything is allocated, inflation stops at the declared size, and each member's CRC-32 is
//   compared with the central record.
// Raw deflate and the CRC-32 come from the caller as a ZipCodec (src/io/zip-codec.ts has Node's),
// so this file runs on any platform and loads no wasm.
import { ArrowsmithError, type ErrorCode } from "../errors.js";

/** Random access to the bytes of one file; `read` fills `into[at .. at+length)` or throws. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number, into: Uint8Array, at: number): void;
}

/** A ByteSource over bytes already in memory (tests, small files, a mapped buffer). */
export function bytesSource(data: Uint8Array): ByteSource {
  return {
    size: data.byteLength,
    read(offset, length, into, at) {
      if (offset < 0 || length < 0 || offset + length > data.byteLength) {
        throw new ArrowsmithError("truncated", `read of ${length} bytes at ${offset} past the end of ${data.byteLength} bytes`, { offset });
      }
      into.set(data.subarray(offset, offset + length), at);
    },
  };
}

export const ZIP_STORED = 0;
export const ZIP_DEFLATE = 8;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const LOCAL_BYTES = 30;
const CENTRAL_BYTES = 46;
const EOCD_BYTES = 22;
const ZIP64_EOCD_BYTES = 56;
const ZIP64_LOCATOR_BYTES = 20;
const MAX_COMMENT = 65535;
/** How far back from the end the EOCD can start: its 22 bytes plus the longest comment. */
export const EOCD_SEARCH = EOCD_BYTES + MAX_COMMENT;
/** deflate cannot expand 1 input byte into more than ~1032 output bytes (258-byte matches in 2 bits). */
const DEFLATE_MAX_RATIO = 1032;

const METHOD_NAMES: Record<number, string> = {
  1: "shrink", 2: "reduce", 3: "reduce", 4: "reduce", 5: "reduce", 6: "implode", 9: "deflate64",
  10: "PKWARE DCL implode", 12: "bzip2", 14: "LZMA", 18: "IBM TERSE", 19: "IBM LZ77", 20: "zstd (old id)",
  93: "zstd", 94: "MP3", 95: "xz", 96: "JPEG", 97: "WavPack", 98: "PPMd", 99: "AES encryption",
};

export interface ZipEntry {
  /** Position in the central directory. */
  readonly index: number;
  readonly name: string;
  /** Compression method: 0 stored, 8 deflate (others are listed but refused when read). */
  readonly method: number;
  /** General-purpose bit flags (bit 0 encrypted, bit 3 data descriptor, bit 11 UTF-8 name). */
  readonly flags: number;
  /** CRC-32 of the uncompressed data, as the central directory declares it. */
  readonly crc32: number;
  readonly compressedSize: number;
  /** Uncompressed size in bytes. */
  readonly size: number;
  readonly localHeaderOffset: number;
  /** File offset of this entry's central directory record (for errors). */
  readonly centralOffset: number;
  /** Whether the central record needed a ZIP64 extra field. */
  readonly zip64: boolean;
}

/** zlib's flush modes, by name: Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FINISH. */
export type Flush = "none" | "sync" | "finish";

/** A raw-deflate inflater stepped synchronously, one zlib `inflate()` call per `write`. */
export interface RawInflater {
  /** Inflates from `input[inOff, inOff+inLen)` into `out[outOff, outOff+outLen)`; then `availOut`/`availIn` say what was left of each. */
  write(flush: Flush, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  readonly availOut: number;
  readonly availIn: number;
  /** zlib's message once the data proved corrupt, else undefined. */
  error(): string | undefined;
  close(): void;
}

/** What the platform lends the reader: raw deflate and CRC-32. */
export interface ZipCodec {
  /** A streaming inflater, or undefined where the platform has none (whole-member inflation then serves). */
  openInflater(): RawInflater | undefined;
  /** Inflates all of `comp` into exactly `size` bytes at `into[at ..]`; throws ArrowsmithError("compression") otherwise. */
  inflateWhole(comp: Uint8Array, into: Uint8Array, at: number, size: number): void;
  /** Inflates as much of `comp` as it holds (a stream cut short is not an error). */
  inflatePartial(comp: Uint8Array): Uint8Array;
  /** CRC-32 (IEEE) of `into[at .. at+size)`, continuing from `start`. */
  crc32(into: Uint8Array, at: number, size: number, start: number): number;
}

export interface ZipOptions {
  /** Raw deflate and CRC-32 (`openZip` in src/io/zip-codec.ts passes Node's). */
  codec: ZipCodec;
  /** Name used in errors (the file path, or whatever the caller wants users to see). */
  file?: string;
  /** Compare each member's CRC-32 with the central directory (default true; `--no-verify` skips it). */
  verifyCrc?: boolean;
  /** Refuse whole reads (`read`, `readInto`) of members larger than this (default 4 GiB - 1, wasm32's limit); `stream` reads any size. */
  maxMemberSize?: number;
}

/** An opened archive: the parsed central directory plus readers for its members. */
export class ZipArchive {
  readonly file: string;
  readonly entries: readonly ZipEntry[];
  /** True when the archive has a ZIP64 end-of-central-directory record. */
  readonly zip64: boolean;
  /** The archive comment (bytes, as stored). */
  readonly comment: Uint8Array;
  /** File offset where the central directory starts (member data must end before it). */
  readonly centralDirectoryOffset: number;
  private readonly src: ByteSource;
  private readonly verify: boolean;
  private readonly maxMember: number;
  private readonly codec: ZipCodec;
  private readonly byName = new Map<string, ZipEntry>();
  private readonly dataOffsets = new Map<number, number>();

  private constructor(src: ByteSource, opts: ZipOptions, dir: Directory) {
    this.src = src;
    this.codec = opts.codec;
    this.file = opts.file ?? "<zip>";
    this.verify = opts.verifyCrc ?? true;
    this.maxMember = opts.maxMemberSize ?? 0xffffffff;
    this.entries = dir.entries;
    this.zip64 = dir.zip64;
    this.comment = dir.comment;
    this.centralDirectoryOffset = dir.cdOffset;
    for (const e of dir.entries) this.byName.set(e.name, e);
  }

  /**
   * Reads and checks the end records, the central directory and every member's local header (not
   * the members' data). No checksum covers the central directory: a damaged name there (say
   * `metadata.npy` become `metadata.np/`) would silently drop a member, and the local header's own
   * copy of the name is the one check there is.
   */
  static open(src: ByteSource, opts: ZipOptions): ZipArchive {
    const file = opts.file ?? "<zip>";
    const zip = new ZipArchive(src, opts, readDirectory(src, file));
    for (const e of zip.entries) zip.dataOffset(e);
    return zip;
  }

  /** The entry with this exact name, if any. */
  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** File offset of the member's data, from its local header (checked against the central record). */
  dataOffset(entry: ZipEntry): number {
    const cached = this.dataOffsets.get(entry.index);
    if (cached !== undefined) return cached;
    const off = this.readLocalHeader(entry);
    this.dataOffsets.set(entry.index, off);
    return off;
  }

  /**
   * Writes the member's `entry.size` uncompressed bytes to `into[at ..]` (a view of wasm memory in
   * the pipeline), inflating if needed and checking the CRC-32 unless disabled.
   */
  readInto(entry: ZipEntry, into: Uint8Array, at = 0): void {
    this.checkReadable(entry);
    if (at < 0 || at + entry.size > into.byteLength) {
      throw new RangeError(`zip readInto: ${entry.size} bytes at ${at} do not fit a buffer of ${into.byteLength}`);
    }
    const data = this.dataOffset(entry);
    if (entry.method === ZIP_STORED) {
      this.readRaw(data, entry.size, into, at, entry);
    } else {
      const comp = new Uint8Array(entry.compressedSize);
      this.readRaw(data, entry.compressedSize, comp, 0, entry);
      try {
        inflateRawWith(this.codec, comp, into, at, entry.size);
      } catch (e) {
        throw this.placed(e, data, entry);
      }
    }
    if (this.verify) {
      const crc = this.codec.crc32(into, at, entry.size, 0);
      if (crc !== entry.crc32) {
        throw new ArrowsmithError("member_crc",
          `zip member "${entry.name}": CRC-32 of its ${entry.size} bytes is ${hex(crc)}, the central directory says ${hex(entry.crc32)}`,
          { file: this.file, offset: data, hint: "the archive is corrupt" });
      }
    }
  }

  /** The member's uncompressed bytes in a new buffer. */
  read(entry: ZipEntry): Uint8Array {
    this.checkReadable(entry);
    const out = new Uint8Array(entry.size);
    this.readInto(entry, out, 0);
    return out;
  }

  /**
   * The member's uncompressed bytes front to back, in pieces of the caller's choosing: memory stays
   * at one piece plus a 1 MiB input buffer whatever the member's size (members larger than
   * `maxMemberSize`, which whole reads refuse, are read this way). The CRC-32 and the end of a
   * deflate stream are checked by `finish()`, once every byte has been read.
   */
  stream(entry: ZipEntry): MemberStream {
    this.checkMethod(entry);
    const data = this.dataOffset(entry);
    const fetch = (off: number, len: number, into: Uint8Array) => this.readRaw(data + off, len, into, 0, entry);
    const placed = (e: unknown) => this.placed(e, data, entry);
    const stored = (off: number, len: number, into: Uint8Array, at: number) => this.readRaw(data + off, len, into, at, entry);
    return new MemberStream(entry, this.codec, this.file, data, this.verify, this.maxMember, fetch, stored, placed);
  }

  /**
   * The first `min(n, size)` uncompressed bytes of a member (to look at an .npy header before
   * committing memory to the whole array). Inflates only as much as needed; no CRC check.
   */
  readPrefix(entry: ZipEntry, n: number): Uint8Array {
    this.checkMethod(entry);
    const want = Math.max(0, Math.min(n, entry.size));
    const data = this.dataOffset(entry);
    const out = new Uint8Array(want);
    if (want === 0) return out;
    if (entry.method === ZIP_STORED) {
      this.readRaw(data, want, out, 0, entry);
      return out;
    }
    try {
      const got = inflatePrefix(this.codec, (off, len, into) => this.readRaw(data + off, len, into, 0, entry), entry.compressedSize, out);
      if (got < want) {
        throw new ArrowsmithError("compression", `deflate data ends after ${got} bytes, before the ${want} asked for (declared ${entry.size})`);
      }
    } catch (e) {
      throw this.placed(e, data, entry);
    }
    return out;
  }

  private checkReadable(entry: ZipEntry): void {
    this.checkMethod(entry);
    if (entry.size > this.maxMember) {
      throw new ArrowsmithError("too_large",
        `zip member "${entry.name}" declares ${entry.size} bytes; a member read whole may have at most ${this.maxMember}`,
        { file: this.file, offset: entry.centralOffset });
    }
  }

  private checkMethod(entry: ZipEntry): void {
    const where = { file: this.file, offset: entry.centralOffset };
    if (this.entries[entry.index] !== entry) throw new RangeError(`zip entry "${entry.name}" is not from this archive`);
    if (entry.flags & 0x41) {
      throw new ArrowsmithError("zip", `zip member "${entry.name}" is encrypted; arrowsmith reads plain archives only`, where);
    }
    if (entry.method !== ZIP_STORED && entry.method !== ZIP_DEFLATE) {
      const what = METHOD_NAMES[entry.method] ? ` (${METHOD_NAMES[entry.method]})` : "";
      throw new ArrowsmithError("zip",
        `zip member "${entry.name}" uses compression method ${entry.method}${what}; arrowsmith reads stored (0) and deflate (8) only`,
        { ...where, hint: "numpy writes only these two (np.savez, np.savez_compressed); re-save the arrays with numpy" });
    }
  }

  private readLocalHeader(entry: ZipEntry): number {
    const off = entry.localHeaderOffset;
    const where = { file: this.file, offset: off };
    const head = new Uint8Array(LOCAL_BYTES);
    this.readRaw(off, LOCAL_BYTES, head, 0, entry);
    const v = view(head);
    if (v.getUint32(0, true) !== SIG_LOCAL) {
      throw new ArrowsmithError("zip", `zip member "${entry.name}": no local file header at byte ${off} (found ${hex(v.getUint32(0, true))})`, where);
    }
    const method = v.getUint16(8, true);
    if (method !== entry.method) {
      throw new ArrowsmithError("zip", `zip member "${entry.name}": local header says method ${method}, the central directory ${entry.method}`, where);
    }
    const nameLen = v.getUint16(26, true);
    const extraLen = v.getUint16(28, true);
    const data = off + LOCAL_BYTES + nameLen + extraLen;
    const end = data + entry.compressedSize;
    if (end > this.src.size) {
      throw new ArrowsmithError("truncated",
        `zip member "${entry.name}": ${entry.compressedSize} bytes of data at ${data} run past the end of the file (${this.src.size} bytes)`, where);
    }
    if (end > this.centralDirectoryOffset) {
      throw new ArrowsmithError("zip",
        `zip member "${entry.name}": ${entry.compressedSize} bytes of data at ${data} overlap the central directory at ${this.centralDirectoryOffset}`, where);
    }
    const nameBytes = new Uint8Array(nameLen);
    this.readRaw(off + LOCAL_BYTES, nameLen, nameBytes, 0, entry);
    const localName = decodeName(nameBytes, v.getUint16(6, true));
    if (localName !== entry.name) {
      throw new ArrowsmithError("zip", `zip member "${entry.name}": its local header names it "${localName}"`, where);
    }
    return data;
  }

  private readRaw(offset: number, length: number, into: Uint8Array, at: number, entry: ZipEntry): void {
    if (offset + length > this.src.size) {
      throw new ArrowsmithError("truncated",
        `zip member "${entry.name}": ${length} bytes at ${offset} run past the end of the file (${this.src.size} bytes)`,
        { file: this.file, offset });
    }
    sourceRead(this.src, offset, length, into, at, this.file);
  }

  private placed(e: unknown, offset: number, entry: ZipEntry): ArrowsmithError {
    if (e instanceof ArrowsmithError) {
      return new ArrowsmithError(e.code, `zip member "${entry.name}": ${e.detail}`, { file: this.file, offset, hint: e.hint, cause: e.cause });
    }
    return new ArrowsmithError("compression", `zip member "${entry.name}": ${(e as Error)?.message ?? String(e)}`, { file: this.file, offset, cause: e });
  }
}

interface Directory {
  entries: ZipEntry[];
  zip64: boolean;
  comment: Uint8Array;
  cdOffset: number;
}

function fail(code: ErrorCode, detail: string, file: string, offset?: number, hint?: string): never {
  throw new ArrowsmithError(code, detail, { file, offset, hint });
}

function sourceRead(src: ByteSource, offset: number, length: number, into: Uint8Array, at: number, file: string): void {
  try {
    src.read(offset, length, into, at);
  } catch (e) {
    if (e instanceof ArrowsmithError) throw e.at({ file, offset: e.offset ?? offset });
    throw new ArrowsmithError("io", `reading ${length} bytes at ${offset} failed: ${(e as Error)?.message ?? e}`, { file, offset, cause: e });
  }
}

function readDirectory(src: ByteSource, file: string): Directory {
  const size = src.size;
  if (!Number.isSafeInteger(size) || size < 0) fail("io", `byte source has no valid size (${size})`, file);
  if (size === 0) {
    fail("truncated", "empty file (0 bytes), not a ZIP archive", file, 0, "an empty .npz is an empty batch to the dataset readers");
  }
  const tailLen = Math.min(size, EOCD_SEARCH);
  const tailStart = size - tailLen;
  const tail = new Uint8Array(tailLen);
  sourceRead(src, tailStart, tailLen, tail, 0, file);
  const tv = view(tail);

  // Scan back for the EOCD signature whose comment fits in what follows (as Go's archive/zip does);
  // the last one wins, so a signature inside a member's data does not fool us.
  let eocd = -1;
  for (let p = tailLen - EOCD_BYTES; p >= 0; p--) {
    if (tail[p] === 0x50 && tail[p + 1] === 0x4b && tail[p + 2] === 0x05 && tail[p + 3] === 0x06) {
      const commentLen = tv.getUint16(p + 20, true);
      if (p + EOCD_BYTES + commentLen <= tailLen) {
        eocd = p;
        break;
      }
    }
  }
  if (eocd < 0) {
    const head = new Uint8Array(Math.min(4, size));
    sourceRead(src, 0, head.length, head, 0, file);
    if (head.every((b, i) => b === [0x50, 0x4b, 0x03, 0x04][i])) {
      fail("truncated", `no end-of-central-directory record in the last ${tailLen} bytes of a file that starts like a ZIP`, file, size,
        "the file was cut short (an interrupted copy or write?)");
    }
    fail("zip", `not a ZIP archive: no end-of-central-directory record in the last ${tailLen} bytes`, file, tailStart);
  }
  const eocdOffset = tailStart + eocd;
  const disk = tv.getUint16(eocd + 4, true);
  const cdDisk = tv.getUint16(eocd + 6, true);
  let diskEntries: number = tv.getUint16(eocd + 8, true);
  let count: number = tv.getUint16(eocd + 10, true);
  let cdSize: number = tv.getUint32(eocd + 12, true);
  let cdOffset: number = tv.getUint32(eocd + 16, true);
  const commentLen = tv.getUint16(eocd + 20, true);
  const comment = tail.slice(eocd + EOCD_BYTES, eocd + EOCD_BYTES + commentLen);
  let zip64 = false;
  let endOfDirectory = eocdOffset;

  const locAt = eocdOffset - ZIP64_LOCATOR_BYTES;
  let locator: DataView | undefined;
  if (locAt >= 0) {
    const loc = new Uint8Array(ZIP64_LOCATOR_BYTES);
    sourceRead(src, locAt, ZIP64_LOCATOR_BYTES, loc, 0, file);
    if (view(loc).getUint32(0, true) === SIG_ZIP64_LOCATOR) locator = view(loc);
  }
  if (locator) {
    zip64 = true;
    const recDisk = locator.getUint32(4, true);
    const recAt = u64(locator, 8, "ZIP64 end-of-central-directory offset", file, locAt);
    const disks = locator.getUint32(16, true);
    if (recDisk !== 0 || disks > 1) fail("zip", `multi-disk (split) ZIP archives are not supported (ZIP64 locator: disk ${recDisk} of ${disks})`, file, locAt);
    if (recAt + ZIP64_EOCD_BYTES > locAt) {
      fail(recAt + ZIP64_EOCD_BYTES > size ? "truncated" : "zip",
        `ZIP64 end-of-central-directory record at ${recAt} does not fit before its locator at ${locAt}`, file, locAt);
    }
    const rec = new Uint8Array(ZIP64_EOCD_BYTES);
    sourceRead(src, recAt, ZIP64_EOCD_BYTES, rec, 0, file);
    const rv = view(rec);
    if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) {
      fail("zip", `no ZIP64 end-of-central-directory record at ${recAt}, where the locator points (found ${hex(rv.getUint32(0, true))})`, file, recAt);
    }
    if (rv.getUint32(16, true) !== 0 || rv.getUint32(20, true) !== 0) fail("zip", "multi-disk (split) ZIP archives are not supported", file, recAt);
    diskEntries = u64(rv, 24, "ZIP64 entry count", file, recAt);
    count = u64(rv, 32, "ZIP64 entry count", file, recAt);
    cdSize = u64(rv, 40, "ZIP64 central directory size", file, recAt);
    cdOffset = u64(rv, 48, "ZIP64 central directory offset", file, recAt);
    endOfDirectory = recAt;
  } else {
    if (disk !== 0 || cdDisk !== 0) fail("zip", `multi-disk (split) ZIP archives are not supported (disk ${disk}, directory on disk ${cdDisk})`, file, eocdOffset);
    if (cdOffset === 0xffffffff || cdSize === 0xffffffff) {
      fail("zip", "the end-of-central-directory record defers to ZIP64 but there is no ZIP64 locator before it", file, eocdOffset);
    }
  }
  if (diskEntries !== count) fail("zip", `central directory lists ${diskEntries} entries on this disk but ${count} in all (split archive?)`, file, eocdOffset);
  if (cdOffset + cdSize > size) {
    fail("truncated", `central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file (${size} bytes)`, file, eocdOffset);
  }
  if (cdOffset + cdSize > endOfDirectory) {
    fail("zip", `central directory (${cdSize} bytes at ${cdOffset}) overlaps the end record at ${endOfDirectory}`, file, eocdOffset);
  }
  if (count * CENTRAL_BYTES > cdSize) {
    fail("zip", `central directory of ${cdSize} bytes cannot hold the ${count} entries the end record declares`, file, eocdOffset);
  }

  const cd = new Uint8Array(cdSize);
  sourceRead(src, cdOffset, cdSize, cd, 0, file);
  const cv = view(cd);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    const at = cdOffset + p;
    if (p + CENTRAL_BYTES > cdSize) fail("zip", `central directory ends inside entry ${i} of ${count}`, file, at);
    if (cv.getUint32(p, true) !== SIG_CENTRAL) {
      fail("zip", `central directory entry ${i} of ${count}: bad signature ${hex(cv.getUint32(p, true))}`, file, at);
    }
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc = cv.getUint32(p + 16, true);
    let compressedSize: number = cv.getUint32(p + 20, true);
    let usize: number = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLength = cv.getUint16(p + 32, true);
    const startDisk = cv.getUint16(p + 34, true);
    let localOffset: number = cv.getUint32(p + 42, true);
    const recLen = CENTRAL_BYTES + nameLen + extraLen + commentLength;
    if (p + recLen > cdSize) fail("zip", `central directory entry ${i} (${recLen} bytes) runs past the directory's end`, file, at);
    const name = decodeName(cd.subarray(p + CENTRAL_BYTES, p + CENTRAL_BYTES + nameLen), flags);

    // The ZIP64 extra holds, in this order, only the fields whose 32-bit slot is all ones.
    const needU = usize === 0xffffffff, needC = compressedSize === 0xffffffff;
    const needO = localOffset === 0xffffffff, needD = startDisk === 0xffff;
    let hasZip64 = false;
    if (needU || needC || needO || needD) {
      const ex = findExtra(cd, p + CENTRAL_BYTES + nameLen, extraLen, 0x0001);
      if (!ex) fail("zip", `zip member "${name}": 32-bit fields are 0xFFFFFFFF but it has no ZIP64 extra field`, file, at);
      const need = (needU ? 8 : 0) + (needC ? 8 : 0) + (needO ? 8 : 0) + (needD ? 4 : 0);
      if (ex.length < need) fail("zip", `zip member "${name}": ZIP64 extra field has ${ex.length} bytes, ${need} needed`, file, at);
      let q = ex.start;
      if (needU) { usize = u64(cv, q, "ZIP64 size", file, at); q += 8; }
      if (needC) { compressedSize = u64(cv, q, "ZIP64 compressed size", file, at); q += 8; }
      if (needO) { localOffset = u64(cv, q, "ZIP64 local header offset", file, at); q += 8; }
      if (needD && cv.getUint32(q, true) !== 0) fail("zip", `zip member "${name}" starts on another disk (split archive)`, file, at);
      hasZip64 = true;
    } else if (startDisk !== 0) {
      fail("zip", `zip member "${name}" starts on disk ${startDisk} (split archives are not supported)`, file, at);
    }

    if (seen.has(name)) fail("zip", `zip member "${name}" appears twice in the central directory`, file, at, "readers disagree on which copy wins");
    seen.add(name);
    // Declared extents against the file, before anything is allocated for them.
    if (localOffset + LOCAL_BYTES + compressedSize > size) {
      fail("truncated",
        `zip member "${name}": declares ${compressedSize} bytes of data after a local header at ${localOffset}, past the end of the file (${size} bytes)`,
        file, at);
    }
    if (localOffset + LOCAL_BYTES + compressedSize > cdOffset) {
      fail("zip", `zip member "${name}": ${compressedSize} bytes at local header ${localOffset} overlap the central directory at ${cdOffset}`, file, at);
    }
    if (method === ZIP_STORED && usize !== compressedSize) {
      fail("zip", `zip member "${name}" is stored but declares ${compressedSize} bytes stored and ${usize} uncompressed`, file, at);
    }
    if (method === ZIP_DEFLATE && usize > compressedSize * DEFLATE_MAX_RATIO + 1024) {
      fail("zip", `zip member "${name}" declares ${usize} bytes from ${compressedSize} deflated bytes, more than deflate can produce`, file, at);
    }
    entries.push({ index: i, name, method, flags, crc32: crc, compressedSize, size: usize, localHeaderOffset: localOffset, centralOffset: at, zip64: hasZip64 });
    p += recLen;
  }
  return { entries, zip64, comment, cdOffset };
}

function findExtra(buf: Uint8Array, start: number, len: number, id: number): { start: number; length: number } | undefined {
  const v = view(buf);
  let p = start;
  const end = start + len;
  while (p + 4 <= end) {
    const tag = v.getUint16(p, true);
    const n = v.getUint16(p + 2, true);
    if (p + 4 + n > end) return undefined;
    if (tag === id) return { start: p + 4, length: n };
    p += 4 + n;
  }
  return undefined;
}

function u64(v: DataView, at: number, what: string, file: string, offset: number): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  if (hi >= 0x200000) fail("zip", `${what} ${hi * 2 ** 32 + lo} is beyond 2^53`, file, offset);
  return hi * 2 ** 32 + lo;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function hex(n: number): string {
  return "0x" + (n >>> 0).toString(16).padStart(8, "0");
}

// Code page 437 upper half: the encoding of ZIP names without the UTF-8 flag (bit 11).
const CP437 =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀" +
  "αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";
const utf8 = new TextDecoder("utf-8");

function decodeName(bytes: Uint8Array, flags: number): string {
  if (flags & 0x800) return utf8.decode(bytes);
  let s = "";
  for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : CP437[b - 0x80];
  return s;
}

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE, as ZIP uses), plain table version: a reference for tests and the platform's fallback.

let table: Uint32Array | undefined;

/** Plain table CRC-32 of `data`, continuing from `crc` (0 to start). */
export function crc32Table(data: Uint8Array, crc = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Raw deflate into a caller's buffer, through the codec's inflater.

function inflateFailure(detail: string): ArrowsmithError {
  return new ArrowsmithError("compression", detail);
}

/**
 * Inflates the raw deflate stream `comp` into exactly `size` bytes at `into[at ..]`. Throws
 * ArrowsmithError("compression") when the stream is corrupt, ends before `size` bytes, or would
 * produce more than `size` bytes (nothing beyond `at + size` is ever written).
 */
export function inflateRawWith(codec: ZipCodec, comp: Uint8Array, into: Uint8Array, at: number, size: number): void {
  const z = codec.openInflater();
  if (!z) return codec.inflateWhole(comp, into, at, size);
  try {
    let availIn = comp.length;
    let e: string | undefined;
    // zlib calls a zero-length output a stream error, so an empty member goes straight to the probe.
    if (size > 0) {
      z.write("finish", comp, 0, comp.length, into, at, size);
      e = z.error();
      if (e) throw inflateFailure(`corrupt deflate data: ${e}`);
      const availOut = z.availOut;
      availIn = z.availIn;
      if (availOut !== 0) throw inflateFailure(`deflate data ends after ${size - availOut} bytes; the member declares ${size}`);
    }
    // Exactly full: the stream must end here, not hold more output.
    const probe = new Uint8Array(1);
    z.write("finish", comp, comp.length - availIn, availIn, probe, 0, 1);
    e = z.error();
    if (z.availOut === 0) throw inflateFailure(`deflate data inflates to more than the ${size} bytes the member declares`);
    if (e) throw inflateFailure(`deflate stream does not end after the declared ${size} bytes: ${e}`);
  } finally {
    z.close();
  }
}

/**
 * Inflates the start of a raw deflate stream of `compLen` bytes, fetched in pieces by `fetch`,
 * until `out` is full or the stream ends; returns the bytes written.
 */
function inflatePrefix(codec: ZipCodec, fetch: (off: number, len: number, into: Uint8Array) => void, compLen: number, out: Uint8Array): number {
  const z = codec.openInflater();
  if (!z) {
    const comp = new Uint8Array(compLen);
    fetch(0, compLen, comp);
    const all = codec.inflatePartial(comp);
    const n = Math.min(all.length, out.length);
    out.set(all.subarray(0, n));
    return n;
  }
  try {
    let done = 0;
    let off = 0;
    let piece = 4096;
    while (done < out.length && off < compLen) {
      const len = Math.min(piece, compLen - off);
      const comp = new Uint8Array(len);
      fetch(off, len, comp);
      let used = 0;
      // Feed this piece until it is consumed or the output is full.
      while (used < len && done < out.length) {
        z.write("sync", comp, used, len - used, out, done, out.length - done);
        const e = z.error();
        if (e) throw inflateFailure(`corrupt deflate data: ${e}`);
        const nowOut = out.length - z.availOut;
        const nowUsed = len - z.availIn;
        if (nowOut === done && nowUsed === used) return done; // stream ended
        done = nowOut;
        used = nowUsed;
      }
      off += len;
      piece = Math.min(piece * 4, 1 << 20);
    }
    return done;
  } finally {
    z.close();
  }
}

// ---------------------------------------------------------------------------------------------
// A member read front to back in pieces.

/** Compressed bytes fetched at a time by a MemberStream. */
const STREAM_INPUT = 1 << 20;

/** Returned by ZipArchive.stream: `read` the member's bytes in order, then `finish` to check them. */
export class MemberStream {
  /** Uncompressed bytes delivered so far. */
  position = 0;
  private crc = 0;
  private inflater?: RawInflater;
  /** Without a streaming inflater (a Node whose zlib lacks the handle): the member inflated whole, within the whole-read limit. */
  private whole?: Uint8Array;
  private input = new Uint8Array(0);
  private inPos = 0;
  private inLen = 0;
  private fetched = 0;
  private done = false;

  constructor(readonly entry: ZipEntry, private readonly codec: ZipCodec, private readonly file: string, private readonly dataOffset: number, private readonly verify: boolean,
              private readonly maxWhole: number,
              private readonly fetch: (off: number, len: number, into: Uint8Array) => void,
              private readonly stored: (off: number, len: number, into: Uint8Array, at: number) => void,
              private readonly placed: (e: unknown) => ArrowsmithError) {}

  /** Writes the next `length` bytes of the member to `into[at ..]`. */
  read(length: number, into: Uint8Array, at: number): void {
    const { entry } = this;
    if (length < 0 || this.position + length > entry.size || at < 0 || at + length > into.byteLength) {
      throw new RangeError(`zip stream: ${length} bytes at member byte ${this.position} (of ${entry.size}) into ${at} of a buffer of ${into.byteLength}`);
    }
    if (this.done) throw new RangeError("zip stream: read after finish");
    if (entry.method === ZIP_STORED) this.stored(this.position, length, into, at);
    else {
      try {
        this.inflate(length, into, at);
      } catch (e) {
        this.close();
        throw this.placed(e);
      }
    }
    if (this.verify) this.crc = this.codec.crc32(into, at, length, this.crc);
    this.position += length;
  }

  /** Reads whatever is left, checks that a deflate stream ends exactly here and the CRC-32; closes the stream. */
  finish(): void {
    const { entry } = this;
    if (this.position < entry.size) {
      const scratch = new Uint8Array(Math.min(STREAM_INPUT, entry.size - this.position));
      while (this.position < entry.size) this.read(Math.min(scratch.length, entry.size - this.position), scratch, 0);
    }
    try {
      if (entry.method !== ZIP_STORED && !this.whole) this.checkEnd();
    } catch (e) {
      throw this.placed(e);
    } finally {
      this.close();
    }
    if (this.verify && this.crc !== entry.crc32) {
      throw new ArrowsmithError("member_crc",
        `zip member "${entry.name}": CRC-32 of its ${entry.size} bytes is ${hex(this.crc)}, the central directory says ${hex(entry.crc32)}`,
        { file: this.file, offset: this.dataOffset, hint: "the archive is corrupt" });
    }
  }

  /** Frees the inflater (safe to call more than once, and after an error). */
  close(): void {
    this.done = true;
    this.inflater?.close();
    this.inflater = undefined;
    this.whole = undefined;
  }

  private fill(): void {
    const n = Math.min(STREAM_INPUT, this.entry.compressedSize - this.fetched);
    if (this.input.length < n) this.input = new Uint8Array(n);
    this.fetch(this.fetched, n, this.input);
    this.fetched += n;
    this.inPos = 0;
    this.inLen = n;
  }

  private inflate(length: number, into: Uint8Array, at: number): void {
    const { entry } = this;
    if (this.whole) {
      into.set(this.whole.subarray(this.position, this.position + length), at);
      return;
    }
    if (!this.inflater) {
      this.inflater = this.codec.openInflater();
      if (!this.inflater) {
        if (entry.size > this.maxWhole) {
          throw new ArrowsmithError("too_large", `member of ${entry.size} bytes needs streaming inflation, which this Node's zlib lacks (whole reads stop at ${this.maxWhole})`);
        }
        const comp = new Uint8Array(entry.compressedSize);
        this.fetch(0, entry.compressedSize, comp);
        this.whole = new Uint8Array(entry.size);
        this.codec.inflateWhole(comp, this.whole, 0, entry.size);
        into.set(this.whole.subarray(this.position, this.position + length), at);
        return;
      }
    }
    const z = this.inflater;
    let done = 0;
    while (done < length) {
      if (this.inLen === 0) {
        if (this.fetched >= entry.compressedSize) throw inflateFailure(`deflate data ends after ${this.position + done} bytes; the member declares ${entry.size}`);
        this.fill();
      }
      z.write("none", this.input, this.inPos, this.inLen, into, at + done, length - done);
      const e = z.error();
      if (e) throw inflateFailure(`corrupt deflate data: ${e}`);
      const out = length - done - z.availOut;
      const used = this.inLen - z.availIn;
      // neither input taken nor output made, with room for both: the stream has ended
      if (out === 0 && used === 0) throw inflateFailure(`deflate data ends after ${this.position + done} bytes; the member declares ${entry.size}`);
      done += out;
      this.inPos += used;
      this.inLen -= used;
    }
  }

  /** After the declared size: the stream must end (no more output, no missing end). */
  private checkEnd(): void {
    if (!this.inflater) this.inflater = this.codec.openInflater();
    if (!this.inflater) return; // an empty member never opened an inflater; nothing to check without one
    const z = this.inflater;
    const probe = new Uint8Array(1);
    const size = this.entry.size;
    for (;;) {
      if (this.inLen === 0 && this.fetched < this.entry.compressedSize) this.fill();
      const last = this.fetched >= this.entry.compressedSize;
      z.write(last ? "finish" : "none", this.input, this.inPos, this.inLen, probe, 0, 1);
      const e = z.error();
      if (z.availOut === 0) throw inflateFailure(`deflate data inflates to more than the ${size} bytes the member declares`);
      if (e) throw inflateFailure(`deflate stream does not end after the declared ${size} bytes: ${e}`);
      const used = this.inLen - z.availIn;
      this.inPos += used;
      this.inLen -= used;
      if (last || used === 0) return;
    }
  }
}
