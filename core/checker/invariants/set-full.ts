/**
 * `set-full` (Jepsen `set-full`): follows every element added to a grow-only set through the reads that
 * began after it was known to be present, and classifies it as stable, stale, lost, never-read or
 * recovered, with latencies.
 */
import type { Op, PairedOp } from '../../history/operation';
import { formatErrorAt, invariantVerdict, pairedOf, sample, vkey, type InvariantResult } from './result';

export interface SetFullOptions {
  /** Also treat stale elements (missing from a read, seen again later) as errors. */
  linearizable?: boolean;
}

export interface SetFullResult extends InvariantResult {
  checker: 'set-full';
  attemptCount: number;
  acknowledgedCount: number;
  /** Present in every read that began after the element was known to be present. */
  stableCount: number;
  /** Missing from some read that began after it was known present, but seen again later. */
  staleCount: number;
  /** Known present, then missing from the last read that began after that. */
  lostCount: number;
  /** No read began after the element was known present. */
  neverReadCount: number;
  /** Add outcome unknown (info) or failed, yet seen in a read. */
  recoveredCount: number;
  /** Seen in a read but never added, or added only by adds that failed. */
  unexpectedCount: number;
  /** Reads that returned the same element twice. */
  duplicatedCount: number;
  stale: unknown[];
  lost: unknown[];
  neverRead: unknown[];
  recovered: unknown[];
  unexpected: unknown[];
  duplicated: unknown[];
  /** Quantiles (0, 0.5, 0.95, 0.99, 1) in the history's time unit: from the add's invocation to the start of the first read from which on every read saw it. */
  stableLatencies: Record<string, number> | null;
  /** Same, to the start of the last read that missed it (a lower bound on how long it was gone). */
  lostLatencies: Record<string, number> | null;
}

function quantiles(xs: number[]): Record<string, number> | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { '0': s[0]!, '0.5': q(0.5), '0.95': q(0.95), '0.99': q(0.99), '1': s[s.length - 1]! };
}

/**
 * Checks `add x` and `read` (ok value: list or set of elements) ops. Time order respects each event's
 * uncertainty: a read counts as "after" an element became known only if it certainly began later.
 * Invalid when an element is lost, unexpected or read twice (and, with `linearizable`, stale); unknown when no
 * element was seen stable (no read after any add was known).
 * @throws HistoryFormatError when a read does not return a list.
 */
export function checkSetFull(history: readonly Op[], opts: SetFullOptions = {}): SetFullResult {
  const adds = pairedOf(history, 'add');
  // A read of nil (an absent key: Jepsen's independent sets, [3 nil]) is the initial, empty set.
  const reads = pairedOf(history, 'read')
    .filter((p) => p.type === 'ok')
    .map((p) => (p.value === null || p.value === undefined ? { ...p, value: [] } : p))
    .sort((a, b) => a.start - b.start);
  const readSets = reads.map((r) => {
    if (!Array.isArray(r.value)) throw formatErrorAt(history, r.completionIndex, `set read must return a list of elements, got ${JSON.stringify(r.value)}`);
    return new Set(r.value.map(vkey));
  });
  const duplicated: unknown[] = [];
  reads.forEach((r, i) => {
    if (readSets[i]!.size !== (r.value as unknown[]).length) duplicated.push({ read: r.index, value: r.value });
  });
  // Per element: its first invocation, and the earliest acknowledgement among its adds (an element may be added
  // more than once; one ok add is enough to know it present). Elements whose every add failed never entered.
  const byElement = new Map<string, { value: unknown; start: number; okEnd: number }>();
  for (const a of adds) {
    if (a.type === 'fail') continue;
    const k = vkey(a.invokeValue);
    const e = byElement.get(k) ?? { value: a.invokeValue, start: a.start, okEnd: Infinity };
    e.start = Math.min(e.start, a.start);
    if (a.type === 'ok') e.okEnd = Math.min(e.okEnd, a.end);
    byElement.set(k, e);
  }
  const unexpected = new Map<string, unknown>();
  reads.forEach((r) => {
    for (const v of r.value as unknown[]) if (!byElement.has(vkey(v))) unexpected.set(vkey(v), v);
  });
  const stale: unknown[] = [];
  const lost: unknown[] = [];
  const neverRead: unknown[] = [];
  const recovered: unknown[] = [];
  const stableLat: number[] = [];
  const lostLat: number[] = [];
  let stableCount = 0;
  let acknowledged = 0;
  for (const [k, { value, start, okEnd }] of byElement) {
    const acked = Number.isFinite(okEnd);
    if (acked) acknowledged++;
    const seenIn = reads.filter((_, i) => readSets[i]!.has(k));
    if (!acked && seenIn.length > 0) recovered.push(value);
    // Known present from: an add's acknowledgement, or the end of the first read that saw it.
    const known = Math.min(okEnd, ...seenIn.map((r) => r.end));
    if (!Number.isFinite(known)) continue; // never known present: nothing can be lost
    const after = reads.map((r, i) => ({ r, has: readSets[i]!.has(k) })).filter((x) => x.r.start > known);
    if (after.length === 0) {
      neverRead.push(value);
      continue;
    }
    const misses = after.filter((x) => !x.has);
    if (misses.length === 0) {
      stableCount++;
      stableLat.push(Math.max(0, after[0]!.r.start - start));
      continue;
    }
    const lastMiss = misses[misses.length - 1]!.r;
    if (after.some((x) => x.has && x.r.start > lastMiss.start)) {
      stale.push(value);
      const firstOfStableRun = after.find((x) => x.has && x.r.start > lastMiss.start)!.r;
      stableLat.push(Math.max(0, firstOfStableRun.start - start));
    } else {
      lost.push(value);
      lostLat.push(Math.max(0, lastMiss.start - start));
    }
  }
  const anomaly = lost.length > 0 || unexpected.size > 0 || duplicated.length > 0 || (opts.linearizable === true && stale.length > 0);
  // As Jepsen: without a single element that reads showed stable, the history showed nothing either way.
  const valid = invariantVerdict(anomaly, stableCount > 0);
  return {
    valid,
    checker: 'set-full',
    attemptCount: new Set(adds.map((a) => vkey(a.invokeValue))).size,
    acknowledgedCount: acknowledged,
    stableCount,
    staleCount: stale.length,
    lostCount: lost.length,
    neverReadCount: neverRead.length,
    recoveredCount: recovered.length,
    unexpectedCount: unexpected.size,
    duplicatedCount: duplicated.length,
    stale: sample(stale),
    lost: sample(lost),
    neverRead: sample(neverRead),
    recovered: sample(recovered),
    unexpected: sample([...unexpected.values()]),
    duplicated: sample(duplicated),
    stableLatencies: quantiles(stableLat),
    lostLatencies: quantiles(lostLat),
  };
}
