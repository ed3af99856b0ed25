// Opening an input without blocking: open(2) on a FIFO waits for a writer (and ignores signals
// meanwhile), so inputs are opened with O_NONBLOCK, which does nothing to a regular file, and
// anything that is not a regular file is refused by name. Callers have usually checked already
// (inputs.ts); this closes the gap of a file replaced in between.
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { ArrowsmithError } from "../errors.js";

export function openInputFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" || code === "EPERM" ? "permission denied"
      : code === "ELOOP" ? "a symbolic link loop" : code === "EISDIR" ? "a folder, not a file" : (e as Error).message;
    throw new ArrowsmithError("io", `cannot open: ${why}`, { file: path, cause: e });
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    const kind = st.isDirectory() ? "a folder" : st.isFIFO() ? "a FIFO (named pipe)" : st.isSocket() ? "a socket" : "a device";
    throw new ArrowsmithError("usage", `input is ${kind}, not a regular file`, { file: path });
  }
  return fd;
}
