import type { Sink } from "./sink.js";

/** A sink that only counts rows: `verify` and the report from inputs decode everything `convert` would write, and write nothing. */
export function countingSink(): Sink {
  let rows = 0;
  return { write: (b) => { rows += b.numRows; }, finish: () => ({ path: "", rows, bytes: 0 }), abort: () => undefined };
}
