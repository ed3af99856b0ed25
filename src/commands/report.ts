// `arrowsmith report <converted folder | inputs...> [-o <dir>]`: _report.json and _report.html again, without converting.
import { SCONE_DEFAULTS } from "../datasets/scone.js";
// the report modules (Vega, resvg) are imported when the command runs, not at start-up
import type { RebuildResult } from "../report/rebuild.js";
import type { CommandRun } from "./command.js";

export const reportCommand: CommandRun<RebuildResult> = {
  run: async ([inputs], o) => (await import("../report/rebuild.js")).rebuildReport(inputs as string[], { output: o.output as string | undefined, scone: { ...SCONE_DEFAULTS, timeRange: o.timeRange as [number, number] } }),
  outcome: () => "ok",
  text: (r) => `${r.events} events (${r.from === "saved" ? "from the saved statistics" : "read from the inputs"})\nwrote ${r.json}\nwrote ${r.html}`,
  json: (r) => ({ ok: true, ...r }),
};
