import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnomalyName } from './anomaly';
import { checkTxnHistory, type ElleResult } from './check-txn-history';
import type { ConsistencyModel } from './consistency-models';
import { concurrentHistory, HistoryBuilder, serialHistory, type MicroOp } from './history-builder';
import type { Op } from '../history/operation';

const check = (ops: Op[], consistency: ConsistencyModel = 'strict-serializable'): ElleResult =>
  checkTxnHistory(ops, { model: 'list-append', consistency }).result;

const txns = (...ts: (MicroOp[] | { type: 'ok' | 'fail' | 'info'; mops: MicroOp[] })[]) =>
  ts.map((t) => (Array.isArray(t) ? { mops: t } : t));

function assertFound(r: ElleResult, name: AnomalyName): void {
  assert.ok(r.anomalyTypes.includes(name), `expected ${name}, found ${r.anomalyTypes.join(', ') || 'nothing'}`);
  assert.equal(r.valid, false);
  const ex = r.anomalies[name]!.examples[0]!;
  assert.ok(ex.explanation.join(' ').length > 20);
}

test('a serial list-append history is valid against strict serializability', () => {
  const r = check(
    serialHistory(
      txns(
        [['append', 'x', 1], ['r', 'x', [1]]],
        [['r', 'x', [1]], ['append', 'y', 1]],
        [['append', 'x', 2], ['r', 'y', [1]]],
        [['r', 'x', [1, 2]], ['r', 'y', [1]]],
      ),
    ),
  );
  assert.equal(r.valid, true);
  assert.deepEqual(r.anomalyTypes, []);
  assert.deepEqual(r.models.strongestPossible, ['strict-serializable']);
});

test('G0: two transactions append to x and y in opposite orders', () => {
  const r = check(
    concurrentHistory(
      txns(
        [['append', 'x', 1], ['append', 'y', 1]],
        [['append', 'x', 2], ['append', 'y', 2]],
        [['r', 'x', [1, 2]], ['r', 'y', [2, 1]]],
      ),
    ),
    'read-uncommitted',
  );
  assertFound(r, 'G0');
  assert.ok(r.models.violated.includes('read-uncommitted'));
  assert.deepEqual(r.anomalies.G0!.examples[0]!.relations, ['ww', 'ww']);
});

test('G1a: a committed read of an element appended by a failed transaction', () => {
  const r = check(concurrentHistory(txns({ type: 'fail', mops: [['append', 'x', 1]] }, [['r', 'x', [1]]])), 'read-committed');
  assertFound(r, 'G1a');
  assert.ok(!r.models.violated.includes('read-uncommitted'));
});

test('G1b: a read of an intermediate state of another transaction', () => {
  const r = check(concurrentHistory(txns([['append', 'x', 1], ['append', 'x', 2]], [['r', 'x', [1]]])), 'read-committed');
  assertFound(r, 'G1b');
});

test('G1c: each transaction saw the other one\'s write', () => {
  const r = check(
    concurrentHistory(txns([['append', 'x', 1], ['r', 'y', [1]]], [['append', 'y', 1], ['r', 'x', [1]]])),
    'read-committed',
  );
  assertFound(r, 'G1c');
});

test('G-single: read skew is refuted by snapshot isolation but allowed by read committed', () => {
  const ops = concurrentHistory(
    txns([['r', 'x', []], ['r', 'y', [1]]], [['append', 'x', 1], ['append', 'y', 1]], [['r', 'x', [1]]]),
  );
  const si = check(ops, 'snapshot-isolation');
  assertFound(si, 'G-single');
  assert.deepEqual([...si.anomalies['G-single']!.examples[0]!.relations!].sort(), ['rw', 'wr']);
  assert.equal(check(ops, 'read-committed').valid, true);
});

test('G-nonadjacent: two rw edges separated by wr edges refute snapshot isolation', () => {
  const r = check(
    concurrentHistory(
      txns(
        [['r', 'a', []], ['r', 'd', [1]]],
        [['append', 'a', 1], ['append', 'b', 1]],
        [['r', 'b', [1]], ['r', 'c', []]],
        [['append', 'c', 1], ['append', 'd', 1]],
        [['r', 'a', [1]], ['r', 'c', [1]]],
      ),
    ),
    'snapshot-isolation',
  );
  assertFound(r, 'G-nonadjacent');
  assert.ok(!r.anomalyTypes.includes('G-single'));
});

test('G2-item: write skew violates serializability, not snapshot isolation', () => {
  const ops = concurrentHistory(
    txns([['r', 'x', []], ['append', 'y', 1]], [['r', 'y', []], ['append', 'x', 2]], [['r', 'x', [2]], ['r', 'y', [1]]]),
  );
  const ser = check(ops, 'serializable');
  assertFound(ser, 'G2-item');
  assert.deepEqual(ser.anomalies['G2-item']!.examples[0]!.relations, ['rw', 'rw']);
  assert.ok(ser.models.violated.includes('repeatable-read'));
  const si = check(ops, 'snapshot-isolation');
  assert.equal(si.valid, true);
  assert.ok(si.models.strongestPossible.includes('strong-snapshot-isolation'));
});

test('lost update: two transactions read the same list and both append', () => {
  const r = check(
    concurrentHistory(txns([['r', 'x', []], ['append', 'x', 1]], [['r', 'x', []], ['append', 'x', 2]], [['r', 'x', [1, 2]]])),
    'snapshot-isolation',
  );
  assertFound(r, 'lost-update');
});

test('internal: a read that does not show the transaction\'s own append', () => {
  const r = check(concurrentHistory(txns([['append', 'x', 1], ['r', 'x', []]])), 'read-uncommitted');
  assertFound(r, 'internal');
});

test('non-repeatable read: refutes repeatable read, not read committed', () => {
  const ops = concurrentHistory(txns([['r', 'x', []], ['r', 'x', [1]]], [['append', 'x', 1]]));
  assertFound(check(ops, 'repeatable-read'), 'non-repeatable-read');
  assert.equal(check(ops, 'read-committed').valid, true);
});

test('duplicate elements, garbage reads and future reads', () => {
  assertFound(check(concurrentHistory(txns([['append', 'x', 1]], [['r', 'x', [1, 1]]]))), 'duplicate-elements');
  assertFound(check(concurrentHistory(txns([['r', 'x', [9]]]))), 'garbage-read');
  assertFound(check(concurrentHistory(txns([['r', 'x', [1]], ['append', 'x', 1]])), 'read-committed'), 'future-read');
});

test('incompatible order: two reads disagree on the order of a list', () => {
  const r = check(
    concurrentHistory(txns([['append', 'x', 1]], [['append', 'x', 2]], [['r', 'x', [1, 2]]], [['r', 'x', [2, 1]]])),
    'read-committed',
  );
  assertFound(r, 'incompatible-order');
  assert.ok(!r.anomalyTypes.includes('G0'), 'no edges from an untrustworthy order');
});

test('dirty update: a committed append ordered after an aborted one', () => {
  const r = check(
    concurrentHistory(txns({ type: 'fail', mops: [['append', 'x', 1]] }, [['append', 'x', 2]], [['r', 'x', [1, 2]]])),
    'read-committed',
  );
  assertFound(r, 'dirty-update');
  assertFound(r, 'G1a');
});

test('G0-process: a process\'s second append is ordered before its first', () => {
  const b = new HistoryBuilder();
  b.invoke(9, [['r', 'x', null]]);
  b.txn(0, 'ok', [['append', 'x', 2]]);
  b.txn(0, 'ok', [['append', 'x', 1]]);
  b.complete(9, 'ok', [['r', 'x', [1, 2]]]);
  const r = check(b.ops);
  assertFound(r, 'G0-process');
  assert.equal(check(b.ops, 'serializable').valid, true);
});

test('G0-realtime and G-single-realtime: stale order and stale read after completion', () => {
  const b = new HistoryBuilder();
  b.invoke(9, [['r', 'x', null]]);
  b.txn(0, 'ok', [['append', 'x', 2]]);
  b.txn(1, 'ok', [['append', 'x', 1]]);
  b.complete(9, 'ok', [['r', 'x', [1, 2]]]);
  assertFound(check(b.ops), 'G0-realtime');
  assert.equal(check(b.ops, 'strong-session-serializable').valid, true);

  const s = new HistoryBuilder();
  s.invoke(9, [['r', 'x', null]]);
  s.txn(0, 'ok', [['append', 'x', 1]]);
  s.txn(1, 'ok', [['r', 'x', []]]);
  s.complete(9, 'ok', [['r', 'x', [1]]]);
  const r = check(s.ops, 'strict-serializable');
  assertFound(r, 'G-single-realtime');
  assert.equal(check(s.ops, 'serializable').valid, true);
});

test('clock uncertainty removes real-time edges between overlapping intervals', () => {
  const s = new HistoryBuilder();
  s.invoke(9, [['r', 'x', null]], 0);
  s.invoke(0, [['append', 'x', 1]], 100, 50);
  s.complete(0, 'ok', [['append', 'x', 1]], 200, 50);
  s.invoke(1, [['r', 'x', null]], 260, 50); // 200+50 is not before 260-50
  s.complete(1, 'ok', [['r', 'x', []]], 300, 50);
  s.complete(9, 'ok', [['r', 'x', [1]]], 400);
  assert.equal(check(s.ops, 'strict-serializable').valid, true);
});

test('an info transaction whose append nobody saw adds no edge', () => {
  const b = new HistoryBuilder();
  b.txn(0, 'info', [['append', 'x', 1]]);
  b.txn(1, 'ok', [['r', 'x', []]]);
  b.txn(2, 'ok', [['r', 'x', []]]);
  const r = check(b.ops);
  assert.equal(r.valid, true);
  assert.equal(r.stats.edges.rw, 0);
});

// The shape PostgreSQL 15.18 let through at serializable (docs/sql.md): T_in (read-only) saw T_out's appends but
// not the pivot's; the pivot did not see T_out's. Long existing lists, as in the run: the edges come from the
// element right after each read's prefix.
const base = [1, 2, 3];
const pgCycle = (tInSeesPivot: boolean) =>
  concurrentHistory(
    txns(
      (['e1', 'e2', 'e4'] as const).flatMap((k) => base.map((v): MicroOp => ['append', k, v])), // the lists so far
      [['append', 'e4', 40], ['r', 'e1', base], ['append', 'e4', 41]], // T_out
      [['append', 'e2', 20], ['r', 'e4', base]], // pivot: did not see 40
      [['r', 'e1', base], ['r', 'e2', tInSeesPivot ? [...base, 20] : base], ['r', 'e4', [...base, 40, 41]]], // T_in
      [['r', 'e2', [...base, 20]], ['r', 'e4', [...base, 40, 41]]], // a later read: the final orders
    ),
  );

test('the cycle PostgreSQL let through at serializable is G2-item with edges rw, rw, wr; seeing the pivot makes it valid', () => {
  const r = check(pgCycle(false), 'serializable');
  assertFound(r, 'G2-item');
  assert.deepEqual(r.anomalyTypes, ['G2-item']);
  const ex = r.anomalies['G2-item']!.examples[0]!;
  assert.equal(ex.txns.length, 3);
  assert.ok(!ex.txns.includes('T0'), 'the transaction that built the lists is not in the cycle');
  assert.deepEqual([...ex.relations!].sort(), ['rw', 'rw', 'wr']);
  assert.equal(check(pgCycle(false), 'snapshot-isolation').valid, true, 'write skew: snapshot isolation allows it');
  const ok = check(pgCycle(true), 'serializable');
  assert.equal(ok.valid, true, ok.anomalyTypes.join(', '));
});

test('an info transaction\'s reads are unknown: a stale read in it adds no rw edge, its visible append still orders', () => {
  const b = new HistoryBuilder();
  b.txn(0, 'ok', [['append', 'x', 1]]);
  b.txn(1, 'info', [['r', 'x', null], ['append', 'y', 1]]); // whatever it read, nobody knows
  b.txn(2, 'ok', [['append', 'x', 2], ['r', 'y', [1]]]);
  b.txn(3, 'ok', [['r', 'x', [1, 2]], ['r', 'y', [1]]]);
  const r = check(b.ops, 'serializable');
  assert.equal(r.valid, true, r.anomalyTypes.join(', '));
  assert.equal(r.stats.edges.rw, 0);
  assert.ok(r.stats.edges.wr >= 2, 'the info transaction\'s append, once read, is ordered like any other');
});
