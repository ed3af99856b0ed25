// Adds lockfile entries for other platforms' optional native packages that this machine's registry
// does not serve (npm leaves them out, and `npm ci` then refuses the lock as out of sync). Each
// entry carries the os/cpu/libc npm uses to skip it here; on the named platform npm fetches it.
// Run after changing dependencies: node scripts/lock-platform-stubs.mjs
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const pkgs = lock.packages;
let added = 0;
for (const [key, entry] of Object.entries(pkgs)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    if (pkgs[at]) continue;
    const m = /-(darwin|linux|win32|freebsd|android)-(x64|arm64|arm|ia32)(?:-(gnu|musl|msvc|gnueabihf|eabi))?$/.exec(name);
    if (!m) throw new Error(`${key}: optional ${name} has no platform suffix; resolve it by hand`);
    const stub = { version, optional: true, os: [m[1]], cpu: [m[2]] };
    if (m[3] === "gnu" || m[3] === "musl") stub.libc = [m[3] === "gnu" ? "glibc" : "musl"];
    pkgs[at] = stub;
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
console.log(`added ${added} platform stub(s)`);
