/**
 * `total-queue` (Jepsen `total-queue`): every acknowledged enqueue is dequeued exactly once, and nothing is
 * dequeued that was never enqueued. Values are counted as multisets, as Jepsen does: a value enqueued twice
 * may be dequeued twice.
 *
 * Soundness: an element is only called lost when the history proves it. Jepsen assumes a final drain and calls
 * every acknowledged element it did not see lost; here an element missing from every dequeue is lost only if the
 * queue was later seen empty (an `ok` drain, or a dequeue that found nothing) and no dequeue or drain of
 * unknown outcome could have taken it before that. Otherwise it is `unconfirmed`, which is not an anomaly.
 */
import type { Op, PairedOp } from '../../history/operation';
import { formatErrorAt, invariantVerdict, pairedOf, sample, vkey, type InvariantResult } from './result';

export interface TotalQueueResult extends InvariantResult {
  checker: 'total-queue';
  /** Enqueues invoked (any outcome). */
  attemptCount: number;
  acknowledgedCount: number;
  /** Elements returned by ok dequeues and drains. */
  dequeuedCount: number;
  /**
   * How many acknowledged elements are provably lost: missing from every dequeue although the queue was later
   * seen empty, beyond what the dequeues of unknown outcome before that could have taken.
   */
  lostCount: number;
  /** Acknowledged elements missing when the queue was seen empty (`lostCount` of them are provably lost). */
  missingCount: number;
  /** Acknowledged and never dequeued, but not provably lost (never seen empty later, or an unknown dequeue may have taken it). */
  unconfirmedCount: number;
  /** Values dequeued more often than they could have been enqueued (non-failed enqueues). */
  duplicatedCount: number;
  /** Values dequeued that were never enqueued, or whose every enqueue failed. */
  unexpectedCount: number;
  /** Dequeued although their enqueue's outcome was unknown (info): they took effect after all. */
  recoveredCount: number;
  /**
   * The acknowledged elements missing when the queue was seen empty. All of them are lost when no dequeue of
   * unknown outcome came before; otherwise `lostCount` of them are, and which ones cannot be told.
   */
  lost: unknown[];
  unconfirmed: unknown[];
  duplicated: { value: unknown; dequeued: number; enqueued: number }[];
  unexpected: unknown[];
  recovered: unknown[];
}

interface ValueCounts {
  value: unknown;
  /** ok enqueues, and the latest time one of them ended. */
  acked: number;
  lastAckEnd: number;
  /** ok + info (possibly applied) enqueues. */
  possible: number;
  attempted: number;
  dequeued: number;
}

/**
 * The elements an ok dequeue or drain returned ([] for an empty dequeue).
 * @throws HistoryFormatError when a drain returned something other than a list.
 */
function taken(history: readonly Op[], d: PairedOp): unknown[] {
  if (d.f === 'drain') {
    if (!Array.isArray(d.value)) throw formatErrorAt(history, d.completionIndex, `queue drain must return a list of elements, got ${JSON.stringify(d.value)}`);
    return d.value;
  }
  return d.value === null || d.value === undefined ? [] : [d.value];
}

/**
 * Checks `enqueue x`, `dequeue` (ok value: the element, or nil when empty) and `drain` (ok value: the list of
 * remaining elements) ops. Invalid when an element is provably lost, dequeued more often than enqueued, or
 * never enqueued; unknown when no dequeue or drain was acknowledged.
 * @throws HistoryFormatError for an enqueue of nil or a drain that did not return a list.
 */
export function checkTotalQueue(history: readonly Op[]): TotalQueueResult {
  const enq = pairedOf(history, 'enqueue');
  const deq = pairedOf(history, 'dequeue', 'drain');
  const counts = new Map<string, ValueCounts>();
  const countsOf = (v: unknown): ValueCounts => {
    const k = vkey(v);
    let c = counts.get(k);
    if (!c) counts.set(k, (c = { value: v, acked: 0, lastAckEnd: -Infinity, possible: 0, attempted: 0, dequeued: 0 }));
    return c;
  };
  for (const e of enq) {
    // nil is what a dequeue returns from an empty queue: as an element it could never be told apart.
    if (e.invokeValue === null || e.invokeValue === undefined) throw formatErrorAt(history, e.index, 'queue enqueue must carry an element, got nil (a dequeue of nil means the queue was empty)');
    const c = countsOf(e.invokeValue);
    c.attempted++;
    if (e.type !== 'fail') c.possible++;
    if (e.type === 'ok') {
      c.acked++;
      c.lastAckEnd = Math.max(c.lastAckEnd, e.end);
    }
  }
  // The last time the queue was certainly seen empty: the window [start, end] of an ok drain or empty dequeue.
  let lastEmpty: PairedOp | undefined;
  let dequeued = 0;
  for (const d of deq) {
    if (d.type !== 'ok') continue;
    const got = taken(history, d);
    if ((d.f === 'drain' || got.length === 0) && (lastEmpty === undefined || d.start > lastEmpty.start)) lastEmpty = d;
    for (const v of got) {
      countsOf(v).dequeued++;
      dequeued++;
    }
  }
  // Dequeues and drains of unknown outcome that may have taken effect before the queue was seen empty.
  const unknownBefore = lastEmpty === undefined ? [] : deq.filter((d) => d.type === 'info' && d.start <= lastEmpty!.end);
  const unknownDrain = unknownBefore.some((d) => d.f === 'drain');
  const lostCandidates: unknown[] = [];
  const unconfirmed: unknown[] = [];
  const duplicated: TotalQueueResult['duplicated'] = [];
  const unexpected: unknown[] = [];
  const recovered: unknown[] = [];
  let acknowledged = 0;
  for (const c of counts.values()) {
    acknowledged += c.acked;
    if (c.dequeued > 0 && c.possible === 0) unexpected.push(c.value);
    else if (c.dequeued > c.possible) duplicated.push({ value: c.value, dequeued: c.dequeued, enqueued: c.possible });
    for (let i = c.acked; i < Math.min(c.dequeued, c.possible); i++) recovered.push(c.value);
    const missing = c.acked - c.dequeued;
    for (let i = 0; i < missing; i++) {
      // Missing when the queue was seen empty only if every acknowledged copy was in it before that read began.
      if (lastEmpty !== undefined && c.lastAckEnd < lastEmpty.start) lostCandidates.push(c.value);
      else unconfirmed.push(c.value);
    }
  }
  // An unknown drain may have taken them all; each unknown dequeue may have taken one.
  const lostCount = unknownDrain ? 0 : Math.max(0, lostCandidates.length - unknownBefore.length);
  if (lostCount === 0) unconfirmed.push(...lostCandidates);
  // Only an acknowledged dequeue or drain observes the queue: enqueues alone show nothing either way.
  const relevant = deq.some((d) => d.type === 'ok');
  const anomaly = lostCount > 0 || duplicated.length > 0 || unexpected.length > 0;
  return {
    valid: invariantVerdict(anomaly, relevant),
    checker: 'total-queue',
    attemptCount: enq.length,
    acknowledgedCount: acknowledged,
    dequeuedCount: dequeued,
    lostCount,
    missingCount: lostCandidates.length,
    unconfirmedCount: unconfirmed.length,
    duplicatedCount: duplicated.length,
    unexpectedCount: unexpected.length,
    recoveredCount: recovered.length,
    lost: lostCount > 0 ? sample(lostCandidates) : [],
    unconfirmed: sample(unconfirmed),
    duplicated: sample(duplicated),
    unexpected: sample(unexpected),
    recovered: sample(recovered),
  };
}
