// The process in which the property tests run each conversion (test/fuzz.test.ts starts it): a
// separate process, so that a case that hangs, even in synchronous work, is seen by the parent's
// deadline and killed, and so that peak memory can be measured per case from a fresh state. It runs
// the built library (dist/, made by `npm run build`, which `npm test` runs first).
//
// Per case: a fresh wasm instance (wasm memory never shrinks, so pages touched by an earlier case
// would hide a later case's growth), a full GC, then the kernel's peak-RSS counter is reset to the
// current RSS (/proc/self/clear_refs, "5"), and after the conversion VmHWM - VmRSS(before) is the
// case's own peak. The output is read back and each row summarised by a hash of all its values,
// keyed by its index in the source (`record` or `row`), for the parent to compare with the source.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { ArrowsmithError } from "../dist/src/errors.js";
import { convert } from "../dist/src/pipeline/convert.js";
import { FILE_DEFAULTS } from "../dist/src/pipeline/convert-file.js";
import { dropKernels } from "../dist/src/wasm.js";

function status() {
  const s = readFileSync("/proc/self/status", "utf8");
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

let canReset = true;
function resetPeak() {
  try {
    if (canReset) writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    canReset = false;
  }
  return status().rss;
}

function plainValue(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : Number.isFinite(v) ? v : String(v);
  if (typeof v === "object" && typeof v.toArray === "function") return Array.from(v.toArray(), plainValue);
  if (ArrayBuffer.isView(v)) return Array.from(v, plainValue);
  return v;
}

/** [source index, hash of every column's value] per output row. */
function fingerprints(path, key) {
  const t = tableFromIPC(readFileSync(path));
  const names = t.schema.fields.map((f) => f.name);
  const cols = names.map((n) => t.getChild(n));
  const keyCol = t.getChild(key);
  const out = [];
  for (let i = 0; i < t.numRows; i++) {
    const h = createHash("sha1");
    cols.forEach((c, j) => h.update(`${names[j]}=${JSON.stringify(plainValue(c.get(i)))};`));
    out.push([Number(keyCol.get(i)), h.digest("hex")]);
  }
  return out;
}

async function runCase(m) {
  dropKernels();
  globalThis.gc?.();
  rmSync(m.out, { recursive: true, force: true });
  const before = resetPeak();
  const peak = () => (canReset ? status().hwm - before : NaN);
  try {
    // in this thread: the fresh wasm instance and the peak measured above are this case's own
    const s = await convert([m.file], { ...FILE_DEFAULTS, ...m.opts, output: m.out, threads: 1, inThread: true });
    const used = peak();
    const r = s.results[0];
    // an input of which nothing could be kept (skip mode) has no output file: no rows
    if (!r.output && (r.rows !== 0 || !s.problems.length || existsSync(join(m.out, r.outName)))) return { crash: "no output, yet rows or no problem or a file" };
    return { ok: true, peak: used, problems: s.problems, skipped: r.skipped, rows: r.rows, keys: r.output ? fingerprints(r.output.path, m.key) : [] };
  } catch (e) {
    const used = peak();
    if (!(e instanceof ArrowsmithError)) return { crash: String(e?.stack ?? e), peak: used };
    let left = [];
    try { left = readdirSync(m.out); } catch { /* never made */ }
    return { ok: false, peak: used, error: { code: e.code, file: e.file, offset: e.offset, record: e.record, message: e.message }, left };
  }
}

process.on("message", (m) => {
  runCase(m).then((r) => process.send({ id: m.id, ...r }), (e) => process.send({ id: m.id, crash: String(e?.stack ?? e) }));
});
process.send({ ready: true });
