/**
 * Online checkers: the incremental forms of the invariant checkers, fed a run's operations as they arrive, that
 * report an anomaly as soon as the history seen so far proves it, and only then. Pure: the controller feeds them
 * paired operations and a watermark, and publishes what they return.
 *
 * Soundness rests on the watermark: the controller promises that every event timed before it (on the run's
 * timeline) has arrived. A checker judges an operation only once that makes its judgement final: nothing that
 * arrives later can change what the final check, over the complete history, says about it.
 */
import type { PairedOp } from '../../history/operation';

/** An operation as shown in an alert: enough for a person to find it in history.jsonl. */
export interface AlertOp {
  process: number;
  f: string;
  key?: string;
  type: 'ok' | 'fail' | 'info';
  invokeValue: unknown;
  value: unknown;
  node?: string;
  /** Earliest and latest time it may have taken effect, in ns on the run's timeline (end null: unbounded). */
  start: number;
  end: number | null;
  /** Set when `value` (a read of a large set) was cut to its first ALERT_VALUE_ELEMENTS elements: the full length. */
  valueLength?: number;
}

/** A read's elements shown in an alert, at most (history.jsonl has them all). */
export const ALERT_VALUE_ELEMENTS = 64;

/** One anomaly an online checker proved: the checker, the anomaly's name (as the final check names it), the ops that show it. */
export interface OnlineFinding {
  checker: string;
  anomaly: string;
  /** The ops that show it; the last one is the op whose arrival revealed it. */
  operations: AlertOp[];
  key?: string;
  /** What a person reads: the element lost, the read's bounds, ... */
  detail?: unknown;
  /** The op that revealed it (also the last of `operations`). */
  revealedBy: AlertOp;
}

/** What one step of an online checker gives back: anomalies found, and how many ops it judged, with their lag. */
export interface OnlineStep {
  findings: OnlineFinding[];
  /** The ops judged in this step (the controller measures each one's lag from its completion). */
  judged: PairedOp[];
}

export interface OnlineChecker {
  readonly name: string;
  /** An invocation arrived (its PairedOp is completed in place when the completion arrives). */
  invoked(op: PairedOp): void;
  /** The completion of `op` arrived. */
  completed(op: PairedOp): void;
  /** Every event timed before `watermarkNanos` has arrived: judge what that makes final. */
  advance(watermarkNanos: number): OnlineStep;
  /**
   * The history is complete (every event arrived; open invocations stay `info`): judge everything left, including
   * what only the end proves (an element lost from the final reads, an element never added).
   */
  finish(): OnlineStep;
}

export const EMPTY_STEP: OnlineStep = { findings: [], judged: [] };

/** An op as an alert shows it. */
export function alertOp(p: PairedOp): AlertOp {
  const a: AlertOp = {
    process: p.process,
    f: p.f,
    type: p.type,
    invokeValue: p.invokeValue,
    value: Array.isArray(p.value) && p.value.length > ALERT_VALUE_ELEMENTS ? p.value.slice(0, ALERT_VALUE_ELEMENTS) : p.value,
    start: p.start,
    end: Number.isFinite(p.end) ? p.end : null,
  };
  if (Array.isArray(p.value) && p.value.length > ALERT_VALUE_ELEMENTS) a.valueLength = p.value.length;
  if (p.key !== undefined) a.key = p.key;
  if (p.node !== undefined) a.node = p.node;
  return a;
}
