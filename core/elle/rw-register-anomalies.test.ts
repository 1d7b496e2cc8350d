import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnomalyName } from './anomaly';
import { checkTxnHistory, type ElleResult } from './check-txn-history';
import type { ConsistencyModel } from './consistency-models';
import { concurrentHistory, serialHistory, type MicroOp } from './history-builder';
import type { Op } from '../history/operation';

const check = (ops: Op[], consistency: ConsistencyModel = 'strict-serializable'): ElleResult =>
  checkTxnHistory(ops, { model: 'rw-register', consistency }).result;
const txns = (...ts: (MicroOp[] | { type: 'ok' | 'fail' | 'info'; mops: MicroOp[] })[]) =>
  ts.map((t) => (Array.isArray(t) ? { mops: t } : t));

function assertFound(r: ElleResult, name: AnomalyName): void {
  assert.ok(r.anomalyTypes.includes(name), `expected ${name}, found ${r.anomalyTypes.join(', ') || 'nothing'}`);
  assert.equal(r.valid, false);
}

test('a serial rw-register history is valid', () => {
  const r = check(serialHistory(txns([['r', 'x', null], ['w', 'x', 1]], [['r', 'x', 1], ['w', 'y', 1]], [['r', 'y', 1], ['r', 'x', 1]])));
  assert.equal(r.valid, true);
});

test('rw-register G1a, G1b and G1c', () => {
  assertFound(check(concurrentHistory(txns({ type: 'fail', mops: [['w', 'x', 1]] }, [['r', 'x', 1]])), 'read-committed'), 'G1a');
  assertFound(check(concurrentHistory(txns([['w', 'x', 1], ['w', 'x', 2]], [['r', 'x', 1]])), 'read-committed'), 'G1b');
  assertFound(check(concurrentHistory(txns([['w', 'x', 1], ['r', 'y', 1]], [['w', 'y', 1], ['r', 'x', 1]])), 'read-committed'), 'G1c');
});

test('rw-register G-single from a read of the initial nil', () => {
  const ops = concurrentHistory(txns([['r', 'x', null], ['r', 'y', 1]], [['w', 'x', 1], ['w', 'y', 1]]));
  assertFound(check(ops, 'snapshot-isolation'), 'G-single');
  assert.equal(check(ops, 'read-committed').valid, true);
});

test('rw-register write skew is G2-item: invalid for serializable, valid for snapshot isolation', () => {
  const ops = concurrentHistory(txns([['r', 'x', null], ['w', 'y', 1]], [['r', 'y', null], ['w', 'x', 1]]));
  assertFound(check(ops, 'serializable'), 'G2-item');
  assert.equal(check(ops, 'snapshot-isolation').valid, true);
});

test('rw-register lost update, internal, garbage and future reads', () => {
  assertFound(check(concurrentHistory(txns([['r', 'x', null], ['w', 'x', 1]], [['r', 'x', null], ['w', 'x', 2]])), 'snapshot-isolation'), 'lost-update');
  assertFound(check(concurrentHistory(txns([['w', 'x', 1], ['r', 'x', null]])), 'read-uncommitted'), 'internal');
  assertFound(check(concurrentHistory(txns([['r', 'x', 7]])), 'read-uncommitted'), 'garbage-read');
  assertFound(check(concurrentHistory(txns([['r', 'x', 1], ['w', 'x', 1]])), 'read-committed'), 'future-read');
});

test('rw-register never guesses a version order between two written values', () => {
  // T0 reads 1 then T1 writes 2: without a provable order between 1 and 2, no rw edge may be inferred.
  const r = check(concurrentHistory(txns([['w', 'x', 1]], [['r', 'x', 1], ['w', 'y', 5]], [['w', 'x', 2], ['r', 'y', 5]])));
  assert.equal(r.valid, true);
  assert.equal(r.stats.edges.rw, 0);
});
