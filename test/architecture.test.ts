// The layering the design promises, checked on the sources: the byte decoders in src/formats/ are
// platform-free, one module owns the WebAssembly boundary, and the import graph has no cycle
// (type-only imports included: an interface file importing its implementations is a cycle too).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = new URL("../src/", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/** Static import and re-export specifiers of a file (dynamic `import()` is lazy loading, not a graph edge). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']/gm;
  for (let m; (m = re.exec(text)); ) out.push(m[1]);
  return out;
}

const files = sources(SRC);
const rel = (p: string) => relative(SRC, p);
const graph = new Map(files.map((f) => [f, importsOf(readFileSync(f, "utf8"))
  .filter((s) => s.startsWith("."))
  .map((s) => resolve(dirname(f), s).replace(/\.js$/, ".ts"))]));

/** Every cycle's files (strongly connected components of more than one file, or a self-import). */
export function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next); low.set(v, next); next++; stack.push(v); on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); c.push(w); } while (w !== v);
      if (c.length > 1 || g.get(v)!.includes(v)) found.push(c.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe("the source layering", () => {
  it("reads every import form the sources use (a check of the scanner itself)", () => {
    expect(importsOf(`import a from "./a.js";\nimport type { B } from "./b.js";\nimport {\n  c,\n  type D,\n} from "../c.js";\nexport { e } from "./e.js";\nexport * from "./f.js";\nimport "./g.js";\nconst h = await import("./h.js");`))
      .toEqual(["./a.js", "./b.js", "../c.js", "./e.js", "./f.js", "./g.js"]);
    const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
    expect(cycles(g)).toEqual([["a", "b", "c"]]);
  });

  it("has no import cycle in src/", () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph).map((c) => c.map(rel).join(", "))).toEqual([]);
  });

  it("keeps src/formats/ free of Node, of wasm and of the rest of the tool: pure byte decoders", () => {
    const formats = files.filter((f) => rel(f).startsWith("formats/"));
    expect(formats.length).toBeGreaterThanOrEqual(5);
    for (const f of formats) {
      for (const spec of importsOf(readFileSync(f, "utf8"))) {
        // siblings and the one error class only
        expect(spec.startsWith("./") || spec === "../errors.js", `${rel(f)} imports ${spec}`).toBe(true);
      }
      expect(readFileSync(f, "utf8"), `${rel(f)} uses a Node or wasm global`).not.toMatch(/\b(process\.|Buffer\.|require\(|WebAssembly\.)/);
    }
  });

  it("has one WebAssembly boundary, src/wasm.ts", () => {
    const users = files.filter((f) => /\bWebAssembly\.(Instance|Module|instantiate|compile)\b/.test(readFileSync(f, "utf8"))).map(rel);
    expect(users).toEqual(["wasm.ts"]);
  });

  it("starts the CLI without loading any command's implementation: commander and light modules only", () => {
    // what node loads before a command runs: the static value imports (not `import type`, which
    // the compiler erases) reachable from cli.ts
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const visit = (f: string) => {
      if (loaded.has(f)) return;
      loaded.add(f);
      const text = readFileSync(f, "utf8");
      const re = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']/gm;
      for (let m; (m = re.exec(text)); ) {
        if (m[1].startsWith(".")) visit(resolve(dirname(f), m[1]).replace(/\.js$/, ".ts"));
        else if (!m[1].startsWith("node:")) packages.add(m[1]);
      }
    };
    visit(join(SRC, "cli.ts"));
    expect([...packages]).toEqual(["commander"]);
    const impl = [...loaded].map(rel).filter((f) => /^commands\/(?!command\.ts|declarations\.ts)/.test(f) || /^(pipeline\/(convert|pool|worker)|datasets\/scone|sinks|report)\b/.test(f));
    expect(impl).toEqual(["datasets/scone-options.ts"]);
  });
});
