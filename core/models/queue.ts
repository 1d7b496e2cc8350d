/**
 * Queue models: `fifo-queue` (dequeue returns the oldest element) and `unordered-queue` (dequeue
 * returns any element: a multiset). `enqueue x`; `dequeue` completes with the element, or nil when
 * the queue was empty.
 */
import { HistoryFormatError } from '../errors';
import type { PairedOp } from '../history/operation';
import { valueKey, type Model, type SearchOp, type StateKey } from './model';
import { describeList, encodeBag } from './set';

/**
 * A queue, initially empty. Failed ops did not happen. A dequeue with unknown outcome may have removed
 * the head (FIFO) or any one element (unordered), or never happened.
 */
export function queueModel(kind: 'fifo-queue' | 'unordered-queue'): Model<string> {
  const fifo = kind === 'fifo-queue';
  const encode = (items: StateKey[]): string => (fifo ? JSON.stringify(items) : encodeBag(items, false));
  return {
    name: kind,
    init: () => '[]',
    key: (s) => s,
    describe: describeList,
    isReadOnly: (op) => op.f === 'dequeue' && op.known && op.out === null,
    prepare(op: PairedOp): SearchOp | null {
      if (op.f === 'enqueue') {
        if (op.type === 'fail') return null;
        return { f: 'enqueue', arg: valueKey(op.invokeValue), out: null, known: op.type === 'ok', failed: false };
      }
      if (op.f === 'dequeue') {
        if (op.type === 'fail') return null;
        return { f: 'dequeue', arg: null, out: op.type === 'ok' ? valueKey(op.value) : null, known: op.type === 'ok', failed: false };
      }
      throw new HistoryFormatError(`the ${kind} model has no operation "${op.f}" (expected enqueue, dequeue)`);
    },
    step(state: string, op: SearchOp): string | undefined {
      const items = JSON.parse(state) as StateKey[];
      if (op.f === 'enqueue') return encode([...items, op.arg as StateKey]);
      if (!op.known) return items.length === 0 ? state : encode(items.slice(1)); // fifo; unordered uses branches
      if (op.out === null) return items.length === 0 ? state : undefined;
      const i = fifo ? (items[0] === op.out ? 0 : -1) : items.indexOf(op.out as StateKey);
      if (i < 0) return undefined;
      items.splice(i, 1);
      return encode(items);
    },
    ...(fifo
      ? {}
      : {
          branches(state: string, op: SearchOp): string[] {
            const items = JSON.parse(state) as StateKey[];
            if (op.f !== 'dequeue' || op.known || items.length === 0) {
              const s = this.step(state, op);
              return s === undefined ? [] : [s];
            }
            const out = new Set<string>();
            for (let i = 0; i < items.length; i++) out.add(encode(items.filter((_, j) => j !== i)));
            return [...out];
          },
        }),
  };
}
