import { readFileSync } from "node:fs";

function packageVersion(): string {
  for (const up of ["../package.json", "../../package.json"]) {
    try {
      return JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")).version as string;
    } catch { /* try the next layout (src/ or dist/src/) */ }
  }
  return "0.0.0";
}

export const VERSION = packageVersion();
