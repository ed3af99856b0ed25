// A minimal PNG writer for heat-map rasters (8-bit RGB, one IDAT): figures embed their images as
// data URLs, so the grammar draws axes, lines and colour bars and each heat map is one image, not
// thousands of rectangles (a 32 × 180 map as rect marks took ~10× longer to lay out and render).
import { deflateSync } from "node:zlib";
import { type ColormapName, colormap } from "./colormaps.js";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** The filtered rows handed to zlib, kept between calls (a figure's are 2.4 MB; one per thread). */
let rows = Buffer.alloc(0);

/**
 * Encodes 8-bit pixels (`channels` 3: RGB, 4: RGBA; rows top to bottom) as a PNG file at zlib
 * `level`. RGBA whose alpha is 255 everywhere (a figure drawn on white) is written as RGB: the same
 * pixels in three quarters of the bytes.
 */
export function encodePng(px: Uint8Array, width: number, height: number, channels: 3 | 4 = 3, level = 6): Buffer {
  let out: 3 | 4 = 3;
  let stride = width * 3 + 1;
  if (rows.length < (width * channels + 1) * height) rows = Buffer.allocUnsafe((width * channels + 1) * height);
  if (channels === 3) {
    for (let y = 0; y < height; y++) { rows[y * stride] = 0; rows.set(px.subarray(y * width * 3, (y + 1) * width * 3), y * stride + 1); }
  } else {
    let opaque = 255;
    for (let y = 0, p = 0, o = 0; y < height; y++) {
      rows[o++] = 0; // filter: none
      for (let x = 0; x < width; x++, p += 4) { rows[o++] = px[p]; rows[o++] = px[p + 1]; rows[o++] = px[p + 2]; opaque &= px[p + 3]; }
    }
    if (opaque !== 255) {
      out = 4;
      stride = width * 4 + 1;
      for (let y = 0; y < height; y++) { rows[y * stride] = 0; rows.set(px.subarray(y * width * 4, (y + 1) * width * 4), y * stride + 1); }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = out === 4 ? 6 : 2; // colour type: RGBA or RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(rows.subarray(0, stride * height), { level })), chunk("IEND", new Uint8Array(0)),
  ]);
}

export interface Raster {
  /** PNG data URL. */
  url: string;
  /** The value range the colours span. */
  lo: number;
  hi: number;
}

/**
 * A heat map of `rows × cols` values (C order, row 0 first) as a PNG data URL, row 0 at the bottom
 * (matplotlib's origin='lower'), coloured by `map` over [lo, hi] (values outside are clipped, NaN
 * drawn in `nanColour`). Cells are `scale` pixels square-ish, so the image stays sharp when drawn larger.
 */
export function heatmap(values: ArrayLike<number>, rows: number, cols: number, map: ColormapName,
                        lo: number, hi: number, origin: "lower" | "upper" = "lower", sx = 2, sy = 4,
                        nanColour: [number, number, number] = [128, 128, 128]): Raster {
  const lut = colormap(map);
  const width = cols * sx, height = rows * sy;
  const rgb = new Uint8Array(width * height * 3);
  const span = hi > lo ? 255 / (hi - lo) : 0;
  for (let r = 0; r < rows; r++) {
    const y0 = (origin === "lower" ? rows - 1 - r : r) * sy;
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      let R = nanColour[0], G = nanColour[1], B = nanColour[2];
      if (v === v) {
        let i = Math.round((v - lo) * span);
        i = i < 0 ? 0 : i > 255 ? 255 : i;
        R = lut[3 * i]; G = lut[3 * i + 1]; B = lut[3 * i + 2];
      }
      for (let dy = 0; dy < sy; dy++) {
        let p = ((y0 + dy) * width + c * sx) * 3;
        for (let dx = 0; dx < sx; dx++, p += 3) { rgb[p] = R; rgb[p + 1] = G; rgb[p + 2] = B; }
      }
    }
  }
  return { url: `data:image/png;base64,${encodePng(rgb, width, height, 3, 1).toString("base64")}`, lo, hi };
}

/** The finite minimum and maximum of `values` ([0, 0] when none is finite). */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) continue; // NaN or infinite
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}
