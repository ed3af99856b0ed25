// `arrowsmith verify`: every check convert makes on every input (TFRecord: framing, CRCs, decoding); writes nothing.
import type { Command } from "commander";
import { verifyNpz, verifyTFRecord, type VerifyResult } from "../inspect.js";
import { isNpzFile } from "../inspect-npz.js";
import { expandInputs } from "../pipeline/inputs.js";
import { type CommandSpec, maxRecordBytesOption } from "./command.js";

export interface VerifyCommandResult {
  ok: boolean;
  files: VerifyResult[];
}

export async function runVerify(inputs: string[], o: { maxRecordBytes?: number } = {}): Promise<VerifyCommandResult> {
  const files: VerifyResult[] = [];
  for (const f of expandInputs(inputs)) files.push(isNpzFile(f) ? verifyNpz(f) : await verifyTFRecord(f, { maxRecordBytes: o.maxRecordBytes }));
  return { ok: files.every((r) => r.ok), files };
}

/** Where a problem is: its byte offset and record index, where known (an NPZ has no records). */
function where(p: { offset?: number; record?: number }): string {
  const place = [p.offset !== undefined ? `byte ${p.offset}` : "", p.record !== undefined ? `record ${p.record}` : ""].filter(Boolean).join(", ");
  return place ? `${place}: ` : "";
}

export function renderVerify(r: VerifyCommandResult): string {
  const unit = (f: string) => (isNpzFile(f) ? "rows" : "records");
  return r.files.map((f) => f.ok
    ? `ok    ${f.file}: ${f.records} ${unit(f.file)}`
    : `FAIL  ${f.file}: ${f.records} ${unit(f.file)} read\n${f.problems.map((p) => `      ${where(p)}${p.message}`).join("\n")}`).join("\n");
}

export const verifyCommand: CommandSpec<VerifyCommandResult> = {
  name: "verify",
  declare: (cmd: Command) => cmd
    .description("check every record as convert does (framing, CRCs, decoding); writes nothing")
    .argument("<inputs...>")
    .addOption(maxRecordBytesOption())
    .option("--json", "print JSON", false),
  run: ([inputs], o) => runVerify(inputs as string[], o as { maxRecordBytes?: number }),
  outcome: (r) => (r.ok ? "ok" : "failure"),
  text: renderVerify,
  json: (r) => r,
};
