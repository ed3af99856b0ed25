// CRC32C throughput: the wasm kernel (assembly/crc32c.ts through src/wasm.ts) against the plain-JS
// slicing-by-8 peer (bench/ref/crc32c-js.ts), on a 4 KiB buffer, one SCONE record's 92,160 bytes,
// and 64 MiB. Each size is timed in several interleaved rounds; the median round is reported with
// the spread of the rounds, in MB/s (10^6 bytes per second).
//
//   node --import tsx bench/crc32c.ts [--sizes 4096,92160,67108864] [--rounds 9] [--offset 12]
//                                     [--wasm other.wasm] [--json]
//
// --wasm times another build of the kernel instead (any module exporting `memory` and
// `crc32c(crc, ptr, len)`), e.g. the previous slicing-by-8 for a before/after comparison:
//   git show <rev>:assembly/crc32c.ts > /tmp/old-crc.ts
//   npx asc /tmp/old-crc.ts -O3 --runtime stub --enable simd --enable bulk-memory -o /tmp/old-crc.wasm
//   node --import tsx bench/crc32c.ts --wasm /tmp/old-crc.wasm
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Summary, summarize } from "./runs.js";
import { Kernels } from "../src/wasm.js";
import { crc32cJs } from "./ref/crc32c-js.js";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "4096,92160,67108864" },
    rounds: { type: "string", default: "9" },
    offset: { type: "string", default: "12" },
    wasm: { type: "string" },
    json: { type: "boolean", default: false },
  },
});

const sizes = args.sizes.split(",").map(Number);
const rounds = Math.max(1, Number(args.rounds));
const offset = Number(args.offset);
const maxSize = Math.max(...sizes);
/** Bytes hashed per round and implementation (at least one pass). */
const ROUND_BYTES = 32 << 20;

interface Impl {
  name: string;
  crc(size: number): number;
}

function fill(bytes: Uint8Array): void {
  let x = 0x2545f491;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x;
  }
}

const source = new Uint8Array(maxSize);
fill(source);

function wasmImpl(): Impl {
  let memory: WebAssembly.Memory;
  let crc32c: (crc: number, ptr: number, len: number) => number;
  let ptr: number;
  let name: string;
  if (args.wasm) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(args.wasm)), {
      env: { abort: () => { throw new Error("wasm abort"); } },
    });
    const e = instance.exports as { memory: WebAssembly.Memory; crc32c: typeof crc32c; heapBase?: () => number };
    memory = e.memory;
    crc32c = e.crc32c;
    const base = e.heapBase ? e.heapBase() : memory.buffer.byteLength;
    ptr = (Math.ceil(base / 64) + 1) * 64 + offset;
    const need = ptr + maxSize - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    name = `wasm ${args.wasm}`;
  } else {
    const k = new Kernels();
    ptr = k.alloc(maxSize + 64) + offset;
    memory = k.memory;
    crc32c = (crc, p, len) => k.crc32c(p, len, crc);
    name = "wasm crc32c";
  }
  new Uint8Array(memory.buffer).set(source, ptr);
  return { name, crc: (size) => crc32c(0, ptr, size) >>> 0 };
}

const impls: Impl[] = [
  wasmImpl(),
  { name: "plain JS slicing-by-8", crc: (size) => crc32cJs(source.subarray(0, size)) },
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
  console.log(`CRC32C throughput, MB/s: median of ${rounds} interleaved rounds (spread = (max - min) / median), data at offset ${offset} mod 64`);
  for (const size of sizes) {
    const [w, js] = rows.filter((r) => r.size === size);
    console.log(
      `${label(size).padStart(8)}  ${w.impl}: ${w.rates.median.toFixed(0).padStart(6)} (±${(100 * w.rates.spread).toFixed(0)}%)` +
        `  ${js.impl}: ${js.rates.median.toFixed(0).padStart(5)} (±${(100 * js.rates.spread).toFixed(0)}%)` +
        `  ratio ${(w.rates.median / js.rates.median).toFixed(2)}x`,
    );
  }
}
