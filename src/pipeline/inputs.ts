// Inputs are files, folders (searched for *.tfrecord*, *.npz; with `recursive`, their subfolders
// too) or globs (tinyglobby: `*`, `?`, `**`, `[01]`, `{a,b}` in any part of the path); outputs are
// named after them. Anything that is not a regular file is refused by name before it is opened:
// opening a FIFO blocks until a writer comes.
import { type Stats, lstatSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { createRequire } from "node:module";
import { ArrowsmithError } from "../errors.js";
import { stripCompressionSuffix } from "../formats/compression.js";

/** tinyglobby, loaded the first time an argument is neither a file nor a folder (most runs name those). */
let glob: typeof import("tinyglobby") | undefined;
const tinyglobby = () => (glob ??= createRequire(import.meta.url)("tinyglobby") as typeof import("tinyglobby"));

const DATA_FILE = /\.(tfrecords?|npz)(\.(gz|gzip|zlib|zz))?$|\.tfrecords?-\d+-of-\d+/i;

export function isDataFile(name: string): boolean {
  return DATA_FILE.test(name) && !name.startsWith(".");
}

export interface ExpandOptions {
  /** Search folders recursively. */
  recursive?: boolean;
  /** Called for each entry skipped with a reason (a dangling link, a FIFO in a folder, a duplicate). */
  onWarning?: (message: string) => void;
}

/** What a path is, in words, when it is not a regular file. */
function notRegular(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Why a path cannot be read, from a stat error. */
function statProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "a symbolic link to nothing (dangling)"
    : code === "ELOOP" ? "a symbolic link loop"
    : code === "EACCES" || code === "EPERM" ? "not readable (permission denied)"
    : code === "ENOTDIR" ? "not found (a part of its path is a file)"
    : (e as Error).message;
}

/**
 * Checks that `path` is a regular file before anything opens it; throws a usage error naming what
 * it is otherwise (a folder, a FIFO, a socket, a device, a dangling link, nothing).
 */
export function checkInputFile(path: string, what = "input"): Stats {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !isLink(path)) throw new ArrowsmithError("usage", `${what} not found: ${path}`, { hint: "give files, folders or globs" });
    throw new ArrowsmithError("usage", `${what} ${path} is ${statProblem(e)}`);
  }
  const kind = notRegular(st);
  if (kind) throw new ArrowsmithError("usage", `${what} ${path} is ${kind}, not a regular file`, { hint: kind === "a folder" ? "this command takes files" : "copy the data into a regular file first" });
  return st;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

interface Candidate {
  path: string;
  st: Stats;
}

/** The data files of a folder (and of its subfolders when recursive); odd entries are skipped with a warning. */
function scanFolder(dir: string, o: ExpandOptions, out: Candidate[], seen: Set<string>): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    o.onWarning?.(`skipped folder ${dir}: ${statProblem(e)}`);
    return;
  }
  for (const name of names) {
    if (name.startsWith(".")) continue;
    const p = join(dir, name);
    const data = isDataFile(name);
    if (!data && !o.recursive) continue;
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      if (data) o.onWarning?.(`skipped ${p}: ${statProblem(e)}`);
      continue;
    }
    if (st.isDirectory()) {
      if (!o.recursive) continue;
      // a link back to a folder above would loop forever
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) { o.onWarning?.(`skipped ${p}: a folder already searched (a symbolic link loop?)`); continue; }
      seen.add(id);
      scanFolder(p, o, out, seen);
      continue;
    }
    if (!data) continue;
    const kind = notRegular(st);
    if (kind) { o.onWarning?.(`skipped ${p}: ${kind}, not a regular file`); continue; }
    out.push({ path: resolve(p), st });
  }
}

/**
 * Expands the command line's inputs to a sorted list of absolute paths of regular files, one per
 * file: two paths of one file (a symbolic or hard link beside its target) count once.
 */
export function expandInputs(args: string[], o: ExpandOptions = {}): string[] {
  const found: Candidate[] = [];
  for (const arg of args) {
    if (typeof arg !== "string" || arg === "") throw new ArrowsmithError("usage", "an input is an empty name", { hint: "give files, folders or globs" });
    let st: Stats | undefined;
    try {
      st = statSync(arg);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" || isLink(arg)) throw new ArrowsmithError("usage", `input ${arg} is ${statProblem(e)}`);
    }
    if (st?.isDirectory()) {
      const dir = resolve(arg);
      scanFolder(dir, o, found, new Set([`${st.dev}:${st.ino}`]));
      continue;
    }
    if (st) {
      const kind = notRegular(st);
      if (kind) throw new ArrowsmithError("usage", `input ${arg} is ${kind}, not a regular file`, { hint: "copy the data into a regular file first" });
      found.push({ path: resolve(arg), st });
      continue;
    }
    const { globSync, isDynamicPattern } = tinyglobby();
    if (isDynamicPattern(arg)) {
      // folders never match: a glob names files (use a folder, or --recursive, to search one)
      const hits = globSync(arg, { onlyFiles: true, expandDirectories: false, absolute: true, followSymbolicLinks: true }).sort();
      let matched = 0;
      for (const h of hits) {
        let hs: Stats;
        try {
          hs = statSync(h);
        } catch (e) {
          o.onWarning?.(`skipped ${h}: ${statProblem(e)}`);
          continue;
        }
        const kind = notRegular(hs);
        if (kind) { o.onWarning?.(`skipped ${h}: ${kind}, not a regular file`); continue; }
        found.push({ path: resolve(h), st: hs });
        matched++;
      }
      if (!matched) throw new ArrowsmithError("usage", `no file matches ${arg}`, { hint: "quote the pattern so that the shell leaves it to arrowsmith" });
      continue;
    }
    throw new ArrowsmithError("usage", `input not found: ${arg}`, { hint: "give files, folders or globs" });
  }
  // one path per file: prefer the file's own name over a link's, then the first in order
  const byFile = new Map<string, Candidate>();
  for (const c of found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const id = `${c.st.dev}:${c.st.ino}`;
    const prev = byFile.get(id);
    if (!prev) { byFile.set(id, c); continue; }
    if (prev.path === c.path) continue;
    const keep = isLink(prev.path) && !isLink(c.path) ? c : prev;
    const drop = keep === prev ? c : prev;
    o.onWarning?.(`skipped ${drop.path}: the same file as ${keep.path}`);
    byFile.set(id, keep);
  }
  return [...byFile.values()].map((c) => c.path).sort();
}

/** Output base name: the input name without its compression and format suffixes. */
export function outputStem(input: string): string {
  let name = stripCompressionSuffix(basename(input));
  name = name.replace(/\.(tfrecords?|npz)$/i, "");
  return name;
}
