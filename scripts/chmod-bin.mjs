// tsc drops the executable bit; npx and the bin link need it on the CLI entry point.
import { chmodSync } from "node:fs";
chmodSync(new URL("../dist/src/cli.js", import.meta.url), 0o755);
