/** Lines a person reads about an invariant checker's result: what it counted and, when invalid, the first offenders. */
import type { Op } from '../history/operation';
import type { BankResult, CounterResult, InvariantResult, SetFullResult, TotalQueueResult, UniqueIdsResult } from './invariants';

export const verdictWord = (v: InvariantResult['valid']): string => (v === true ? 'valid' : v === false ? 'INVALID' : 'unknown');
const some = (xs: readonly unknown[], n = 5): string => xs.slice(0, n).map((x) => JSON.stringify(x)).join(', ') + (xs.length > n ? ', ...' : '');

/** Where event `index` came from: its line in the file when known. */
function where(ops: readonly Op[], index: number): string {
  const line = ops[index]?.line;
  return line !== undefined ? `line ${line}` : `event ${index}`;
}

/** One line (or a few) per checker, indented by two spaces. */
export function describeInvariant(name: string, r: InvariantResult, ops: readonly Op[]): string[] {
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
      if (c.lostAmount > 0) out.push(`    lost increments: the last read is ${c.lostAmount} below the increments acknowledged before it began`);
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
    default:
      return [head];
  }
}

/** Anomaly names with counts, for the one result shape of the registry. */
export function invariantAnomalies(name: string, r: InvariantResult): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (k: string, n: number): void => {
    if (n > 0) out[k] = (out[k] ?? 0) + n;
  };
  switch (name) {
    case 'set-full': {
      const s = r as SetFullResult;
      add('lost', s.lostCount);
      add('unexpected', s.unexpectedCount);
      add('duplicated', s.duplicatedCount);
      if (s.valid === false) add('stale', s.staleCount);
      break;
    }
    case 'counter':
      add('out-of-bounds-read', (r as CounterResult).errorCount);
      add('lost-increments', (r as CounterResult).lostAmount);
      break;
    case 'bank':
      for (const e of (r as BankResult).errors) add(e.kind, 1);
      if ((r as BankResult).errors.length < (r as BankResult).errorCount) add('bank-error', (r as BankResult).errorCount - (r as BankResult).errors.length);
      break;
    case 'total-queue': {
      const q = r as TotalQueueResult;
      add('lost', q.lostCount);
      add('duplicated', q.duplicatedCount);
      add('unexpected', q.unexpectedCount);
      break;
    }
    case 'unique-ids':
      add('duplicated', (r as UniqueIdsResult).duplicatedCount);
      break;
  }
  return out;
}
