/**
 * The checker API the rest of faultline calls: `checkHistory` (linearizability against a model, key by
 * key) and `renderEvidenceHtml`. Invariant checkers (set-full, counter, bank, ...) live in ./invariants.
 */
import { HistoryFormatError, UsageError } from '../errors';
import type { HistoryColumns } from '../history/columns';
import type { Op } from '../history/operation';
import type { ModelName } from '../models';
import { renderEvidenceHtml as renderHtml } from './evidence-html';
import { checkLinearizable, type LinearizabilityResult, type Validity } from './linearizable';

export type { Validity, LinearizabilityEvidence, KeySummary, OpSummary } from './linearizable';
export type { ModelName } from '../models';
export { MODEL_NAMES } from '../models';

export interface CheckOptions {
  model: ModelName;
  /** Values are Jepsen `[key value]` tuples: check each key separately. Ops with `op.key` are always split. */
  independent?: boolean;
  /** Give up with `unknown` after this many milliseconds. */
  timeLimitMs?: number;
  /** Give up with `unknown` when one key's memo table would exceed this many bytes (estimated). */
  maxMemoryBytes?: number;
  /** Initial model state (plain JSON). Defaults: registers nil (absent), kv "", multi-register unknown, mutex free. */
  init?: unknown;
  /** register, cas-register: an `ok` read of nil constrains nothing, as in Knossos (default: it observes nil). */
  knossosNil?: boolean;
}

/** JSON-serialisable verdict with per-key summary, evidence and stats; `error` when the checker itself failed. */
export type CheckResult = LinearizabilityResult;

/**
 * Checks a history for linearizability. A checker crash yields `{ valid: 'unknown', error }`.
 * @throws HistoryFormatError for malformed histories and ops that do not fit the model (bad input, exit 254).
 * @throws UsageError for invalid options.
 */
export async function checkHistory(history: readonly Op[] | HistoryColumns, opts: CheckOptions): Promise<CheckResult> {
  await Promise.resolve();
  try {
    return checkLinearizable(history, opts);
  } catch (err) {
    if (err instanceof HistoryFormatError || err instanceof UsageError) throw err;
    return {
      valid: 'unknown',
      model: opts.model,
      opCount: 0,
      keyCount: 0,
      invalidKeys: [],
      unknownKeys: [],
      perKey: [],
      stats: { elapsedMs: 0, configurations: 0, backtracks: 0 },
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
}

/** A self-contained HTML page showing the failing window; undefined when the result has no evidence. */
export function renderEvidenceHtml(result: CheckResult): string | undefined {
  return renderHtml(result);
}
