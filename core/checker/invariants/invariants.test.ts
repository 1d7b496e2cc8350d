import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../../history/operation';
import { checkBank, checkCounter, checkSetFull, checkTotalQueue, checkUniqueIds, compose } from './index';

/** Builds a history from [process, type, f, value] rows; time = row position. */
function h(rows: [number, Op['type'], string, unknown][]): Op[] {
  return rows.map(([process, type, f, value], index) => ({ index, process, type, f, value, time: index }));
}

test('checkSetFull() finds lost, stale, never-read, recovered and unexpected elements', () => {
  const r = checkSetFull(h([
    [0, 'invoke', 'add', 1], [0, 'ok', 'add', 1],
    [0, 'invoke', 'add', 2], [0, 'ok', 'add', 2],
    [1, 'invoke', 'add', 3], [1, 'info', 'add', 3],
    [2, 'invoke', 'read', null], [2, 'ok', 'read', [1, 3]], // 2 missing (stale: seen later)
    [2, 'invoke', 'read', null], [2, 'ok', 'read', [2, 3, 9]], // 1 missing and never again: lost; 9 unexpected
    [0, 'invoke', 'add', 4], [0, 'ok', 'add', 4], // no read after: never read
  ]));
  assert.equal(r.valid, false);
  assert.deepEqual(r.lost, [1]);
  assert.deepEqual(r.stale, [2]);
  assert.deepEqual(r.recovered, [3]);
  assert.deepEqual(r.unexpected, [9]);
  assert.deepEqual(r.neverRead, [4]);
  assert.ok(r.lostLatencies);
});

test('checkSetFull() does not call an element lost when the read was concurrent with its add', () => {
  const r = checkSetFull(h([
    [0, 'invoke', 'add', 1], [1, 'invoke', 'read', null], [0, 'ok', 'add', 1], [1, 'ok', 'read', []],
    [1, 'invoke', 'read', null], [1, 'ok', 'read', [1]],
  ]));
  assert.equal(r.valid, true);
  assert.equal(r.stableCount, 1);
});

test('checkCounter() accepts reads within bounds, including unknown increments, and rejects others', () => {
  const ok = checkCounter(h([
    [0, 'invoke', 'add', 2], [0, 'ok', 'add', 2],
    [1, 'invoke', 'add', 5], [1, 'info', 'add', 5],
    [2, 'invoke', 'read', null], [2, 'ok', 'read', 7],
    [3, 'invoke', 'read', null], [3, 'ok', 'read', 2],
  ]));
  assert.equal(ok.valid, true);
  const bad = checkCounter(h([[0, 'invoke', 'add', 2], [0, 'ok', 'add', 2], [2, 'invoke', 'read', null], [2, 'ok', 'read', 1]]));
  assert.equal(bad.valid, false);
  assert.deepEqual(bad.errors[0], { index: 2, process: 2, value: 1, lower: 2, upper: 2 });
});

test('checkCounter() reports how far the last read is below the acknowledged increments (lostAmount)', () => {
  const lost = checkCounter(h([
    [0, 'invoke', 'add', 3], [0, 'ok', 'add', 3],
    [1, 'invoke', 'add', 4], [1, 'ok', 'add', 4],
    [2, 'invoke', 'read', null], [2, 'ok', 'read', 7],
    [3, 'invoke', 'read', null], [3, 'ok', 'read', 3],
  ]));
  assert.equal(lost.valid, false);
  assert.equal(lost.lostAmount, 4);
  // A read within its bounds (an unknown increment may or may not be in it) loses nothing.
  const fine = checkCounter(h([[0, 'invoke', 'add', 2], [0, 'info', 'add', 2], [1, 'invoke', 'read', null], [1, 'ok', 'read', 0]]));
  assert.equal(fine.lostAmount, 0);
});

test('checkBank() reports a wrong total and negative balances', () => {
  const r = checkBank(h([
    [0, 'invoke', 'read', null], [0, 'ok', 'read', { a: 5, b: 5 }],
    [1, 'invoke', 'read', null], [1, 'ok', 'read', { a: 12, b: -2 }],
    [0, 'invoke', 'read', null], [0, 'ok', 'read', { a: 3, b: 6 }],
  ]), { total: 10 });
  assert.equal(r.valid, false);
  assert.deepEqual(r.errors.map((e) => e.kind), ['negative-balance', 'wrong-total']);
  assert.equal(checkBank(h([[0, 'invoke', 'read', null], [0, 'ok', 'read', { a: 5, b: 5 }]])).valid, true);
});

test('checkTotalQueue() finds duplicated, unexpected and provably lost elements', () => {
  const r = checkTotalQueue(h([
    [0, 'invoke', 'enqueue', 1], [0, 'ok', 'enqueue', 1],
    [0, 'invoke', 'enqueue', 2], [0, 'ok', 'enqueue', 2],
    [1, 'invoke', 'dequeue', null], [1, 'ok', 'dequeue', 1],
    [1, 'invoke', 'dequeue', null], [1, 'ok', 'dequeue', 1],
    [1, 'invoke', 'dequeue', null], [1, 'ok', 'dequeue', 7],
    [1, 'invoke', 'drain', null], [1, 'ok', 'drain', []],
  ]));
  assert.equal(r.valid, false);
  assert.deepEqual(r.lost, [2]);
  assert.deepEqual(r.duplicated, [{ value: 1, dequeued: 2, enqueued: 1 }]);
  assert.equal(r.lostCount, 1);
  assert.deepEqual(r.unexpected, [7]);
  // With a dequeue of unknown outcome, the missing element is not provably lost.
  const u = checkTotalQueue(h([[0, 'invoke', 'enqueue', 2], [0, 'ok', 'enqueue', 2], [1, 'invoke', 'dequeue', null], [1, 'info', 'dequeue', null], [2, 'invoke', 'drain', null], [2, 'ok', 'drain', []]]));
  assert.equal(u.valid, true);
  assert.deepEqual(u.unconfirmed, [2]);
});

test('checkTotalQueue() counts values as multisets and never calls an element lost that an unknown op may have taken', () => {
  const enq = (p: number, v: unknown, t: Op['type'] = 'ok'): [number, Op['type'], string, unknown][] => [[p, 'invoke', 'enqueue', v], [p, t, 'enqueue', v]];
  const deq = (p: number, v: unknown, t: Op['type'] = 'ok'): [number, Op['type'], string, unknown][] => [[p, 'invoke', 'dequeue', null], [p, t, 'dequeue', v]];
  const drain = (p: number, v: unknown, t: Op['type'] = 'ok'): [number, Op['type'], string, unknown][] => [[p, 'invoke', 'drain', null], [p, t, 'drain', v]];
  // The same value enqueued twice may be dequeued twice.
  assert.equal(checkTotalQueue(h([...enq(0, 5), ...enq(0, 5), ...deq(1, 5), ...deq(1, 5), ...drain(1, [])])).valid, true);
  // A failed enqueue and an ok one of the same value: one dequeue is expected, a second is a duplicate.
  const twice = checkTotalQueue(h([...enq(0, 5, 'fail'), ...enq(0, 5), ...deq(1, 5), ...deq(1, 5)]));
  assert.deepEqual(twice.duplicated, [{ value: 5, dequeued: 2, enqueued: 1 }]);
  // Dequeued although its only enqueue failed: unexpected.
  assert.deepEqual(checkTotalQueue(h([...enq(0, 6, 'fail'), ...deq(1, 6)])).unexpected, [6]);
  // A drain of unknown outcome may have taken everything: nothing provably lost.
  const infoDrain = checkTotalQueue(h([...enq(0, 1), ...enq(0, 2), ...drain(1, null, 'info'), ...drain(2, [])]));
  assert.equal(infoDrain.valid, true);
  assert.equal(infoDrain.unconfirmedCount, 2);
  // Two missing, one unknown dequeue: at least one is lost, though which one cannot be told.
  const oneOfTwo = checkTotalQueue(h([...enq(0, 1), ...enq(0, 2), ...deq(1, null, 'info'), ...drain(2, [])]));
  assert.equal(oneOfTwo.valid, false);
  assert.equal(oneOfTwo.lostCount, 1);
  assert.deepEqual(oneOfTwo.lost, [1, 2]);
  // An unknown dequeue that began after the queue was seen empty cannot explain the loss.
  assert.equal(checkTotalQueue(h([...enq(0, 1), ...drain(2, []), ...deq(1, null, 'info')])).lostCount, 1);
  // Never seen empty after the enqueue: still in the queue as far as anyone knows.
  const noDrain = checkTotalQueue(h([...enq(0, 1), ...enq(0, 2), ...deq(1, 2)]));
  assert.equal(noDrain.valid, true);
  assert.deepEqual(noDrain.unconfirmed, [1]);
  // Enqueues alone observe nothing: unknown, not valid.
  assert.equal(checkTotalQueue(h([...enq(0, 1)])).valid, 'unknown');
  // Maps are the same element whatever the order of their keys.
  assert.equal(checkTotalQueue(h([...enq(0, { a: 1, b: 2 }), ...deq(1, { b: 2, a: 1 }), ...drain(1, [])])).valid, true);
  // A drain must return a list, and nil cannot be an element (a dequeue of nil means empty): bad input, line named.
  assert.throws(() => checkTotalQueue(h([...enq(0, 1), ...drain(1, 1)])), /drain must return a list/);
  assert.throws(() => checkTotalQueue(h([...enq(0, null), ...drain(1, [])])), /enqueue must carry an element/);
  // An enqueue of unknown outcome that was dequeued took effect after all.
  assert.deepEqual(checkTotalQueue(h([...enq(0, 3, 'info'), ...deq(1, 3)])).recovered, [3]);
  assert.equal(checkTotalQueue(h([])).valid, 'unknown');
});

test('checkTotalQueue() counts an unknown dequeue that began exactly when the empty read ended as possibly before it', () => {
  const at = (index: number, process: number, type: Op['type'], f: string, value: unknown, time: number, uncertainty = 0): Op => ({ index, process, type, f, value, time, uncertainty });
  const r = checkTotalQueue([
    at(0, 0, 'invoke', 'enqueue', 1, 0),
    at(1, 0, 'ok', 'enqueue', 1, 2),
    at(2, 1, 'invoke', 'drain', null, 6, 2),
    at(3, 1, 'ok', 'drain', [], 10, 2), // ends at 12
    at(4, 2, 'invoke', 'dequeue', null, 14, 2), // may begin at 12
    at(5, 2, 'info', 'dequeue', null, 20),
  ]);
  assert.equal(r.lostCount, 0);
  assert.equal(r.valid, true);
});

test('checkSetFull() knows an element from any of its ok adds, and calls an element whose every add failed unexpected', () => {
  const lost = checkSetFull(h([
    [0, 'invoke', 'add', 1], [0, 'fail', 'add', 1],
    [0, 'invoke', 'add', 1], [0, 'ok', 'add', 1],
    [1, 'invoke', 'read', null], [1, 'ok', 'read', []],
  ]));
  assert.equal(lost.valid, false);
  assert.deepEqual(lost.lost, [1]);
  assert.equal(lost.acknowledgedCount, 1);
  const ghost = checkSetFull(h([[0, 'invoke', 'add', 2], [0, 'fail', 'add', 2], [1, 'invoke', 'read', null], [1, 'ok', 'read', [2]]]));
  assert.equal(ghost.valid, false);
  assert.deepEqual(ghost.unexpected, [2]);
});

test('checkBank() compares float totals summed in any order as equal', () => {
  const r = checkBank(h([
    [0, 'invoke', 'read', null], [0, 'ok', 'read', { a: 0.1, b: 0.2, c: 0.3 }],
    [1, 'invoke', 'read', null], [1, 'ok', 'read', { a: 0.3, b: 0.2, c: 0.1 }],
  ]));
  assert.equal(r.valid, true, JSON.stringify(r.errors));
});

test('invariant checkers that found nothing to check say unknown, not valid', () => {
  const adds = h([[0, 'invoke', 'add', 1], [0, 'ok', 'add', 1]]);
  assert.equal(checkSetFull(adds).valid, 'unknown'); // no read: no element seen stable
  assert.equal(checkCounter(adds).valid, 'unknown'); // no read
  assert.equal(checkBank(adds).valid, 'unknown');
  assert.equal(checkUniqueIds(adds).valid, 'unknown');
});

test('checkCounter() counts an add that began exactly when the read ended as possibly in it', () => {
  const at = (index: number, process: number, type: Op['type'], f: string, value: unknown, time: number): Op => ({ index, process, type, f, value, time });
  const r = checkCounter([
    at(0, 1, 'invoke', 'read', null, 0),
    at(1, 0, 'invoke', 'add', 3, 10),
    at(2, 1, 'ok', 'read', 3, 10),
    at(3, 0, 'info', 'add', 3, 20),
  ]);
  assert.equal(r.valid, true);
});

test('checkBank() reports a nil balance as an error of its own', () => {
  const r = checkBank(h([
    [0, 'invoke', 'read', null], [0, 'ok', 'read', { a: 5, b: 5 }],
    [1, 'invoke', 'read', null], [1, 'ok', 'read', { a: 10, b: null }],
  ]));
  assert.equal(r.valid, false);
  assert.deepEqual(r.errors.map((e) => e.kind), ['nil-balance']);
  assert.deepEqual(r.totals, { '10': 1 });
});

test('checkUniqueIds() flags duplicate ids; compose() merges verdicts and contains crashes', () => {
  const hist = h([[0, 'invoke', 'generate', null], [0, 'ok', 'generate', 1], [1, 'invoke', 'generate', null], [1, 'ok', 'generate', 1]]);
  const u = checkUniqueIds(hist);
  assert.equal(u.valid, false);
  assert.deepEqual(u.duplicated, [{ id: 1, count: 2 }]);
  const c = compose({
    ids: checkUniqueIds,
    crash: () => {
      throw new Error('boom');
    },
  })(hist);
  assert.equal(c.valid, false);
  assert.equal(c.results.crash!.valid, 'unknown');
  assert.equal(compose({ crash: () => { throw new Error('boom'); } })(hist).valid, 'unknown');
});

test('checkCounter() reads nil (a never-touched key, Jepsen\'s [3 nil]) as the initial value', () => {
  const untouched = checkCounter(h([[0, 'invoke', 'read', null], [0, 'ok', 'read', null]]), 5);
  assert.equal(untouched.valid, true);
  assert.equal(untouched.reads, 1);
  // After an acknowledged add of 2, nil (= the initial 0) is a lost increment.
  const lost = checkCounter(h([[0, 'invoke', 'add', 2], [0, 'ok', 'add', 2], [1, 'invoke', 'read', null], [1, 'ok', 'read', null]]));
  assert.equal(lost.valid, false);
  assert.deepEqual(lost.errors.map((e) => [e.value, e.lower, e.upper]), [[0, 2, 2]]);
});

test('checkSetFull() reads nil (a never-touched key) as the empty set', () => {
  const r = checkSetFull(h([[2, 'invoke', 'read', null], [2, 'ok', 'read', null], [0, 'invoke', 'add', 1], [0, 'ok', 'add', 1], [2, 'invoke', 'read', null], [2, 'ok', 'read', [1]]]));
  assert.equal(r.valid, true);
  const lost = checkSetFull(h([[0, 'invoke', 'add', 1], [0, 'ok', 'add', 1], [2, 'invoke', 'read', null], [2, 'ok', 'read', null]]));
  assert.equal(lost.valid, false);
  assert.deepEqual(lost.lost, [1]);
});
