// Peak memory and time of the commands on TFRecord inputs built to cost memory: one 1 GiB record in
// a 1 MB gzip file, one record with 100,000 int64 features (and 10k/20k/40k to see the growth), and
// a 2^63 length. Each command runs as its own process under /usr/bin/time (peak RSS = its %M).
//   npm run build && node dist/bench/adversarial.js [--runs N]
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { maskCrc } from "../src/formats/tfrecord.js";

const at = process.argv.indexOf("--runs");
const runs = at > 0 ? Number(process.argv[at + 1]) : 1;
const CLI = new URL("../src/cli.js", import.meta.url).pathname;

// CRC32C (Castagnoli) in plain JS: this script builds its inputs without our kernels
const TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function header(length: bigint): Buffer {
  const h = Buffer.alloc(12);
  h.writeBigUInt64LE(length, 0);
  h.writeUInt32LE(maskCrc(crc32c(h.subarray(0, 8))), 8);
  return h;
}
function frame(data: Uint8Array): Buffer {
  const f = Buffer.alloc(4);
  f.writeUInt32LE(maskCrc(crc32c(data)), 0);
  return Buffer.concat([header(BigInt(data.length)), data, f]);
}
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}
const ld = (field: number, body: number[]) => [(field << 3) | 2, ...varint(body.length), ...body];
/** tf.train.Example with `n` int64 features f000000.. of one value each. */
function features(n: number): Uint8Array {
  const entries: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = [...Buffer.from(`f${String(i).padStart(6, "0")}`)];
    const int64List = ld(1, varint(i * 7919)); // packed value list
    entries.push(...ld(1, [...ld(1, key), ...ld(2, ld(3, int64List))]));
  }
  return Uint8Array.from(ld(1, entries));
}

async function bigGzip(path: string): Promise<void> {
  const gz = createGzip({ level: 9 });
  const done = new Promise<void>((resolve) => gz.pipe(createWriteStream(path)).on("finish", () => resolve()));
  gz.write(header(1n << 30n));
  const zeros = Buffer.alloc(1 << 24);
  for (let i = 0; i < 64; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once("drain", r));
  gz.end(Buffer.alloc(4));
  await done;
}

function measure(label: string, args: string[]): void {
  const rss: number[] = [];
  const secs: number[] = [];
  const cpu: number[] = [];
  let last = "";
  let code = 0;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync("/usr/bin/time", ["-f", "%M %e %U %S", process.execPath, CLI, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
    const [kb, s] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    rss.push(kb * 1024);
    secs.push(s);
    code = r.status ?? -1;
    last = r.stderr.split("\n").find((l) => l.startsWith("arrowsmith:")) ?? "";
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  console.log(`${label.padEnd(44)} peak RSS ${(med(rss) / 2 ** 20).toFixed(0).padStart(5)} MiB (max ${(Math.max(...rss) / 2 ** 20).toFixed(0)})  ${med(secs).toFixed(2)} s (cpu ${med(cpu).toFixed(2)} s)  exit ${code}  ${last.slice(0, 110)}`);
}

const dir = mkdtempSync(join(tmpdir(), "arrowsmith-adversarial-"));
try {
  const big = join(dir, "big1g.tfrecord.gz");
  await bigGzip(big);
  const huge = join(dir, "len2p63.tfrecord");
  writeFileSync(huge, Buffer.concat([header(1n << 63n), Buffer.alloc(64)]));
  const feats = [10_000, 20_000, 40_000, 100_000].map((n) => {
    const p = join(dir, `feat${n}.tfrecord`);
    writeFileSync(p, frame(features(n)));
    return [n, p] as const;
  });
  console.log(`${runs} run(s) each, median shown; node ${process.version}`);
  for (const cmd of ["convert", "verify", "inspect", "stats"]) {
    const out = cmd === "convert" ? ["-o", join(dir, `out-${cmd}`), "--on-error", "skip", "--quiet"] : [];
    measure(`${cmd} 1 GiB record in 1 MB gzip`, [cmd, big, ...out]);
  }
  measure("convert 2^63 length", ["convert", huge, "-o", join(dir, "out-huge"), "--quiet"]);
  for (const [n, p] of feats) measure(`convert one record, ${n} int64 features`, ["convert", p, "-o", join(dir, `out-f${n}`), "--quiet"]);
  measure("verify one record, 100000 int64 features", ["verify", feats[3][1]]);
  measure("inspect one record, 100000 int64 features", ["inspect", feats[3][1]]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
