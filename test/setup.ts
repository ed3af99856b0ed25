// Run before each test file (vitest.config.ts setupFiles): the temporary folders its tests made
// with tmp() go when its last test has run.
import { afterAll } from "vitest";
import { removeTemporaries } from "./helpers.ts";

afterAll(removeTemporaries);
