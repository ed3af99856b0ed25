// Whole-file compression of TFRecord files, detected from the bytes rather than the name
// (TensorFlow writes one GZIP or ZLIB stream over the whole file, not per record).

export type Compression = "none" | "gzip" | "zlib";

/** Detects a gzip (1f 8b) or zlib (78 01|5e|9c|da with a valid header checksum) stream. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 2 && head[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(head[1]) && ((head[0] << 8) | head[1]) % 31 === 0) {
    return "zlib";
  }
  return "none";
}

const SUFFIXES = [".gz", ".gzip", ".zlib", ".zz"];

/** The file name without a compression suffix. */
export function stripCompressionSuffix(name: string): string {
  for (const s of SUFFIXES) if (name.toLowerCase().endsWith(s)) return name.slice(0, -s.length);
  return name;
}
