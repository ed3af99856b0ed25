// sconeEvent throughput: split interleaved float64 (32, 180, 2) images into planar flux/flux_err
// (float32 or float64) and compute the quality metrics, as the SCONE converter calls it: many
// distinct 92,160-byte images in a row, each written to its own row of a batch-sized output.
// Prints GB/s of input image bytes (10^9 bytes per second): the median of several rounds and their spread.
//
//   node --import tsx bench/kernels.ts [--images 64] [--rounds 9] [--nw 32] [--nt 180] [--json] [--floor]
// --dump FILE writes the images as float64 planes (flux, then flux_err, per image) for bench/median-floor.cc and exits.
//
// --floor times, instead, what the summary columns cost against the least work they need, all in
// µs per image (float32 out), in alternated rounds, by this thread's CPU time (a busy machine
// disturbs it less than the wall clock): sconeEvent with the metrics and without them (the split),
// one read pass over both planes summing them, the split with those sums fused in, and the median
// selection alone on the flux (all pixels) and on the positive S/N values.
//
// The default 64 images (5.9 MB in, 2.9 or 5.9 MB out) exceed L2, as a real batch does.
import { appendFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Summary, summarize } from "./runs.js";
import { heatmap, NT, NW, Rng } from "../src/generate.js";
import { Kernels } from "../src/wasm.js";

const { values: args } = parseArgs({
  options: {
    images: { type: "string", default: "64" },
    rounds: { type: "string", default: "9" },
    nw: { type: "string", default: "32" },
    nt: { type: "string", default: "180" },
    json: { type: "boolean", default: false },
    extras: { type: "boolean", default: false },
    floor: { type: "boolean", default: false },
    dump: { type: "string" },
  },
});

const images = Math.max(1, Number(args.images));
const rounds = Math.max(1, Number(args.rounds));
const nw = Number(args.nw);
const nt = Number(args.nt);
const pixels = nw * nt;
const imageBytes = pixels * 16;
/** Input bytes per timed round (whole passes over the image set). */
const ROUND_BYTES = 256e6;

const k = new Kernels();
const SLOTS = k.metricSlots;
// Images sit 12 bytes past a 64-byte boundary, as image_raw does inside a TFRecord window.
const src = k.alloc(images * imageBytes + 64) + 12;
const flux = k.alloc(images * pixels * 8);
const err = k.alloc(images * pixels * 8);
const metrics = k.alloc(images * SLOTS * 8);
const scratch = k.alloc(k.sconeScratchBytes(nw, nt));
const params = k.alloc(64);
// the defaults' peak-spectrum columns and bands (see sconeParams)
new Int32Array(k.memory.buffer, params, 6).set(nw === NW && nt === NT ? [40, 70, 0, 9, 14, 31] : [0, nt, 0, 1, 1, nw]);
const extras = process.argv.includes("--extras");
const lcOut = k.alloc(nt * 8 * 2), specOut = k.alloc(nw * 8 * 2);

// Realistic content: the repository's synthetic SCONE heatmaps (src/generate.ts), which follow
// SCONE's GP-interpolated images (flux nonzero almost everywhere, errors positive, some cut
// regions of zero flux).
{
  const rng = new Rng(12345);
  const img = new Float64Array(pixels * 2);
  const bytes = new Uint8Array(img.buffer);
  for (let i = 0; i < images; i++) {
    if (nw === NW && nt === NT) heatmap(rng, i & 1, img);
    else for (let j = 0; j < img.length; j++) img[j] = j & 1 ? 0.5 + rng.random() : rng.normal(1, 1);
    k.bytes().set(bytes, src + i * imageBytes);
    if (args.dump) {
      const planar = new Float64Array(pixels * 2);
      for (let j = 0; j < pixels; j++) { planar[j] = img[2 * j]; planar[pixels + j] = img[2 * j + 1]; }
      (i ? appendFileSync : writeFileSync)(args.dump, new Uint8Array(planar.buffer));
    }
  }
  if (args.dump) { process.stderr.write(`wrote ${images} images (flux plane, then flux_err plane, float64) to ${args.dump}\n`); process.exit(0); }
}

function pass(f64out: number): void {
  const run = k.sconeEvent.bind(k);
  const outBytes = pixels * (f64out ? 8 : 4);
  for (let i = 0; i < images; i++) {
    run(src + i * imageBytes, nw, nt, flux + i * outBytes, err + i * outBytes, f64out, metrics + i * SLOTS * 8, scratch, params,
      extras ? lcOut : 0, extras ? lcOut + nt * 8 : 0, extras ? specOut : 0, extras ? specOut + nw * 8 : 0);
  }
}

if (args.floor) {
  floorReport();
  process.exit(0);
}

/** The --floor comparison (see the head of this file). */
function floorReport(): void {
  // the medians' inputs as the kernel sees them: each image's flux plane (float64) and its positive S/N values in order
  const fluxPlanes = k.alloc(images * pixels * 8), snrPlanes = k.alloc(images * pixels * 8);
  const a = k.alloc(pixels * 8), b = k.alloc(pixels * 8), sample = k.alloc(64 * 8), out = k.alloc(64);
  const snrCount: number[] = [];
  {
    const raw = new DataView(k.memory.buffer);
    const fp = new Float64Array(k.memory.buffer, fluxPlanes, images * pixels), sp = new Float64Array(k.memory.buffer, snrPlanes, images * pixels);
    for (let i = 0; i < images; i++) {
      let m = 0;
      for (let j = 0; j < pixels; j++) {
        const f = raw.getFloat64(src + i * imageBytes + j * 16, true), e = raw.getFloat64(src + i * imageBytes + j * 16 + 8, true);
        fp[i * pixels + j] = f;
        const q = e > 0 ? f / e : 0;
        if (q > 0) sp[i * pixels + m++] = q;
      }
      snrCount.push(m);
    }
  }
  const run = k.sconeEvent.bind(k);
  const jobs: [string, () => void][] = [
    ["sconeEvent, metrics", () => { for (let i = 0; i < images; i++) run(src + i * imageBytes, nw, nt, flux + i * pixels * 4, err + i * pixels * 4, 0, metrics + i * SLOTS * 8, scratch, params, 0, 0, 0, 0); }],
    ["sconeEvent, no metrics (split)", () => { for (let i = 0; i < images; i++) run(src + i * imageBytes, nw, nt, flux + i * pixels * 4, err + i * pixels * 4, 0, 0, scratch, params, 0, 0, 0, 0); }],
    ["split + flux/err sums fused", () => { for (let i = 0; i < images; i++) k.sconeProbeSplitSums(src + i * imageBytes, pixels, flux + i * pixels * 4, err + i * pixels * 4, out); }],
    ["read pass, flux/err sums only", () => { for (let i = 0; i < images; i++) k.sconeProbeRead(src + i * imageBytes, pixels, out); }],
    ["median selection, flux", () => { for (let i = 0; i < images; i++) k.sconeProbeMedian(fluxPlanes + i * pixels * 8, pixels, a, b, sample); }],
    ["median selection, positive S/N", () => { for (let i = 0; i < images; i++) k.sconeProbeMedian(snrPlanes + i * pixels * 8, snrCount[i], a, b, sample); }],
  ];
  const reps = Math.max(1, Math.round(ROUND_BYTES / 8 / (images * imageBytes)));
  for (const [, fn] of jobs) fn();
  const times = new Map<string, number[]>(jobs.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of jobs) {
      const c0 = process.cpuUsage();
      for (let r = 0; r < reps; r++) fn();
      const c = process.cpuUsage(c0);
      times.get(name)!.push((c.user + c.system) / (reps * images));
    }
  }
  const us = Object.fromEntries([...times].map(([name, t]) => [name, summarize(t)]));
  const m = (name: string) => us[name].median;
  const cost = m("sconeEvent, metrics") - m("sconeEvent, no metrics (split)");
  // the sums fused into the split may cost nothing over our split (the probe's loop is leaner): never below 0
  const floorCost = Math.max(0, m("split + flux/err sums fused") - m("sconeEvent, no metrics (split)")) + m("median selection, flux") + m("median selection, positive S/N");
  if (args.json) {
    console.log(JSON.stringify({ nw, nt, images, rounds, us_per_image: us, metrics_cost_us: cost, floor_cost_us: floorCost }));
    return;
  }
  console.log(`SCONE metrics vs their floor on ${images} images of (${nw}, ${nt}, 2), float32 out, µs per image by CPU time, median of ${rounds} alternated rounds (spread = (max - min) / median)`);
  for (const [name, s] of Object.entries(us)) console.log(`  ${name.padEnd(32)} ${s.median.toFixed(2).padStart(7)} µs  (min ${s.min.toFixed(2)}, spread ${(100 * s.spread).toFixed(0)}%)`);
  console.log(`  the metrics cost ${cost.toFixed(2)} µs/image over the split; the floor (sums fused into the split + both median selections) ${floorCost.toFixed(2)} µs`);
}

const passes = Math.max(1, Math.round(ROUND_BYTES / (images * imageBytes)));
const result: Record<string, Summary> = {};
for (const f64out of [0, 1]) pass(f64out); // warm up
const rates: number[][] = [[], []];
for (let round = 0; round < rounds; round++) {
  for (const f64out of [0, 1]) {
    const t0 = process.hrtime.bigint();
    for (let p = 0; p < passes; p++) pass(f64out);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rates[f64out].push((passes * images * imageBytes) / seconds / 1e9);
  }
}
for (const f64out of [0, 1]) {
  result[f64out ? "f64" : "f32"] = summarize(rates[f64out]);
}

if (args.json) {
  console.log(JSON.stringify({ nw, nt, images, imageBytes, rounds, result }));
} else {
  console.log(`sconeEvent on ${images} images of (${nw}, ${nt}, 2) float64 (${imageBytes} bytes each), GB/s of input, median of ${rounds} rounds (spread = (max - min) / median)`);
  for (const [name, r] of Object.entries(result)) {
    const perImage = imageBytes / (r.median * 1e9) * 1e6;
    console.log(`  ${name} out: ${r.median.toFixed(2)} GB/s (±${(100 * r.spread).toFixed(0)}%)  ${perImage.toFixed(2)} µs/image  ${(r.median * 1e9 / imageBytes / 1e3).toFixed(0)}k images/s`);
  }
}
