// A one-line progress display on stderr (only on a terminal): tasks done, events/s, MiB/s, percent
// done and the time left, from counters the workers add to in shared memory. It is redrawn twice a
// second by a timer of the main thread, which converts nothing and so is always free to draw.
import { formatRate } from "../units.js";

export class ProgressLine {
  readonly counters = new SharedArrayBuffer(16);
  private readonly view = new BigInt64Array(this.counters);
  private timer: NodeJS.Timeout | undefined;
  private t0 = performance.now();
  private total = 0;
  private tasks = 0;
  private done = 0;
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly enabled = !!process.stderr.isTTY) {}

  start(totalBytes: number, tasks: number): void {
    this.total = totalBytes;
    this.tasks = tasks;
    this.t0 = performance.now();
    if (this.enabled && tasks > 0) this.timer = setInterval(() => this.draw(), 500).unref();
  }

  taskDone(): void {
    this.done++;
  }

  /** The line as it would be drawn now (tested without a terminal). */
  line(): string {
    const secs = Math.max((performance.now() - this.t0) / 1000, 1e-3);
    const bytes = Number(this.view[0]);
    const events = Number(this.view[1]);
    const rate = bytes / secs;
    const parts = [`tasks ${this.done}/${this.tasks}`, `${fmt(events / secs)} events/s`, formatRate(rate)];
    if (this.total > 0) parts.push(`${Math.min(100, Math.floor((100 * bytes) / this.total))}%`);
    // the time left, once there is a rate to go by
    if (rate > 0 && this.total > bytes) parts.push(`${duration((this.total - bytes) / rate)} left`);
    return parts.join("  ");
  }

  private draw(): void {
    this.stream.write(`\r\x1b[K${this.line()}`);
    this.shown = true;
  }

  /** Stops drawing and clears the line (twice is harmless). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}

function fmt(n: number): string {
  return n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
