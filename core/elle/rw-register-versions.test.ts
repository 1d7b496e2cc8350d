import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTxnHistory, type ElleResult } from './check-txn-history';
import type { ConsistencyModel } from './consistency-models';
import { HistoryBuilder, concurrentHistory } from './history-builder';
import type { RwRegisterVersionOptions } from './rw-register-versions';
import type { Op } from '../history/operation';

const check = (ops: Op[], rwRegister: RwRegisterVersionOptions = {}, consistency: ConsistencyModel = 'read-committed'): ElleResult =>
  checkTxnHistory(ops, { model: 'rw-register', consistency, rwRegister }).result;

// T1 reads y=2 then writes x=1, y=1; T2 reads x=1 then writes x=2, y=2.
const crossed = (): Op[] => concurrentHistory([
  { mops: [['r', 'y', 2], ['w', 'x', 1], ['w', 'y', 1]] },
  { mops: [['r', 'x', 1], ['w', 'x', 2], ['w', 'y', 2]] },
]);

test('rw-register: with --wfr-keys the crossed reads-then-writes are G0 (a write cycle), named by its inference', () => {
  const r = check(crossed(), { wfrKeys: true }, 'read-uncommitted');
  assert.equal(r.valid, false);
  assert.equal(r.anomalyTypes[0], 'G0');
  assert.deepEqual(r.versionOrder?.inferences, ['initial-state', 'wfr-keys']);
  const story = r.anomalies.G0!.examples[0]!.explanation.join('\n');
  assert.match(story, /by wfr-keys \(a transaction's write of a key follows the version it read\)/);
  assert.match(story, /ww-precedes/);
});

test('rw-register: without a version-order assumption the same history is G1c at best, named by its inference', () => {
  const r = check(crossed());
  assert.equal(r.valid, false);
  assert.ok(!r.anomalyTypes.includes('G0'));
  assert.equal(r.anomalyTypes[0], 'G1c');
  assert.deepEqual(r.versionOrder?.inferences, ['initial-state']);
  assert.equal(r.stats.edges.ww, 0);
  // G0 is forbidden by read-uncommitted, G1c only from read-committed on.
  assert.equal(check(crossed(), {}, 'read-uncommitted').valid, true);
});

test('rw-register --sequential-keys orders the versions one process sees of a key', () => {
  // Process 0 writes x=1 then x=2; process 1 reads x=2 and then x=1: under sequential keys that is impossible
  // (1 < 2 from process 0, 2 < 1 from process 1), so the order is cyclic: no edge is invented, and a warning says so.
  const b = new HistoryBuilder();
  b.txn(0, 'ok', [['w', 'x', 1]]).txn(0, 'ok', [['w', 'x', 2]]).txn(1, 'ok', [['r', 'x', 2]]).txn(1, 'ok', [['r', 'x', 1]]);
  const r = check(b.ops, { sequentialKeys: true }, 'read-uncommitted');
  assert.deepEqual(r.versionOrder?.cyclicKeys, ['x']);
  assert.match(r.warnings.join('\n'), /has a cycle/);
  // Process 0 writes y=1, then y=2 with z=5; concurrently T reads y=1 and z=5. With sequential keys 1 < 2, so T
  // anti-depends on the writer of y=2, whose z=5 it read: a G-single. Without the assumption nothing orders 1 and 2.
  const c = new HistoryBuilder();
  c.invoke(0, [['w', 'y', 1]]);
  c.complete(0, 'ok', [['w', 'y', 1]]);
  c.invoke(2, [['r', 'y', 1], ['r', 'z', 5]]);
  c.invoke(0, [['w', 'y', 2], ['w', 'z', 5]]);
  c.complete(2, 'ok', [['r', 'y', 1], ['r', 'z', 5]]);
  c.complete(0, 'ok', [['w', 'y', 2], ['w', 'z', 5]]);
  const plain = check(c.ops, {}, 'serializable');
  const seq = check(c.ops, { sequentialKeys: true }, 'serializable');
  assert.equal(plain.valid, true);
  assert.equal(seq.valid, false);
  assert.deepEqual(seq.versionOrder?.inferences, ['initial-state', 'sequential-keys']);
  assert.ok(seq.stats.edges.ww >= 1);
});

test('rw-register --linearizable-keys orders versions by real time', () => {
  // x=1 is written and acknowledged before T1 writes x=2 and y=3; concurrently T2 reads x=1 and y=3. With
  // linearizable keys 1 < 2, so T2 rw-precedes T1, whose y=3 it read (T1 wr-precedes T2): a G-single.
  const b = new HistoryBuilder();
  b.txn(0, 'ok', [['w', 'x', 1]]);
  b.invoke(1, [['w', 'x', 2], ['w', 'y', 3]]);
  b.invoke(2, [['r', 'x', 1], ['r', 'y', 3]]);
  b.complete(2, 'ok', [['r', 'x', 1], ['r', 'y', 3]]);
  b.complete(1, 'ok', [['w', 'x', 2], ['w', 'y', 3]]);
  assert.equal(check(b.ops, {}, 'snapshot-isolation').valid, true);
  const lin = check(b.ops, { linearizableKeys: true }, 'snapshot-isolation');
  assert.equal(lin.valid, false);
  assert.ok(lin.anomalyTypes.includes('G-single'), lin.anomalyTypes.join(','));
  assert.deepEqual(lin.versionOrder?.inferences, ['initial-state', 'linearizable-keys']);
});
