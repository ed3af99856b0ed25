// `arrowsmith verify`: every check convert makes on every input (TFRecord: framing, CRCs, decoding); writes nothing.
import { verifyNpz, verifyTFRecord, type VerifyResult } from "../inspect.js";
import { type Container, detectContainer, noInputsError } from "../datasets/kinds.js";
import { ArrowsmithError, isArrowsmithError } from "../errors.js";
import { expandInputs } from "../pipeline/inputs.js";
import { type CommandRun, warn } from "./command.js";

export interface VerifyCommandResult {
  ok: boolean;
  files: (VerifyResult & { format?: Container })[];
}

export async function runVerify(inputs: string[], o: { maxRecordBytes?: number } = {}): Promise<VerifyCommandResult> {
  const files: VerifyCommandResult["files"] = [];
  const found = expandInputs(inputs, { onWarning: warn });
  if (!found.length) {
    throw noInputsError(inputs, "verify") ?? new ArrowsmithError("usage", `verify: no .tfrecord or .npz input in ${inputs.join(" ")}`, { hint: "give .tfrecord/.npz files or folders holding them" });
  }
  for (const f of found) {
    let format: Container;
    try {
      format = detectContainer(f);
    } catch (e) {
      // not an input at all (an output of ours, a text file): that file fails, the others are checked
      if (!isArrowsmithError(e) || e.code === "io") throw e;
      files.push({ file: f, compression: "", size: 0, records: 0, ok: false, problems: [{ code: e.code, message: `${e.detail}${e.hint ? `. ${e.hint}` : ""}` }] });
      continue;
    }
    files.push({ ...(format === "npz" ? verifyNpz(f) : await verifyTFRecord(f, { maxRecordBytes: o.maxRecordBytes })), format });
  }
  return { ok: files.every((r) => r.ok), files };
}

/** Where a problem is: its byte offset and record index, where known (an NPZ has no records). */
function where(p: { offset?: number; record?: number }): string {
  const place = [p.offset !== undefined ? `byte ${p.offset}` : "", p.record !== undefined ? `record ${p.record}` : ""].filter(Boolean).join(", ");
  return place ? `${place}: ` : "";
}

export function renderVerify(r: VerifyCommandResult): string {
  const unit = (f: { format?: Container }) => (f.format === "npz" ? "rows" : "records");
  return r.files.map((f) => f.ok
    ? `ok    ${f.file}: ${f.records} ${unit(f)}`
    : `FAIL  ${f.file}: ${f.records} ${unit(f)} read\n${f.problems.map((p) => `      ${where(p)}${p.message}`).join("\n")}`).join("\n");
}

export const verifyCommand: CommandRun<VerifyCommandResult> = {
  run: ([inputs], o) => runVerify(inputs as string[], o as { maxRecordBytes?: number }),
  outcome: (r) => (r.ok ? "ok" : "failure"),
  text: renderVerify,
  json: (r) => r,
};
