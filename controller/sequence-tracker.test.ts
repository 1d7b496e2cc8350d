import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceTracker } from './sequence-tracker';

test('SequenceTracker finds gaps and drops redeliveries', () => {
  const t = new SequenceTracker();
  for (const s of [1, 2, 4, 5, 7]) assert.equal(t.add('n1', s), true);
  assert.equal(t.add('n1', 2), false);
  assert.equal(t.add('n1', 5), false);
  assert.equal(t.contiguous('n1'), 2);
  assert.equal(t.maxSeen('n1'), 7);
  assert.equal(t.maxSeen('n9'), 0);
  assert.deepEqual(t.gaps('n1', 8), [
    { from: 3, to: 3 },
    { from: 6, to: 6 },
    { from: 8, to: 8 },
  ]);
  t.add('n1', 3);
  t.add('n1', 6);
  t.add('n1', 8);
  assert.equal(t.contiguous('n1'), 8);
  assert.deepEqual(t.gaps('n1', 8), []);
  assert.deepEqual(t.gaps('n2', 2), [{ from: 1, to: 2 }]);
});
