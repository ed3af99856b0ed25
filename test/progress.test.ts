// The progress line: what it shows, and that it stays silent off a terminal.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { duration, ProgressLine } from "../src/pipeline/progress.ts";

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as unknown as NodeJS.WriteStream;
  return { stream, chunks };
}

describe("progress line", () => {
  it("shows tasks, events/s, MiB/s, percent done and time left from the shared counters", async () => {
    const { stream } = sink();
    const p = new ProgressLine(stream, false);
    p.start(1_000_000_000, 4);
    const c = new BigInt64Array(p.counters);
    c[0] = 250_000_000n;
    c[1] = 2_700n;
    p.taskDone();
    await new Promise((r) => setTimeout(r, 50));
    const line = p.line();
    expect(line).toMatch(/^tasks 1\/4 {2}\S+ events\/s {2}[\d.]+ MiB\/s {2}25% {2}\S+ left$/);
    p.stop();
  });

  it("writes nothing when disabled (not a terminal, --quiet, --json)", async () => {
    const { stream, chunks } = sink();
    const p = new ProgressLine(stream, false);
    p.start(100, 1);
    await new Promise((r) => setTimeout(r, 600));
    p.stop();
    expect(chunks).toEqual([]);
  });

  it("draws on a terminal and clears the line at the end", async () => {
    const { stream, chunks } = sink();
    const p = new ProgressLine(stream, true);
    p.start(100, 1);
    await new Promise((r) => setTimeout(r, 600));
    p.stop();
    expect(chunks[0]).toMatch(/^\r\x1b\[Ktasks 0\/1/);
    expect(chunks[chunks.length - 1]).toBe("\r\x1b[K");
  });

  it("formats durations", () => {
    expect(duration(42)).toBe("42s");
    expect(duration(125)).toBe("2m05s");
    expect(duration(7300)).toBe("2h01m");
  });
});
