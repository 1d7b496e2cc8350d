import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryFormatError } from '../errors';
import { sequenceGaps } from './completeness';
import type { Op } from './operation';
import { pairOps, precedes } from './pair';

const op = (o: Partial<Op> & Pick<Op, 'index' | 'type' | 'process'>): Op => ({ f: 'write', value: 1, ...o });

test('pairOps() joins invocations and completions, widening each interval by its uncertainty', () => {
  const ops = pairOps([
    op({ index: 0, type: 'invoke', process: 1, time: 100, uncertainty: 10 }),
    op({ index: 1, type: 'ok', process: 1, time: 200, uncertainty: 10 }),
    op({ index: 2, type: 'invoke', process: 2, time: 215, uncertainty: 10 }),
    op({ index: 3, type: 'info', process: 2, time: 300 }),
  ]);
  assert.deepEqual(ops.map((o) => [o.type, o.start, o.end]), [['ok', 90, 210], ['info', 205, Infinity]]);
  assert.equal(precedes(ops[0]!, ops[1]!), false, 'windows that overlap under uncertainty are concurrent');
});

test('pairOps() rejects a completion timed before its own invocation, naming the line', () => {
  assert.throws(
    () => pairOps([op({ index: 0, type: 'invoke', process: 1, time: 100, line: 1 }), op({ index: 1, type: 'ok', process: 1, time: 50, line: 2 })]),
    (e: unknown) => e instanceof HistoryFormatError && e.line === 2 && /timed before its invocation/.test(e.message),
  );
});

test('sequenceGaps() finds holes per publisher and ignores events without node/seq', () => {
  const h = [1, 2, 4, 7].map((seq, i) => op({ index: i, type: 'invoke', process: i, node: 'n1', seq }));
  h.push(op({ index: 9, type: 'invoke', process: 9, node: 'n2', seq: 1 }), op({ index: 10, type: 'invoke', process: 10 }));
  assert.deepEqual(sequenceGaps(h), [
    { node: 'n1', from: 3, to: 3 },
    { node: 'n1', from: 5, to: 6 },
  ]);
});

test('pairOps() accepts stated times that cross within their uncertainty', () => {
  const [p] = pairOps([op({ index: 0, type: 'invoke', process: 1, time: 100, uncertainty: 30 }), op({ index: 1, type: 'ok', process: 1, time: 90, uncertainty: 30 })]);
  assert.deepEqual([p!.start, p!.end], [70, 120]);
});
