// The output folder's lock, and the temporary files it owns.
//
// A run writes outputs under temporary names `.<final name>.tmp-<pid>@<host>.<8 hex>` and renames
// them when complete. The pid alone does not name a process on a shared file system (a pid dead
// here may be alive on another node), so the host is part of the name, and temporaries are only
// ever removed by their owner (on its way out) or by the run that takes over the owner's lock after
// proving it dead (same host, pid gone). A name that does not match the pattern exactly is never
// touched: the folder may hold the user's own files.
//
// The lock is a file created by link(2) (atomic on NFS too, unlike O_EXCL on old clients) holding
// its owner's pid, host, start time and a run key. A whole-folder run holds `.arrowsmith-lock`; a
// shard of a job array holds `.arrowsmith-lock.shard-I-of-N`, so the shards of one run can write
// into one folder at once while a shard of a different run (other inputs or options) is refused.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { linkSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ArrowsmithError } from "../errors.js";
import { type Shard, shardTag } from "../scale/shards.js";

/** This host's name as it appears in lock and temporary file names. */
export const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, "_") || "localhost";

export interface Owner {
  pid: number;
  host: string;
}

/** "" for a whole-folder run, `.shard-I-of-N` for a shard: the suffix of its lock. */
function shardSuffix(shard?: Shard): string {
  return shard ? `.${shardTag(shard)}` : "";
}

const SHARD_SUFFIX = /^\.shard-(\d+)-of-(\d+)$/;
export const LOCK = ".arrowsmith-lock";

// `.<final>.tmp-<pid>@<host>.<8 hex>`: the whole name, nothing else
const TEMP = /^\.(.+)\.tmp-(\d+)@([A-Za-z0-9._-]+)\.([0-9a-f]{8})$/;

/** The temporary name for a file that will be renamed to `finalName` (same folder). */
export function temporaryName(finalName: string): string {
  return `.${finalName}.tmp-${process.pid}@${HOST}.${randomBytes(4).toString("hex")}`;
}

/** The owner of a temporary file, or undefined when the name is not exactly ours. */
export function temporaryOwner(name: string): Owner | undefined {
  const m = TEMP.exec(name);
  return m ? { pid: Number(m[2]), host: m[3] } : undefined;
}

/** Removes the temporary files of `owner` in `dir` (and only those); returns their names. */
export function removeTemporariesOf(dir: string, owner: Owner): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed; // the folder may not exist (yet)
  }
  for (const name of names) {
    const o = temporaryOwner(name);
    if (!o || o.pid !== owner.pid || o.host !== owner.host) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

export interface LockInfo extends Owner {
  tool: "arrowsmith";
  /** When the run started (ISO 8601). */
  started: string;
  /** Identifies the run: its inputs and output-deciding options (shards of one run share it). */
  run: string;
  shard?: Shard;
  /** Tells this lock apart from a later one of a process with the same pid. */
  token: string;
}

export interface LockOptions {
  run: string;
  shard?: Shard;
}

const held = new Set<FolderLock>();
let exitHook = false;

/** Releases every lock this process holds (on exit: a Ctrl-C handler ends with process.exit). */
export function releaseFolderLocks(): void {
  for (const l of [...held]) l.release();
}

export class FolderLock {
  private released = false;

  private constructor(readonly dir: string, readonly path: string, readonly info: LockInfo) {}

  /**
   * Takes the lock of `dir` for a whole-folder run or one shard. Fails at once, naming the holder,
   * when another live run holds it; takes over a stale lock of a dead process on this host (and
   * removes that process's temporary files).
   */
  static acquire(dir: string, o: LockOptions): FolderLock {
    const suffix = shardSuffix(o.shard);
    const path = join(dir, LOCK + suffix);
    const info: LockInfo = {
      tool: "arrowsmith", pid: process.pid, host: HOST, started: new Date().toISOString(), run: o.run,
      ...(o.shard ? { shard: o.shard } : {}), token: randomBytes(8).toString("hex"),
    };
    const tmp = join(dir, temporaryName(LOCK + suffix));
    try {
      writeFileSync(tmp, JSON.stringify(info) + "\n");
    } catch (e) {
      throw folderError(e, dir, "cannot write in the output folder");
    }
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          linkSync(tmp, path);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw folderError(e, dir, "cannot lock the output folder");
        }
        const holder = readLock(path);
        if (holder === undefined) continue; // released in between
        if (attempt < 3 && isStale(holder)) { takeOver(dir, path, holder); continue; }
        throw heldError(dir, path, holder);
      }
    } finally {
      rmSync(tmp, { force: true });
    }
    const lock = new FolderLock(dir, path, info);
    held.add(lock);
    if (!exitHook) { exitHook = true; process.on("exit", releaseFolderLocks); }
    try {
      lock.checkOthers(o);
    } catch (e) {
      lock.release();
      throw e;
    }
    return lock;
  }

  /** The other locks of the folder: a whole-folder run excludes every shard and the other way round. */
  private checkOthers(o: LockOptions): void {
    for (const name of readdirSync(this.dir)) {
      if (!name.startsWith(LOCK) || join(this.dir, name) === this.path) continue;
      const rest = name.slice(LOCK.length);
      const shard = SHARD_SUFFIX.exec(rest);
      if (rest !== "" && !shard) continue;
      const p = join(this.dir, name);
      const other = readLock(p);
      if (other === undefined) continue;
      if (isStale(other)) { takeOver(this.dir, p, other, true); continue; }
      if (!o.shard || !other.shard) throw heldError(this.dir, p, other);
      if (other.run !== o.run || other.shard.count !== o.shard.count) {
        throw new ArrowsmithError("usage", `shard ${o.shard.index + 1}/${o.shard.count} of one run and ${describe(other)}, a shard of a different run (other inputs or options), would write into one folder`, {
          file: this.dir, hint: "give each run its own output folder",
        });
      }
    }
  }

  /** Removes this run's temporary files, then the lock (safe to call twice). */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    removeTemporariesOf(this.dir, this.info);
    // only our own lock: never one that replaced it after a takeover
    if (readLock(this.path)?.token === this.info.token) rmSync(this.path, { force: true });
  }
}

function readLock(path: string): LockInfo | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw folderError(e, path, "cannot read the folder's lock");
  }
  try {
    const j = JSON.parse(text) as LockInfo;
    if (j.tool === "arrowsmith" && Number.isInteger(j.pid) && typeof j.host === "string") return j;
  } catch { /* not ours, or damaged */ }
  return { tool: "arrowsmith", pid: 0, host: "?", started: "?", run: "", token: "" };
}

/**
 * A lock is stale when its process is known dead: same host and no such pid, or a process with
 * that pid that started after the lock was taken (the pid was reused by another process after
 * the holder died). Elsewhere we cannot know.
 */
function isStale(l: LockInfo): boolean {
  if (l.host !== HOST || l.pid <= 0) return false;
  if (l.pid === process.pid) return false;
  try {
    process.kill(l.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
  const taken = Date.parse(l.started);
  const began = processStartMs(l.pid);
  // the boot time is known to the second: a margin of a few seconds
  return began !== undefined && Number.isFinite(taken) && began > taken + REUSE_MARGIN_MS;
}

const REUSE_MARGIN_MS = 5_000;
/** Clock ticks per second of /proc/<pid>/stat's start time (USER_HZ: 100 on every Linux ABI). */
const USER_HZ = 100;

/** When process `pid` started (ms since the epoch) from /proc (Linux); undefined where unknown. */
export function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the fields after the command name (in parentheses, which may hold spaces and parentheses)
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]); // field 22, starttime: clock ticks after boot
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return btime * 1000 + (ticks / USER_HZ) * 1000;
  } catch {
    return undefined;
  }
}

/**
 * Moves a stale lock aside and removes its owner's temporaries. The rename succeeds for one
 * contender only; if what was moved is not the stale lock read before (another run took over in
 * between), it is put back.
 */
function takeOver(dir: string, path: string, stale: LockInfo, removeOnly = false): void {
  const aside = join(dir, temporaryName(LOCK));
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw folderError(e, dir, "cannot take over a stale lock");
  }
  if (readLock(aside)?.token !== stale.token) {
    try { linkSync(aside, path); } catch { /* a third run holds it now */ }
    rmSync(aside, { force: true });
    if (removeOnly) throw heldError(dir, path, readLock(path) ?? stale);
    return;
  }
  removeTemporariesOf(dir, stale);
  rmSync(aside, { force: true });
}

function describe(l: LockInfo): string {
  return `${l.shard ? `shard ${l.shard.index + 1}/${l.shard.count}` : "a run"} (pid ${l.pid} on ${l.host}, started ${l.started})`;
}

function heldError(dir: string, path: string, l: LockInfo): ArrowsmithError {
  if (!l.token) {
    return new ArrowsmithError("usage", `the output folder is locked by ${path}, which is not a lock arrowsmith can read`, {
      file: dir, hint: "if no conversion is writing there, remove that file",
    });
  }
  const here = l.host === HOST;
  return new ArrowsmithError("usage", `another conversion is writing into this folder: ${describe(l)}`, {
    file: dir,
    hint: here ? "wait for it to finish, or choose another output folder"
      : `wait for it to finish; if that process is gone (host ${l.host} crashed), remove ${path}`,
  });
}

/** A file-system error about the output folder, said plainly. */
export function folderError(e: unknown, path: string, what: string): ArrowsmithError {
  const err = e as NodeJS.ErrnoException;
  const cause = err.code === "EACCES" || err.code === "EPERM" ? "permission denied"
    : err.code === "EROFS" ? "read-only file system"
    : err.code === "ENOSPC" ? "no space left on device"
    : err.code === "ENOTDIR" ? "a part of the path is a file, not a folder"
    : err.message;
  return new ArrowsmithError("io", `${what}: ${cause}`, { file: path, cause: e });
}
