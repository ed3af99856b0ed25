// Which file a worker starts from (src/bundled.ts): in a checkout a bundle older than the module it
// was made from is stale and not used; in an installed package (no sources beside dist/) the
// bundle is used whatever the files' times, which npm sets at unpacking, a few ms apart either way.
import { mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bundledOr } from "../src/bundled.ts";
import { tmp } from "./helpers.ts";

const dir = tmp("arrowsmith-bundled-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function layout(name: string, withSources: boolean, bundleAge: number | undefined): { plain: URL; bundle: URL } {
  const root = join(dir, name);
  mkdirSync(join(root, "dist", "src", "pipeline"), { recursive: true });
  if (withSources) mkdirSync(join(root, "src"));
  const plain = join(root, "dist", "src", "pipeline", "worker.js");
  const bundle = join(root, "dist", "src", "worker.bundle.js");
  writeFileSync(plain, "");
  const t = new Date(Date.now() - 60_000);
  utimesSync(plain, t, t);
  if (bundleAge !== undefined) {
    writeFileSync(bundle, "");
    const b = new Date(t.getTime() - bundleAge);
    utimesSync(bundle, b, b);
  }
  return { plain: pathToFileURL(plain), bundle: pathToFileURL(bundle) };
}

describe("bundledOr", () => {
  it("in a checkout: the bundle when it is as new as the module, the module when the bundle is older or missing", () => {
    const fresh = layout("fresh", true, 0);
    expect(bundledOr(fresh.plain, fresh.bundle).href).toBe(fresh.bundle.href);
    const stale = layout("stale", true, 5_000);
    expect(bundledOr(stale.plain, stale.bundle).href).toBe(stale.plain.href);
    const none = layout("none", true, undefined);
    expect(bundledOr(none.plain, none.bundle).href).toBe(none.plain.href);
  });

  it("in an installed package: the bundle even when it was unpacked a moment before the module", () => {
    const pkg = layout("package", false, 1);
    expect(bundledOr(pkg.plain, pkg.bundle).href).toBe(pkg.bundle.href);
    const none = layout("package-none", false, undefined);
    expect(bundledOr(none.plain, none.bundle).href).toBe(none.plain.href);
  });
});
