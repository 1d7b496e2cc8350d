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

/** True when `v` is a `[key value]` tuple, false when it is nil. */
function isTuple(v: unknown, what: string, op: PairedOp): v is [unknown, unknown] {
  if (v === null || v === undefined) return false;
  if (!Array.isArray(v) || v.length !== 2) {
    throw new HistoryFormatError(`--independent expects [key value] tuples, but the ${what} of "${op.f}" by process ${op.process} is ${JSON.stringify(v)}`);
  }
  return true;
}

/**
 * Groups ops by key, preserving history order inside each group. With `independent`, each tuple value
 * is replaced by its inner value (an `info` read may carry a bare key or nil: it is kept with its key
 * when one can be read, which is harmless because unknown reads constrain nothing). The ops are updated in
 * place (key and values), so pass ops that belong to the caller (as `pairOps` returns them).
 * @throws HistoryFormatError when `independent` is set and a value is not a tuple.
 */
export function partitionByKey(ops: PairedOp[], independent: boolean): Map<string, PairedOp[]> {
  const out = new Map<string, PairedOp[]>();
  // Tuple keys are mostly numbers or short strings repeated many times: name each once.
  const names = new Map<unknown, string>();
  const nameOf = (k: unknown): string => {
    if (typeof k === 'object' && k !== null) return keyName(k);
    let s = names.get(k);
    if (s === undefined) names.set(k, (s = keyName(k)));
    return s;
  };
  let lastKey: string | undefined;
  let lastGroup: PairedOp[] | undefined;
  for (const op of ops) {
    let key = op.key ?? NO_KEY;
    if (independent) {
      const inv = op.invokeValue;
      const hasInv = isTuple(inv, 'invocation value', op);
      const res = op.type === 'ok' ? op.value : inv;
      const hasRes = op.type === 'ok' ? isTuple(res, 'completion value', op) : hasInv;
      const kInv = hasInv ? nameOf(inv[0]) : undefined;
      const kRes = hasRes ? (res === inv ? kInv : nameOf((res as [unknown, unknown])[0])) : undefined;
      const k = kInv ?? kRes;
      if (k === undefined) throw new HistoryFormatError(`--independent: "${op.f}" by process ${op.process} carries no [key value] tuple`);
      if (kRes !== undefined && kRes !== k) throw new HistoryFormatError(`--independent: "${op.f}" by process ${op.process} completed with key ${kRes} but was invoked with key ${k}`);
      key = k;
      op.key = k;
      op.invokeValue = hasInv ? inv[1] : null;
      op.value = hasRes ? (res as [unknown, unknown])[1] : null;
    }
    let group = key === lastKey ? lastGroup : out.get(key);
    if (!group) out.set(key, (group = []));
    group.push(op);
    lastKey = key;
    lastGroup = group;
  }
  return out;
}
