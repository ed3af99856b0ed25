// The progress line: what it shows, when it is drawn, and that it stays silent off a terminal.
// Fake timers drive the clock (performance.now and setInterval), so every figure is exact.
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { duration, ProgressLine } from "../src/pipeline/progress.ts";

const MiB = 1024 ** 2;

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as unknown as NodeJS.WriteStream;
  return { stream, chunks };
}

/** What the workers do: add input bytes and events to the shared counters. */
function advance(p: ProgressLine, bytes: number, events: number): void {
  const c = new BigInt64Array(p.counters);
  c[0] += BigInt(bytes);
  c[1] += BigInt(events);
}

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe("progress line", () => {
  it("shows tasks, events/s, MiB/s, percent done and time left", () => {
    const p = new ProgressLine(sink().stream, false);
    p.start(4000 * MiB, 4);
    vi.advanceTimersByTime(10_000);
    advance(p, 1000 * MiB, 2_700);
    p.taskDone();
    expect(p.line()).toBe("tasks 1/4  270 events/s  100 MiB/s  25%  30s left");
    vi.advanceTimersByTime(10_000);
    advance(p, 1000 * MiB, 49_300);
    expect(p.line()).toBe("tasks 1/4  2600 events/s  100 MiB/s  50%  20s left");
    vi.advanceTimersByTime(20_000);
    advance(p, 1600 * MiB, 396_000);
    p.taskDone();
    expect(p.line()).toBe("tasks 2/4  11.2k events/s  90 MiB/s  90%  4s left");
  });

  it("before anything is read: zeros, no NaN and no time left", () => {
    const p = new ProgressLine(sink().stream, false);
    p.start(4000 * MiB, 3);
    expect(p.line()).toBe("tasks 0/3  0 events/s  0.0 MiB/s  0%");
    vi.advanceTimersByTime(2_000);
    expect(p.line()).toBe("tasks 0/3  0 events/s  0.0 MiB/s  0%");
  });

  it("at the end: 100% and no time left", () => {
    const p = new ProgressLine(sink().stream, false);
    p.start(3 * MiB, 1);
    vi.advanceTimersByTime(1_500);
    advance(p, 3 * MiB, 30);
    p.taskDone();
    expect(p.line()).toBe("tasks 1/1  20 events/s  2.0 MiB/s  100%");
  });

  it("redraws twice a second on a terminal, and clears the line when stopped", () => {
    const { stream, chunks } = sink();
    const p = new ProgressLine(stream, true);
    p.start(100 * MiB, 2);
    vi.advanceTimersByTime(499);
    expect(chunks).toEqual([]);
    advance(p, 25 * MiB, 100);
    vi.advanceTimersByTime(1);
    advance(p, 25 * MiB, 100);
    vi.advanceTimersByTime(500);
    p.stop();
    expect(chunks).toEqual([
      "\r\x1b[Ktasks 0/2  200 events/s  50 MiB/s  25%  2s left",
      "\r\x1b[Ktasks 0/2  200 events/s  50 MiB/s  50%  1s left",
      "\r\x1b[K",
    ]);
    vi.advanceTimersByTime(5_000);
    p.stop();
    expect(chunks.length).toBe(3);
  });

  it("writes nothing when disabled (not a terminal, --quiet, --json)", () => {
    const { stream, chunks } = sink();
    const p = new ProgressLine(stream, false);
    p.start(100, 1);
    vi.advanceTimersByTime(5_000);
    p.stop();
    expect(chunks).toEqual([]);
  });

  it("formats durations", () => {
    expect(duration(0.4)).toBe("0s");
    expect(duration(42)).toBe("42s");
    expect(duration(59.6)).toBe("1m00s");
    expect(duration(125)).toBe("2m05s");
    expect(duration(7300)).toBe("2h01m");
  });
});
