/** The `set` model: `add x` inserts, `read` returns the whole set. */
import { HistoryFormatError } from '../errors';
import type { PairedOp } from '../history/operation';
import { describeKey, valueKey, type Model, type SearchOp, type StateKey } from './model';

/** Canonical encoding of a collection of values as a sorted JSON list of value keys. */
export function encodeBag(items: readonly StateKey[], unique: boolean): string {
  const sorted = [...items].sort((a, b) => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const out = unique ? sorted.filter((v, i) => i === 0 || v !== sorted[i - 1]) : sorted;
  return JSON.stringify(out);
}

/** Human-readable form of an encoded bag or list. */
export function describeList(s: string): string {
  return `[${(JSON.parse(s) as StateKey[]).map(describeKey).join(', ')}]`;
}

/**
 * A grow-only set, initially empty. `read` (ok value: a list or set of elements) is legal only if it
 * returns exactly the current elements. Failed adds did not happen; unknown reads are dropped.
 */
export function setModel(): Model<string> {
  return {
    name: 'set',
    init: () => '[]',
    key: (s) => s,
    describe: describeList,
    isReadOnly: (op) => op.f === 'read',
    prepare(op: PairedOp): SearchOp | null {
      if (op.f === 'add') {
        if (op.type === 'fail') return null;
        return { f: 'add', arg: valueKey(op.invokeValue), out: null, known: op.type === 'ok', failed: false };
      }
      if (op.f === 'read') {
        if (op.type !== 'ok') return null;
        if (!Array.isArray(op.value)) throw new HistoryFormatError(`set read must return a list of elements, got ${JSON.stringify(op.value)}`);
        return { f: 'read', arg: null, out: encodeBag(op.value.map(valueKey), true), known: true, failed: false };
      }
      throw new HistoryFormatError(`the set model has no operation "${op.f}" (expected add, read)`);
    },
    step(state: string, op: SearchOp): string | undefined {
      if (op.f === 'read') return op.out === state ? state : undefined;
      const items = JSON.parse(state) as StateKey[];
      if (items.includes(op.arg as StateKey)) return state;
      return encodeBag([...items, op.arg as StateKey], true);
    },
  };
}
