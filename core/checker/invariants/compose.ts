/** Runs several checkers on one history and merges their verdicts (Jepsen `compose`). */
import type { Op } from '../../history/operation';
import { HistoryFormatError } from '../../errors';
import { mergeValidity, type InvariantChecker, type InvariantResult } from './result';

export interface ComposedResult extends InvariantResult {
  checker: 'compose';
  results: Record<string, InvariantResult>;
}

/**
 * A checker that runs each named checker and is valid only if all are: false if any is false, else unknown
 * if any is unknown. A checker that throws counts as `unknown` with its error (Jepsen `check-safe`),
 * except for malformed histories, which are bad input for every checker and propagate.
 */
export function compose(checkers: Record<string, InvariantChecker>): (history: readonly Op[]) => ComposedResult {
  return (history) => {
    const results: Record<string, InvariantResult> = {};
    for (const [name, check] of Object.entries(checkers)) {
      try {
        results[name] = check(history);
      } catch (err) {
        if (err instanceof HistoryFormatError) throw err;
        results[name] = { valid: 'unknown', checker: name, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
      }
    }
    return { valid: mergeValidity(Object.values(results).map((r) => r.valid)), checker: 'compose', results };
  };
}
