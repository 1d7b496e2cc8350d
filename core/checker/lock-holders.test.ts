import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../history/operation';
import { checkLockHolders, lockHoldersSummaryLines } from './lock-holders';

/** A lock history from [process, type, f, time in s] rows on one lock; uncertainty `u` ns on every event. */
function history(rows: [number, Op['type'], string, number][], u = 0, key = 'lock-k0'): Op[] {
  return rows.map(([process, type, f, s], index) => ({ index, process, type, f, key, value: null, time: s * 1e9, uncertainty: u, node: `n${process + 1}` }));
}

test('checkLockHolders names both acquires when a second process acquires before the first starts releasing', () => {
  const r = checkLockHolders(history([
    [0, 'invoke', 'acquire', 0], [0, 'ok', 'acquire', 0.1],
    [1, 'invoke', 'acquire', 3], [1, 'ok', 'acquire', 3.1],
    [0, 'invoke', 'release', 4], [0, 'info', 'release', 5.5],
    [1, 'invoke', 'release', 6], [1, 'ok', 'release', 6.1],
  ]));
  assert.equal(r.valid, false);
  assert.equal(r.overlaps, 1);
  const e = r.examples[0]!;
  assert.deepEqual([e.first.process, e.first.acquireIndex, e.first.releaseIndex, e.second.process, e.second.acquireIndex], [0, 0, 4, 1, 2]);
  assert.deepEqual(e.overlap, [3.1e9, 4e9]);
  assert.match(lockHoldersSummaryLines(r).join('\n'), /process 0 on n1 acquired it \(event 0.*process 1 on n2 acquired it too \(event 2.*from 3\.100 s to 4\.000 s/);
});

test('checkLockHolders: holds one after another, refused acquires and info acquires are no second holder', () => {
  const r = checkLockHolders(history([
    [0, 'invoke', 'acquire', 0], [0, 'ok', 'acquire', 0.1],
    [1, 'invoke', 'acquire', 0.5], [1, 'fail', 'acquire', 0.6],
    [2, 'invoke', 'acquire', 0.7], [2, 'info', 'acquire', 2.2],
    [0, 'invoke', 'release', 3], [0, 'ok', 'release', 3.1],
    [1, 'invoke', 'acquire', 3.05], [1, 'ok', 'acquire', 3.2],
    [1, 'invoke', 'release', 4], [1, 'ok', 'release', 4.1],
  ]));
  assert.equal(r.valid, true);
  assert.equal(r.holds, 2);
  assert.match(lockHoldersSummaryLines(r)[0]!, /valid: no two holders at once \(2 holds of 1 lock\)/);
});

test('checkLockHolders counts an overlap only when clock uncertainty cannot explain it', () => {
  const rows: [number, Op['type'], string, number][] = [
    [0, 'invoke', 'acquire', 0], [0, 'ok', 'acquire', 0.1],
    [1, 'invoke', 'acquire', 0.8], [1, 'ok', 'acquire', 0.9],
    [0, 'invoke', 'release', 1.0], [0, 'ok', 'release', 1.1],
    [1, 'invoke', 'release', 2], [1, 'ok', 'release', 2.1],
  ];
  assert.equal(checkLockHolders(history(rows, 0)).valid, false); // 0.9 s < 1.0 s: both held for 100 ms
  assert.equal(checkLockHolders(history(rows, 60e6)).valid, true); // ±60 ms: the first may have released first
});

test('checkLockHolders ignores a hold never ended by a release, and keeps locks apart', () => {
  const a = history([[0, 'invoke', 'acquire', 0], [0, 'ok', 'acquire', 0.1]], 0, 'a');
  const b = history([[1, 'invoke', 'acquire', 1], [1, 'ok', 'acquire', 1.1], [1, 'invoke', 'release', 2], [1, 'ok', 'release', 2.1]], 0, 'b');
  const later = history([[2, 'invoke', 'acquire', 5], [2, 'ok', 'acquire', 5.1], [2, 'invoke', 'release', 6], [2, 'ok', 'release', 6.1]], 0, 'a');
  const ops = [...a, ...b, ...later].map((o, index) => ({ ...o, index }));
  const r = checkLockHolders(ops);
  assert.equal(r.valid, true);
  assert.equal(r.holds, 2);
  assert.equal(checkLockHolders(a).valid, 'unknown');
});
