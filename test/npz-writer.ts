// Writes large NPZ archives with little memory, for the tests of members larger than memory: each
// member is an .npy header followed by one chunk repeated many times, stored, or deflated as
// independent blocks (each chunk compressed once with a full flush, so the compressed chunk can be
// repeated byte for byte: a 4 GB member of a repeated 1 MiB chunk takes ~4 MB on disk and a few
// seconds to write). The archive layout is plain ZIP with ZIP64 fields where sizes need them.
import { closeSync, openSync, writeSync } from "node:fs";
import { constants, deflateRawSync } from "node:zlib";
import { crc32 } from "../src/io/zip-codec.ts";

export interface LargeMember {
  name: string;
  /** The .npy header (magic to newline). */
  header: Uint8Array;
  chunk: Uint8Array;
  repeat: number;
  method: "stored" | "deflate";
}

/** An .npy header for `descr` and `shape`, padded as numpy pads it. */
export function npyHeader(descr: string, shape: number[], fortran = false): Uint8Array {
  let text = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  while ((10 + text.length + 1) % 64) text += " ";
  text += "\n";
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

function le(n: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = BigInt(n);
  for (let i = 0; i < bytes; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);

/** Writes the archive to `path`; returns its size. */
export function writeLargeNpz(path: string, members: LargeMember[]): number {
  const fd = openSync(path, "w");
  let pos = 0;
  const put = (b: Uint8Array) => { writeSync(fd, b); pos += b.length; };
  const central: Uint8Array[] = [];
  try {
    for (const m of members) {
      const size = m.header.length + m.chunk.length * m.repeat;
      let crc = crc32(m.header);
      for (let i = 0; i < m.repeat; i++) crc = crc32(m.chunk, crc);
      const full = { finishFlush: constants.Z_FULL_FLUSH };
      const head = m.method === "stored" ? m.header : deflateRawSync(m.header, full);
      const body = m.method === "stored" ? m.chunk : deflateRawSync(m.chunk, full);
      const tail = m.method === "stored" ? new Uint8Array(0) : deflateRawSync(new Uint8Array(0));
      const csize = head.length + body.length * m.repeat + tail.length;
      const method = m.method === "stored" ? 0 : 8;
      const name = Buffer.from(m.name);
      const zip64 = cat(le(1, 2), le(16, 2), le(size, 8), le(csize, 8));
      const offset = pos;
      put(cat(le(0x04034b50, 4), le(45, 2), le(0, 2), le(method, 2), le(0, 4), le(crc, 4), le(0xffffffff, 4), le(0xffffffff, 4),
        le(name.length, 2), le(zip64.length, 2), name, zip64));
      put(head);
      for (let i = 0; i < m.repeat; i++) put(body);
      put(tail);
      central.push(cat(le(0x02014b50, 4), le(45, 2), le(45, 2), le(0, 2), le(method, 2), le(0, 4), le(crc, 4), le(0xffffffff, 4), le(0xffffffff, 4),
        le(name.length, 2), le(zip64.length, 2), le(0, 2), le(0, 2), le(0, 2), le(0, 4), le(offset, 4), name, zip64));
    }
    const cdOffset = pos;
    for (const c of central) put(c);
    const cdSize = pos - cdOffset;
    put(cat(le(0x06054b50, 4), le(0, 2), le(0, 2), le(central.length, 2), le(central.length, 2), le(cdSize, 4), le(cdOffset, 4), le(0, 2)));
    return pos;
  } finally {
    closeSync(fd);
  }
}
