// Which file a worker starts from in dist/: the build bundles a worker's entry module and all it
// imports into one file (scripts/bundle-worker.mjs), which loads several times faster than the
// ES modules one by one.
import { existsSync, statSync } from "node:fs";

/**
 * `bundle` when it is there and current, else `plain`. In a checkout (sources beside dist/), a
 * bundle older than `plain` is stale (a `tsc` run without the bundling step) and is not used. An
 * installed package has no sources and its files are as built: their times are those of the
 * unpacking, a few milliseconds apart in either order, so they say nothing there.
 */
export function bundledOr(plain: URL, bundle: URL): URL {
  const b = statSync(bundle, { throwIfNoEntry: false });
  if (!b) return plain;
  // the bundle sits in dist/src/: the package's root is two folders up
  if (!existsSync(new URL("../../src/", bundle))) return bundle;
  return b.mtimeMs >= statSync(plain).mtimeMs ? bundle : plain;
}
