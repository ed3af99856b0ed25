// CRC-32 (IEEE, zlib's) throughput: the wasm kernel (assembly/crc32.ts through src/wasm.ts) on data
// in wasm memory, the ZIP member check's path for data in JS memory (src/io/zip-codec.ts
// memberCrc32: copied into wasm memory 256 KiB at a time, then the kernel), and node's native
// zlib.crc32, on the same bytes in the same run: a 4 KiB buffer, one SCONE record's 92,160 bytes,
// an 8 MiB cluster batch and 64 MiB. Each size is timed in several interleaved rounds; the median
// round is reported with the spread of the rounds, in MB/s (10^6 bytes per second), and the ratio
// to zlib.crc32 both of the kernel on data already in wasm memory and of the copy path from JS
// memory (zlib.crc32 always reads JS memory).
//
//   node --import tsx bench/crc32.ts [--sizes 4096,92160,8388608,67108864] [--rounds 9] [--offset 0]
//                                    [--json]
import { parseArgs } from "node:util";
import zlib from "node:zlib";
import { memberCrc32 } from "../src/io/zip-codec.js";
import { Kernels } from "../src/wasm.js";
import { type Summary, summarize } from "./runs.js";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "4096,92160,8388608,67108864" },
    rounds: { type: "string", default: "9" },
    offset: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});

const sizes = args.sizes.split(",").map(Number);
const rounds = Math.max(1, Number(args.rounds));
const offset = Number(args.offset);
const maxSize = Math.max(...sizes);
/** Bytes hashed per round and implementation (at least one pass). */
const ROUND_BYTES = 64 << 20;

const nativeCrc = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
if (!nativeCrc) throw new Error("this Node has no zlib.crc32 (it came in 20.15)");

function fill(bytes: Uint8Array): void {
  let x = 0x2545f491;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x;
  }
}

// The same bytes in JS memory and (at `offset` mod 64) in wasm memory: an instance of its own, so
// that the thread's kernels, which memberCrc32 copies into, keep their room.
const source = new Uint8Array(maxSize + offset);
fill(source);
const js = source.subarray(offset);
const k = new Kernels();
const ptr = k.alloc(maxSize + 64) + offset;
k.bytes().set(js, ptr);

interface Impl {
  name: string;
  crc(size: number): number;
}

const impls: Impl[] = [
  { name: "wasm crc32", crc: (size) => k.crc32(ptr, size) },
  { name: "JS memory via copy", crc: (size) => memberCrc32(js, 0, size) },
  { name: "zlib.crc32", crc: (size) => nativeCrc(js.subarray(0, size)) >>> 0 },
];

interface Row { size: number; impl: string; rates: Summary }
const rows: Row[] = [];

for (const size of sizes) {
  const expected = impls.map((impl) => impl.crc(size));
  if (expected.some((c) => c !== expected[0])) {
    throw new Error(`CRC mismatch at ${size} bytes: ${expected.map((c) => c.toString(16)).join(" vs ")}`);
  }
  const reps = Math.max(1, Math.floor(ROUND_BYTES / size));
  const rates: number[][] = impls.map(() => []);
  for (const impl of impls) for (let i = 0; i < Math.min(reps, 50); i++) impl.crc(size); // warm up (JIT tiers)
  for (let round = 0; round < rounds; round++) {
    impls.forEach((impl, j) => {
      let acc = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < reps; i++) acc ^= impl.crc(size);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (acc === 0x1234567 && reps === -1) console.log(acc); // keep `acc` live
      rates[j].push((size * reps) / seconds / 1e6);
    });
  }
  impls.forEach((impl, j) => rows.push({ size, impl: impl.name, rates: summarize(rates[j]) }));
}

if (args.json) {
  console.log(JSON.stringify({ rounds, offset, rows: rows.map((r) => ({ size: r.size, impl: r.impl, median_mb_s: r.rates.median, min_mb_s: r.rates.min, max_mb_s: r.rates.max, spread: r.rates.spread })) }));
} else {
  const label = (n: number) => (n >= 1 << 20 && n % (1 << 20) === 0 ? `${n / (1 << 20)} MiB` : `${n} B`);
  console.log(`CRC-32 throughput, MB/s: median of ${rounds} interleaved rounds (spread = (max - min) / median), data at offset ${offset} mod 64`);
  console.log("the kernel alone needs the bytes in wasm memory already; data in JS memory goes through the copy path, so both ratios to zlib are printed");
  for (const size of sizes) {
    const [w, c, z] = rows.filter((r) => r.size === size);
    const cell = (r: Row) => `${r.impl}: ${r.rates.median.toFixed(0).padStart(6)} (±${(100 * r.rates.spread).toFixed(0)}%)`;
    console.log(`${label(size).padStart(8)}  ${cell(w)}  ${cell(c)}  ${cell(z)}  wasm/zlib ${(w.rates.median / z.rates.median).toFixed(2)}x (in wasm memory), ${(c.rates.median / z.rates.median).toFixed(2)}x (from JS memory)`);
  }
}
