import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONSISTENCY_MODELS, modelBoundary, modelForbids, parseConsistencyModel } from './consistency-models';

test('every model can be refuted by some anomaly', () => {
  for (const m of CONSISTENCY_MODELS) assert.ok(modelForbids(m, 'G0'), m);
});

test('write skew refutes serializable and repeatable read but not snapshot isolation', () => {
  const b = modelBoundary(['G2-item'], []);
  assert.deepEqual(b.weakestViolated, ['repeatable-read']);
  assert.ok(b.violated.includes('serializable') && b.violated.includes('strict-serializable'));
  assert.ok(b.possible.includes('snapshot-isolation'));
  assert.deepEqual(b.strongestPossible, ['strong-snapshot-isolation']);
});

test('G-single refutes snapshot isolation; realtime variants only the strong models', () => {
  assert.ok(modelForbids('snapshot-isolation', 'G-single'));
  assert.ok(!modelForbids('read-committed', 'G-single'));
  assert.ok(modelForbids('strict-serializable', 'G-single-realtime'));
  assert.ok(!modelForbids('serializable', 'G-single-realtime'));
  assert.ok(!modelForbids('strong-session-serializable', 'G0-realtime'));
  assert.ok(modelForbids('strong-session-serializable', 'G0-process'));
});

test('an undecided search makes the models it bears on unknown, never possible', () => {
  const b = modelBoundary([], ['G2-item']);
  assert.ok(b.unknown.includes('serializable'));
  assert.ok(!b.possible.includes('serializable'));
  assert.ok(b.possible.includes('snapshot-isolation'));
});

test('model names and aliases parse; unknown names are a RangeError', () => {
  assert.equal(parseConsistencyModel('PL-SI'), 'snapshot-isolation');
  assert.equal(parseConsistencyModel('strong-serializable'), 'strict-serializable');
  assert.throws(() => parseConsistencyModel('eventual'), /Cannot use consistency model "eventual"/);
});
