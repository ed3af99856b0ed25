// `arrowsmith verify`: the structure and CRCs of every record of every input; writes nothing.
import type { Command } from "commander";
import { verifyNpz, verifyTFRecord, type VerifyResult } from "../inspect.js";
import { isNpzFile } from "../inspect-npz.js";
import { expandInputs } from "../pipeline/inputs.js";
import type { CommandSpec } from "./command.js";

export interface VerifyCommandResult {
  ok: boolean;
  files: VerifyResult[];
}

export async function runVerify(inputs: string[]): Promise<VerifyCommandResult> {
  const files: VerifyResult[] = [];
  for (const f of expandInputs(inputs)) files.push(isNpzFile(f) ? verifyNpz(f) : await verifyTFRecord(f));
  return { ok: files.every((r) => r.ok), files };
}

export function renderVerify(r: VerifyCommandResult): string {
  return r.files.map((f) => f.ok
    ? `ok    ${f.file}: ${f.records} ${isNpzFile(f.file) ? "members" : "records"}`
    : `FAIL  ${f.file}: ${f.records} records read\n${f.problems.map((p) => `      byte ${p.offset}, record ${p.record}: ${p.message}`).join("\n")}`).join("\n");
}

export const verifyCommand: CommandSpec<VerifyCommandResult> = {
  name: "verify",
  declare: (cmd: Command) => cmd
    .description("check the structure and CRCs of every record; writes nothing")
    .argument("<inputs...>")
    .option("--json", "print JSON", false),
  run: ([inputs]) => runVerify(inputs as string[]),
  outcome: (r) => (r.ok ? "ok" : "failure"),
  text: renderVerify,
  json: (r) => r,
};
