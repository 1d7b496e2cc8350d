import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistoryFormatError } from '../errors';
import type { Op } from '../history/operation';
import { checkTxnHistory } from './check-txn-history';
import { HistoryBuilder } from './history-builder';
import { buildTxnHistory } from './txn-history';

function malformedAt(value: unknown, model: 'list-append' | 'rw-register' = 'list-append'): HistoryFormatError {
  const b = new HistoryBuilder();
  b.txn(0, 'ok', [[model === 'list-append' ? 'append' : 'w', 'x', 1]]);
  b.event('invoke', 1, value);
  b.event('ok', 1, value);
  try {
    buildTxnHistory(b.ops, model);
  } catch (err) {
    assert.ok(err instanceof HistoryFormatError);
    return err;
  }
  assert.fail('expected a HistoryFormatError');
}

test('malformed transactions are rejected naming their line', () => {
  for (const bad of [5, [['append', 'x']], [['incr', 'x', 1]], [['append', { a: 1 }, 1]], [['r', 'x', 3]], [['append', 'x', null]]]) {
    const err = malformedAt(bad);
    assert.equal(err.line, 4, JSON.stringify(bad));
    assert.match(err.message, /^Cannot read history at line 4: /);
  }
  assert.equal(malformedAt([['append', 'x', 1]], 'rw-register').line, 4);
  assert.equal(malformedAt([['r', 'x', [1]]], 'rw-register').line, 4);
});

test('a value appended twice to one key is rejected: the analysis needs unique appends', () => {
  const b = new HistoryBuilder();
  b.txn(0, 'ok', [['append', 'x', 1]]);
  b.txn(1, 'ok', [['append', 'x', 1]]);
  assert.throws(() => checkTxnHistory(b.ops, { model: 'list-append', consistency: 'serializable' }), /line 4: value 1 is appended to key x more than once/);
});

test('transactions keep outcome, interval and micro-ops; EDN-style keyword strings are accepted', () => {
  const ops: Op[] = [
    { index: 0, type: 'invoke', process: 3, f: 'txn', value: [['append', 7, 1], ['r', 7, null]], time: 100, uncertainty: 10, line: 1 },
    { index: 1, type: 'ok', process: 3, f: 'txn', value: [['append', 7, 1], ['r', 7, [1]]], time: 200, uncertainty: 10, line: 2 },
    { index: 2, type: 'invoke', process: 4, f: 'txn', value: [['r', 7, null]], time: 300, line: 3 },
  ];
  const h = buildTxnHistory(ops, 'list-append');
  assert.equal(h.n, 2);
  assert.deepEqual([h.start[0], h.end[0], h.start[1], h.end[1]], [90, 210, 300, Infinity]);
  assert.deepEqual([h.type[0], h.type[1]], [0, 2]);
  assert.deepEqual(h.mopValue, [1, [1], null]);
});
