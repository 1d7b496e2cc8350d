/**
 * Jepsen's invariant checkers (set-full, counter, bank, total-queue, unique-ids) over a whole history, composed
 * into one verdict (false if any is false, else unknown if any is unknown), per key when the history is keyed.
 * Pure: returns the result and the lines a person reads; the CLI and the run print or store them.
 */
import { UsageError } from '../errors';
import type { Op } from '../history/operation';
import { describeInvariant, verdictWord } from './invariant-summary';
import {
  checkBank,
  checkCounter,
  checkSetFull,
  checkTotalQueue,
  checkUniqueIds,
  compose,
  hasKeys,
  mergeValidity,
  splitByKey,
  type BankOptions,
  type ComposedResult,
  type InvariantChecker,
  type InvariantResult,
} from './invariants';

export const INVARIANT_CHECKERS = ['set-full', 'counter', 'bank', 'total-queue', 'unique-ids'] as const;
export type InvariantCheckerName = (typeof INVARIANT_CHECKERS)[number];

export function isInvariantChecker(name: string): name is InvariantCheckerName {
  return (INVARIANT_CHECKERS as readonly string[]).includes(name);
}

export interface InvariantCheckOptions {
  checkers: readonly InvariantCheckerName[];
  /** counter: the value the counter starts from. */
  counterInit?: number;
  /** bank: the total every read must sum to (default: reads must agree with each other), and the accounts. */
  bank?: BankOptions;
  /** set-full: stale reads (an element missing, then seen again) are errors too. */
  linearizableSet?: boolean;
  /** Values are Jepsen's [key value] tuples: check each key on its own (ops with `key` always are). */
  independent?: boolean;
}

/** One checker's verdict over all keys of a keyed history. */
export interface PerKeySummary {
  valid: InvariantResult['valid'];
  checker: string;
  keyCount: number;
  invalidKeys: string[];
  unknownKeys: string[];
}

/** The result for a keyed history: per checker a summary, per key the composed result. */
export interface KeyedResult {
  valid: InvariantResult['valid'];
  checker: 'independent';
  keyCount: number;
  results: Record<string, PerKeySummary>;
  keys: Record<string, ComposedResult>;
}

/** Parses `--checker a,b`: known names, no duplicates, at least one. @throws UsageError */
export function parseCheckerList(text: string): InvariantCheckerName[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`Cannot check: --checker needs at least one of ${INVARIANT_CHECKERS.join(', ')}`);
  for (const n of names) {
    if (!isInvariantChecker(n)) {
      throw new UsageError(`Cannot check: unknown checker "${n}" (expected a comma-separated list of ${INVARIANT_CHECKERS.join(', ')})`);
    }
  }
  return [...new Set(names)] as InvariantCheckerName[];
}

function checkerFor(name: InvariantCheckerName, o: InvariantCheckOptions): InvariantChecker {
  switch (name) {
    case 'set-full':
      return (h) => checkSetFull(h, o.linearizableSet ? { linearizable: true } : {});
    case 'counter':
      return (h) => checkCounter(h, o.counterInit ?? 0);
    case 'bank':
      return (h) => checkBank(h, o.bank ?? {});
    case 'total-queue':
      return checkTotalQueue;
    case 'unique-ids':
      return checkUniqueIds;
  }
}

/** Runs the composed checkers on each key's sub-history and summarises per checker. */
export function checkPerKey(byKey: Map<string, Op[]>, check: (h: readonly Op[]) => ComposedResult, names: readonly InvariantCheckerName[]): KeyedResult {
  // Built with fromEntries (own properties): a key may be named anything, "__proto__" included.
  const keys: Record<string, ComposedResult> = Object.fromEntries([...byKey].map(([k, sub]) => [k, check(sub)]));
  const results: Record<string, PerKeySummary> = {};
  for (const n of names) {
    const per = Object.entries(keys).map(([k, r]) => [k, r.results[n]!.valid] as const);
    results[n] = {
      checker: n,
      keyCount: per.length,
      valid: per.length === 0 ? 'unknown' : mergeValidity(per.map(([, v]) => v)),
      invalidKeys: per.filter(([, v]) => v === false).map(([k]) => k),
      unknownKeys: per.filter(([, v]) => v === 'unknown').map(([k]) => k),
    };
  }
  // No key at all: nothing was checked.
  const valid = byKey.size === 0 ? 'unknown' : mergeValidity(Object.values(keys).map((r) => r.valid));
  return { valid, checker: 'independent', keyCount: byKey.size, results, keys };
}

/** How a key is shown to people: ops without a key form the key "" in a keyed history. */
const shownKey = (k: string): string => (k === '' ? '(no key)' : k);

/** Human lines for a keyed history: per checker how many keys failed, then the first failing keys in detail. */
function describeKeyed(r: KeyedResult, names: readonly InvariantCheckerName[], byKey: Map<string, Op[]>): string[] {
  const lines: string[] = [];
  for (const n of names) {
    const s = r.results[n]!;
    const bad = s.invalidKeys.length > 0 ? s.invalidKeys : s.unknownKeys;
    const about = s.invalidKeys.length > 0 ? `INVALID in ${s.invalidKeys.length} of ${s.keyCount} keys` : s.unknownKeys.length > 0 ? `unknown in ${s.unknownKeys.length} of ${s.keyCount} keys` : `valid in all ${s.keyCount} keys`;
    lines.push(`  ${n}: ${about}${bad.length > 0 ? ` (${bad.slice(0, 10).map(shownKey).join(', ')}${bad.length > 10 ? ', ...' : ''})` : ''}`);
    for (const k of bad.slice(0, 3)) {
      lines.push(`   key ${shownKey(k)}:`, ...describeInvariant(n, r.keys[k]!.results[n]!, byKey.get(k)!).map((l) => `  ${l}`));
    }
  }
  return lines;
}

export interface InvariantCheckReport {
  result: ComposedResult | KeyedResult;
  /** The verdict line's tail ("(set-full; 40 events)") and the lines under it. */
  head: string;
  lines: string[];
}

/**
 * Runs the named checkers (per key when the history is keyed) and describes the outcome.
 * @throws HistoryFormatError for malformed values (naming the line).
 */
export function runInvariants(ops: readonly Op[], o: InvariantCheckOptions): InvariantCheckReport {
  const check = compose(Object.fromEntries(o.checkers.map((n) => [n, checkerFor(n, o)])));
  if (o.independent || hasKeys(ops)) {
    const byKey = splitByKey(ops, o.independent === true);
    const keyed = checkPerKey(byKey, check, o.checkers);
    return {
      result: keyed,
      head: `${verdictWord(keyed.valid)} (${o.checkers.join(', ')}; ${ops.length} events, checked per key: ${keyed.keyCount} keys)`,
      lines: describeKeyed(keyed, o.checkers, byKey),
    };
  }
  const result = check(ops);
  const lines: string[] = [];
  for (const n of o.checkers) lines.push(...describeInvariant(n, result.results[n]!, ops));
  return { result, head: `${verdictWord(result.valid)} (${o.checkers.join(', ')}; ${ops.length} events)`, lines };
}
