/**
 * `bank` (Jepsen `bank`): transfers between accounts conserve the total, so every acknowledged read of all
 * balances must sum to the same total, and (unless allowed) no balance is negative.
 */
import type { Op } from '../../history/operation';
import { formatErrorAt, invariantVerdict, pairedOf, sample, type InvariantResult } from './result';

export interface BankOptions {
  /** Expected total. Without it, reads are only required to agree with each other. */
  total?: number;
  negativeBalancesAllowed?: boolean;
  /** Expected account names; reads with other or missing accounts are errors. */
  accounts?: string[];
}

export interface BankError {
  /** `nil-balance`: an account read as nil (null), which a bank whose accounts all exist never returns. */
  kind: 'wrong-total' | 'negative-balance' | 'nil-balance' | 'unexpected-account' | 'missing-account';
  index: number;
  process: number;
  balances: Record<string, number | null>;
  total: number;
  expected?: number;
}

export interface BankResult extends InvariantResult {
  checker: 'bank';
  reads: number;
  /** Distinct totals seen in reads, with how often. */
  totals: Record<string, number>;
  errors: BankError[];
  errorCount: number;
}

/**
 * Checks ok `read` ops whose value is a map account -> balance (transfers are not needed: conservation
 * must hold whatever they did). Without `total`, two reads with different totals prove a violation, and
 * every read off the most common total is reported. A nil balance is a `nil-balance` error. Unknown when no read
 * was acknowledged.
 * @throws HistoryFormatError when a read is not a map of numbers (or nil).
 */
export function checkBank(history: readonly Op[], opts: BankOptions = {}): BankResult {
  const reads = pairedOf(history, 'read').filter((p) => p.type === 'ok');
  const parsed = reads.map((r) => {
    const v = r.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((b) => typeof b !== 'number' && b !== null)) {
      throw formatErrorAt(history, r.completionIndex, `bank read must return a map of account to balance (a number, or nil), got ${JSON.stringify(v)}`);
    }
    const raw = v as Record<string, number | null>;
    const nil = Object.values(raw).some((b) => b === null);
    const balances = Object.fromEntries(Object.entries(raw).filter(([, b]) => b !== null)) as Record<string, number>;
    // 12 significant digits, so that float balances summed in another order (0.1 + 0.2 + 0.3) give the same total.
    const total = Number(Object.values(balances).reduce((s, b) => s + b, 0).toPrecision(12));
    return { r, raw, nil, balances, total };
  });
  const totals: Record<string, number> = {};
  // A read with a nil balance has no meaningful total: it is an error of its own and stays out of the totals.
  for (const p of parsed) if (!p.nil) totals[p.total] = (totals[p.total] ?? 0) + 1;
  let expected = opts.total;
  if (expected === undefined && Object.keys(totals).length > 0) {
    expected = Number(Object.entries(totals).sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))[0]![0]);
  }
  const errors: BankError[] = [];
  const accounts = opts.accounts ? new Set(opts.accounts) : undefined;
  for (const { r, raw, nil, balances, total } of parsed) {
    const base = { index: r.index, process: r.process, balances: raw, total };
    if (nil) errors.push({ kind: 'nil-balance', ...base });
    else if (expected !== undefined && total !== expected) errors.push({ kind: 'wrong-total', ...base, expected });
    if (!opts.negativeBalancesAllowed && Object.values(balances).some((b) => b < 0)) errors.push({ kind: 'negative-balance', ...base });
    if (accounts) {
      if (Object.keys(raw).some((a) => !accounts.has(a))) errors.push({ kind: 'unexpected-account', ...base });
      if ([...accounts].some((a) => !(a in raw))) errors.push({ kind: 'missing-account', ...base });
    }
  }
  return { valid: invariantVerdict(errors.length > 0, reads.length > 0), checker: 'bank', reads: reads.length, totals, errors: sample(errors), errorCount: errors.length };
}
