// A one-line progress display on stderr (only on a terminal): tasks done, events/s, MiB/s and the
// time left, from counters the workers add to in shared memory.
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
    const secs = (performance.now() - this.t0) / 1000;
    const bytes = Number(this.view[0]);
    const events = Number(this.view[1]);
    const rate = bytes / Math.max(secs, 1e-3);
    const left = rate > 0 && this.total > bytes ? (this.total - bytes) / rate : 0;
    return `tasks ${this.done}/${this.tasks}  ${fmt(events / Math.max(secs, 1e-3))} events/s  ${formatRate(rate)}  ` +
      `${this.total ? ((100 * bytes) / this.total).toFixed(0) : 0}%  ${left ? `${duration(left)} left` : ""}`;
  }

  private draw(): void {
    this.stream.write(`\r\x1b[K${this.line()}`);
    this.shown = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.shown) this.stream.write("\r\x1b[K");
  }
}

function fmt(n: number): string {
  return n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

export function duration(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
