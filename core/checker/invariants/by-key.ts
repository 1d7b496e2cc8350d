/**
 * Invariant checkers on keyed histories: a keyed workload (ops with `key`, or Jepsen's `[key value]` tuples with
 * `independent`) runs one counter, set, bank or queue per key, so each checker must see one key's ops at a time
 * (Jepsen `independent/checker`). Reading all keys as one object would sum one key's increments into another
 * key's reads and call a correct history invalid.
 */
import type { Op } from '../../history/operation';
import { NO_KEY, keyName } from '../partition';
import { formatErrorAt } from './result';

/** True when some op carries a key of its own (then the history is checked per key). */
export function hasKeys(history: readonly Op[]): boolean {
  return history.some((op) => op.key !== undefined);
}

const tupleKey = (v: unknown): string => keyName((v as unknown[])[0]);

const isTuple = (v: unknown): v is [unknown, unknown] => Array.isArray(v) && v.length === 2;

/**
 * Splits a history into one sub-history per key, in history order; each event keeps its source line, is
 * re-indexed inside its sub-history, and keeps its time (its position in the whole history when it had none,
 * so real-time order across the split is unchanged). A completion goes with its process's open invocation. With
 * `independent`, tuple values are replaced by their inner value. Nemesis events are left out: no invariant
 * checker reads them.
 * @throws HistoryFormatError naming the line when `independent` is set and a client op carries no tuple, or
 *   completes with another key than it was invoked with.
 */
export function splitByKey(history: readonly Op[], independent: boolean): Map<string, Op[]> {
  const out = new Map<string, Op[]>();
  const openKey = new Map<number, string>();
  history.forEach((op, i) => {
    if (op.process === 'nemesis') return;
    let key: string;
    let value = op.value;
    if (op.type === 'invoke') {
      key = op.key ?? NO_KEY;
      if (independent) {
        if (!isTuple(op.value)) throw formatErrorAt(history, i, `--independent expects [key value] tuples, but "${op.f}" by process ${op.process} was invoked with ${JSON.stringify(op.value)}`);
        key = tupleKey(op.value);
        value = op.value[1];
      }
      openKey.set(op.process, key);
    } else {
      const invoked = openKey.get(op.process);
      // An info with no open invocation is a message, not a client op (pairOps skips it too); an ok or fail
      // without one is malformed, and stays in so that pairing reports its line.
      if (invoked === undefined && op.type === 'info') return;
      openKey.delete(op.process);
      key = invoked ?? op.key ?? (independent && isTuple(op.value) ? tupleKey(op.value) : NO_KEY);
      if (independent && isTuple(op.value)) {
        if (tupleKey(op.value) !== key) throw formatErrorAt(history, i, `--independent: "${op.f}" by process ${op.process} completed with key ${tupleKey(op.value)} but was invoked with key ${key}`);
        value = op.value[1];
      } else if (independent && op.type === 'ok' && op.value !== null && op.value !== undefined) {
        throw formatErrorAt(history, i, `--independent expects [key value] tuples, but "${op.f}" by process ${op.process} completed with ${JSON.stringify(op.value)}`);
      }
    }
    let group = out.get(key);
    if (!group) out.set(key, (group = []));
    group.push({ ...op, index: group.length, value, time: op.time ?? op.index, ...(key !== NO_KEY ? { key } : {}) });
  });
  return out;
}
