import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../core/generator/random';
import { majorityCount, minorityCount, parseTargetSpec, selectTargets } from './node-targets';
import { formatOffsetMs, parseDurationMs } from './durations';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

test('selectTargets() picks one, a strict minority, a majority, all, primaries or named nodes', () => {
  const rng = new Random(7);
  const next = () => rng.next();
  assert.equal(selectTargets({ kind: 'one' }, NODES, next).length, 1);
  assert.equal(selectTargets({ kind: 'minority' }, NODES, next).length, 2);
  assert.equal(selectTargets({ kind: 'majority' }, NODES, next).length, 3);
  assert.deepEqual(selectTargets({ kind: 'all' }, NODES, next), NODES);
  assert.deepEqual(selectTargets({ kind: 'primaries' }, NODES, next, ['n4', 'n2']), ['n2', 'n4']);
  assert.deepEqual(selectTargets(parseTargetSpec('n3,n1', NODES), NODES, next), ['n1', 'n3']);
  assert.deepEqual([minorityCount(3), minorityCount(4), majorityCount(4)], [1, 1, 3]);
});

test('selectTargets() refuses a selection that hits no node', () => {
  assert.throws(() => selectTargets({ kind: 'primaries' }, NODES, Math.random, []), RangeError);
  assert.throws(() => selectTargets({ kind: 'minority' }, ['n1', 'n2'], Math.random), RangeError);
  assert.throws(() => parseTargetSpec('n9', NODES), /n9/);
});

test('selectTargets() is reproducible for a seed', () => {
  const a = new Random(42);
  const b = new Random(42);
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(selectTargets({ kind: 'minority' }, NODES, () => a.next()), selectTargets({ kind: 'minority' }, NODES, () => b.next()));
  }
});

test('parseDurationMs() reads signed human durations and rejects the rest', () => {
  assert.equal(parseDurationMs('60s', 'x'), 60_000);
  assert.equal(parseDurationMs('-5m', 'x'), -300_000);
  assert.equal(parseDurationMs('250ms', 'x'), 250);
  assert.equal(parseDurationMs('600', 'x'), 600_000);
  assert.equal(parseDurationMs('1.5h', 'x'), 5_400_000);
  assert.throws(() => parseDurationMs('soon', '--bump'), /--bump/);
  assert.equal(formatOffsetMs(60_000), '+60s');
  assert.equal(formatOffsetMs(-250), '-250ms');
});
