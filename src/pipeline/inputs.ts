// Inputs are files, folders (searched for *.tfrecord*, *.npz) or globs; outputs are named after them.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { stripCompressionSuffix } from "../formats/compression.js";

const DATA_FILE = /\.(tfrecords?|npz)(\.(gz|gzip|zlib|zz))?$|\.tfrecords?-\d+-of-\d+/i;

export function isDataFile(name: string): boolean {
  return DATA_FILE.test(name) && !name.startsWith(".");
}

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (const c of pattern) {
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Expands the command line's inputs to a sorted, de-duplicated list of absolute file paths. */
export function expandInputs(args: string[]): string[] {
  const out = new Set<string>();
  for (const arg of args) {
    if (existsSync(arg)) {
      const st = statSync(arg);
      if (st.isDirectory()) {
        for (const name of readdirSync(arg).sort()) {
          const p = join(arg, name);
          if (isDataFile(name) && statSync(p).isFile()) out.add(resolve(p));
        }
      } else {
        out.add(resolve(arg));
      }
      continue;
    }
    if (/[*?]/.test(basename(arg)) && !/[*?]/.test(dirname(arg))) {
      const dir = dirname(arg);
      const re = globToRegExp(basename(arg));
      const hits = existsSync(dir) ? readdirSync(dir).filter((n) => re.test(n)).sort() : [];
      if (!hits.length) throw new ArrowsmithError("usage", `no file matches ${arg}`);
      for (const n of hits) out.add(resolve(join(dir, n)));
      continue;
    }
    throw new ArrowsmithError("usage", `input not found: ${arg}`, { hint: "give files, folders or globs" });
  }
  return [...out].sort();
}

/** Output base name: the input name without its compression and format suffixes. */
export function outputStem(input: string): string {
  let name = stripCompressionSuffix(basename(input));
  name = name.replace(/\.(tfrecords?|npz)$/i, "");
  return name;
}
