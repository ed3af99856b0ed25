// Inflating a whole-file GZIP or ZLIB TFRecord on demand, with bounded memory, so that damage keeps
// every byte decoded before it.
//
// - The inflater gets one step of compressed bytes only when everything it produced so far has
//   been read: memory stays bounded by one step's output (deflate expands at most ~1032:1) however
//   far the data expands.
// - Output is taken from 'data' events, which Node emits before an error; an async iterator over
//   the stream drops output still buffered when the stream errors.
// - GZIP members are framed here (header, then raw deflate, then the CRC-32/size trailer checked
//   here) rather than by Node's Gunzip: Gunzip reports junk after the last member ("incorrect
//   header check") without handing out the output decoded in the same call, so records right
//   before the junk were lost. Members may follow each other (`cat a.gz b.gz`); anything else
//   after the last one, or after a ZLIB stream, is reported once all the data before it is out.
// - Damage inside the deflate data: Node's inflater drops what zlib decoded in the call that hit
//   the error (up to one 64 KiB output chunk, which may hold many complete records). So when it
//   fails, the member is decoded again from its start by pako's port of zlib's inflate, which
//   leaves every byte decoded before the error in its output; the bytes already handed out are
//   passed over and the rest is handed out before the error. The fast path stays native; the
//   second pass costs one more decoding of the damaged member, once, and 64 KiB of memory.
import { closeSync, readSync } from "node:fs";
import { crc32, createInflate, createInflateRaw, type Inflate, type InflateRaw } from "node:zlib";
import { createRequire } from "node:module";
import { ArrowsmithError } from "../errors.js";

/** pako, loaded the first time a member needs it (the native inflater failed): most runs never do. */
let pakoModules: { pako: typeof import("pako/lib/zlib/inflate.js").default; ZStream: typeof import("pako/lib/zlib/zstream.js").default } | undefined;
function loadPako() {
  const require = createRequire(import.meta.url);
  return (pakoModules ??= { pako: require("pako/lib/zlib/inflate.js"), ZStream: require("pako/lib/zlib/zstream.js") });
}

const STEP = 1 << 16;
/** A gzip header longer than this (a huge name or extra field) is not one we accept. */
const MAX_GZIP_HEADER = 1 << 20;

export interface InflatingStream {
  /** `into`: the target, or a function giving it (taken only when the bytes are there). */
  read(into: Uint8Array | (() => Uint8Array), at: number, max: number): Promise<number>;
  close(): void;
  /** Compressed bytes read from the file so far. */
  consumed(): number;
}

/** Inflates the GZIP or ZLIB file open at `fd` (`size` bytes); the stream owns and closes `fd`. */
export function inflateFile(path: string, fd: number, size: number, comp: "gzip" | "zlib"): InflatingStream {
  const queue: Buffer[] = [];
  let failed: ArrowsmithError | undefined;
  let done = false;
  let produced = 0;
  let closed = false;
  let wake: (() => void) | undefined;
  const poke = () => { const w = wake; wake = undefined; w?.(); };
  const fail = (detail: string, hint = "the compressed file is damaged or cut short; re-copy it, or use --on-error skip to keep the records before the damage") => {
    failed ??= new ArrowsmithError("compression", detail, { file: path, offset: produced, hint });
    poke();
  };

  // the member being inflated
  let z: Inflate | InflateRaw | undefined;
  let memberStart = 0;
  let bodyStart = 0;
  let feedPos = 0;
  let writing = false;
  let inputDone = false;
  let crc = 0;
  let isize = 0;
  let memberOut = 0;

  const pread = (n: number, at: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    try {
      return b.subarray(0, readSync(fd, b, 0, n, at));
    } catch (e) {
      throw new ArrowsmithError("io", `cannot read: ${(e as Error).message}`, { file: path, cause: e });
    }
  };

  const startMember = (at: number) => {
    memberStart = at;
    if (comp === "gzip") {
      const len = gzipHeaderLength(pread(Math.min(MAX_GZIP_HEADER, size - at), at));
      if (typeof len === "string") return fail(`gzip member at byte ${at} of the file: ${len}`);
      bodyStart = at + len;
    } else {
      bodyStart = at;
    }
    feedPos = bodyStart;
    crc = 0;
    isize = 0;
    memberOut = 0;
    inputDone = false;
    writing = false;
    const inflater = comp === "gzip" ? createInflateRaw({ chunkSize: STEP }) : createInflate({ chunkSize: STEP });
    z = inflater;
    inflater.on("data", (b: Buffer) => {
      if (z !== inflater) return;
      if (comp === "gzip") { crc = crc32(b, crc); isize = (isize + b.length) >>> 0; }
      memberOut += b.length;
      queue.push(b);
      poke();
    });
    inflater.on("error", (e) => { if (z === inflater) recover(e.message); });
    inflater.on("end", () => { if (z === inflater) memberEnd(bodyStart + inflater.bytesWritten); });
  };

  const queued = () => queue.reduce((a, b) => a + b.length, 0);

  /**
   * The native inflater failed on this member: decode it again from its start, pass over the
   * `memberOut` bytes already handed out, queue what follows up to the error, then report it.
   */
  const recover = (nativeMessage: string) => {
    z?.destroy();
    z = undefined;
    const { pako, ZStream } = loadPako();
    const s = new ZStream();
    pako.inflateInit2(s, comp === "gzip" ? -15 : 15);
    const out = new Uint8Array(STEP);
    let skip = memberOut;
    let pos = bodyStart;
    let extra = 0;
    let message = nativeMessage;
    for (;;) {
      let input: Buffer | undefined;
      if (s.avail_in === 0) {
        input = pread(Math.min(STEP, size - pos), pos);
        if (input.length === 0) { message = "unexpected end of file"; break; }
        s.input = input;
        s.next_in = 0;
        s.avail_in = input.length;
        pos += input.length;
      }
      s.output = out;
      s.next_out = 0;
      s.avail_out = out.length;
      const r = pako.inflate(s, 0);
      const got = s.next_out;
      if (got > skip) {
        const b = Buffer.from(out.subarray(skip, got));
        if (comp === "gzip") { crc = crc32(b, crc); isize = (isize + b.length) >>> 0; }
        memberOut += b.length;
        extra += b.length;
        queue.push(b);
      }
      skip = Math.max(0, skip - got);
      if (r < 0 && r !== -5) { message = s.msg || message; break; }
      // the two decoders disagree (the second ends the member, or runs on far past the first's
      // failure): report the first one's error after what was recovered
      if (r === 1 || extra > 4 * STEP) break;
    }
    pako.inflateEnd(s);
    fail(`${comp} stream is corrupt after ${produced + queued()} decompressed bytes: ${message}`);
  };

  const memberEnd = (end: number) => {
    z = undefined;
    let next = end;
    if (comp === "gzip") {
      const t = pread(8, end);
      if (t.length < 8) return fail(`gzip stream ends without its trailer (the file is cut short after ${end + t.length} bytes)`);
      const wantCrc = t.readUInt32LE(0);
      const wantSize = t.readUInt32LE(4);
      if (wantCrc !== crc >>> 0) return fail(`gzip member CRC-32 mismatch (stored 0x${hex(wantCrc)}, computed 0x${hex(crc >>> 0)})`);
      if (wantSize !== isize) return fail(`gzip member size mismatch (stored ${wantSize}, decompressed ${memberOut})`);
      next = end + 8;
    }
    if (next >= size) { done = true; poke(); return; }
    const head = pread(2, next);
    if (comp === "gzip" && head.length === 2 && head[0] === 0x1f && head[1] === 0x8b) return startMember(next);
    fail(`${size - next} bytes of junk after the ${comp} stream (at byte ${next} of the file)`,
      "the data before it is complete; remove the junk, or use --on-error skip to keep the records");
  };

  const feed = () => {
    const inflater = z!;
    const chunk = pread(Math.min(STEP, size - feedPos), feedPos);
    if (chunk.length === 0) {
      inputDone = true;
      inflater.end();
      return;
    }
    feedPos += chunk.length;
    writing = true;
    inflater.write(chunk, () => {
      writing = false;
      // the inflater stops taking input at the end of its stream: the rest is not its to read
      if (inflater.bytesWritten < feedPos - bodyStart) inputDone = true;
      poke();
    });
  };

  startMember(0);
  return {
    async read(into, at, max) {
      for (;;) {
        const head = queue[0];
        if (head) {
          const n = Math.min(max, head.length);
          (typeof into === "function" ? into() : into).set(head.subarray(0, n), at);
          if (n === head.length) queue.shift(); else queue[0] = head.subarray(n);
          produced += n;
          return n;
        }
        if (failed) throw failed.at({ offset: produced });
        if (done) return 0;
        if (z && !writing && !inputDone) feed();
        await new Promise<void>((resolve) => { wake = resolve; });
      }
    },
    close() {
      if (closed) return;
      closed = true;
      z?.destroy();
      closeSync(fd);
    },
    consumed: () => (z ? feedPos : Math.max(feedPos, memberStart)),
  };
}

/** Length of the gzip member header at the start of `b` (RFC 1952), or why it is not one. */
function gzipHeaderLength(b: Buffer): number | string {
  if (b.length < 10) return `a gzip header needs 10 bytes, the file has ${b.length} left`;
  if (b[0] !== 0x1f || b[1] !== 0x8b) return "not a gzip header";
  if (b[2] !== 8) return `compression method ${b[2]} is not deflate`;
  const flags = b[3];
  let p = 10;
  if (flags & 4) {
    if (b.length < p + 2) return "the header's extra field is cut short";
    p += 2 + b.readUInt16LE(p);
  }
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue;
    const nul = b.indexOf(0, p);
    if (nul < 0) return "the header's name or comment has no end";
    p = nul + 1;
  }
  if (flags & 2) p += 2;
  if (p > b.length) return "the header is cut short";
  return p;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}
