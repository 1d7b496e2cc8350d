/** Shared vocabulary of the invariant checkers (Jepsen's checker results). */
import type { Validity } from '../linearizable';
import type { Op, PairedOp } from '../../history/operation';
import { pairOps } from '../../history/pair';
import { HistoryFormatError } from '../../errors';

export type { Validity };

/** Every invariant checker returns at least this; the rest of the fields are checker-specific and JSON-serialisable. */
export interface InvariantResult {
  valid: Validity;
  checker: string;
  /** Set when the checker itself failed (then `valid` is 'unknown'). */
  error?: string;
}

/** A checker over a whole history. */
export type InvariantChecker = (history: readonly Op[]) => InvariantResult;

/**
 * An invariant checker's verdict: false when it found an anomaly, else true only if it had something to check
 * (an acknowledged read, ...); a history that showed nothing either way is unknown, never valid.
 */
export function invariantVerdict(anomaly: boolean, checkedSomething: boolean): Validity {
  return anomaly ? false : checkedSomething ? true : 'unknown';
}

/** Jepsen's merge-valid: false dominates, then unknown, then true. */
export function mergeValidity(vs: readonly Validity[]): Validity {
  if (vs.includes(false)) return false;
  if (vs.includes('unknown')) return 'unknown';
  return true;
}

/** Client ops of the given functions, paired (invocation joined to completion). */
export function pairedOf(history: readonly Op[], ...fs: string[]): PairedOp[] {
  return pairOps(history).filter((p) => fs.includes(p.f));
}

/** At most `n` items, for readable JSON. */
export function sample<T>(xs: readonly T[], n = 32): T[] {
  return xs.slice(0, n);
}

/** JSON with object keys sorted, so that maps equal as values give equal text whatever their key order. */
function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

/** Canonical key of a value so that equal values match (strings and other values never collide). */
export function vkey(v: unknown): string {
  return typeof v === 'string' ? `s${v}` : canonicalJson(v);
}

/**
 * A malformed value found at event `eventIndex` of `history`: the error names the source line when the
 * history was read from a file, else the event's position.
 */
export function formatErrorAt(history: readonly Op[], eventIndex: number, detail: string): HistoryFormatError {
  const line = history[eventIndex]?.line;
  return line !== undefined ? new HistoryFormatError(detail, line) : new HistoryFormatError(`${detail} (event ${eventIndex})`);
}
