/**
 * `total-queue` (Jepsen `total-queue`): every acknowledged enqueue is dequeued exactly once, and nothing
 * is dequeued that was never enqueued.
 */
import type { Op } from '../../history/operation';
import { pairedOf, sample, vkey, type InvariantResult } from './result';

export interface TotalQueueResult extends InvariantResult {
  checker: 'total-queue';
  attemptCount: number;
  acknowledgedCount: number;
  dequeuedCount: number;
  /** Acknowledged, never dequeued, although a later dequeue or drain found the queue empty and no dequeue of unknown outcome could have taken it. */
  lostCount: number;
  /** Acknowledged and never dequeued, but not provably lost (no later empty observation, or an unknown dequeue may have taken it). */
  unconfirmedCount: number;
  /** Dequeued more than once. */
  duplicatedCount: number;
  /** Dequeued but never enqueued. */
  unexpectedCount: number;
  /** Enqueue outcome unknown (info) or failed, but dequeued. */
  recoveredCount: number;
  lost: unknown[];
  unconfirmed: unknown[];
  duplicated: unknown[];
  unexpected: unknown[];
  recovered: unknown[];
}

/**
 * Checks `enqueue x`, `dequeue` (ok value: the element, or nil when empty) and `drain` (ok value: the list
 * of remaining elements) ops. Invalid when an element is lost, duplicated or unexpected.
 */
export function checkTotalQueue(history: readonly Op[]): TotalQueueResult {
  const enq = pairedOf(history, 'enqueue');
  const deq = pairedOf(history, 'dequeue', 'drain');
  const counts = new Map<string, { value: unknown; n: number }>();
  const emptyAt: number[] = []; // start times of ok dequeues/drains that left the queue empty
  const unknownDeqStarts: number[] = [];
  let dequeued = 0;
  for (const d of deq) {
    if (d.type === 'info') {
      if (d.f === 'dequeue') unknownDeqStarts.push(d.start);
      continue;
    }
    if (d.type !== 'ok') continue;
    const got = d.f === 'drain' ? (Array.isArray(d.value) ? d.value : []) : d.value === null || d.value === undefined ? [] : [d.value];
    if (got.length === 0 || d.f === 'drain') emptyAt.push(d.start);
    for (const v of got) {
      dequeued++;
      const e = counts.get(vkey(v));
      if (e) e.n++;
      else counts.set(vkey(v), { value: v, n: 1 });
    }
  }
  const enqueued = new Map(enq.map((e) => [vkey(e.invokeValue), e]));
  const lost: unknown[] = [];
  const unconfirmed: unknown[] = [];
  const recovered: unknown[] = [];
  let acknowledged = 0;
  for (const [k, e] of enqueued) {
    const taken = counts.has(k);
    if (e.type === 'ok') acknowledged++;
    if (taken && e.type !== 'ok') recovered.push(e.invokeValue);
    if (taken || e.type !== 'ok') continue;
    // Provably lost: a later observation of an empty queue (or a drain), and no unknown dequeue that may have taken it.
    const emptyAfter = emptyAt.some((t) => t > e.end);
    const maybeTaken = unknownDeqStarts.length > 0; // an unknown dequeue may take effect at any later time
    if (emptyAfter && !maybeTaken) lost.push(e.invokeValue);
    else unconfirmed.push(e.invokeValue);
  }
  const duplicated = [...counts.values()].filter((c) => c.n > 1).map((c) => ({ value: c.value, count: c.n }));
  const unexpected = [...counts.entries()].filter(([k]) => !enqueued.has(k)).map(([, c]) => c.value);
  return {
    valid: lost.length === 0 && duplicated.length === 0 && unexpected.length === 0,
    checker: 'total-queue',
    attemptCount: enqueued.size,
    acknowledgedCount: acknowledged,
    dequeuedCount: dequeued,
    lostCount: lost.length,
    unconfirmedCount: unconfirmed.length,
    duplicatedCount: duplicated.length,
    unexpectedCount: unexpected.length,
    recoveredCount: recovered.length,
    lost: sample(lost),
    unconfirmed: sample(unconfirmed),
    duplicated: sample(duplicated),
    unexpected: sample(unexpected),
    recovered: sample(recovered),
  };
}
