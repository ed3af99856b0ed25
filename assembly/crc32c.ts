// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord frames carry.
// Slicing-by-8 over eight 256-entry tables kept in static memory (8 KiB).

const POLY: u32 = 0x82f63b78;
const TABLES: usize = memory.data(8 * 256 * 4, 64);

function buildTables(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(TABLES + (n << 2));
    for (let t: u32 = 1; t < 8; t++) {
      c = load<u32>(TABLES + ((c & 0xff) << 2)) ^ (c >>> 8);
      store<u32>(TABLES + (t << 10) + (n << 2), c);
    }
  }
}
buildTables();

@inline function tab(t: u32, i: u32): u32 {
  return load<u32>(TABLES + (t << 10) + (i << 2));
}

/** CRC32C of `len` bytes at `ptr`, continuing from `crc` (0 to start; pass a previous result to chain). */
export function crc32c(crc: u32, ptr: usize, len: usize): u32 {
  let c = ~crc;
  let p = ptr;
  const end = ptr + len;
  while (p + 8 <= end) {
    const lo = load<u32>(p) ^ c;
    const hi = load<u32>(p, 4);
    c = tab(7, lo & 0xff) ^ tab(6, (lo >>> 8) & 0xff) ^ tab(5, (lo >>> 16) & 0xff) ^ tab(4, lo >>> 24) ^
        tab(3, hi & 0xff) ^ tab(2, (hi >>> 8) & 0xff) ^ tab(1, (hi >>> 16) & 0xff) ^ tab(0, hi >>> 24);
    p += 8;
  }
  while (p < end) {
    c = tab(0, (c ^ load<u8>(p)) & 0xff) ^ (c >>> 8);
    p++;
  }
  return ~c;
}

/** TFRecord's masked CRC32C of `len` bytes at `ptr`: rotate right by 15 and add 0xA282EAD8. */
export function maskedCrc32c(ptr: usize, len: usize): u32 {
  const c = crc32c(0, ptr, len);
  return ((c >>> 15) | (c << 17)) + 0xa282ead8;
}
