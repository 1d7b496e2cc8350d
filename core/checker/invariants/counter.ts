/**
 * `counter` (Jepsen `counter`): every acknowledged read must lie between the sum of increments certainly
 * applied before the read began and the sum of those that may have been applied before it ended.
 */
import type { Op, PairedOp } from '../../history/operation';
import { formatErrorAt, invariantVerdict, pairedOf, sample, type InvariantResult } from './result';

export interface CounterError { index: number; process: number; value: number; lower: number; upper: number }

export interface CounterResult extends InvariantResult {
  checker: 'counter';
  reads: number;
  errors: CounterError[];
  errorCount: number;
  /**
   * How far the last read (the final read, in a run) lies below the increments certainly applied before it began:
   * acknowledged increments the counter lost. 0 when it is within its bounds or above them.
   */
  lostAmount: number;
}

function lastAtMost(sorted: readonly number[], t: number, strict: boolean): number {
  // count of elements < t (strict) or <= t
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (strict ? sorted[mid]! < t : sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Checks `add` (value: a number, possibly negative) and `read` (ok value: the counter) ops, from `init`.
 * An add is certainly applied before a read if it was acknowledged and ended before the read began
 * (times include their uncertainty); it may be applied if it did not fail and began no later than the read ended.
 * A read of nil (an absent key) reads `init`. Unknown when no read was acknowledged.
 * @throws HistoryFormatError when an add's value or a read's result is not a number.
 */
export function checkCounter(history: readonly Op[], init = 0): CounterResult {
  const adds = pairedOf(history, 'add').filter((p) => p.type !== 'fail');
  for (const a of adds) if (typeof a.invokeValue !== 'number') throw formatErrorAt(history, a.index, `counter add must carry a number, got ${JSON.stringify(a.invokeValue)}`);
  const reads = pairedOf(history, 'read').filter((p) => p.type === 'ok');
  // Certain: ok adds by end time; possible: all non-failed adds by start time, split by sign.
  const certain = adds.filter((a) => a.type === 'ok').sort((x, y) => x.end - y.end);
  const certainEnds = certain.map((a) => a.end);
  const prefix = (xs: PairedOp[], pos: boolean): number[] => {
    const out = [0];
    for (const a of xs) {
      const d = a.invokeValue as number;
      out.push(out[out.length - 1]! + ((pos ? d > 0 : d < 0) ? d : 0));
    }
    return out;
  };
  const cPos = prefix(certain, true);
  const cNeg = prefix(certain, false);
  const possible = [...adds].sort((x, y) => x.start - y.start);
  const possibleStarts = possible.map((a) => a.start);
  const pPos = prefix(possible, true);
  const pNeg = prefix(possible, false);
  const errors: CounterError[] = [];
  let last: { start: number; shortfall: number } | undefined;
  for (const r of reads) {
    // nil is what a never-touched key reads (Jepsen's independent counters: [3 nil]): the initial value.
    const value = r.value === null || r.value === undefined ? init : r.value;
    if (typeof value !== 'number') throw formatErrorAt(history, r.completionIndex, `counter read must return a number, got ${JSON.stringify(r.value)}`);
    const c = lastAtMost(certainEnds, r.start, true);
    const p = lastAtMost(possibleStarts, r.end, false); // began at or before the read ended: may be in it
    const lower = init + cPos[c]! + pNeg[p]!;
    const upper = init + cNeg[c]! + pPos[p]!;
    if (value < lower || value > upper) errors.push({ index: r.index, process: r.process, value, lower, upper });
    if (!last || r.start >= last.start) last = { start: r.start, shortfall: Math.max(0, lower - value) };
  }
  return {
    valid: invariantVerdict(errors.length > 0, reads.length > 0),
    checker: 'counter',
    reads: reads.length,
    errors: sample(errors),
    errorCount: errors.length,
    lostAmount: last?.shortfall ?? 0,
  };
}
