/** `unique-ids` (Jepsen `unique-ids`): every acknowledged `generate` must return a distinct id. */
import type { Op } from '../../history/operation';
import { invariantVerdict, pairedOf, sample, vkey, type InvariantResult } from './result';

export interface UniqueIdsResult extends InvariantResult {
  checker: 'unique-ids';
  attempted: number;
  acknowledged: number;
  /** Ids returned more than once, with how many times. */
  duplicated: { id: unknown; count: number }[];
  duplicatedCount: number;
  range: [unknown, unknown] | null;
}

/** Checks `generate` ops (any other f is ignored). Only ok completions carry ids; info/fail ones prove nothing. Unknown without any. */
export function checkUniqueIds(history: readonly Op[]): UniqueIdsResult {
  const ops = pairedOf(history, 'generate');
  const seen = new Map<string, { id: unknown; count: number }>();
  let acknowledged = 0;
  let lo: unknown = null;
  let hi: unknown = null;
  for (const p of ops) {
    if (p.type !== 'ok') continue;
    acknowledged++;
    const k = vkey(p.value);
    const e = seen.get(k);
    if (e) e.count++;
    else seen.set(k, { id: p.value, count: 1 });
    if (typeof p.value === 'number') {
      if (lo === null || p.value < (lo as number)) lo = p.value;
      if (hi === null || p.value > (hi as number)) hi = p.value;
    }
  }
  const dups = [...seen.values()].filter((e) => e.count > 1);
  return { valid: invariantVerdict(dups.length > 0, acknowledged > 0), checker: 'unique-ids', attempted: ops.length, acknowledged, duplicated: sample(dups), duplicatedCount: dups.length, range: lo === null ? null : [lo, hi] };
}
