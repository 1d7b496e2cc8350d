/**
 * Periodic summaries of a running test (a soak tells its user something before the end): every interval, what the
 * history holds so far (operations by outcome, rates over the last interval and over the run, faults, events per
 * node, sequence gaps still open) and the controller's RSS, logged and appended to the run folder's summaries.jsonl.
 */
import { appendFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { HistoryCollector } from '../history-collector';
import type { LagSummary } from '../online/lag-stats';
import type { OnlineCheck } from '../online/online-check';

export interface RunSummary {
  atUnixMs: number;
  elapsedS: number;
  /** Events (invokes and completions) on disk, by type, over the run so far. */
  events: { invoke: number; ok: number; fail: number; info: number };
  /** Completed operations per second, over the last interval and over the run. */
  opsPerS: { interval: number; run: number };
  /** Nemesis events (`f` of the controller's events), counted by name. */
  faults: Record<string, number>;
  /** Events on disk per publisher, and how many of them arrived out of order and still wait for a predecessor. */
  nodes: Record<string, { events: number; contiguous: number }>;
  /**
   * Anomalies online checking found so far, by `checker:anomaly` (null when no checker of the workload runs online;
   * the verdict still comes from the complete history at the end).
   */
  anomalies: Record<string, number> | null;
  /** Online checking's lag so far: ms from an op's completion to its being judged (null without online checking). */
  checkerLagMs: LagSummary | null;
  rssBytes: number;
}

/** Writes a summary every `intervalMs` until stopped; `stop()` writes a last one. */
export class RunSummaries {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #startedAtMs = Date.now();
  #last = { atMs: Date.now(), completed: 0 };
  written = 0;

  constructor(
    private readonly collector: HistoryCollector,
    private readonly path: string,
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly online?: OnlineCheck,
  ) {}

  start(): void {
    this.#startedAtMs = Date.now();
    this.#last = { atMs: this.#startedAtMs, completed: 0 };
    this.#timer = setInterval(() => this.write(), this.intervalMs);
    this.#timer.unref();
  }

  /** The summary as of now (also advances the interval's rate window). */
  summarize(): RunSummary {
    const now = Date.now();
    const c = this.collector.counts;
    const completed = c.ok + c.fail + c.info;
    const intervalS = Math.max((now - this.#last.atMs) / 1000, 1e-3);
    const runS = Math.max((now - this.#startedAtMs) / 1000, 1e-3);
    const nodes: RunSummary['nodes'] = {};
    for (const node of this.collector.tracker.nodes()) {
      nodes[node] = { events: this.collector.counts.byNode[node] ?? 0, contiguous: this.collector.tracker.contiguous(node) };
    }
    const summary: RunSummary = {
      atUnixMs: now,
      elapsedS: Math.round(runS),
      events: { invoke: c.invoke, ok: c.ok, fail: c.fail, info: c.info },
      opsPerS: { interval: round1((completed - this.#last.completed) / intervalS), run: round1(completed / runS) },
      faults: { ...c.nemesis },
      nodes,
      anomalies: this.online?.active ? this.online.anomalyCounts() : null,
      checkerLagMs: this.online?.active ? this.online.summary().lagMs : null,
      rssBytes: process.memoryUsage().rss,
    };
    this.#last = { atMs: now, completed };
    return summary;
  }

  write(): RunSummary {
    const s = this.summarize();
    this.log.info({ summary: s }, 'run summary');
    try {
      appendFileSync(this.path, `${JSON.stringify(s)}\n`);
    } catch (err) {
      this.log.warn({ err, path: this.path }, 'cannot append the run summary');
    }
    this.written++;
    return s;
  }

  /** Stops the timer and writes the run's last summary; once (later calls do nothing). */
  stop(): RunSummary | undefined {
    if (this.#stopped) return undefined;
    this.#stopped = true;
    clearInterval(this.#timer);
    return this.write();
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
