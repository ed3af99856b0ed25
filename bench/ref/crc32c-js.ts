// Plain-JavaScript CRC32C, slicing-by-8: the peer the wasm kernel is measured against (what a
// careful pure-JS TFRecord reader would use), and a second reference for the benchmark's check.

const POLY = 0x82f63b78;

/** Eight 256-entry tables back to back: table t at [t * 256, t * 256 + 256). */
const TABLES: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let s = 1; s < 8; s++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[s * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * CRC32C of `data`, continuing from `crc` (0 to start). Words are read with a DataView and the
 * eight lookups XORed as a balanced tree (crc-dependent pairs first): both measured faster in V8
 * than byte gathers and a left-to-right chain.
 */
export function crc32cJs(data: Uint8Array, crc = 0): number {
  const t = TABLES;
  const n = data.length;
  const dv = new DataView(data.buffer, data.byteOffset, n);
  let c = ~crc;
  let i = 0;
  for (const end8 = n - 7; i < end8; i += 8) {
    c ^= dv.getInt32(i, true);
    const h = dv.getInt32(i + 4, true);
    c = (t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)]) ^ (t[1280 + ((c >>> 16) & 0xff)] ^ t[1024 + (c >>> 24)]) ^
        ((t[768 + (h & 0xff)] ^ t[512 + ((h >>> 8) & 0xff)]) ^ (t[256 + ((h >>> 16) & 0xff)] ^ t[h >>> 24]));
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** TFRecord's masked CRC32C. */
export function maskedCrc32cJs(data: Uint8Array): number {
  const c = crc32cJs(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
