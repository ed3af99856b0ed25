#!/usr/bin/env node
// The command line: registers the subcommands of src/commands/ (each parses, runs and renders) and
// maps their outcomes and errors to exit codes. Progress and logs go to stderr; --json prints one
// object on stdout. Only the commands' declarations are loaded at start; a command's
// implementation is imported when it runs (see commands/declarations.ts).
import { realpathSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import { type Outcome, toJson, wantsJson } from "./commands/command.js";
import { COMMANDS } from "./commands/declarations.js";
import { isArrowsmithError } from "./errors.js";
import { VERSION } from "./version.js";

export const EXIT = { ok: 0, failure: 1, usage: 2, skipped: 3 } as const;

/** The exit code of a command's outcome. */
export function exitCodeOf(outcome: Outcome): number {
  return EXIT[outcome];
}

/** Exit code of a finished conversion. */
export function exitCode(s: { problems: unknown[] }): number {
  return s.problems.length ? EXIT.skipped : EXIT.ok;
}

/** The exit code of what a command threw: commander's usage errors, ours, or a bug. */
export function exitCodeOfError(e: unknown): number {
  const err = e as { code?: string };
  if (typeof err?.code === "string" && err.code.startsWith("commander.")) {
    return err.code === "commander.helpDisplayed" || err.code === "commander.version" ? EXIT.ok : EXIT.usage;
  }
  // stopped by a signal: 128 + its number, as a shell reports it (130 for Ctrl-C)
  if (isArrowsmithError(e) && e.code === "interrupted") return 128 + (osConstants.signals[e.cause as NodeJS.Signals] ?? osConstants.signals.SIGINT);
  if (isArrowsmithError(e)) return e.code === "usage" ? EXIT.usage : EXIT.failure;
  return EXIT.failure;
}

/** The line printed after a usage error. */
export function seeHelp(command?: string): string {
  return `see arrowsmith ${command ? command + " " : ""}--help`;
}

/** The command whose action is running (for the usage errors it throws). */
let running: string | undefined;

/** The program; each command's outcome is handed to `done`. */
export function buildProgram(done: (o: Outcome) => void = () => {}): Command {
  const program = new Command("arrowsmith")
    .description("Bulk-convert SCONE heatmap TFRecords and DUNE cluster NPZ batches to Apache Arrow, with per-event quality metrics")
    .version(VERSION)
    // a usage error prints its one line and where to read more, not the whole help
    .showHelpAfterError(seeHelp())
    .exitOverride();
  for (const spec of COMMANDS) {
    const cmd = spec.declare(program.command(spec.name, { hidden: spec.hidden })).showHelpAfterError(seeHelp(spec.name));
    cmd.action(async () => {
      running = spec.name;
      const opts = cmd.opts();
      const given = new Set(Object.keys(opts).filter((k) => cmd.getOptionValueSource(k) === "cli"));
      const impl = await spec.load();
      const result = await impl.run(cmd.processedArgs, opts, given, cmd);
      const text = wantsJson(opts) ? toJson(impl.json(result)) : impl.text(result);
      if (text !== null) process.stdout.write(text + "\n");
      done(impl.outcome(result));
    });
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let outcome: Outcome = "ok";
  const program = buildProgram((o) => { outcome = o; });
  try {
    await program.parseAsync(argv);
    return exitCodeOf(outcome);
  } catch (e) {
    const code = exitCodeOfError(e);
    if (isArrowsmithError(e)) process.stderr.write(`arrowsmith: ${e.message}\n${e.code === "usage" ? seeHelp(running) + "\n" : ""}`);
    else if (!(typeof (e as { code?: unknown })?.code === "string" && (e as { code: string }).code.startsWith("commander."))) {
      process.stderr.write(`arrowsmith: internal error: ${(e as Error)?.stack ?? e}\nPlease report this with the command line that caused it.\n`);
    }
    return code;
  }
}

function isEntryPoint(): boolean {
  try {
    return !!process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv).then((code) => { process.exitCode = code; });
}
