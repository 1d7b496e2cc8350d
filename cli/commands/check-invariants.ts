/**
 * `faultline check --checker set-full,counter,bank,total-queue,unique-ids FILE`: Jepsen's invariant checkers
 * over a stored history, composed into one verdict (false if any is false, else unknown if any is unknown).
 * Exit codes as for every check: 0 valid, 1 invalid, 2 unknown, 254 bad input.
 */
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
  type BankResult,
  type ComposedResult,
  type CounterResult,
  type InvariantChecker,
  type InvariantResult,
  type SetFullResult,
  type TotalQueueResult,
  type UniqueIdsResult,
} from '../../core/checker/invariants';
import { UsageError, namingFile } from '../../core/errors';
import type { Op } from '../../core/history/operation';
import { readHistoryFile } from '../../core/history/read-history';
import { exitCodeFor } from '../exit-codes';
import { reportIfIncomplete } from '../incomplete-history';
import { whereInHistory } from '../../core/history/describe-op';

export const INVARIANT_CHECKERS = ['set-full', 'counter', 'bank', 'total-queue', 'unique-ids'] as const;
export type InvariantCheckerName = (typeof INVARIANT_CHECKERS)[number];

export interface InvariantCheckOptions {
  checkers: readonly InvariantCheckerName[];
  json?: boolean;
  /** counter: the value the counter starts from. */
  counterInit?: number;
  /** bank: the total every read must sum to (default: reads must agree with each other). */
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

/** `--json` for a keyed history: per checker a summary, per key the composed result. */
export interface KeyedResult {
  valid: InvariantResult['valid'];
  checker: 'independent';
  keyCount: number;
  results: Record<string, PerKeySummary>;
  keys: Record<string, ComposedResult>;
}

/** Parses `--checker a,b`: known names, no duplicates, at least one. */
export function parseCheckerList(text: string): InvariantCheckerName[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`Cannot check: --checker needs at least one of ${INVARIANT_CHECKERS.join(', ')}`);
  for (const n of names) {
    if (!(INVARIANT_CHECKERS as readonly string[]).includes(n)) {
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

const verdictWord = (v: InvariantResult['valid']): string => (v === true ? 'valid' : v === false ? 'INVALID' : 'unknown');
const some = (xs: readonly unknown[], n = 5): string => xs.slice(0, n).map((x) => JSON.stringify(x)).join(', ') + (xs.length > n ? ', ...' : '');

/** Where event `index` came from: its line in the file when known. */
function where(ops: readonly Op[], index: number): string {
  return whereInHistory(index, ops[index]?.line);
}

/** One line (or a few) per checker, saying what it counted and, when invalid, the first offenders. */
function describe(name: InvariantCheckerName, r: InvariantResult, ops: readonly Op[]): string[] {
  const head = `  ${name}: ${verdictWord(r.valid)}`;
  if (r.error !== undefined) return [`${head}: the checker failed: ${r.error}`];
  switch (name) {
    case 'set-full': {
      const s = r as SetFullResult;
      const out = [`${head}: ${s.attemptCount} elements added (${s.acknowledgedCount} acknowledged): ${s.stableCount} stable, ${s.staleCount} stale, ${s.lostCount} lost, ${s.neverReadCount} never read, ${s.recoveredCount} recovered, ${s.unexpectedCount} unexpected, ${s.duplicatedCount} reads with duplicates`];
      if (s.lostCount > 0) out.push(`    lost: ${some(s.lost)}`);
      if (s.unexpectedCount > 0) out.push(`    unexpected: ${some(s.unexpected)}`);
      if (s.duplicatedCount > 0) out.push(`    duplicated in reads: ${some(s.duplicated, 2)}`);
      if (s.staleCount > 0) out.push(`    stale: ${some(s.stale)}`);
      return out;
    }
    case 'counter': {
      const c = r as CounterResult;
      const out = [`${head}: ${c.reads} reads, ${c.errorCount} outside the possible bounds`];
      for (const e of c.errors.slice(0, 5)) out.push(`    read ${e.value} by process ${e.process} (${where(ops, e.index)}) outside [${e.lower}, ${e.upper}]`);
      return out;
    }
    case 'bank': {
      const b = r as BankResult;
      const out = [`${head}: ${b.reads} reads, totals seen ${JSON.stringify(b.totals)}, ${b.errorCount} errors`];
      for (const e of b.errors.slice(0, 5)) {
        out.push(`    ${e.kind} in the read by process ${e.process} (${where(ops, e.index)}): total ${e.total}${e.expected !== undefined ? `, expected ${e.expected}` : ''}, balances ${JSON.stringify(e.balances)}`);
      }
      return out;
    }
    case 'total-queue': {
      const q = r as TotalQueueResult;
      const out = [`${head}: ${q.attemptCount} enqueued (${q.acknowledgedCount} acknowledged), ${q.dequeuedCount} dequeued: ${q.lostCount} lost, ${q.duplicatedCount} duplicated, ${q.unexpectedCount} unexpected, ${q.recoveredCount} recovered, ${q.unconfirmedCount} not dequeued but not provably lost`];
      if (q.lostCount > 0) out.push(q.lostCount === q.missingCount ? `    lost: ${some(q.lost)}` : `    lost: ${q.lostCount} of these ${q.missingCount} missing elements (dequeues of unknown outcome may have taken the others): ${some(q.lost)}`);
      if (q.duplicatedCount > 0) out.push(`    duplicated: ${some(q.duplicated)}`);
      if (q.unexpectedCount > 0) out.push(`    unexpected: ${some(q.unexpected)}`);
      return out;
    }
    case 'unique-ids': {
      const u = r as UniqueIdsResult;
      const out = [`${head}: ${u.acknowledged} ids acknowledged of ${u.attempted} attempts, ${u.duplicatedCount} duplicated`];
      if (u.duplicatedCount > 0) out.push(`    duplicated: ${u.duplicated.slice(0, 5).map((d) => `${JSON.stringify(d.id)} ×${d.count}`).join(', ')}`);
      return out;
    }
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
      lines.push(`   key ${shownKey(k)}:`, ...describe(n, r.keys[k]!.results[n]!, byKey.get(k)!).map((l) => `  ${l}`));
    }
  }
  return lines;
}

/** Reads FILE, runs the named checkers (per key when the history is keyed), prints the verdict (JSON with `json`) and returns the exit code. */
export function runInvariantCheck(file: string, o: InvariantCheckOptions): number {
  const { format, ops } = readHistoryFile(file);
  const incomplete = reportIfIncomplete(file, ops, o.json);
  if (incomplete !== undefined) return incomplete;
  const check = compose(Object.fromEntries(o.checkers.map((n) => [n, checkerFor(n, o)])));
  if (o.independent || hasKeys(ops)) {
    let byKey: Map<string, Op[]>;
    let keyed: KeyedResult;
    try {
      byKey = splitByKey(ops, o.independent === true);
      keyed = checkPerKey(byKey, check, o.checkers);
    } catch (err) {
      throw namingFile(err, file);
    }
    if (o.json) process.stdout.write(`${JSON.stringify({ ...keyed, format, opCount: ops.length })}\n`);
    else {
      const head = `${file}: ${verdictWord(keyed.valid)} (${o.checkers.join(', ')}; ${ops.length} events, checked per key: ${keyed.keyCount} keys)`;
      process.stdout.write(`${[head, ...describeKeyed(keyed, o.checkers, byKey)].join('\n')}\n`);
    }
    return exitCodeFor(keyed.valid);
  }
  let result: ComposedResult;
  try {
    result = check(ops);
  } catch (err) {
    throw namingFile(err, file);
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ ...result, format, opCount: ops.length })}\n`);
  } else {
    const lines = [`${file}: ${verdictWord(result.valid)} (${o.checkers.join(', ')}; ${ops.length} events)`];
    for (const n of o.checkers) lines.push(...describe(n, result.results[n]!, ops));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return exitCodeFor(result.valid);
}
