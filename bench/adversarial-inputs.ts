// TFRecord inputs built to cost memory, shared by bench/adversarial.ts (peak RSS and time per
// command) and scripts/rss-table.mts (the hostile-input table). Framed with CRC32C in plain JS: the
// inputs are built without our kernels, so a kernel bug cannot hide in both writer and reader.
import { createWriteStream } from "node:fs";
import { createGzip } from "node:zlib";
import { maskCrc } from "../src/formats/tfrecord.js";

const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC32C (Castagnoli, reflected 0x82F63B78). */
export function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A record's 12-byte header: u64 length and the masked CRC of those 8 bytes. */
export function header(length: bigint): Buffer {
  const h = Buffer.alloc(12);
  h.writeBigUInt64LE(length, 0);
  h.writeUInt32LE(maskCrc(crc32c(h.subarray(0, 8))), 8);
  return h;
}

/** A whole record: header, data, masked CRC of the data. */
export function frame(data: Uint8Array): Buffer {
  const f = Buffer.alloc(4);
  f.writeUInt32LE(maskCrc(crc32c(data)), 0);
  return Buffer.concat([header(BigInt(data.length)), data, f]);
}

/** Protobuf base-128 varint of a non-negative safe integer. */
export function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}

/** A length-delimited protobuf field. */
export const ld = (field: number, body: number[]): number[] => [(field << 3) | 2, ...varint(body.length), ...body];

/** tf.train.Example with `n` int64 features f000000.. of one value each. */
export function features(n: number): Uint8Array {
  const entries: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = [...Buffer.from(`f${String(i).padStart(6, "0")}`)];
    const int64List = ld(1, varint(i * 7919)); // packed value list
    entries.push(...ld(1, [...ld(1, key), ...ld(2, ld(3, int64List))]));
  }
  return Uint8Array.from(ld(1, entries));
}

/** A ~1 MB gzip file holding one TFRecord that declares (and holds) 1 GiB of zeros. */
export async function bigGzipRecord(path: string): Promise<void> {
  const gz = createGzip({ level: 9 });
  const done = new Promise<void>((resolve) => gz.pipe(createWriteStream(path)).on("finish", () => resolve()));
  gz.write(header(1n << 30n));
  const zeros = Buffer.alloc(1 << 24);
  for (let i = 0; i < 64; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once("drain", r));
  gz.end(Buffer.alloc(4));
  await done;
}
