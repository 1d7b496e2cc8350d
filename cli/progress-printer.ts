import type { ProgressSnapshot, RunProgress } from '../controller/progress/run-progress';

/** Renders one progress line (no control codes). */
export function progressLine(s: ProgressSnapshot, opsPerSec: number): string {
  const secs = (ms: number) => `${Math.floor(ms / 1000)}s`;
  const parts = [
    `${s.phase} ${secs(s.elapsedMs)}/${secs(s.timeLimitMs)}`,
    `${Math.round(opsPerSec)} ops/s`,
    `ok ${s.counts.ok} fail ${s.counts.fail} info ${s.counts.info}`,
    `faults: ${s.faults.length ? s.faults.join('; ') : 'none'}`,
    `nodes ${s.nodesReachable}/${s.nodesTotal} reachable`,
  ];
  if (s.anomalies !== undefined) parts.push(`anomalies so far: ${s.anomalies}`);
  return parts.join(' | ');
}

export interface ProgressPrinterOptions {
  /** A terminal: one status line rewritten in place. Otherwise plain lines now and then. */
  tty: boolean;
  /** How often the line is redrawn (terminal) or printed (not a terminal). */
  intervalMs?: number;
  /** Terminal width; longer lines are cut so that a rewrite never wraps. */
  columns?: number;
}

/**
 * Draws a run's progress on stderr: on a terminal a status line redrawn every 500 ms (`\r` + erase line), else a
 * plain line every 10 s. Stdout is left alone: it is for the verdict (or `--json`'s one object).
 */
export class ProgressPrinter {
  #timer: NodeJS.Timeout | undefined;
  #last = { at: Date.now(), done: 0 };
  #rate = 0;
  #drawn = false;
  readonly #intervalMs: number;

  constructor(private readonly out: NodeJS.WritableStream, private readonly progress: RunProgress, private readonly opts: ProgressPrinterOptions) {
    this.#intervalMs = opts.intervalMs ?? (opts.tty ? 500 : 10_000);
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  #tick(): void {
    const s = this.progress.snapshot();
    const now = Date.now();
    const done = s.counts.ok + s.counts.fail + s.counts.info;
    const dt = (now - this.#last.at) / 1000;
    if (dt > 0) this.#rate = (done - this.#last.done) / dt;
    this.#last = { at: now, done };
    if (s.phase === 'checking nodes' || s.phase === 'done') return;
    const line = progressLine(s, this.#rate);
    if (this.opts.tty) {
      const cols = Math.max(20, (this.opts.columns ?? 120) - 1);
      this.out.write(`\r\x1b[K${line.length > cols ? line.slice(0, cols) : line}`);
      this.#drawn = true;
    } else {
      this.out.write(`faultline: progress: ${line}\n`);
    }
  }

  /** Stops drawing and clears the status line, so what follows starts on a clean line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.opts.tty && this.#drawn) this.out.write('\r\x1b[K');
    this.#drawn = false;
  }

  /** Prints a line above the status line (terminal) or as is. */
  note(text: string): void {
    if (this.opts.tty && this.#drawn) this.out.write('\r\x1b[K');
    this.out.write(`${text}\n`);
    if (this.opts.tty && this.#drawn) this.#tick();
  }
}
