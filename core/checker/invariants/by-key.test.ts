import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../../history/operation';
import { splitByKey } from './by-key';

const op = (index: number, process: number | 'nemesis', type: Op['type'], f: string, value: unknown, key?: string): Op => ({
  index, process, type, f, value, time: index * 10, ...(key !== undefined ? { key } : {}),
});

test('splitByKey() keeps keys apart that only look alike: the number 1 and the string "1"', () => {
  const byKey = splitByKey([
    op(0, 0, 'invoke', 'add', [1, 5]), op(1, 0, 'ok', 'add', [1, 5]),
    op(2, 1, 'invoke', 'add', ['1', 2]), op(3, 1, 'ok', 'add', ['1', 2]),
  ], true);
  assert.deepEqual([...byKey.keys()], ['1', '"1"']);
  assert.deepEqual(byKey.get('1')!.map((o) => o.value), [5, 5]);
  assert.deepEqual(byKey.get('"1"')!.map((o) => o.value), [2, 2]);
});

test('splitByKey() sends a completion to its invocation\'s key, re-indexes, keeps time, and drops nemesis and orphan info events', () => {
  const byKey = splitByKey([
    op(0, 0, 'invoke', 'add', 1, 'x'),
    op(1, 'nemesis', 'info', 'start-partition', null),
    op(2, 7, 'info', 'log', 'a message, not a client op'),
    op(3, 0, 'ok', 'add', 1),
    op(4, 1, 'invoke', 'read', null, 'y'), op(5, 1, 'ok', 'read', 0, 'y'),
  ], false);
  assert.deepEqual([...byKey.keys()], ['x', 'y']);
  assert.deepEqual(byKey.get('x')!.map((o) => [o.index, o.type, o.time, o.key]), [[0, 'invoke', 0, 'x'], [1, 'ok', 30, 'x']]);
});

test('splitByKey() with independent refuses a value that is not a [key value] tuple, naming the line', () => {
  assert.throws(() => splitByKey([{ ...op(0, 0, 'invoke', 'add', 3), line: 12 }], true), /line 12.*--independent expects \[key value\] tuples/);
});
