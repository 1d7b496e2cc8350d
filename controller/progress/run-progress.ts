/**
 * What a running test shows of itself while it runs: the phase, the time into the main phase, operation counts
 * as the history collector receives them, the fault in force and how many agents answer. The run updates it at a
 * few points (`runTest(..., progress)`); the CLI reads `snapshot()` on its own timer and draws it.
 */
import { EventEmitter } from 'node:events';

export type RunPhase = 'checking nodes' | 'setting up' | 'running' | 'healing' | 'recovering' | 'collecting' | 'checking' | 'done';

export interface ProgressCounts {
  invoke: number;
  ok: number;
  fail: number;
  info: number;
}

export interface ProgressSnapshot {
  phase: RunPhase;
  /** ms since the main phase started (0 before it). */
  elapsedMs: number;
  timeLimitMs: number;
  counts: ProgressCounts;
  /** Faults in force, as the nemesis described them. */
  faults: string[];
  nodesReachable: number;
  nodesTotal: number;
  /** Anomalies a checker found so far; undefined while no checker can tell before the end. */
  anomalies?: number;
}

export interface ProgressSources {
  counts?: () => ProgressCounts;
  /** How many agents answered recently, out of how many. */
  nodes?: () => { reachable: number; total: number };
}

/** Emits 'phase' (RunPhase) whenever the phase changes. */
export class RunProgress extends EventEmitter {
  #phase: RunPhase = 'checking nodes';
  #mainStartedAt: number | undefined;
  #mainEndedAt: number | undefined;
  #faults: string[] = [];
  #anomalies: number | undefined;
  #sources: ProgressSources = {};

  constructor(readonly timeLimitMs: number) {
    super();
  }

  get phase(): RunPhase {
    return this.#phase;
  }

  /** `sinceMs`: when the main phase began (Date.now() terms), for a resumed run that began under another controller. */
  setPhase(phase: RunPhase, sinceMs?: number): void {
    if (phase === this.#phase) return;
    if (phase === 'running') this.#mainStartedAt = sinceMs ?? Date.now();
    else if (this.#phase === 'running') this.#mainEndedAt = Date.now();
    this.#phase = phase;
    this.emit('phase', phase);
  }

  attach(sources: ProgressSources): void {
    this.#sources = { ...this.#sources, ...sources };
  }

  setFaults(faults: string[]): void {
    this.#faults = faults;
  }

  setAnomalies(n: number): void {
    this.#anomalies = n;
  }

  snapshot(): ProgressSnapshot {
    const end = this.#mainEndedAt ?? Date.now();
    const nodes = this.#sources.nodes?.() ?? { reachable: 0, total: 0 };
    const snap: ProgressSnapshot = {
      phase: this.#phase,
      elapsedMs: this.#mainStartedAt === undefined ? 0 : end - this.#mainStartedAt,
      timeLimitMs: this.timeLimitMs,
      counts: { ...(this.#sources.counts?.() ?? { invoke: 0, ok: 0, fail: 0, info: 0 }) },
      faults: [...this.#faults],
      nodesReachable: nodes.reachable,
      nodesTotal: nodes.total,
    };
    if (this.#anomalies !== undefined) snap.anomalies = this.#anomalies;
    return snap;
  }
}

/** A short description of a fault the nemesis applied (its start value). */
export function describeFault(kind: string | undefined, value: unknown): string {
  if (kind === undefined) return '';
  const v = (value ?? {}) as Record<string, unknown>;
  const nodes = v['nodes'];
  const names = Array.isArray(nodes) ? nodes.map(String) : nodes && typeof nodes === 'object' ? Object.keys(nodes) : [];
  const what = typeof v['description'] === 'string' ? v['description'] : names.join(',');
  return what ? `${kind} ${what}` : kind;
}
