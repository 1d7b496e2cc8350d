/**
 * P-compositional split of a paired history into independent partitions (Herlihy & Wing: a history
 * is linearizable iff each object's sub-history is). Keys come from `op.key` (our keyed workloads)
 * or, with `independent`, from Jepsen's `[key value]` tuple values.
 */
import { HistoryFormatError } from '../errors';
import type { PairedOp } from '../history/operation';

/** The partition of ops that carry no key. */
export const NO_KEY = '';

/** True when `s` is the JSON text of something other than a string (a number, true, null, a list, a map). */
function looksLikeJson(s: string): boolean {
  try {
    return typeof JSON.parse(s) !== 'string';
  } catch {
    return false;
  }
}

/**
 * The name of a Jepsen tuple key: a string as it is, anything else as JSON. One name per key, never two keys with
 * one name: a string that reads as another value's JSON (the string "1" next to the number 1) or starts with a
 * quote is written as a JSON string, quoted.
 */
export function keyName(k: unknown): string {
  if (typeof k !== 'string') return JSON.stringify(k) ?? String(k);
  return k.startsWith('"') || looksLikeJson(k) ? JSON.stringify(k) : k;
}

function splitTuple(v: unknown, what: string, op: PairedOp): [string, unknown] | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 2) {
    throw new HistoryFormatError(`--independent expects [key value] tuples, but the ${what} of "${op.f}" by process ${op.process} is ${JSON.stringify(v)}`);
  }
  return [keyName(v[0]), v[1]];
}

/**
 * Groups ops by key, preserving history order inside each group. With `independent`, each tuple value
 * is replaced by its inner value (an `info` read may carry a bare key or nil: it is kept with its key
 * when one can be read, which is harmless because unknown reads constrain nothing).
 * @throws HistoryFormatError when `independent` is set and a value is not a tuple.
 */
export function partitionByKey(ops: readonly PairedOp[], independent: boolean): Map<string, PairedOp[]> {
  const out = new Map<string, PairedOp[]>();
  for (const op of ops) {
    let key = op.key ?? NO_KEY;
    let p = op;
    if (independent) {
      const inv = splitTuple(op.invokeValue, 'invocation value', op);
      const res = op.type === 'ok' ? splitTuple(op.value, 'completion value', op) : inv;
      const k = inv?.[0] ?? res?.[0];
      if (k === undefined) throw new HistoryFormatError(`--independent: "${op.f}" by process ${op.process} carries no [key value] tuple`);
      if (res && res[0] !== k) throw new HistoryFormatError(`--independent: "${op.f}" by process ${op.process} completed with key ${res[0]} but was invoked with key ${k}`);
      key = k;
      p = { ...op, key: k, invokeValue: inv ? inv[1] : null, value: res ? res[1] : null };
    }
    let group = out.get(key);
    if (!group) out.set(key, (group = []));
    group.push(p);
  }
  return out;
}
