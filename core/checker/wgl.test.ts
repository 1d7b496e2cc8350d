import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../history/operation';
import { checkLinearizable } from './linearizable';
import type { ModelName } from '../models';

/** [process, type, f, value, time?] rows; time defaults to the row position. */
function h(rows: [number, Op['type'], string, unknown, number?][]): Op[] {
  return rows.map(([process, type, f, value, time], index) => ({ index, process, type, f, value, time: time ?? index }));
}
const check = (rows: [number, Op['type'], string, unknown, number?][], model: ModelName, extra = {}) => checkLinearizable(h(rows), { model, ...extra });

test('an op of unknown outcome may take effect after its invocation, or never', () => {
  const later = check([[0, 'invoke', 'write', 1], [0, 'info', 'write', 1], [1, 'invoke', 'read', null], [1, 'ok', 'read', null], [1, 'invoke', 'read', null], [1, 'ok', 'read', 1]], 'etcd-register');
  assert.equal(later.valid, true);
  const never = check([[0, 'invoke', 'write', 1], [1, 'invoke', 'read', null], [1, 'ok', 'read', null]], 'etcd-register');
  assert.equal(never.valid, true);
  // ... but not before its invocation.
  const before = check([[1, 'invoke', 'read', null], [1, 'ok', 'read', 1], [0, 'invoke', 'write', 1], [0, 'info', 'write', 1]], 'etcd-register');
  assert.equal(before.valid, false);
});

test('failed ops never happened (Knossos) but a failed cas is an observation under etcd-register', () => {
  const rows: [number, Op['type'], string, unknown][] = [[0, 'invoke', 'write', 1], [0, 'ok', 'write', 1], [1, 'invoke', 'cas', [1, 2]], [1, 'fail', 'cas', [1, 2]]];
  assert.equal(check(rows, 'cas-register').valid, true);
  assert.equal(check(rows, 'etcd-register').valid, false);
  assert.equal(check([[1, 'invoke', 'write', 5], [1, 'fail', 'write', 5], [0, 'invoke', 'read', null], [0, 'ok', 'read', 5]], 'etcd-register').valid, false);
});

test('real-time order respects clock uncertainty: overlapping windows are concurrent', () => {
  // write 1 ends at 100, read starting at 105 sees the initial nil: a stale read unless uncertainty widens the windows.
  const ops = (u: number): Op[] => [
    { index: 0, process: 0, type: 'invoke', f: 'write', value: 1, time: 0, uncertainty: u },
    { index: 1, process: 0, type: 'ok', f: 'write', value: 1, time: 100, uncertainty: u },
    { index: 2, process: 1, type: 'invoke', f: 'read', value: null, time: 105, uncertainty: u },
    { index: 3, process: 1, type: 'ok', f: 'read', value: null, time: 110, uncertainty: u },
  ];
  assert.equal(checkLinearizable(ops(0), { model: 'etcd-register' }).valid, false);
  assert.equal(checkLinearizable(ops(3), { model: 'etcd-register' }).valid, true);
});

test('keyed ops are checked per key; --independent splits [key value] tuples', () => {
  const keyed: Op[] = [
    { index: 0, process: 0, type: 'invoke', f: 'write', key: 'a', value: 1 },
    { index: 1, process: 0, type: 'ok', f: 'write', key: 'a', value: 1 },
    { index: 2, process: 1, type: 'invoke', f: 'read', key: 'b', value: null },
    { index: 3, process: 1, type: 'ok', f: 'read', key: 'b', value: null },
  ];
  const r = checkLinearizable(keyed, { model: 'etcd-register' });
  assert.equal(r.valid, true);
  assert.equal(r.keyCount, 2);
  const ind = check([[0, 'invoke', 'write', ['x', 1]], [0, 'ok', 'write', ['x', 1]], [1, 'invoke', 'read', ['y', null]], [1, 'ok', 'read', ['y', 1]]], 'etcd-register', { independent: true });
  assert.equal(ind.valid, false);
  assert.deepEqual(ind.invalidKeys, ['y']);
});

test('a search over its time budget is unknown, never a guess', () => {
  // 12 concurrent unknown writes of distinct values and reads that rule out every order: exponential without a budget.
  const rows: [number, Op['type'], string, unknown, number?][] = [];
  for (let p = 0; p < 12; p++) rows.push([p, 'invoke', 'write', p, 0]);
  for (let p = 0; p < 12; p++) rows.push([100 + p, 'invoke', 'read', null, 1], [100 + p, 'ok', 'read', 99, 2]);
  const r = check(rows, 'etcd-register', { timeLimitMs: 1 });
  assert.equal(r.valid, 'unknown');
  assert.equal(r.perKey[0]!.reason, 'time-limit');
  // The same search with room to finish proves it invalid: the budget, not a guess, made it unknown.
  assert.equal(check(rows, 'etcd-register', { timeLimitMs: 60_000 }).valid, false);
});

test('models: mutex, set, queues and multi-register follow their specifications', () => {
  assert.equal(check([[0, 'invoke', 'acquire', null], [0, 'ok', 'acquire', null], [1, 'invoke', 'acquire', null], [1, 'ok', 'acquire', null]], 'mutex').valid, false);
  assert.equal(check([[0, 'invoke', 'acquire', null], [0, 'ok', 'acquire', null], [0, 'invoke', 'release', null], [0, 'ok', 'release', null], [1, 'invoke', 'acquire', null], [1, 'ok', 'acquire', null]], 'mutex').valid, true);
  assert.equal(check([[0, 'invoke', 'add', 1], [0, 'ok', 'add', 1], [1, 'invoke', 'read', null], [1, 'ok', 'read', []]], 'set').valid, false);
  const q: [number, Op['type'], string, unknown][] = [[0, 'invoke', 'enqueue', 1], [0, 'ok', 'enqueue', 1], [0, 'invoke', 'enqueue', 2], [0, 'ok', 'enqueue', 2], [1, 'invoke', 'dequeue', null], [1, 'ok', 'dequeue', 2]];
  assert.equal(check(q, 'fifo-queue').valid, false);
  assert.equal(check(q, 'unordered-queue').valid, true);
  // An unknown dequeue may have removed either element: then the queue can be empty after one more dequeue.
  const uq: [number, Op['type'], string, unknown][] = [[0, 'invoke', 'enqueue', 1], [0, 'ok', 'enqueue', 1], [0, 'invoke', 'enqueue', 2], [0, 'ok', 'enqueue', 2], [1, 'invoke', 'dequeue', null], [1, 'info', 'dequeue', null], [2, 'invoke', 'dequeue', null], [2, 'ok', 'dequeue', 1], [2, 'invoke', 'dequeue', null], [2, 'ok', 'dequeue', null]];
  assert.equal(check(uq, 'unordered-queue').valid, true);
  const mr: [number, Op['type'], string, unknown][] = [[0, 'invoke', 'txn', [['read', 'x', null]]], [0, 'ok', 'txn', [['read', 'x', 0]]], [1, 'invoke', 'txn', [['write', 'x', 1]]], [1, 'ok', 'txn', [['write', 'x', 1]]], [0, 'invoke', 'txn', [['read', 'x', null]]], [0, 'ok', 'txn', [['read', 'x', 0]]]];
  assert.equal(check(mr, 'multi-register').valid, false);
  assert.equal(check(mr.slice(0, 4), 'multi-register').valid, true); // unknown initial value: x = 0 is allowed
});
